/* streamshim-ctl.c - `streamshim models`: show and reset what auto mode
 * knows. The wrapper (scripts/streamshim) execs it for its first argument
 * `models`, `check-config` (ctl_check.c) or `explain` (ctl_explain.c);
 * it is built next to the library ($(BUILD)/streamshim-ctl).
 *
 *   streamshim-ctl models [--json] [--config FILE] [--cache PATH|off]
 *                         [--wait SECONDS]
 *                         [--forget [PATTERN] | --forget=PATTERN]
 *
 * It reads the configuration as the library does (config_load.h: the file
 * STREAMSHIM_CONFIG names, then the STREAMSHIM_* variables; --config and
 * --cache given here win) and prints the mode, the configured models of
 * both directions (models: sent without stream; stream_only: sent
 * streaming), the refusal rules (built-in first) with their direction,
 * the cache file and its TTL, and the learned entries with their
 * direction, expired ones included and marked (they are dropped at the
 * next write), and what keeps the cache from being read or written (a
 * FIFO, a symlink, a directory, another owner, at the file or its lock).
 * Names are printed with control bytes and '\' escaped. A direction is
 * shown in the words of the configuration and the cache file: no-stream
 * (the server refuses "stream": true, requests go without it) or
 * stream-only (it refuses requests without stream, they go streaming).
 * --forget removes the entries whose host or model matches the glob
 * PATTERN (all without one; a PATTERN starting with '-' needs the
 * --forget=PATTERN form), under the file's lock, and says how many; it
 * leaves a forget record (learned_file.h) so that a refusal a running
 * process learned before the forget, and writes only after it, does not
 * come back. The lock is waited for --wait SECONDS (default 30).
 *
 * A hidden subcommand seeds the cache for tests and maintenance:
 *   streamshim-ctl learn [--at UNIX] [--secret S] [--rule NAME] [--wait S]
 *                        [--direction no-stream|stream-only] HOST MODEL...
 * learns each (HOST, MODEL) as the library would (learned_add), in the
 * direction given (default no-stream; the rule defaults to the first
 * built-in rule of that direction), then writes them (learned_flush_at,
 * waiting for the lock) and checks that the file holds them.
 *
 * Exit status: 0; 1 when the cache could not be read or rewritten (for
 * `models`: it cannot be read, or something stands against writing it;
 * for --forget and learn: the file was not written) or the output could
 * not be written; 2 for a usage error. check-config and explain: their
 * own, with 2 for output that could not be written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <limits.h>

#include "buf.h"
#include "escape.h"
#include "config.h"
#include "config_load.h"
#include "ctl_commands.h"
#include "ctl_config.h"
#include "learned.h"
#include "learned_file.h"
#include "refusal.h"

#define WAIT_DEFAULT_S 30  /* for the lock: another writer holds it briefly */

struct ctl {
  struct ctl_config conf;   /* conf.cfg: the settings; conf.path: the file */
  const char *cache_path;   /* learned_path(), maybe in cache_buf */
  char cache_buf[PATH_MAX];
  bool json;
  bool forget;
  const char *pattern;      /* --forget's, or NULL for all */
  long wait_ms;             /* --wait */
  time_t now;
  char why[PATH_MAX + 64];  /* learned_file_problem() */
  const char *problem;      /* what stands against the cache, or NULL */
};

static int usage(const char *why)
{
  if(why)
    fprintf(stderr, PROG ": %s\n", why);
  fprintf(stderr, "Usage: " PROG " models [--json] [--config FILE] "
                  "[--cache PATH|off] [--wait SECONDS] "
                  "[--forget [PATTERN]]\n");
  return 2;
}

/* Load the configuration (ctl_config.h) and find the cache; false for
 * a bad --cache. An unreadable file is reported and ignored, as the
 * library would. */
static bool load_config(struct ctl *c, const char *file, const char *cache)
{
  bool ok = ctl_config_load(&c->conf, file, cache, ctl_warn_stderr, NULL);
  if(c->conf.read_errno) {
    const char *where;
    char msg[PATH_MAX + 200];
    ctl_config_problem(&c->conf, &where, msg, sizeof(msg));
    ctl_warn_stderr(NULL, where, 0, msg);
  }
  c->cache_path = learned_path(&c->conf.cfg, c->cache_buf,
                               sizeof(c->cache_buf));
  return ok;
}

/* ---- text output ------------------------------------------------------ */

/* Append s for a terminal, escaped as the log escapes (escape.h). */
static void put_shown(struct buf *b, const char *s)
{
  escape_shown_buf(b, s);
}

/* Columns a shown string takes: UTF-8 lead bytes count, continuations not. */
static size_t width(const char *s)
{
  size_t w = 0;
  for(; *s; s++)
    w += ((unsigned char)*s & 0xc0) != 0x80;
  return w;
}

/* A TTL as the largest whole unit: 7d, 12h, 90s. */
static void ttl_text(long ttl, char *out, size_t cap)
{
  if(ttl > 0 && ttl % 86400 == 0)
    snprintf(out, cap, "%ldd", ttl / 86400);
  else if(ttl > 0 && ttl % 3600 == 0)
    snprintf(out, cap, "%ldh", ttl / 3600);
  else if(ttl > 0 && ttl % 60 == 0)
    snprintf(out, cap, "%ldm", ttl / 60);
  else
    snprintf(out, cap, "%lds", ttl);
}

/* A learned entry's columns: source, host, model, credential, learned,
 * expires, direction (added last, so that the first six keep their
 * places). */
#define NCOL 7

/* One learned entry's cells, shown. */
struct row {
  struct buf cell[NCOL];
};

/* Print rows under a header in aligned columns (two blanks apart). */
static void print_table(const char *const *head, struct row *rows, size_t n)
{
  size_t w[NCOL];
  for(int k = 0; k < NCOL; k++) {
    w[k] = strlen(head[k]);
    for(size_t i = 0; i < n; i++) {
      size_t x = width(buf_cstr(&rows[i].cell[k]) ? rows[i].cell[k].ptr : "");
      w[k] = x > w[k] ? x : w[k];
    }
  }
  for(size_t i = 0; i <= n; i++) {
    for(int k = 0; k < NCOL; k++) {
      const char *s = i ? (rows[i - 1].cell[k].ptr ? rows[i - 1].cell[k].ptr
                                                   : "") : head[k];
      if(k == NCOL - 1)
        printf("  %s\n", s);
      else
        printf("  %s%*s", s, (int)(w[k] - width(s)), "");
    }
  }
}

/* The learned entries as a table. */
static void print_entries(const struct ctl *c, const struct learned_list *l)
{
  static const char *const head[NCOL] = {"SOURCE", "HOST", "MODEL",
                                         "CREDENTIAL", "LEARNED", "EXPIRES",
                                         "DIRECTION"};
  struct row *rows = calloc(l->n ? l->n : 1, sizeof(*rows));
  if(!rows)
    return;
  for(size_t i = 0; i < l->n; i++) {
    const struct learned_entry *e = &l->v[i];
    char t[64];
    put_shown(&rows[i].cell[0], e->rule);
    put_shown(&rows[i].cell[1], e->host);
    put_shown(&rows[i].cell[2], e->model);
    buf_puts(&rows[i].cell[3], e->fp);
    ctl_iso_time(e->learned, t, sizeof(t));
    buf_puts(&rows[i].cell[4], t);
    ctl_iso_time(e->expires, t, sizeof(t));
    buf_puts(&rows[i].cell[5], t);
    if(e->expires <= (long long)c->now)
      buf_puts(&rows[i].cell[5], " (expired)");
    buf_puts(&rows[i].cell[6], refusal_dir_name(e->dir));
    for(int k = 0; k < NCOL; k++)
      buf_cstr(&rows[i].cell[k]);
  }
  print_table(head, rows, l->n);
  for(size_t i = 0; i < l->n; i++)
    for(int k = 0; k < NCOL; k++)
      buf_free(&rows[i].cell[k]);
  free(rows);
}

/* One line of globs: the label, the list (or "(none)"), what it means. */
static void print_globs(struct buf *b, const char *label,
                        const struct globs *g, const char *meaning)
{
  buf_reset(b);
  for(size_t i = 0; i < g->n; i++) {
    put_shown(b, g->v[i]);
    if(i + 1 < g->n)
      buf_puts(b, ", ");
  }
  const char *list = buf_cstr(b);
  printf("%-9s %s%s%s\n", label, !g->n ? "(none)" : list ? list : "",
         g->n ? "  " : "", g->n ? meaning : "");
  buf_reset(b);
}

/* The whole report in text; got is learned_file_read's result. */
static void print_text(const struct ctl *c, const struct learned_list *l,
                       int got)
{
  struct buf b;
  char ttl[32];
  const char *list;
  buf_init(&b);
  printf("mode      %s\n", config_mode_name(c->conf.cfg.mode));
  ctl_say(stdout, "config    %s", c->conf.path ? c->conf.path
                                                : "(none found)");
  print_globs(&b, "models", &c->conf.cfg.models, "(de-streamed up front)");
  print_globs(&b, "streaming", &c->conf.cfg.stream_only,
              "(stream_only: sent streaming up front)");
  ttl_text(c->conf.cfg.cache_ttl, ttl, sizeof(ttl));
  if(c->cache_path) {
    put_shown(&b, c->cache_path);
    list = buf_cstr(&b);
    printf("cache     %s  (entries hold %s)", list ? list : "", ttl);
    buf_reset(&b);
    if(c->problem)
      put_shown(&b, c->problem);
    if(got < 0 || c->problem)
      printf("  CANNOT BE %s (%s): processes keep what they learn in "
             "memory only", got < 0 ? "READ" : "WRITTEN",
             buf_cstr(&b) && c->problem ? b.ptr : "unreadable");
    printf("\n");
  } else {
    printf("cache     off  (each process keeps what it learns in memory, "
           "%s)\n", ttl);
  }
  printf("\nrefusal rules (tried in order):\n");
  /* the names and globs of the file's rules: shown escaped */
  size_t nr = refusal_rule_count(&c->conf.cfg.refusals), wn = 4;
  struct buf name, what;
  buf_init(&name);
  buf_init(&what);
  for(size_t i = 0; i < nr; i++) {
    buf_reset(&name);
    put_shown(&name, refusal_rule_name(&c->conf.cfg.refusals, i));
    if(buf_cstr(&name) && width(name.ptr) > wn)
      wn = width(name.ptr);
  }
  printf("  %-*s  %-11s  MATCHES\n", (int)wn, "NAME", "DIRECTION");
  for(size_t i = 0; i < nr; i++) {
    buf_reset(&name);
    put_shown(&name, refusal_rule_name(&c->conf.cfg.refusals, i));
    buf_reset(&b);
    buf_reset(&what);
    refusal_rule_describe(&c->conf.cfg.refusals, i, &b);
    if(buf_cstr(&b))
      put_shown(&what, b.ptr);
    const char *shown = buf_cstr(&name) ? name.ptr : "";
    printf("  %s%*s  %-11s  %s\n", shown, (int)(wn - width(shown)), "",
           refusal_dir_name(refusal_rule_dir(&c->conf.cfg.refusals, i)),
           buf_cstr(&what) ? what.ptr : "");
  }
  buf_free(&name);
  buf_free(&what);
  if(!c->cache_path)
    printf("\nlearned refusals: none in a file (cache off)\n");
  else if(got < 0)
    printf("\nlearned refusals: unknown (the cache cannot be read)\n");
  else if(!l->n)
    printf("\nlearned refusals: none\n");
  else {
    printf("\nlearned refusals (%zu):\n", l->n);
    print_entries(c, l);
  }
  buf_free(&b);
}

/* ---- JSON output ------------------------------------------------------ */

/* The length of the valid UTF-8 sequence at p (1-4), or 0. */
static size_t utf8_len(const unsigned char *p)
{
  size_t n = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2
             : p[0] >= 0xe0 && p[0] <= 0xef ? 3
             : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
  for(size_t i = 1; i < n; i++)
    if((p[i] & 0xc0) != 0x80)
      return 0;
  if((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) ||
     (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
     (n == 4 && p[0] == 0xf0 && p[1] < 0x90) ||
     (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
    return 0;
  return n;
}

/* Print s as a JSON string (NULL as null); bytes that are not UTF-8
 * become U+FFFD. */
static void json_str(const char *s)
{
  if(!s) {
    fputs("null", stdout);
    return;
  }
  putchar('"');
  for(const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = utf8_len(p);
    if(*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if(*p < 0x20 || *p == 0x7f)
      printf("\\u%04x", *p);
    else if(n)
      fwrite(p, 1, n, stdout);
    else
      fputs("\\ufffd", stdout);
    p += n ? n : 1;
  }
  putchar('"');
}

/* A time as "iso" and its Unix value under two keys. */
static void json_time(const char *key, long long t)
{
  char iso[64];
  ctl_iso_time(t, iso, sizeof(iso));
  printf("\"%s\":", key);
  json_str(iso);
  printf(",\"%s_unix\":%lld", key, t);
}

/* The whole report as one JSON object. */
static void print_json(const struct ctl *c, const struct learned_list *l,
                       int got)
{
  struct buf b;
  buf_init(&b);
  printf("{\"mode\":");
  json_str(config_mode_name(c->conf.cfg.mode));
  printf(",\"config\":");
  json_str(c->conf.path);
  printf(",\"models\":[");
  for(size_t i = 0; i < c->conf.cfg.models.n; i++) {
    printf(i ? "," : "");
    json_str(c->conf.cfg.models.v[i]);
  }
  printf("],\"stream_only\":[");
  for(size_t i = 0; i < c->conf.cfg.stream_only.n; i++) {
    printf(i ? "," : "");
    json_str(c->conf.cfg.stream_only.v[i]);
  }
  printf("],\"cache\":{\"path\":");
  json_str(c->cache_path);
  printf(",\"ttl\":%ld,\"readable\":%s,\"writable\":%s,\"problem\":",
         c->conf.cfg.cache_ttl, c->cache_path && got < 0 ? "false" : "true",
         c->cache_path && (got < 0 || c->problem) ? "false" : "true");
  json_str(c->problem);
  printf("},\"rules\":[");
  for(size_t i = 0; i < refusal_rule_count(&c->conf.cfg.refusals); i++) {
    buf_reset(&b);
    refusal_rule_describe(&c->conf.cfg.refusals, i, &b);
    printf("%s{\"name\":", i ? "," : "");
    json_str(refusal_rule_name(&c->conf.cfg.refusals, i));
    printf(",\"builtin\":%s,\"direction\":",
           refusal_rule_builtin(&c->conf.cfg.refusals, i) ? "true" : "false");
    json_str(refusal_dir_name(refusal_rule_dir(&c->conf.cfg.refusals, i)));
    printf(",\"status\":%d,\"matches\":",
           refusal_rule_status(&c->conf.cfg.refusals, i));
    json_str(buf_cstr(&b) ? b.ptr : "");
    printf("}");
  }
  printf("],\"learned\":[");
  for(size_t i = 0; i < l->n; i++) {
    const struct learned_entry *e = &l->v[i];
    printf("%s{\"source\":", i ? "," : "");
    json_str(e->rule);
    printf(",\"host\":");
    json_str(e->host);
    printf(",\"model\":");
    json_str(e->model);
    printf(",\"fingerprint\":");
    json_str(e->fp);
    printf(",\"direction\":");
    json_str(refusal_dir_name(e->dir));
    printf(",");
    json_time("learned", e->learned);
    printf(",");
    json_time("expires", e->expires);
    printf(",\"expired\":%s}", e->expires <= (long long)c->now ? "true"
                                                               : "false");
  }
  printf("]}\n");
  buf_free(&b);
}

/* ---- commands --------------------------------------------------------- */

/* --forget's edit: drop the matching entries and leave a forget record
 * (at the time of the edit, under the lock). */
struct forget_arg {
  const char *pattern;      /* NULL: all */
  size_t removed;
};

static size_t forget_edit(struct learned_list *l, void *arg)
{
  struct forget_arg *a = arg;
  for(size_t i = l->n; i-- > 0;) {
    if(learned_forget_matches(a->pattern, &l->v[i])) {
      learned_list_remove(l, i);
      a->removed++;
    }
  }
  return a->removed + learned_list_forget(l, a->pattern, learned_clock_ns());
}

/* --forget: rewrite the file without the matching entries. The file is
 * created when absent: the forget record must be there for a writer that
 * is under way. */
static int forget(const struct ctl *c)
{
  struct forget_arg a = {c->pattern, 0};
  if(!c->cache_path) {
    printf("the cache is off: nothing to forget\n");
    return 0;
  }
  int rc = learned_file_update(c->cache_path, true, c->now, c->wait_ms,
                               forget_edit, &a, NULL, NULL, NULL);
  if(rc != LEARNED_FILE_OK) {
    char why[PATH_MAX + 64];
    const char *p = learned_file_problem(c->cache_path, why, sizeof(why));
    ctl_say(stderr, PROG ": %s: cannot be rewritten (%s)", c->cache_path,
            rc == LEARNED_FILE_BUSY ? "another writer held its lock too long"
            : p ? p : "not ours, or not a regular file");
    return 1;
  }
  printf("forgot %zu learned refusal%s%s%s%s\n", a.removed,
         a.removed == 1 ? "" : "s", c->pattern ? " matching '" : "",
         c->pattern ? c->pattern : "", c->pattern ? "'" : "");
  return 0;
}

/* --wait SECONDS: a whole number, 0 to 3600. */
static bool parse_wait(const char *s, long *ms)
{
  char *end;
  long v = strtol(s, &end, 10);
  if(!*s || *end || v < 0 || v > 3600)
    return false;
  *ms = v * 1000;
  return true;
}

/* `models`: parse the options, then show or forget. */
static int cmd_models(int argc, char **argv)
{
  struct ctl c = {0};
  const char *cache = NULL, *config_file = NULL;
  c.now = time(NULL);
  c.wait_ms = WAIT_DEFAULT_S * 1000L;
  for(int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if(!strcmp(a, "--json"))
      c.json = true;
    else if(!strcmp(a, "--wait") && i + 1 < argc) {
      if(!parse_wait(argv[++i], &c.wait_ms))
        return usage("--wait: a number of seconds, 0 to 3600");
    }
    else if(!strcmp(a, "--forget")) {
      c.forget = true;
      if(i + 1 < argc && argv[i + 1][0] != '-')
        c.pattern = argv[++i];
    } else if(!strncmp(a, "--forget=", 9)) {
      c.forget = true;
      c.pattern = a + 9;
    } else if(!strcmp(a, "--config") && i + 1 < argc) {
      config_file = argv[++i];
    } else if(!strcmp(a, "--cache") && i + 1 < argc) {
      cache = argv[++i];
    } else if(!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(NULL);
      return 0;
    } else {
      return usage("models: unknown or incomplete option");
    }
  }
  if(!load_config(&c, config_file, cache)) {
    config_free(&c.conf.cfg);
    return 2;
  }
  int rc = 0;
  if(c.forget) {
    rc = forget(&c);
  } else {
    struct learned_list l;
    struct learned_stamp st;
    learned_list_init(&l);
    int got = c.cache_path ? learned_file_read(c.cache_path, &l, &st) : 0;
    if(c.cache_path)
      c.problem = learned_file_problem(c.cache_path, c.why, sizeof(c.why));
    if(c.json)
      print_json(&c, &l, got);
    else
      print_text(&c, &l, got);
    learned_list_free(&l);
    rc = got < 0 || c.problem;
  }
  config_free(&c.conf.cfg);
  return rc;
}

/* Is (host, model, fp) in the file at path in direction dir, or covered
 * by one of its forget records made after since_ns (then it was
 * forgotten meanwhile)? */
static bool in_file(const char *path, const char *host, const char *model,
                    const char *fp, enum refusal_dir dir, long long since_ns)
{
  struct learned_list l;
  struct learned_stamp st;
  struct learned_entry e = {.host = (char *)host, .model = (char *)model};
  learned_list_init(&l);
  long k;
  bool found = learned_file_read(path, &l, &st) > 0 &&
               (((k = learned_list_find(&l, host, model, fp)) >= 0 &&
                 l.v[k].dir == dir) ||
                learned_forgotten(&l, &e, since_ns));
  learned_list_free(&l);
  return found;
}

/* Hidden `learn`: learned_add for each MODEL of HOST, then the write the
 * library would do at its next flush point, waited for; and a check.
 * stdout says when the entries are in memory (tests wait for that line),
 * then where they were written. */
static int cmd_learn(int argc, char **argv)
{
  struct ctl c = {0};
  const char *secret = NULL, *rule = NULL;
  enum refusal_dir dir = REFUSES_STREAM;
  long long at = (long long)time(NULL);
  long wait_ms = WAIT_DEFAULT_S * 1000L;
  char fp[LEARNED_FP_LEN + 1];
  int i = 0;
  for(; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if(!strcmp(argv[i], "--at"))
      at = strtoll(argv[i + 1], NULL, 10);
    else if(!strcmp(argv[i], "--secret"))
      secret = argv[i + 1];
    else if(!strcmp(argv[i], "--rule"))
      rule = argv[i + 1];
    else if(!strcmp(argv[i], "--direction")) {
      if(!refusal_dir_parse(argv[i + 1], &dir))
        return usage("learn: --direction no-stream or stream-only");
    }
    else if(!strcmp(argv[i], "--wait") && parse_wait(argv[i + 1], &wait_ms))
      continue;
    else
      return usage("learn: unknown option");
  }
  if(argc - i < 2)
    return usage("learn: HOST MODEL... expected");
  load_config(&c, NULL, NULL);
  /* the first built-in rule of the direction names the entries */
  for(size_t k = 0; !rule && k < refusal_rule_count(NULL); k++)
    if(refusal_rule_dir(NULL, k) == dir)
      rule = refusal_rule_name(NULL, k);
  learned_fingerprint(secret, secret ? strlen(secret) : 0, fp);
  long long since = learned_clock_ns();
  for(int k = i + 1; k < argc; k++)
    learned_add(&c.conf.cfg, argv[i], argv[k], fp, dir, rule, (time_t)at);
  printf("learned %d refusal%s in memory\n", argc - i - 1,
         argc - i - 1 == 1 ? "" : "s");
  fflush(stdout);
  int rc = 0;
  if(c.cache_path && c.conf.cfg.cache_ttl > 0) {
    int fl = learned_flush_at((time_t)at, wait_ms);
    for(int k = i + 1; k < argc && !rc; k++)
      rc = !in_file(c.cache_path, argv[i], argv[k], fp, dir, since);
    if(rc) {
      const char *p = learned_file_problem(c.cache_path, c.why,
                                           sizeof(c.why));
      fprintf(stderr, PROG ": %s: not written, kept in memory only (%s)\n",
              c.cache_path, fl == LEARNED_FLUSH_BUSY
              ? "another writer held its lock too long"
              : p ? p : "cannot be written");
      learned_discard_pending();  /* no second wait at exit */
    } else {
      printf("written to %s\n", c.cache_path);
    }
  }
  config_free(&c.conf.cfg);
  return rc;
}

int main(int argc, char **argv)
{
  /* output that could not be written is each command's failure status */
  if(argc >= 2 && !strcmp(argv[1], "models"))
    return ctl_stdout_checked(cmd_models(argc - 2, argv + 2), 1);
  if(argc >= 2 && !strcmp(argv[1], "learn"))
    return ctl_stdout_checked(cmd_learn(argc - 2, argv + 2), 1);
  if(argc >= 2 && !strcmp(argv[1], "check-config"))
    return ctl_stdout_checked(cmd_check_config(argc - 2, argv + 2), 2);
  if(argc >= 2 && !strcmp(argv[1], "explain"))
    return ctl_stdout_checked(cmd_explain(argc - 2, argv + 2), 2);
  return usage(argc < 2 ? "a command is needed" : "unknown command");
}
