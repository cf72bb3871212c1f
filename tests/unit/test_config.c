/* test_config.c - unit tests for hooks/pure/config.c (settings and the file
 * grammar), hooks/pure/config_rules.c ([refusal "name"] sections) and
 * hooks/pure/glob.c (comma lists of fnmatch globs). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "buf.h"
#include "config.h"
#include "config_load.h"
#include "glob.h"
#include "redact.h"
#include "refusal.h"

/* One call of the warn callback. */
struct warning {
  char where[64];
  unsigned line;
  char msg[128];
};

/* Every warning of one parse, in order. */
struct warnings {
  struct warning w[16];
  size_t n;
  size_t dropped;  /* calls beyond the array */
};

/* The warn callback: records where, line and message. */
static void collect(void *arg, const char *where, unsigned line,
                    const char *msg)
{
  struct warnings *ws = arg;
  if(ws->n >= sizeof(ws->w) / sizeof(ws->w[0])) {
    ws->dropped++;
    return;
  }
  struct warning *w = &ws->w[ws->n++];
  snprintf(w->where, sizeof(w->where), "%s", where ? where : "(null)");
  w->line = line;
  snprintf(w->msg, sizeof(w->msg), "%s", msg ? msg : "(null)");
}

/* Parse a NUL-terminated text into a fresh config (warnings into ws). */
static void parse(struct ss_config *c, const char *text, struct warnings *ws)
{
  memset(ws, 0, sizeof(*ws));
  config_init(c);
  config_parse(c, text, strlen(text), "test.conf", collect, ws);
}

/* The globs of a list as "a|b|c" (static storage, for comparisons). */
static const char *globs_str(const struct globs *g)
{
  static char s[512];
  size_t o = 0;
  s[0] = '\0';
  for(size_t i = 0; i < g->n && o < sizeof(s); i++)
    o += (size_t)snprintf(s + o, sizeof(s) - o, "%s%s", i ? "|" : "",
                          g->v[i]);
  return s;
}

/* The models list of a config as "a|b|c". */
static const char *models(const struct ss_config *c)
{
  return globs_str(&c->models);
}

/* ---- defaults and config_set ---------------------------------------- */

TEST(defaults)
{
  struct ss_config c;
  config_init(&c);
  CHECK(c.mode == SS_MODE_AUTO);
  CHECK(c.chunk_chars == 24);
  CHECK(c.max_answer == (size_t)64 << 20);
  CHECK(c.models.n == 0 && c.models.v == NULL);
  CHECK(c.log == NULL);
  CHECK(c.pace_ms == 0 && c.cache == NULL && c.cache_ttl == 7L * 86400);
  CHECK(c.refusals.n == 0 && c.refusals.v == NULL);
  CHECK(globs_match(&c.models, "gpt-4o") == NULL);
  config_free(&c);
  /* config_free leaves an empty, reusable config. */
  CHECK(c.models.n == 0 && c.models.v == NULL && c.log == NULL);
  config_free(&c);
}

TEST(set_mode)
{
  struct ss_config c;
  const char *msg = "x";
  config_init(&c);
  CHECK(config_set(&c, "mode", "off", false, &msg));
  CHECK(msg == NULL);
  CHECK(c.mode == SS_MODE_OFF);
  CHECK(config_set(&c, "mode", "force", false, &msg));
  CHECK(c.mode == SS_MODE_FORCE && msg == NULL);
  CHECK(config_set(&c, "mode", "auto", false, &msg));
  CHECK(c.mode == SS_MODE_AUTO && msg == NULL);
  CHECK(!config_set(&c, "mode", "Auto", false, &msg) && c.mode == SS_MODE_OFF);
  /* An unknown value acts as off, with a message. */
  CHECK(!config_set(&c, "mode", "sometimes", false, &msg));
  CHECK(c.mode == SS_MODE_OFF);
  CHECK(msg != NULL && strstr(msg, "off") != NULL);
  CHECK(config_set(&c, "mode", "force", false, &msg));
  CHECK(!config_set(&c, "mode", "", false, &msg) && c.mode == SS_MODE_OFF);
  CHECK(msg != NULL);
  /* Values are case-sensitive and not trimmed by config_set. */
  CHECK(config_set(&c, "mode", "force", false, &msg));
  CHECK(!config_set(&c, "mode", "FORCE", false, &msg) && c.mode == SS_MODE_OFF);
  CHECK(config_set(&c, "mode", "force", false, &msg));
  CHECK(!config_set(&c, "mode", " force", false, &msg));
  CHECK(c.mode == SS_MODE_OFF);
  config_free(&c);
}

TEST(set_log)
{
  struct ss_config c;
  const char *msg;
  config_init(&c);
  CHECK(config_set(&c, "log", "debug:/tmp/x.log", false, &msg) && !msg);
  CHECK(c.log && !strcmp(c.log, "debug:/tmp/x.log"));
  CHECK(config_set(&c, "log", "info", false, &msg));
  CHECK(c.log && !strcmp(c.log, "info"));
  config_free(&c);
  CHECK(c.log == NULL);
}

TEST(set_models_add_and_replace)
{
  struct ss_config c;
  const char *msg;
  config_init(&c);
  CHECK(config_set(&c, "models", "o3*, gpt-5", false, &msg) && !msg);
  CHECK_STR(models(&c), "o3*|gpt-5");
  CHECK(config_set(&c, "models", "o1", false, &msg));
  CHECK_STR(models(&c), "o3*|gpt-5|o1");
  /* replace_list drops the earlier patterns first. */
  CHECK(config_set(&c, "models", "claude-*", true, &msg));
  CHECK_STR(models(&c), "claude-*");
  CHECK(globs_match(&c.models, "o1") == NULL);
  CHECK(globs_match(&c.models, "claude-3") != NULL);
  /* Replacing with an empty list empties it. */
  CHECK(config_set(&c, "models", "", true, &msg));
  CHECK(c.models.n == 0);
  /* replace_list only matters for models. */
  CHECK(config_set(&c, "chunk", "7", true, &msg) && c.chunk_chars == 7);
  config_free(&c);
}

TEST(set_chunk_numbers)
{
  struct ss_config c;
  const char *msg;
  config_init(&c);
  CHECK(config_set(&c, "chunk", "1", false, &msg) && c.chunk_chars == 1);
  CHECK(config_set(&c, "chunk", "1048576", false, &msg));
  CHECK(c.chunk_chars == 1048576);
  CHECK(config_set(&c, "chunk", "0010", false, &msg) && c.chunk_chars == 10);
  static const char *const bad[] = {
    "0", "-1", "-0", "+5", "", " 5", "5 ", "5x", "x5", "1e3", "0x10",
    "1048577", "99999999999999999999999999", "18446744073709551616",
    "18446744073709551615", "4294967296", "5.0", "5,0"
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    msg = NULL;
    CHECK(!config_set(&c, "chunk", bad[i], false, &msg));
    CHECK(msg != NULL);
    if(c.chunk_chars != 10)
      printf("#   chunk changed by bad value \"%s\"\n", bad[i]);
    CHECK(c.chunk_chars == 10);  /* left unchanged */
  }
  config_free(&c);
}

TEST(set_max_answer_numbers)
{
  struct ss_config c;
  const char *msg;
  config_init(&c);
  CHECK(config_set(&c, "max_answer", "1024", false, &msg));
  CHECK(c.max_answer == 1024);
  CHECK(config_set(&c, "max_answer", "1099511627776", false, &msg));
  CHECK(c.max_answer == (size_t)1 << 40);
  CHECK(config_set(&c, "max_answer", "5000", false, &msg));
  static const char *const bad[] = {
    "1023", "0", "-1024", "1099511627777", "10995116277760",
    "184467440737095516160", "2k", "", "1 024"
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    msg = NULL;
    CHECK(!config_set(&c, "max_answer", bad[i], false, &msg));
    CHECK(msg != NULL);
    CHECK(c.max_answer == 5000);
  }
  config_free(&c);
}

TEST(set_unknown_key)
{
  struct ss_config c;
  const char *msg = NULL;
  config_init(&c);
  CHECK(!config_set(&c, "colour", "blue", false, &msg));
  CHECK(msg != NULL && strstr(msg, "unknown") != NULL);
  CHECK(!config_set(&c, "", "x", false, &msg) && msg != NULL);
  /* Keys are case-sensitive. */
  CHECK(!config_set(&c, "Mode", "off", false, &msg));
  CHECK(c.mode == SS_MODE_AUTO);
  CHECK(!config_set(&c, "chunk ", "5", false, &msg) && c.chunk_chars == 24);
  config_free(&c);
}

/* ---- the file grammar ------------------------------------------------ */

TEST(parse_every_key)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c,
        "mode = off\n"
        "models = o3*, gpt-5\n"
        "log = debug:/tmp/ss.log\n"
        "chunk = 8\n"
        "max_answer = 2048\n",
        &ws);
  CHECK(ws.n == 0);
  CHECK(c.mode == SS_MODE_OFF);
  CHECK_STR(models(&c), "o3*|gpt-5");
  CHECK(c.log && !strcmp(c.log, "debug:/tmp/ss.log"));
  CHECK(c.chunk_chars == 8);
  CHECK(c.max_answer == 2048);
  config_free(&c);
}

TEST(parse_empty_text)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "", &ws);
  CHECK(ws.n == 0 && c.mode == SS_MODE_AUTO && c.chunk_chars == 24);
  config_free(&c);
  /* No warn callback at all is allowed, even with problems. */
  config_init(&c);
  static const char t[] = "bad line\n[s]\nchunk = 0\nnope = 1\n";
  config_parse(&c, t, sizeof(t) - 1, "x", NULL, NULL);
  CHECK(c.chunk_chars == 24);
  config_free(&c);
}

TEST(parse_whitespace_around_equals)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "chunk=5\n", &ws);
  CHECK(ws.n == 0 && c.chunk_chars == 5);
  config_free(&c);
  parse(&c, "  \tchunk \t=\t 6 \t \n", &ws);
  CHECK(ws.n == 0 && c.chunk_chars == 6);
  config_free(&c);
  parse(&c, "log=a:b=c\n", &ws);  /* only the first '=' splits */
  CHECK(ws.n == 0 && c.log && !strcmp(c.log, "a:b=c"));
  config_free(&c);
  /* Inner blanks of a value are kept. */
  parse(&c, "log =  info : /tmp/a b.log  \n", &ws);
  CHECK(c.log && !strcmp(c.log, "info : /tmp/a b.log"));
  config_free(&c);
}

TEST(parse_quoted_values)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "log = \"  debug:/tmp/a b.log \"\n", &ws);
  CHECK(ws.n == 0);
  CHECK(c.log && !strcmp(c.log, "  debug:/tmp/a b.log "));
  config_free(&c);
  parse(&c, "mode = \"off\"\nchunk = \"12\"\n", &ws);
  CHECK(ws.n == 0 && c.mode == SS_MODE_OFF && c.chunk_chars == 12);
  config_free(&c);
  /* "" is an empty value. */
  parse(&c, "log = \"\"\n", &ws);
  CHECK(ws.n == 0 && c.log && !strcmp(c.log, ""));
  config_free(&c);
  /* A lone quote, or a quote at one end only, is kept as is. */
  parse(&c, "log = \"\nchunk = \"5\n", &ws);
  CHECK(c.log && !strcmp(c.log, "\""));
  CHECK(ws.n == 1 && ws.w[0].line == 2 && c.chunk_chars == 24);
  config_free(&c);
  parse(&c, "log = a\"\n", &ws);
  CHECK(c.log && !strcmp(c.log, "a\""));
  config_free(&c);
  /* Only one pair is removed. */
  parse(&c, "log = \"\"x\"\"\n", &ws);
  CHECK(c.log && !strcmp(c.log, "\"x\""));
  config_free(&c);
  /* Quoted models: items are still trimmed. */
  parse(&c, "models = \" a , b \"\n", &ws);
  CHECK_STR(models(&c), "a|b");
  config_free(&c);
}

TEST(parse_comments_and_blank_lines)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c,
        "# a comment\n"
        "; another = comment\n"
        "\n"
        "   \t \n"
        "  # indented comment with = sign\n"
        "\t; indented\n"
        "chunk = 9\n"
        "#chunk = 10\n"
        ";chunk = 11\n",
        &ws);
  CHECK(ws.n == 0);
  CHECK(c.chunk_chars == 9);
  config_free(&c);
}

/* A '#' after a blank, outside double quotes, starts a trailing comment,
 * as users write them (the README's example does). */
TEST(parse_trailing_comments)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c,
        "chunk = 5   # five\n"
        "pace = 7\t# tab before\n"
        "models = a*, b*  # two globs\n"
        "cache = off # or a path\n"
        "log = info#no blank before: the value's\n"
        "[refusal \"x\"]  # a header with a note\n"
        "message = \"*stream # true*\"   # quoted: the value keeps it\n"
        "body = *a\"b # c\"*\n",  /* not quoted: a quote inside is a byte */
        &ws);
  CHECK(ws.n == 0);
  CHECK(c.chunk_chars == 5 && c.pace_ms == 7);
  CHECK(!strcmp(models(&c), "a*|b*"));
  CHECK(c.cache && !strcmp(c.cache, "off"));
  CHECK(c.log && !strcmp(c.log, "info#no blank before: the value's"));
  struct buf d;
  buf_init(&d);
  CHECK(refusal_rule_count(&c.refusals) == REFUSAL_BUILTINS + 1);
  CHECK(refusal_rule_describe(&c.refusals, REFUSAL_BUILTINS, &d));
  CHECK(buf_cstr(&d) && strstr(d.ptr, "*stream # true*") && strstr(d.ptr, "*a\"b") &&
        !strstr(d.ptr, "# c"));
  buf_free(&d);
  config_free(&c);
  /* an unquoted " #" is a comment even where a value was meant */
  parse(&c, "models = gpt # 4\nlog = # nothing\n", &ws);
  CHECK(!strcmp(models(&c), "gpt"));
  CHECK(ws.n == 0 && c.log && !strcmp(c.log, ""));
  config_free(&c);
}

/* Only a quote that opens a value (or a header's name) keeps a " #":
 * inside an unquoted value quotes are bytes, whatever their count, and a
 * quoted value ends at the quote that ends the line or comes before a
 * comment. */
TEST(parse_trailing_comments_and_quotes)
{
  struct ss_config c;
  struct warnings ws;
  struct buf d;
  parse(&c,
        "models = \"a b\"  # the \"x\" one\n"
        "models = \"open # the quote never closes\n"
        "[refusal \"r # 1\"]   # a note\n"
        "body = *\"code\":\"x*   # an odd count of quotes before it\n"
        "message = \"*say \"hi\" to # x*\"  # quotes inside a quoted value\n",
        &ws);
  CHECK(ws.n == 0);
  CHECK_STR(models(&c), "a b|\"open");
  CHECK(refusal_rule_count(&c.refusals) == REFUSAL_BUILTINS + 1);
  CHECK(!strcmp(refusal_rule_name(&c.refusals, REFUSAL_BUILTINS), "r # 1"));
  buf_init(&d);
  CHECK(refusal_rule_describe(&c.refusals, REFUSAL_BUILTINS, &d));
  CHECK(buf_cstr(&d) && strstr(d.ptr, "*\"code\":\"x*") && !strstr(d.ptr, "odd") &&
        strstr(d.ptr, "*say \"hi\" to # x*") && !strstr(d.ptr, "inside"));
  buf_free(&d);
  config_free(&c);
  /* ';' is a comment only at the start of a line */
  parse(&c, "; whole line\npace = 7 ; not a comment\nmodels = a;b\n", &ws);
  CHECK(ws.n == 1 && ws.w[0].line == 2 && c.pace_ms == 0);
  CHECK_STR(models(&c), "a;b");
  config_free(&c);
}

/* The line that set log, for the warnings about its value. */
TEST(parse_log_line)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "pace = 1\n", &ws);
  CHECK(c.log_line == 0);
  config_free(&c);
  parse(&c, "# a\nlog = loud\npace = 1\nlog = nonsense:x\n", &ws);
  CHECK(ws.n == 0 && c.log_line == 4 && !strcmp(c.log, "nonsense:x"));
  config_free(&c);
}

TEST(parse_crlf)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c,
        "# comment\r\n"
        "\r\n"
        "mode = off\r\n"
        "chunk = 7\r\n"
        "log = \"a b\"\r\n"
        "models = x, y\r\n"
        "max_answer = 4096\r\n"
        "oops\r\n",
        &ws);
  CHECK(c.mode == SS_MODE_OFF);
  CHECK(c.chunk_chars == 7);
  CHECK(c.log && !strcmp(c.log, "a b"));
  CHECK_STR(models(&c), "x|y");
  CHECK(c.max_answer == 4096);
  CHECK(ws.n == 1 && ws.w[0].line == 8);
  config_free(&c);
}

TEST(parse_no_final_newline)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "mode = off\nchunk = 3", &ws);
  CHECK(ws.n == 0 && c.mode == SS_MODE_OFF && c.chunk_chars == 3);
  config_free(&c);
  /* Only n bytes are read: the parse stops at n, not at the NUL. */
  static const char t[] = "chunk = 3\nchunk = 4\n";
  config_init(&c);
  config_parse(&c, t, 10, "t", NULL, NULL);
  CHECK(c.chunk_chars == 3);
  config_free(&c);
  config_init(&c);
  config_parse(&c, t, 8, "t", NULL, NULL);  /* "chunk = " only */
  CHECK(c.chunk_chars == 24);
  config_free(&c);
}

TEST(parse_line_without_equals)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "chunk = 4\njust some words\nmode = off\n", &ws);
  CHECK(ws.n == 1);
  CHECK_STR(ws.w[0].where, "test.conf");
  CHECK(ws.w[0].line == 2);
  CHECK(strstr(ws.w[0].msg, "=") != NULL);
  CHECK(c.chunk_chars == 4 && c.mode == SS_MODE_OFF);
  config_free(&c);
  /* An empty key is an unknown setting. */
  parse(&c, "= 5\n", &ws);
  CHECK(ws.n == 1 && ws.w[0].line == 1);
  CHECK(strstr(ws.w[0].msg, "unknown") != NULL);
  config_free(&c);
}

TEST(parse_unknown_keys)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "colour = blue\nchunk = 5\nMODE = off\n", &ws);
  CHECK(ws.n == 2);
  CHECK(ws.w[0].line == 1 && strstr(ws.w[0].msg, "unknown"));
  CHECK(ws.w[1].line == 3);
  CHECK(c.chunk_chars == 5 && c.mode == SS_MODE_AUTO);
  config_free(&c);
}

TEST(parse_unknown_sections)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c,
        "chunk = 5\n"            /* 1 */
        "[proxy]\n"              /* 2 */
        "chunk = 6\n"            /* 3: ignored, not reported */
        "colour = blue\n"        /* 4: ignored, not reported */
        "no equals here\n"       /* 5: ignored, not reported */
        "\n"                     /* 6 */
        "  [route \"o3\"]  \n"   /* 7 */
        "mode = off\n"           /* 8: ignored */
        "models = x\n",          /* 9: ignored */
        &ws);
  CHECK(ws.n == 2);
  CHECK(ws.w[0].line == 2 && strstr(ws.w[0].msg, "section"));
  CHECK(ws.w[1].line == 7 && strstr(ws.w[1].msg, "section"));
  CHECK_STR(ws.w[0].where, "test.conf");
  CHECK(c.chunk_chars == 5);
  CHECK(c.mode == SS_MODE_AUTO);
  CHECK(c.models.n == 0);
  config_free(&c);
  /* The same section twice is reported twice (once per header line). */
  parse(&c, "[a]\n[a]\nchunk = 2\n", &ws);
  CHECK(ws.n == 2 && ws.w[0].line == 1 && ws.w[1].line == 2);
  CHECK(c.chunk_chars == 24);
  config_free(&c);
}

TEST(parse_repeated_models_add)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "models = a, b\nmodels = c\nmodels =\nmodels = , d ,\n", &ws);
  CHECK(ws.n == 0);
  CHECK_STR(models(&c), "a|b|c|d");
  config_free(&c);
  /* Repeated scalar keys: the last one wins. */
  parse(&c, "chunk = 5\nchunk = 6\nlog = a\nlog = b\nmode=off\nmode=force\n",
        &ws);
  CHECK(ws.n == 0 && c.chunk_chars == 6 && !strcmp(c.log, "b"));
  CHECK(c.mode == SS_MODE_FORCE);
  config_free(&c);
}

TEST(parse_bad_numbers)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c,
        "chunk = 0\n"
        "chunk = -4\n"
        "chunk = 99999999999999999999999\n"
        "chunk = 12abc\n"
        "chunk = 1048577\n"
        "max_answer = 1023\n"
        "max_answer = 1099511627777\n"
        "max_answer = 1 000\n"
        "chunk =\n",
        &ws);
  CHECK(ws.n == 9);
  for(size_t i = 0; i < ws.n; i++) {
    CHECK(ws.w[i].line == i + 1);
    CHECK_STR(ws.w[i].where, "test.conf");
  }
  CHECK(c.chunk_chars == 24);
  CHECK(c.max_answer == (size_t)64 << 20);
  config_free(&c);
}

TEST(parse_unknown_mode_acts_as_off)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "\nmode = maybe\n", &ws);
  CHECK(c.mode == SS_MODE_OFF);
  CHECK(ws.n == 1 && ws.w[0].line == 2);
  CHECK(strstr(ws.w[0].msg, "mode") && strstr(ws.w[0].msg, "off"));
  config_free(&c);
}

TEST(parse_warn_gets_file_and_lines)
{
  struct ss_config c;
  struct warnings ws;
  memset(&ws, 0, sizeof(ws));
  config_init(&c);
  static const char t[] = "# c\nx\n\n\r\ny = 1\nchunk = 1\n[s]\n";
  config_parse(&c, t, sizeof(t) - 1, "/etc/streamshim.conf", collect, &ws);
  CHECK(ws.n == 3);
  for(size_t i = 0; i < ws.n; i++)
    CHECK_STR(ws.w[i].where, "/etc/streamshim.conf");
  CHECK(ws.w[0].line == 2);
  CHECK(ws.w[1].line == 5);
  CHECK(ws.w[2].line == 7);
  CHECK(c.chunk_chars == 1);
  config_free(&c);
}

TEST(parse_nul_byte_does_not_crash)
{
  struct ss_config c;
  struct warnings ws;
  /* NUL bytes in keys, values, comments, section lines and alone; the
   * lines after them still parse and line numbers still count. */
  static const char t[] =
      "mo\0de = off\n"          /* 1 */
      "\0\n"                    /* 2 */
      "# \0 comment\n"          /* 3 */
      "log = a\0b\n"            /* 4 */
      "[\0]\n"                  /* 5 */
      "chunk = 3\n";            /* 6: after a section, ignored */
  memset(&ws, 0, sizeof(ws));
  config_init(&c);
  config_parse(&c, t, sizeof(t) - 1, "nul.conf", collect, &ws);
  CHECK(c.mode == SS_MODE_AUTO);  /* "mo" is no key */
  CHECK(c.chunk_chars == 24);
  CHECK(ws.n >= 2);
  CHECK(ws.n >= 1 && ws.w[0].line == 1);
  CHECK(ws.n >= 1 && ws.w[ws.n - 1].line == 5);  /* the section */
  config_free(&c);
  /* Only NULs, and NUL as the last byte. */
  static const char z[8] = { 0 };
  config_init(&c);
  config_parse(&c, z, sizeof(z), "z", collect, &ws);
  config_parse(&c, "chunk = 5\0", 10, "z", collect, &ws);
  config_free(&c);
  /* No NUL in the text: parse reads exactly n bytes (no terminator). */
  char *exact = malloc(9);
  if(exact) {
    memcpy(exact, "chunk = 9", 9);
    config_init(&c);
    config_parse(&c, exact, 9, "exact", NULL, NULL);
    CHECK(c.chunk_chars == 9);
    config_free(&c);
    free(exact);
  }
}

/* ---- stream_only: models that only stream --------------------------- */

TEST(set_stream_only_add_and_replace)
{
  struct ss_config c;
  const char *msg;
  config_init(&c);
  CHECK(c.stream_only.n == 0 && c.stream_only.v == NULL);
  CHECK(config_set(&c, "stream_only", "qwq*, qwen3-*", false, &msg) && !msg);
  CHECK_STR(globs_str(&c.stream_only), "qwq*|qwen3-*");
  CHECK(config_set(&c, "stream_only", "qwen-omni*", false, &msg));
  CHECK_STR(globs_str(&c.stream_only), "qwq*|qwen3-*|qwen-omni*");
  CHECK(c.models.n == 0);  /* the other list is untouched */
  CHECK(globs_match(&c.stream_only, "qwq-plus") != NULL);
  CHECK(globs_match(&c.stream_only, "gpt-4o") == NULL);
  CHECK(config_set(&c, "stream_only", "x", true, &msg));
  CHECK_STR(globs_str(&c.stream_only), "x");
  CHECK(config_set(&c, "stream_only", "", true, &msg) && c.stream_only.n == 0);
  CHECK(!config_set(&c, "stream-only", "x", false, &msg) && msg);
  config_free(&c);
  CHECK(c.stream_only.n == 0 && c.stream_only.v == NULL);
}

TEST(parse_stream_only)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "models = o1*\nstream_only = qwq*, qwen3-*\nmodels = o3*\n"
            "stream_only = \"qwen omni\"\nstream_only =\n", &ws);
  CHECK(ws.n == 0);
  CHECK_STR(models(&c), "o1*|o3*");
  CHECK_STR(globs_str(&c.stream_only), "qwq*|qwen3-*|qwen omni");
  config_free(&c);
}

/* The variables config_apply_vars reads in env_vars_replace_lists. */
static char *fake_getenv(const char *name)
{
  if(!strcmp(name, "STREAMSHIM_STREAM_ONLY"))
    return (char *)"qwen-omni*,qwq-plus";
  if(!strcmp(name, "STREAMSHIM_MODELS"))
    return (char *)"o3-mini";
  return NULL;
}

/* Only STREAMSHIM_MODELS is set. */
static char *models_only_getenv(const char *name)
{
  return !strcmp(name, "STREAMSHIM_MODELS") ? (char *)"o4*" : NULL;
}

TEST(env_vars_replace_lists)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "models = o1*\nstream_only = qwq*\nstream_only = qwen3-*\n", &ws);
  config_apply_vars(&c, fake_getenv, collect, &ws);
  CHECK(ws.n == 0);
  CHECK_STR(models(&c), "o3-mini");
  CHECK_STR(globs_str(&c.stream_only), "qwen-omni*|qwq-plus");
  config_free(&c);
  /* An unset variable leaves the file's list. */
  parse(&c, "stream_only = qwq*\n", &ws);
  config_apply_vars(&c, models_only_getenv, collect, &ws);
  CHECK_STR(models(&c), "o4*");
  CHECK_STR(globs_str(&c.stream_only), "qwq*");
  config_free(&c);
}

/* ---- [refusal "name"] sections ----------------------------------------- */

/* Rule i (0 to REFUSAL_BUILTINS - 1 are the built-in ones) described as
 * refusal_rule_describe says. */
static const char *rule_str(const struct ss_config *c, size_t i)
{
  static char s[512];
  struct buf b;
  buf_init(&b);
  refusal_rule_describe(&c->refusals, i, &b);
  snprintf(s, sizeof(s), "%s: %s", refusal_rule_name(&c->refusals, i),
           buf_cstr(&b) ? b.ptr : "(oom)");
  buf_free(&b);
  return s;
}

TEST(parse_refusal_sections)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c,
        "chunk = 5\n"
        "[refusal \"relay\"]\n"
        "status = 500\n"
        "field error.type = server_error\n"
        "field  error.details.0.code =  42 \n"
        "message = *Cannot use tools with stream*\n"
        "\n"
        "# a comment inside a rule\n"
        "  [ refusal   \"any 429\" ]  \r\n"
        "status = 429\r\n"
        "[refusal\"gate\"]\n"
        "body = \"  *verified to stream* \"\n"
        "field error.code = null\n",
        &ws);
  CHECK(ws.n == 0);
  CHECK(c.chunk_chars == 5);
  const size_t u = REFUSAL_BUILTINS;  /* the first user rule */
  CHECK(refusal_rule_count(&c.refusals) == u + 3);
  CHECK_STR(rule_str(&c, 0), "built-in: status 400, field error.param = "
            "\"stream\", field error.code = \"unsupported_value\"");
  CHECK_STR(rule_str(&c, u), "relay: status 500, field error.type = "
            "\"server_error\", field error.details.0.code = \"42\", message "
            "\"*Cannot use tools with stream*\"");
  CHECK_STR(rule_str(&c, u + 1), "any 429: status 429");
  CHECK_STR(rule_str(&c, u + 2), "gate: status 400, field error.code = "
            "\"null\", body \"  *verified to stream* \"");
  CHECK(refusal_rule_status(&c.refusals, u) == 500);
  CHECK(refusal_rule_name(&c.refusals, u + 3) == NULL);
  for(size_t i = u; i < u + 3; i++)
    CHECK(refusal_rule_dir(&c.refusals, i) == REFUSES_STREAM &&
          !refusal_rule_builtin(&c.refusals, i));
  /* The rules as parsed match. */
  static const char b1[] = "{\"error\":{\"type\":\"server_error\",\"details\":"
                           "[{\"code\":42}],\"message\":\"x: Cannot use tools "
                           "with stream (request id: 7)\"}}";
  const char *m = refusal_match(&c.refusals, REFUSES_STREAM, 500, b1,
                                sizeof(b1) - 1);
  CHECK(m && !strcmp(m, "relay"));
  CHECK(!refusal_match(&c.refusals, REFUSES_NONSTREAM, 500, b1,
                       sizeof(b1) - 1));
  m = refusal_match(&c.refusals, REFUSES_STREAM, 429, "", 0);
  CHECK(m && !strcmp(m, "any 429"));
  static const char b3[] = "{\"error\":{\"code\":null,\"message\":\"must be "
                           "verified to stream\"}}";
  m = refusal_match(&c.refusals, REFUSES_STREAM, 400, b3, sizeof(b3) - 1);
  CHECK(m == NULL);  /* the body glob keeps its blanks: "  *" */
  config_free(&c);
  CHECK(c.refusals.n == 0 && c.refusals.v == NULL);
  config_free(&c);
}

/* The DashScope refusal of a request without stream, byte for byte. */
static const char dashscope_body[] =
    "{\"error\":{\"code\":\"invalid_parameter_error\",\"param\":null,"
    "\"message\":\"This model only support stream mode, please enable the "
    "stream parameter to access the model. \",\"type\":"
    "\"invalid_request_error\"},\"id\":\"chatcmpl-0a1b2c3d\",\"request_id\":"
    "\"0a1b2c3d-0000-4000-8000-000000000000\"}";

TEST(parse_refusal_directions)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c,
        "[refusal \"relay stream-only\"]\n"
        "direction = stream-only\n"
        "status = 422\n"
        "field error.code = stream_required\n"
        "[refusal \"said no-stream\"]\n"
        "status = 422\n"
        "direction = no-stream\n"
        "field error.code = stream_required\n"
        "[refusal \"default\"]\n"
        "status = 409\n",
        &ws);
  CHECK(ws.n == 0);
  const size_t u = REFUSAL_BUILTINS;
  CHECK(c.refusals.n == 3);
  CHECK(refusal_rule_dir(&c.refusals, u) == REFUSES_NONSTREAM);
  CHECK(refusal_rule_dir(&c.refusals, u + 1) == REFUSES_STREAM);
  CHECK(refusal_rule_dir(&c.refusals, u + 2) == REFUSES_STREAM);
  /* The direction is no part of what a rule matches. */
  CHECK_STR(rule_str(&c, u), "relay stream-only: status 422, field "
            "error.code = \"stream_required\"");
  static const char b[] = "{\"error\":{\"code\":\"stream_required\"}}";
  const char *m = refusal_match(&c.refusals, REFUSES_NONSTREAM, 422, b,
                                sizeof(b) - 1);
  CHECK(m && !strcmp(m, "relay stream-only"));
  m = refusal_match(&c.refusals, REFUSES_STREAM, 422, b, sizeof(b) - 1);
  CHECK(m && !strcmp(m, "said no-stream"));
  CHECK(refusal_status_candidate(&c.refusals, REFUSES_NONSTREAM, 422));
  CHECK(!refusal_status_candidate(&c.refusals, REFUSES_NONSTREAM, 409));
  CHECK(refusal_status_candidate(&c.refusals, REFUSES_STREAM, 409));
  /* The built-in DashScope rules come before the user's. */
  m = refusal_match(&c.refusals, REFUSES_NONSTREAM, 400, dashscope_body,
                    sizeof(dashscope_body) - 1);
  CHECK(m && !strcmp(m, "dashscope-stream-only"));
  CHECK(!refusal_match(&c.refusals, REFUSES_STREAM, 400, dashscope_body,
                       sizeof(dashscope_body) - 1));
  config_free(&c);
  /* A user rule of the other direction does not hide a built-in one. */
  parse(&c, "[refusal \"any 400\"]\ndirection = stream-only\nstatus = 400\n",
        &ws);
  CHECK(ws.n == 0 && c.refusals.n == 1);
  m = refusal_match(&c.refusals, REFUSES_NONSTREAM, 400, "{}", 2);
  CHECK(m && !strcmp(m, "any 400"));
  CHECK(!refusal_match(&c.refusals, REFUSES_STREAM, 400, "{}", 2));
  m = refusal_match(&c.refusals, REFUSES_NONSTREAM, 400, dashscope_body,
                    sizeof(dashscope_body) - 1);
  CHECK(m && !strcmp(m, "dashscope-stream-only"));
  config_free(&c);
}

TEST(parse_refusal_then_settings_are_not_global)
{
  struct ss_config c;
  struct warnings ws;
  /* After a refusal header, lines belong to the rule: "chunk" is no rule
   * key, so the rule is dropped and chunk stays. */
  parse(&c, "[refusal \"r\"]\nstatus = 502\nchunk = 3\n", &ws);
  CHECK(ws.n == 1 && ws.w[0].line == 3);
  CHECK(strstr(ws.w[0].msg, "refusal \"r\"") && strstr(ws.w[0].msg, "ignored"));
  CHECK(c.chunk_chars == 24 && c.refusals.n == 0);
  config_free(&c);
  /* An unknown section after a rule ends it; its keys are skipped. */
  parse(&c, "[refusal \"r\"]\nstatus = 502\n[other]\nstatus = 503\n", &ws);
  CHECK(ws.n == 1 && ws.w[0].line == 3 && strstr(ws.w[0].msg, "section"));
  CHECK(c.refusals.n == 1 &&
        refusal_rule_status(&c.refusals, REFUSAL_BUILTINS) == 502);
  config_free(&c);
  /* A rule after an unknown section is read. */
  parse(&c, "[other]\nx = 1\n[refusal \"r\"]\nstatus = 503\n", &ws);
  CHECK(ws.n == 1 && ws.w[0].line == 1);
  CHECK(c.refusals.n == 1 &&
        refusal_rule_status(&c.refusals, REFUSAL_BUILTINS) == 503);
  config_free(&c);
}

/* One bad refusal text: warned at `line`, its rule dropped, "ok" kept. */
static void bad_rule(const char *text, unsigned line, const char *word)
{
  struct ss_config c;
  struct warnings ws;
  char full[512];
  snprintf(full, sizeof(full), "%s[refusal \"ok\"]\nstatus = 418\n", text);
  parse(&c, full, &ws);
  CHECK(ws.n == 1);
  if(ws.n != 1 || ws.w[0].line != line || !strstr(ws.w[0].msg, word))
    printf("#   text [%s]: %zu warnings, first line %u: %s\n", text, ws.n,
           ws.n ? ws.w[0].line : 0, ws.n ? ws.w[0].msg : "");
  CHECK(ws.n >= 1 && ws.w[0].line == line && strstr(ws.w[0].msg, word));
  CHECK(c.refusals.n == 1);
  CHECK(refusal_rule_status(&c.refusals, REFUSAL_BUILTINS) == 418);
  CHECK(refusal_match(&c.refusals, REFUSES_STREAM, 400, "{}", 2) == NULL);
  CHECK(refusal_match(&c.refusals, REFUSES_NONSTREAM, 400, "{}", 2) == NULL);
  config_free(&c);
}

TEST(parse_refusal_bad_lines)
{
  bad_rule("[refusal \"b\"]\nstatus = abc\n", 2, "status");
  bad_rule("[refusal \"b\"]\nstatus = 600\n", 2, "status");
  bad_rule("[refusal \"b\"]\nstatus = 99\n", 2, "status");
  bad_rule("[refusal \"b\"]\nstatus = 4000\n", 2, "status");
  bad_rule("[refusal \"b\"]\nstatus =\n", 2, "status");
  bad_rule("[refusal \"b\"]\nstatus 500 = 500\n", 2, "path");
  bad_rule("[refusal \"b\"]\nfield = x\n", 2, "path");
  bad_rule("[refusal \"b\"]\nfield a..b = x\n", 2, "path");
  bad_rule("[refusal \"b\"]\nfield .a = x\n", 2, "path");
  bad_rule("[refusal \"b\"]\nfield a. = x\n", 2, "path");
  bad_rule("[refusal \"b\"]\nstatus = 500\ncolour = red\n", 3, "unknown");
  bad_rule("[refusal \"b\"]\nmessage = a\nmessage = b\n", 3, "twice");
  bad_rule("[refusal \"b\"]\nbody = a\nbody = b\n", 3, "twice");
  bad_rule("[refusal \"b\"]\nstatus = 500\njust words\n", 3, "=");
  bad_rule("[refusal \"b\"]\n# only a comment\n", 1, "no setting");
  bad_rule("[refusal \"b\"]\n", 1, "no setting");
  bad_rule("[refusal]\nstatus = 500\n", 1, "refusal \"name\"");
  bad_rule("[refusal \"\"]\nstatus = 500\n", 1, "refusal \"name\"");
  bad_rule("[refusal b]\nstatus = 500\n", 1, "refusal \"name\"");
  bad_rule("[refusal \"a\"b\"]\nstatus = 500\n", 1, "refusal \"name\"");
  bad_rule("[refusal \"b\" x]\nstatus = 500\n", 1, "refusal \"name\"");
  bad_rule("[refusal \"built-in\"]\nstatus = 500\n", 1, "reserved");
  bad_rule("[refusal \"dashscope-stream-only\"]\nstatus = 500\n", 1,
           "reserved");
  bad_rule("[refusal \"dashscope-enable-thinking-zh\"]\nstatus = 500\n", 1,
           "reserved");
  bad_rule("[refusal \"b\"]\ndirection = sideways\n", 2, "direction");
  bad_rule("[refusal \"b\"]\ndirection = Stream-Only\n", 2, "direction");
  bad_rule("[refusal \"b\"]\ndirection =\n", 2, "direction");
  bad_rule("[refusal \"b\"]\ndirection = stream-only\nstatus = 500\n"
           "direction = no-stream\n", 4, "twice");
  bad_rule("[refusal \"b\"]\ndirection a = stream-only\n", 2, "path");
  /* A direction alone matches every 400 of its direction: dropped. */
  bad_rule("[refusal \"b\"]\ndirection = stream-only\n", 1,
           "but its direction");
  bad_rule("[refusals \"b\"]\nstatus = 500\n", 1, "unknown section");
  bad_rule("[refusal \"b\"\nstatus = 500\n", 1, "unknown section");
}

TEST(parse_refusal_duplicate_name)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c, "[refusal \"a\"]\nstatus = 418\n[refusal \"a\"]\nstatus = 500\n",
        &ws);
  CHECK(ws.n == 1 && ws.w[0].line == 3 && strstr(ws.w[0].msg, "exists"));
  CHECK(c.refusals.n == 1 &&
        refusal_rule_status(&c.refusals, REFUSAL_BUILTINS) == 418);
  config_free(&c);
  /* A dropped rule frees its name: the name can come again. */
  parse(&c, "[refusal \"a\"]\nstatus = 1\n[refusal \"a\"]\nstatus = 500\n",
        &ws);
  CHECK(ws.n == 1 && ws.w[0].line == 2);
  CHECK(c.refusals.n == 1 &&
        refusal_rule_status(&c.refusals, REFUSAL_BUILTINS) == 500);
  config_free(&c);
}

TEST(parse_refusal_several_bad_lines_all_reported)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c,
        "[refusal \"b\"]\n"
        "status = 7\n"
        "status = 500\n"
        "nope = 1\n"
        "[refusal \"c\"]\n"
        "status = 501\n",
        &ws);
  CHECK(ws.n == 2 && ws.w[0].line == 2 && ws.w[1].line == 4);
  CHECK(c.refusals.n == 1);
  CHECK_STR(refusal_rule_name(&c.refusals, REFUSAL_BUILTINS), "c");
  config_free(&c);
  /* Without a warn callback nothing breaks. */
  config_init(&c);
  static const char t[] = "[refusal \"b\"]\nstatus = 7\n[refusal]\n"
                          "[refusal \"d\"]\n";
  config_parse(&c, t, sizeof(t) - 1, "x", NULL, NULL);
  CHECK(c.refusals.n == 0);
  config_free(&c);
}

/* ---- globs ----------------------------------------------------------- */

TEST(globs_list_items)
{
  struct globs g;
  globs_init(&g);
  CHECK(globs_add_list(&g, ""));
  CHECK(g.n == 0);
  CHECK(globs_add_list(&g, ",, ,\t, "));
  CHECK(g.n == 0);
  CHECK(globs_add_list(&g, " a , b\t,,\tc d ,"));
  CHECK_STR(globs_str(&g), "a|b|c d");
  CHECK(globs_add_list(&g, "e"));
  CHECK_STR(globs_str(&g), "a|b|c d|e");
  CHECK(globs_add_list(&g, ",f"));
  CHECK_STR(globs_str(&g), "a|b|c d|e|f");
  globs_clear(&g);
  CHECK(g.n == 0 && g.v == NULL);
  CHECK(globs_match(&g, "a") == NULL);
  /* Usable again after clear; clear twice is fine. */
  CHECK(globs_add_list(&g, "x"));
  CHECK(g.n == 1 && globs_match(&g, "x"));
  globs_clear(&g);
  globs_clear(&g);
}

TEST(globs_fnmatch_patterns)
{
  struct globs g;
  globs_init(&g);
  CHECK(globs_add_list(&g, "o3*"));
  CHECK(globs_match(&g, "o3") != NULL);
  CHECK(globs_match(&g, "o3-mini") != NULL);
  CHECK(globs_match(&g, "o1") == NULL);
  CHECK(globs_match(&g, "xo3") == NULL);
  CHECK(globs_match(&g, "O3-mini") == NULL);  /* case-sensitive */
  CHECK(globs_match(&g, "") == NULL);
  globs_clear(&g);

  CHECK(globs_add_list(&g, "gpt-?o"));
  CHECK(globs_match(&g, "gpt-4o") != NULL);
  CHECK(globs_match(&g, "gpt-o") == NULL);
  CHECK(globs_match(&g, "gpt-40o") == NULL);
  globs_clear(&g);

  CHECK(globs_add_list(&g, "o[13]-*, [!a-y]z"));
  CHECK(globs_match(&g, "o1-mini") != NULL);
  CHECK(globs_match(&g, "o3-pro") != NULL);
  CHECK(globs_match(&g, "o2-mini") == NULL);
  CHECK(globs_match(&g, "zz") != NULL);
  CHECK(globs_match(&g, "bz") == NULL);
  globs_clear(&g);

  /* '*' alone matches everything, '/' included (no FNM_PATHNAME). */
  CHECK(globs_add_list(&g, "*"));
  CHECK(globs_match(&g, "") != NULL);
  CHECK(globs_match(&g, "org/model") != NULL);
  CHECK(globs_match(&g, ".hidden") != NULL);
  globs_clear(&g);

  /* A literal pattern matches only itself. */
  CHECK(globs_add_list(&g, "gpt-5"));
  CHECK(globs_match(&g, "gpt-5") != NULL);
  CHECK(globs_match(&g, "gpt-5-mini") == NULL);
  CHECK(globs_match(&g, "gpt-") == NULL);
  globs_clear(&g);
}

TEST(globs_first_match_order)
{
  struct globs g;
  globs_init(&g);
  CHECK(globs_add_list(&g, "o3-mini, o3*, *"));
  const char *m = globs_match(&g, "o3-mini");
  CHECK(m == g.v[0]);
  CHECK(m && !strcmp(m, "o3-mini"));
  m = globs_match(&g, "o3-pro");
  CHECK(m == g.v[1]);
  m = globs_match(&g, "claude");
  CHECK(m == g.v[2]);
  globs_clear(&g);
  CHECK(globs_add_list(&g, "*, o3-mini"));
  CHECK(globs_match(&g, "o3-mini") == g.v[0]);
  globs_clear(&g);
}

TEST(globs_many)
{
  struct globs g;
  char name[32];
  globs_init(&g);
  for(int i = 0; i < 300; i++) {
    snprintf(name, sizeof(name), "m%d,", i);
    CHECK(globs_add_list(&g, name));
  }
  CHECK(g.n == 300);
  CHECK(globs_match(&g, "m299") == g.v[299]);
  CHECK(globs_match(&g, "m300") == NULL);
  globs_clear(&g);
}

/* ---- the capture keys ---------------------------------------------------- */

TEST(capture_defaults)
{
  struct ss_config c;
  config_init(&c);
  CHECK(c.capture[0] == '\0');
  CHECK(c.capture_max_body == 1048576);
  CHECK(!c.capture_redact.off);
  CHECK(redact_rules_has(&c.capture_redact, REDACT_HEADERS, "authorization",
                         13));
  CHECK(redact_rules_has(&c.capture_redact, REDACT_QUERY, "api-key", 7));
  CHECK(redact_rules_has(&c.capture_redact, REDACT_FIELDS, "client_secret",
                         13));
  config_free(&c);
}

TEST(set_capture_path)
{
  struct ss_config c;
  const char *msg;
  static char path[SS_CAPTURE_PATH_MAX + 1];
  config_init(&c);
  CHECK(config_set(&c, "capture", "/tmp/cap.jsonl", false, &msg) && !msg);
  CHECK_STR(c.capture, "/tmp/cap.jsonl");
  CHECK(config_set(&c, "capture", "off", false, &msg) && !msg);
  CHECK_STR(c.capture, "");
  CHECK(config_set(&c, "capture", "rel/cap", true, &msg));
  CHECK(config_set(&c, "capture", "", false, &msg) && !msg);
  CHECK_STR(c.capture, "");
  /* "Off" is a name (values are case-sensitive). */
  CHECK(config_set(&c, "capture", "Off", false, &msg));
  CHECK_STR(c.capture, "Off");
  /* 4095 bytes fit; 4096 are refused and leave the setting alone. */
  memset(path, 'p', SS_CAPTURE_PATH_MAX - 1);
  path[SS_CAPTURE_PATH_MAX - 1] = '\0';
  CHECK(config_set(&c, "capture", path, false, &msg));
  CHECK(strlen(c.capture) == SS_CAPTURE_PATH_MAX - 1);
  CHECK(config_set(&c, "capture", "/a", false, &msg));
  path[SS_CAPTURE_PATH_MAX - 1] = 'p';
  path[SS_CAPTURE_PATH_MAX] = '\0';
  msg = NULL;
  CHECK(!config_set(&c, "capture", path, false, &msg));
  CHECK(msg != NULL && strstr(msg, "capture") != NULL);
  CHECK_STR(c.capture, "/a");
  config_free(&c);
}

TEST(set_capture_max_body)
{
  struct ss_config c;
  const char *msg;
  config_init(&c);
  CHECK(config_set(&c, "capture_max_body", "0", false, &msg) && !msg);
  CHECK(c.capture_max_body == 0);
  CHECK(config_set(&c, "capture_max_body", "1073741824", false, &msg));
  CHECK(c.capture_max_body == (size_t)1 << 30);
  CHECK(config_set(&c, "capture_max_body", "4096", false, &msg));
  static const char *const bad[] = {
    "1073741825", "-1", "1k", "", " 5", "1e6", "0x10",
    "99999999999999999999999"
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    msg = NULL;
    CHECK(!config_set(&c, "capture_max_body", bad[i], false, &msg));
    CHECK(msg != NULL);
    CHECK(c.capture_max_body == 4096);
  }
  config_free(&c);
}

TEST(set_capture_redact)
{
  struct ss_config c;
  const char *msg;
  config_init(&c);
  CHECK(config_set(&c, "capture_redact", "off", false, &msg) && !msg);
  CHECK(c.capture_redact.off);
  CHECK(config_set(&c, "capture_redact", "on", false, &msg) && !msg);
  CHECK(!c.capture_redact.off);
  CHECK(config_set(&c, "capture_redact", "off", false, &msg));
  static const char *const bad[] = { "On", "OFF", "", "yes", "0", " off" };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    msg = NULL;
    CHECK(!config_set(&c, "capture_redact", bad[i], false, &msg));
    CHECK(msg != NULL);
    CHECK(c.capture_redact.off);  /* unchanged */
  }
  config_free(&c);
}

TEST(set_capture_redact_lists)
{
  struct ss_config c;
  const struct redact_rules *r = &c.capture_redact;
  const char *msg;
  config_init(&c);
  CHECK(config_set(&c, "capture_redact_headers", "X-Secret, -Cookie", false,
                   &msg) && !msg);
  CHECK(redact_rules_has(r, REDACT_HEADERS, "x-secret", 8));
  CHECK(!redact_rules_has(r, REDACT_HEADERS, "cookie", 6));
  CHECK(config_set(&c, "capture_redact_query", "+code, -sig", false, &msg));
  CHECK(redact_rules_has(r, REDACT_QUERY, "code", 4));
  CHECK(!redact_rules_has(r, REDACT_QUERY, "sig", 3));
  CHECK(config_set(&c, "capture_redact_fields", "pin,-token", false, &msg));
  CHECK(redact_rules_has(r, REDACT_FIELDS, "PIN", 3));
  CHECK(!redact_rules_has(r, REDACT_FIELDS, "token", 5));
  /* replace_list (a variable over the file) still edits: accumulates. */
  CHECK(config_set(&c, "capture_redact_fields", "otp", true, &msg));
  CHECK(redact_rules_has(r, REDACT_FIELDS, "pin", 3));
  CHECK(redact_rules_has(r, REDACT_FIELDS, "otp", 3));
  /* A bad item: reported, additions apply, removals do not. */
  msg = NULL;
  CHECK(!config_set(&c, "capture_redact_fields", "+cvv, -password, -",
                    false, &msg));
  CHECK(msg != NULL && strstr(msg, "redact") != NULL);
  CHECK(redact_rules_has(r, REDACT_FIELDS, "cvv", 3));
  CHECK(redact_rules_has(r, REDACT_FIELDS, "password", 8));
  /* Edits survive capture_redact = off and on. */
  CHECK(config_set(&c, "capture_redact", "off", false, &msg));
  CHECK(config_set(&c, "capture_redact", "on", false, &msg));
  CHECK(redact_rules_has(r, REDACT_FIELDS, "cvv", 3));
  /* Unknown capture_* keys are unknown. */
  CHECK(!config_set(&c, "capture_redact_body", "x", false, &msg));
  CHECK(msg != NULL && strstr(msg, "unknown") != NULL);
  config_free(&c);
}

TEST(parse_capture_keys)
{
  struct ss_config c;
  struct warnings ws;
  parse(&c,
        "capture = \"/var/log/app capture.jsonl\"\n"   /* 1 */
        "capture_max_body = 0\n"                      /* 2 */
        "capture_redact = off\n"                      /* 3 */
        "capture_redact_headers = X-Internal-Token\n" /* 4 */
        "capture_redact_headers = -Set-Cookie\n"      /* 5 */
        "capture_redact_query = code\n"               /* 6 */
        "capture_redact_fields = pin, -secret\n"      /* 7 */
        "capture_max_body = 2000000000\n"             /* 8: bad */
        "capture_redact = maybe\n"                    /* 9: bad */
        "capture_redact_fields = +ok, -token, +\n",   /* 10: bad */
        &ws);
  CHECK(ws.n == 3);
  CHECK(ws.n == 3 && ws.w[0].line == 8 && ws.w[1].line == 9 &&
        ws.w[2].line == 10);
  CHECK_STR(c.capture, "/var/log/app capture.jsonl");
  CHECK(c.capture_max_body == 0);
  CHECK(c.capture_redact.off);
  const struct redact_rules *r = &c.capture_redact;
  CHECK(redact_rules_has(r, REDACT_HEADERS, "x-internal-token", 16));
  CHECK(!redact_rules_has(r, REDACT_HEADERS, "set-cookie", 10));
  CHECK(redact_rules_has(r, REDACT_QUERY, "code", 4));
  CHECK(redact_rules_has(r, REDACT_FIELDS, "pin", 3));
  CHECK(!redact_rules_has(r, REDACT_FIELDS, "secret", 6));
  CHECK(redact_rules_has(r, REDACT_FIELDS, "ok", 2));
  CHECK(redact_rules_has(r, REDACT_FIELDS, "token", 5));
  config_free(&c);
  /* capture = off in a file, and inside a section nothing applies. */
  parse(&c, "capture = /a\ncapture = off\n[other]\ncapture = /b\n", &ws);
  CHECK_STR(c.capture, "");
  config_free(&c);
}

/* ---- where the file is looked for (config_find) ---------------------- */

/* A fake environment for config_find: NAME=value strings. */
static const char *env_table[4];

static char *table_getenv(const char *name)
{
  size_t n = strlen(name);
  for(size_t i = 0; i < 4 && env_table[i]; i++)
    if(!strncmp(env_table[i], name, n) && env_table[i][n] == '=')
      return (char *)env_table[i] + n + 1;
  return NULL;
}

static void touch(const char *path)
{
  FILE *f = fopen(path, "w");
  if(f)
    fclose(f);
}

TEST(config_find_order)
{
  char dir[] = "/tmp/ss_config_find_XXXXXX", p[512], path[512];
  char home[700], xdg[700], sys[700], dot[700], conf[800], hc[900], xc[900];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(home, sizeof(home), "HOME=%s/home", dir);
  snprintf(xdg, sizeof(xdg), "XDG_CONFIG_HOME=%s/xdg", dir);
  snprintf(sys, sizeof(sys), "%s/etc-streamshim-config", dir);
  snprintf(dot, sizeof(dot), "%s/home/.config", dir);
  snprintf(conf, sizeof(conf), "%s/streamshim", dot);
  snprintf(hc, sizeof(hc), "%s/config", conf);
  snprintf(p, sizeof(p), "%s/xdg/streamshim", dir);
  snprintf(xc, sizeof(xc), "%s/config", p);
  const char *mk[] = {"home", "home/.config", "home/.config/streamshim", "xdg",
                      "xdg/streamshim"};
  char d[600];
  for(size_t i = 0; i < 5; i++) {
    snprintf(d, sizeof(d), "%s/%s", dir, mk[i]);
    CHECK(mkdir(d, 0700) == 0);
  }

  /* nothing exists: none */
  env_table[0] = home;
  env_table[1] = NULL;
  CHECK(!config_find(table_getenv, sys, path, sizeof(path)));
  /* the system's, then the user's over it */
  touch(sys);
  CHECK(config_find(table_getenv, sys, path, sizeof(path)) &&
        !strcmp(path, sys));
  touch(hc);
  CHECK(config_find(table_getenv, sys, path, sizeof(path)) &&
        !strcmp(path, hc));
  /* an absolute XDG_CONFIG_HOME replaces ~/.config, even without a file
   * there (then the system's); a relative one is ignored */
  env_table[1] = xdg;
  CHECK(config_find(table_getenv, sys, path, sizeof(path)) &&
        !strcmp(path, sys));
  touch(xc);
  CHECK(config_find(table_getenv, sys, path, sizeof(path)) &&
        !strcmp(path, xc));
  env_table[1] = "XDG_CONFIG_HOME=relative/dir";
  CHECK(config_find(table_getenv, sys, path, sizeof(path)) &&
        !strcmp(path, hc));
  /* STREAMSHIM_CONFIG wins, existing or not; set but empty: none */
  env_table[2] = "STREAMSHIM_CONFIG=/no/such/file";
  CHECK(config_find(table_getenv, sys, path, sizeof(path)) &&
        !strcmp(path, "/no/such/file"));
  env_table[2] = "STREAMSHIM_CONFIG=";
  CHECK(!config_find(table_getenv, sys, path, sizeof(path)) && errno == 0);
  /* a named path that does not fit: none, and errno says it was named */
  env_table[2] = "STREAMSHIM_CONFIG=/no/such/file";
  CHECK(!config_find(table_getenv, sys, path, 8) && errno == ENAMETOOLONG);
  /* a path that does not fit is no path */
  env_table[2] = NULL;
  CHECK(!config_find(table_getenv, sys, path, 8) && errno == 0);
  /* a dangling symlink is the user's file (to be reported), not a reason
   * to read the system's */
  env_table[1] = xdg;
  CHECK(remove(xc) == 0 && symlink("/no/such/target", xc) == 0);
  CHECK(config_find(table_getenv, sys, path, sizeof(path)) &&
        !strcmp(path, xc));
  size_t len;
  CHECK(!config_read_file(xc, &len) &&
        !strcmp(config_read_why(xc, errno), "is a symbolic link to nothing"));
  env_table[1] = "XDG_CONFIG_HOME=relative/dir";
  /* no HOME: the system's */
  env_table[0] = "XDG_CONFIG_HOME=";
  env_table[1] = NULL;
  CHECK(config_find(table_getenv, sys, path, sizeof(path)) &&
        !strcmp(path, sys));
  remove(xc);
  remove(hc);
  remove(sys);
  for(size_t i = 5; i-- > 0;) {
    snprintf(d, sizeof(d), "%s/%s", dir, mk[i]);
    rmdir(d);
  }
  CHECK(rmdir(dir) == 0);
}

int main(void)
{
  RUN(defaults);
  RUN(set_mode);
  RUN(set_log);
  RUN(set_models_add_and_replace);
  RUN(set_chunk_numbers);
  RUN(set_max_answer_numbers);
  RUN(set_unknown_key);
  RUN(parse_every_key);
  RUN(parse_empty_text);
  RUN(parse_whitespace_around_equals);
  RUN(parse_quoted_values);
  RUN(parse_comments_and_blank_lines);
  RUN(parse_trailing_comments);
  RUN(parse_trailing_comments_and_quotes);
  RUN(parse_log_line);
  RUN(parse_crlf);
  RUN(parse_no_final_newline);
  RUN(parse_line_without_equals);
  RUN(parse_unknown_keys);
  RUN(parse_unknown_sections);
  RUN(parse_repeated_models_add);
  RUN(parse_bad_numbers);
  RUN(parse_unknown_mode_acts_as_off);
  RUN(parse_warn_gets_file_and_lines);
  RUN(parse_nul_byte_does_not_crash);
  RUN(set_stream_only_add_and_replace);
  RUN(parse_stream_only);
  RUN(env_vars_replace_lists);
  RUN(parse_refusal_sections);
  RUN(parse_refusal_directions);
  RUN(parse_refusal_then_settings_are_not_global);
  RUN(parse_refusal_bad_lines);
  RUN(parse_refusal_duplicate_name);
  RUN(parse_refusal_several_bad_lines_all_reported);
  RUN(globs_list_items);
  RUN(globs_fnmatch_patterns);
  RUN(globs_first_match_order);
  RUN(globs_many);
  RUN(capture_defaults);
  RUN(set_capture_path);
  RUN(set_capture_max_body);
  RUN(set_capture_redact);
  RUN(set_capture_redact_lists);
  RUN(parse_capture_keys);
  RUN(config_find_order);
  return check_done();
}
