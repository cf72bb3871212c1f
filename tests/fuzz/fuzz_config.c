/* fuzz_config.c - libFuzzer harness for hooks/pure/config.c and hooks/pure/glob.c.
 *
 * Input: any bytes, taken as a configuration file. config_parse must not
 * crash, and afterwards:
 *   - every warning names the file, a line from 1 to the number of lines,
 *     in non-decreasing order, with a message;
 *   - the values stay in range (mode off|force|auto, chunk 1..1048576,
 *     max_answer 1024..2^40), every model pattern (models, stream_only)
 *     is non-empty with no comma and no blank at either end;
 *   - a second parse of the same bytes gives the same configuration;
 *   - the same bytes after a "[section]" line change nothing and warn
 *     about that one line only (plus further section lines, and the lines
 *     of [refusal "name"] sections, which fuzz_refusal.c covers);
 *   - globs_match and config_set take the input (up to its first NUL) as a
 *     model name, a key and a value.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ishim -Ihooks \
 *     tests/fuzz/fuzz_config.c hooks/pure/config.c hooks/pure/config_rules.c \
 *     hooks/pure/glob.c hooks/pure/buf.c hooks/pure/refusal.c hooks/pure/json.c \
 *     -o /tmp/fuzz_config
 *   /tmp/fuzz_config -max_total_time=60 -max_len=4096
 * Without libFuzzer, -DSS_FUZZ_MAIN builds a main() that runs files. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "glob.h"

#define FUZZ_NAME "fuzz_config"
#include "fuzz_util.h"

#define FUZZ_WHERE "fuzz.conf"

/* What the warn callback saw. */
struct fuzz_warns {
  unsigned lines;     /* lines in the text */
  unsigned last;      /* line of the previous warning */
  size_t count;
  size_t sections;    /* warnings about a section or a refusal rule */
};

/* The warn callback: checks each warning as it comes. */
static void fuzz_warn(void *arg, const char *where, unsigned line,
                      const char *msg)
{
  struct fuzz_warns *w = arg;
  fuzz_assert(where && !strcmp(where, FUZZ_WHERE), "warning names the file");
  fuzz_assert(line >= 1 && line <= w->lines, "warning line out of range");
  fuzz_assert(line >= w->last, "warnings out of order");
  fuzz_assert(msg && *msg, "warning without a message");
  w->last = line;
  w->count++;
  if(strstr(msg, "section") || strstr(msg, "refusal"))
    w->sections++;
}

/* Lines in [p, p+n): newlines, plus one for a last unterminated line. */
static unsigned fuzz_lines(const char *p, size_t n)
{
  unsigned lines = 0;
  for(size_t i = 0; i < n; i++)
    if(p[i] == '\n')
      lines++;
  return lines + (n && p[n - 1] != '\n');
}

/* Is this blank as glob items are trimmed? */
static bool fuzz_blank(char c)
{
  return c == ' ' || c == '\t';
}

/* Check the shape of a glob list (models, stream_only). */
static void fuzz_valid_globs(const struct globs *g)
{
  fuzz_assert(g->n == 0 || g->v != NULL, "models vector");
  for(size_t i = 0; i < g->n; i++) {
    const char *m = g->v[i];
    size_t len = strlen(m);
    fuzz_assert(len > 0, "empty model pattern");
    fuzz_assert(!strchr(m, ','), "comma in a model pattern");
    fuzz_assert(!fuzz_blank(m[0]) && !fuzz_blank(m[len - 1]),
                "untrimmed model pattern");
    fuzz_assert(globs_match(g, m) != NULL || strpbrk(m, "*?[\\"),
                "a literal pattern does not match itself");
  }
}

/* Check the ranges and shapes a configuration must keep. */
static void fuzz_valid(const struct ss_config *c)
{
  fuzz_assert(c->mode == SS_MODE_OFF || c->mode == SS_MODE_FORCE ||
              c->mode == SS_MODE_AUTO, "mode");
  fuzz_assert(c->chunk_chars >= 1 && c->chunk_chars <= (1u << 20), "chunk");
  fuzz_assert(c->max_answer >= 1024 && c->max_answer <= (size_t)1 << 40,
              "max_answer");
  fuzz_valid_globs(&c->models);
  fuzz_valid_globs(&c->stream_only);
}

/* Are two glob lists the same? */
static bool fuzz_same_globs(const struct globs *a, const struct globs *b)
{
  if(a->n != b->n)
    return false;
  for(size_t i = 0; i < a->n; i++)
    if(strcmp(a->v[i], b->v[i]))
      return false;
  return true;
}

/* Are two configurations the same? */
static bool fuzz_same(const struct ss_config *a, const struct ss_config *b)
{
  if(a->mode != b->mode || a->chunk_chars != b->chunk_chars ||
     a->max_answer != b->max_answer ||
     !a->log != !b->log || (a->log && strcmp(a->log, b->log)))
    return false;
  return fuzz_same_globs(&a->models, &b->models) &&
         fuzz_same_globs(&a->stream_only, &b->stream_only);
}

/* Parse [p, p+n) into a fresh config, checking the warnings. */
static void fuzz_parse(struct ss_config *c, const char *p, size_t n,
                       struct fuzz_warns *w)
{
  memset(w, 0, sizeof(*w));
  w->lines = fuzz_lines(p, n);
  config_init(c);
  config_parse(c, p, n, FUZZ_WHERE, fuzz_warn, w);
  fuzz_assert(w->count <= w->lines, "more warnings than lines");
  fuzz_valid(c);
}

/* The bytes after a section line: nothing applies. */
static void fuzz_in_section(const char *p, size_t n)
{
  static const char head[] = "[fuzz]\n";
  struct ss_config c, d;
  struct fuzz_warns w;
  char *t = malloc(sizeof(head) - 1 + n);
  if(!t)
    return;
  memcpy(t, head, sizeof(head) - 1);
  if(n)
    memcpy(t + sizeof(head) - 1, p, n);
  fuzz_parse(&c, t, sizeof(head) - 1 + n, &w);
  config_init(&d);
  fuzz_assert(fuzz_same(&c, &d), "a setting inside a section applied");
  fuzz_assert(w.count >= 1 && w.count == w.sections,
              "inside a section only section lines warn");
  config_free(&c);
  config_free(&d);
  free(t);
}

/* config_set and globs_match on the input as strings. */
static void fuzz_strings(const char *p, size_t n)
{
  char *s = malloc(n + 1);
  struct ss_config c;
  const char *msg = NULL;
  if(!s)
    return;
  memcpy(s, p, n);
  s[n] = '\0';
  char *eq = strchr(s, '=');
  config_init(&c);
  if(eq) {
    *eq = '\0';
    if(!config_set(&c, s, eq + 1, n & 1, &msg))
      fuzz_assert(msg != NULL, "config_set false without a reason");
    else
      fuzz_assert(msg == NULL, "config_set true with a reason");
    fuzz_valid(&c);
    *eq = '=';
  }
  globs_add_list(&c.models, s);
  fuzz_valid(&c);
  for(size_t i = 0; i < c.models.n; i++)
    globs_match(&c.models, c.models.v[i]);
  globs_match(&c.models, s);
  config_free(&c);
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data;
  struct ss_config a, b;
  struct fuzz_warns wa, wb;
  fuzz_parse(&a, p, size, &wa);
  fuzz_parse(&b, p, size, &wb);
  fuzz_assert(fuzz_same(&a, &b), "two parses differ");
  fuzz_assert(wa.count == wb.count, "two parses warn differently");
  config_free(&a);
  config_free(&b);
  fuzz_in_section(p, size);
  fuzz_strings(p, size);
  return 0;
}
