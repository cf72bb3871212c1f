/* ctl_explain.c - `streamshim explain [-H HEADER]... [--config FILE]
 * [--cache PATH|off] URL [BODY-FILE]`: what the library would do with a
 * POST of BODY-FILE (standard input without one, or "-") to URL, and
 * why, judged by the library's own code (llm_judge.c: the matcher, the
 * settings, the learned refusals) with the configuration it would load
 * (ctl_config.h).
 *
 * It prints "decision:" (de-stream, stream, watch or pass), "why:",
 * "mode:", "config:", "endpoint:" and "model:" when there is one, the
 * learned entry that decided it, then "body:" and, alone on the lines
 * after it (the last), the exact body that would be sent. -H adds a
 * request header as curl's -H does: the credential headers
 * (Authorization, api-key, x-api-key) select the learned refusals, as in
 * the library. Exit status: 0; 2 for a usage error or a body that cannot
 * be read. */
#include "ctl_commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ctl_config.h"
#include "escape.h"
#include "learned.h"
#include "learned_file.h"
#include "llm_judge.h"

#define HEADERS_MAX 64

struct explain {
  const char *headers[HEADERS_MAX];
  size_t nheaders;
  struct buf body;
};

/* llm_facts' read_body: the whole file is the body (curl -d @file sends
 * it from memory: no size limit applies). */
static const char *read_body(void *arg, size_t max, const char **body,
                             size_t *len)
{
  struct explain *e = arg;
  (void)max;
  *body = e->body.ptr ? e->body.ptr : "";
  *len = e->body.len;
  return NULL;
}

/* llm_facts' fingerprint: of the credential headers given with -H. */
static void fingerprint(void *arg, char *fp)
{
  struct explain *e = arg;
  struct buf cred;
  buf_init(&cred);
  for(size_t i = 0; i < e->nheaders; i++)
    if(llm_credential_header(e->headers[i], strlen(e->headers[i])))
      buf_puts(&cred, e->headers[i]);
  learned_fingerprint(cred.oom ? NULL : cred.ptr, cred.oom ? 0 : cred.len, fp);
  buf_free(&cred);
}

static bool read_all(FILE *f, struct buf *out)
{
  char chunk[65536];
  size_t n;
  while((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    buf_append(out, chunk, n);
  return !ferror(f) && !out->oom;
}

/* Print label and s, shown as the log shows names. */
static void line(const char *label, const char *s)
{
  struct buf b;
  buf_init(&b);
  escape_shown_buf(&b, s);
  printf("%-9s %s\n", label, buf_cstr(&b) ? b.ptr : "");
  buf_free(&b);
}

/* Where the list a glob came from: its variable, else the file. */
static const char *list_source(const struct ctl_config *c,
                               const struct llm_way *way)
{
  const char *var = way->refuses == REFUSES_STREAM ? "STREAMSHIM_MODELS"
                                                   : "STREAMSHIM_STREAM_ONLY";
  return getenv(var) ? var : c->path ? c->path : "?";
}

/* The learned entry that made the decision: the newest unexpired one of
 * (host, model, fp) in its direction, as learned_lookup takes it. */
static void print_learned(const struct llm_request *r, const char *cache,
                          time_t now)
{
  struct learned_list l;
  struct learned_stamp st;
  const struct learned_entry *best = NULL;
  learned_list_init(&l);
  if(cache && learned_file_read(cache, &l, &st) >= 0)
    for(size_t i = 0; i < l.n; i++) {
      const struct learned_entry *e = &l.v[i];
      if(!strcmp(e->host, r->ep.host) && !strcmp(e->model, r->model) &&
         !strcmp(e->fp, r->fp) && e->dir == r->way->refuses &&
         e->expires > now && (!best || e->learned > best->learned))
        best = e;
    }
  if(best) {
    char at[32], until[32], text[1024];
    ctl_iso_time(best->learned, at, sizeof(at));
    ctl_iso_time(best->expires, until, sizeof(until));
    snprintf(text, sizeof(text), "host %s, model %s, credential %s, %s, "
             "rule %s, learned %s, expires %s, in %s", best->host,
             best->model, best->fp, refusal_dir_name(best->dir), best->rule,
             at, until, cache);
    line("learned:", text);
  }
  learned_list_free(&l);
}

/* The decision, why, and what it rests on. */
static void print_judgment(const struct ctl_config *c,
                           const struct llm_request *r, const char *cache,
                           time_t now)
{
  static const char *const names[] = {"pass", "de-stream", "stream", "watch"};
  char why[1024];
  const struct llm_way *w = r->way;
  line("decision:", names[r->decision]);
  switch(r->decision) {
  case LLM_DESTREAM:
  case LLM_STREAM:
    if(r->matched)
      snprintf(why, sizeof(why), "model %s matches %s in %s (%s)", r->model,
               r->matched, w->list, list_source(c, w));
    else
      snprintf(why, sizeof(why), "model %s%s", r->model, r->why);
    break;
  case LLM_WATCH:
    snprintf(why, sizeof(why), "auto mode, and model %s is in no %s list "
             "and has no refusal learned: sent as written (%s) and watched "
             "for %s; one is retried %s and learned", r->model, w->list,
             w->going, w->refusal, w->retried);
    break;
  default:
    if(r->pass == LLM_PASS_OFF)
      snprintf(why, sizeof(why), c->cfg.mode == SS_MODE_OFF
               ? "mode off: every request passes through"
               : "mode force with no models or stream_only configured: "
                 "every request passes through");
    else if(r->pass == LLM_PASS_NOT_LLM)
      snprintf(why, sizeof(why), "not an endpoint streamshim knows (chat "
               "completions, completions, responses, Anthropic messages)");
    else if(r->pass == LLM_PASS_UNCONFIGURED)
      snprintf(why, sizeof(why), "mode %s: model %s %s",
               config_mode_name(c->cfg.mode), r->model, r->why);
    else
      snprintf(why, sizeof(why), "%s", r->why ? r->why : "?");
  }
  line("why:", why);
  line("mode:", config_mode_name(c->cfg.mode));
  line("config:", c->path ? c->path : "(none)");
  if(r->pass != LLM_PASS_OFF && r->pass != LLM_PASS_NOT_LLM) {
    snprintf(why, sizeof(why), "%s %s on %s", endpoint_name(r->ep.kind),
             r->ep.path, r->ep.host[0] ? r->ep.host : "?");
    line("endpoint:", why);
  }
  if(r->model[0]) {
    snprintf(why, sizeof(why), "%s%s", r->model,
             r->ep.azure && r->ep.deployment[0] ? " (the Azure deployment)"
                                                : "");
    line("model:", why);
  }
  if(r->decision != LLM_PASS && !r->matched && r->decision != LLM_WATCH)
    print_learned(r, cache, now);
}

static int usage(const char *why)
{
  if(why)
    fprintf(stderr, PROG ": %s\n", why);
  fprintf(stderr, "Usage: " PROG " explain [-H 'NAME: VALUE']... "
                  "[--config FILE] [--cache PATH|off] URL [BODY-FILE]\n");
  return 2;
}

int cmd_explain(int argc, char **argv)
{
  struct explain e = {{0}, 0, {0}};
  const char *config = NULL, *cache = NULL, *url = NULL, *file = NULL;
  int rc = 0;
  for(int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if((!strcmp(a, "-H") || !strcmp(a, "--header")) && i + 1 < argc) {
      if(e.nheaders == HEADERS_MAX)
        return usage("explain: too many headers");
      e.headers[e.nheaders++] = argv[++i];
    } else if(!strcmp(a, "--config") && i + 1 < argc)
      config = argv[++i];
    else if(!strcmp(a, "--cache") && i + 1 < argc)
      cache = argv[++i];
    else if(!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(NULL);
      return 0;
    } else if(a[0] == '-' && a[1])
      return usage("explain: unknown or incomplete option");
    else if(!url)
      url = a;
    else if(!file)
      file = a;
    else
      return usage("explain: too many arguments");
  }
  if(!url)
    return usage("explain: a URL is needed");
  if(config && !strcmp(config, "-") && (!file || !strcmp(file, "-")))
    return usage("explain: the body and --config - cannot both be standard "
                 "input");
  FILE *f = !file || !strcmp(file, "-") ? stdin : fopen(file, "rb");
  buf_init(&e.body);
  if(!f || !read_all(f, &e.body)) {
    ctl_say(stderr, PROG ": cannot read the body from %s",
            file ? file : "standard input");
    if(f && f != stdin)
      fclose(f);
    buf_free(&e.body);
    return 2;
  }
  if(f != stdin)
    fclose(f);

  struct ctl_config c;
  if(!ctl_config_load(&c, config, cache, ctl_warn_stderr, NULL)) {
    rc = 2;
  } else {
    if(c.read_errno) {
      const char *where;
      char msg[PATH_MAX + 200];
      ctl_config_problem(&c, &where, msg, sizeof(msg));
      ctl_warn_stderr(NULL, where, 0, msg);
    }
    char cache_buf[PATH_MAX];
    const char *cache_path = learned_path(&c.cfg, cache_buf, sizeof(cache_buf));
    struct llm_facts facts = {
      .url = url, .method = "POST", .content_decoding = true,
      .read_body = read_body, .fingerprint = fingerprint, .arg = &e
    };
    struct llm_request r;
    memset(&r, 0, sizeof(r));  /* llm_judge sets only what its decision needs */
    time_t now = time(NULL);
    llm_judge(&c.cfg, &facts, &r, now);
    print_judgment(&c, &r, cache_path, now);
    size_t n = e.body.len;
    char *sent = llm_body_sent(&r, &n);
    const char *out = sent ? sent : e.body.ptr ? e.body.ptr : "";
    fputs("body:\n", stdout);
    fwrite(out, 1, n, stdout);
    if(!n || out[n - 1] != '\n')
      putchar('\n');
    free(sent);
  }
  config_free(&c.cfg);
  buf_free(&e.body);
  return rc;
}
