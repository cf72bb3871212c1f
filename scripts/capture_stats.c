/* capture_stats.c - `streamshim stats`: one row per transfer, then totals.
 *
 * Per transfer (a record): the method, URL path and model of its last
 * attempt's request (the one whose answer the program got; the model as
 * cap_request_model() finds it), the status the program was handed (the
 * last attempt's handed status when the shim changed the answer, else
 * the server's), bytes up and down (request and response body sizes,
 * summed over the attempts: every byte on the wire), the total time (the
 * record's end_us: when the program was told the end), the time to first
 * byte (the last attempt's first_byte_us: the first byte of the answer
 * the program got, from the transfer's start), the time to first token
 * (the first event of the stream the program was handed: the first
 * attempt with handed.events_us, or response.events_us when the shim
 * left it alone, gives element 0) and what the shim did (shim.action).
 * Times in milliseconds with one decimal; "-" (null in JSON) when there is
 * none. Text cells are escaped for the terminal (escape.h). */
#include "capture_tools.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

#define NCOL 11

struct stat_row {
  double pid, transfer, result;
  const char *start, *method, *url, *action, *why, *error, *end;
  char *model;          /* NULL when none */
  char *path;
  int attempts;
  double status;        /* 0: none */
  double up, down;
  double total_us, ttfb_us, ttft_us;   /* < 0: none */
  cJSON *rec;           /* owns the strings above */
};

struct stats {
  struct stat_row *v;
  size_t n, cap;
};

/* A time in ms with one decimal. */
static double ms1(double us)
{
  return (double)llround(us / 100.0) / 10.0;
}

static char *dup_n(const char *p, size_t n)
{
  char *s = malloc(n + 1);
  if(s) {
    memcpy(s, p, n);
    s[n] = '\0';
  }
  return s;
}

static bool stat_row_fill(struct stat_row *r, cJSON *rec)
{
  memset(r, 0, sizeof(*r));
  r->rec = rec;
  const cJSON *list = cap_arr(rec, "attempts"), *a, *last = NULL;
  const cJSON *shim = cap_obj(rec, "shim");
  r->ttft_us = -1;
  cJSON_ArrayForEach(a, list) {
    struct cap_body b;
    cap_body(cap_obj(a, "request"), "body", &b);
    r->up += b.size;
    cap_body(cap_obj(a, "response"), "body", &b);
    r->down += b.size;
    const cJSON *hd = cap_obj(a, "handed");
    const cJSON *ev = cap_arr(hd ? hd : cap_obj(a, "response"), "events_us");
    if(r->ttft_us < 0 && cJSON_GetArraySize(ev) > 0)
      r->ttft_us = cJSON_GetArrayItem(ev, 0)->valuedouble;
    r->attempts++;
    last = a;
  }
  const cJSON *rq = cap_obj(last, "request");
  const cJSON *rs = cap_obj(last, "response");
  const cJSON *hd = cap_obj(last, "handed");
  r->pid = cap_num(rec, "pid", 0);
  r->transfer = cap_num(rec, "transfer", 0);
  r->result = cap_num(rec, "result", 0);
  r->start = cap_str(rec, "start", "");
  r->method = cap_str(rq, "method", "");
  r->url = cap_str(rq, "url", "");
  r->action = cap_str(shim, "action", NULL);
  r->why = cap_str(shim, "why", NULL);
  r->error = cap_str(rec, "error", NULL);
  r->end = cap_str(rec, "end", NULL);
  r->status = cap_num(hd, "status", 0);
  if(r->status <= 0)
    r->status = cap_num(rs, "status", 0);
  if(r->status <= 0)
    r->status = cap_num(cap_obj(last, "info"), "response_code", 0);
  r->total_us = cap_num(rec, "end_us", cap_num(last, "end_us", -1));
  r->ttfb_us = cap_num(last, "first_byte_us", -1);

  const char *path, *query;
  size_t plen, qlen;
  cap_url_parts(r->url, &path, &plen, &query, &qlen);
  r->path = dup_n(path, plen);
  struct buf m;
  buf_init(&m);
  if(cap_request_model(rq, &m)) {
    r->model = buf_cstr(&m) ? dup_n(m.ptr, m.len) : NULL;
    if(!r->model) {
      buf_free(&m);
      return false;
    }
  }
  buf_free(&m);
  return r->path != NULL;
}

static void stats_free(struct stats *s)
{
  for(size_t i = 0; i < s->n; i++) {
    free(s->v[i].model);
    free(s->v[i].path);
    cJSON_Delete(s->v[i].rec);
  }
  free(s->v);
}

/* ------------------------------------------------------------------ */
/* The action counts, in order of first appearance */

struct counts {
  const char *name[16];
  unsigned n[16];
  size_t len;
  unsigned other;       /* beyond 16 different actions (not in the format) */
};

static void count(struct counts *c, const char *name)
{
  for(size_t i = 0; i < c->len; i++)
    if(!strcmp(c->name[i], name)) {
      c->n[i]++;
      return;
    }
  if(c->len == 16) {
    c->other++;
    return;
  }
  c->name[c->len] = name;
  c->n[c->len++] = 1;
}

/* ------------------------------------------------------------------ */
/* The table */

/* Display width: code points (escape.h leaves valid UTF-8 as it is). */
static size_t width(const char *s)
{
  size_t w = 0;
  for(; *s; s++)
    if(((unsigned char)*s & 0xc0) != 0x80)
      w++;
  return w;
}

static void cell_shown(struct buf *b, const char *s)
{
  escape_shown_buf(b, s && *s ? s : "-");
  buf_cstr(b);
}

static void cell_blank(struct buf *b)
{
  buf_puts(b, "");
  buf_cstr(b);
}

static void cell_fmt(struct buf *b, const char *fmt, double v)
{
  char t[64];
  snprintf(t, sizeof(t), fmt, v);
  buf_puts(b, t);
  buf_cstr(b);
}

static void cell_ms(struct buf *b, double us)
{
  if(us < 0)
    cell_shown(b, "-");
  else
    cell_fmt(b, "%.1f", ms1(us));
}

static bool print_table(const struct stats *s, FILE *out)
{
  static const char *const head[NCOL] = {
    "TRANSFER", "METHOD", "PATH", "MODEL", "STATUS", "BYTES_UP", "BYTES_DOWN",
    "TOTAL_MS", "TTFB_MS", "TTFT_MS", "SHIM"};
  /* numbers are right-aligned */
  static const bool right[NCOL] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0};
  size_t rows = s->n + 1;
  struct buf *cell = calloc(rows * NCOL, sizeof(*cell));
  if(!cell)
    return false;
  double up = 0, down = 0, total = 0;
  unsigned attempts = 0;
  struct counts acts = {0};
  for(size_t i = 0; i < s->n; i++) {
    const struct stat_row *r = &s->v[i];
    struct buf *c = cell + i * NCOL;
    char id[64];
    snprintf(id, sizeof(id), "%.0f:%.0f", r->pid, r->transfer);
    cell_shown(&c[0], id);
    cell_shown(&c[1], r->method);
    cell_shown(&c[2], r->path);
    cell_shown(&c[3], r->model);
    if(r->status > 0)
      cell_fmt(&c[4], "%.0f", r->status);
    else
      cell_shown(&c[4], "-");
    cell_fmt(&c[5], "%.0f", r->up);
    cell_fmt(&c[6], "%.0f", r->down);
    cell_ms(&c[7], r->total_us);
    cell_ms(&c[8], r->ttfb_us);
    cell_ms(&c[9], r->ttft_us);
    cell_shown(&c[10], r->action);
    up += r->up;
    down += r->down;
    total += r->total_us > 0 ? r->total_us : 0;
    attempts += (unsigned)r->attempts;
    count(&acts, r->action ? r->action : "-");
  }
  struct buf *c = cell + s->n * NCOL;
  char t[96];
  cell_shown(&c[0], "total");
  snprintf(t, sizeof(t), "%zu transfer%s, %u attempt%s", s->n,
           s->n == 1 ? "" : "s", attempts, attempts == 1 ? "" : "s");
  cell_blank(&c[1]);
  cell_shown(&c[2], t);
  cell_blank(&c[3]);
  cell_blank(&c[4]);
  cell_fmt(&c[5], "%.0f", up);
  cell_fmt(&c[6], "%.0f", down);
  cell_ms(&c[7], total);
  cell_blank(&c[8]);
  cell_blank(&c[9]);
  struct buf a;
  buf_init(&a);
  for(size_t i = 0; i < acts.len; i++) {
    snprintf(t, sizeof(t), "%s%u ", i ? ", " : "", acts.n[i]);
    buf_puts(&a, t);
    escape_shown_buf(&a, acts.name[i]);
  }
  if(acts.other) {
    snprintf(t, sizeof(t), ", %u other", acts.other);
    buf_puts(&a, t);
  }
  buf_puts(&c[10], buf_cstr(&a) ? a.ptr : "-");
  buf_cstr(&c[10]);
  buf_free(&a);

  size_t w[NCOL];
  bool ok = true;
  for(int k = 0; k < NCOL; k++) {
    w[k] = width(head[k]);
    for(size_t i = 0; i < rows; i++) {
      if(cell[i * NCOL + k].oom || !cell[i * NCOL + k].ptr)
        ok = false;
      else if(width(cell[i * NCOL + k].ptr) > w[k])
        w[k] = width(cell[i * NCOL + k].ptr);
    }
  }
  for(size_t i = 0; ok && i <= rows; i++) {
    for(int k = 0; k < NCOL; k++) {
      const char *v = i == 0 ? head[k] : cell[(i - 1) * NCOL + k].ptr;
      size_t pad = w[k] - width(v);
      bool lastcol = k == NCOL - 1;
      if(right[k])
        fprintf(out, "%*s%s", (int)pad, "", v);
      else
        fprintf(out, "%s%*s", v, lastcol ? 0 : (int)pad, "");
      fputs(lastcol ? "\n" : "  ", out);
    }
  }
  for(size_t i = 0; i < rows * NCOL; i++)
    buf_free(&cell[i]);
  free(cell);
  return ok;
}

/* ------------------------------------------------------------------ */
/* JSON */

static cJSON *num_or_null(double v, bool some)
{
  return some ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *str_or_null(const char *s)
{
  return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static bool print_json(const struct stats *s, const struct cap_file *cf,
                       FILE *out)
{
  bool ok = true;
  cJSON *doc = cJSON_CreateObject();
  cJSON *list = cJSON_AddArrayToObject(doc, "transfers");
  double up = 0, down = 0, total = 0;
  unsigned attempts = 0;
  struct counts acts = {0};
  for(size_t i = 0; i < s->n; i++) {
    const struct stat_row *r = &s->v[i];
    cJSON *o = cJSON_CreateObject();
    if(!cJSON_AddItemToArray(list, o)) {
      cJSON_Delete(o);
      ok = false;
      break;
    }
    struct { const char *k; cJSON *v; } m[] = {
      {"pid", cJSON_CreateNumber(r->pid)},
      {"transfer", cJSON_CreateNumber(r->transfer)},
      {"start", cJSON_CreateString(r->start)},
      {"method", cJSON_CreateString(r->method)},
      {"url", cJSON_CreateString(r->url)},
      {"path", cJSON_CreateString(r->path)},
      {"model", str_or_null(r->model)},
      {"status", num_or_null(r->status, r->status > 0)},
      {"attempts", cJSON_CreateNumber(r->attempts)},
      {"bytes_up", cJSON_CreateNumber(r->up)},
      {"bytes_down", cJSON_CreateNumber(r->down)},
      {"total_ms", num_or_null(ms1(r->total_us), r->total_us >= 0)},
      {"ttfb_ms", num_or_null(ms1(r->ttfb_us), r->ttfb_us >= 0)},
      {"ttft_ms", num_or_null(ms1(r->ttft_us), r->ttft_us >= 0)},
      {"action", str_or_null(r->action)},
      {"why", str_or_null(r->why)},
      {"result", cJSON_CreateNumber(r->result)},
      {"error", str_or_null(r->error)},
      {"end", str_or_null(r->end)},
    };
    for(size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++)
      if(!m[k].v || !cJSON_AddItemToObject(o, m[k].k, m[k].v)) {
        cJSON_Delete(m[k].v);
        ok = false;
      }
    up += r->up;
    down += r->down;
    total += r->total_us > 0 ? r->total_us : 0;
    attempts += (unsigned)r->attempts;
    count(&acts, r->action ? r->action : "-");
  }
  cJSON *t = cJSON_AddObjectToObject(doc, "totals");
  ok = ok && t && list &&
       cJSON_AddNumberToObject(t, "transfers", (double)s->n) &&
       cJSON_AddNumberToObject(t, "attempts", attempts) &&
       cJSON_AddNumberToObject(t, "bytes_up", up) &&
       cJSON_AddNumberToObject(t, "bytes_down", down) &&
       cJSON_AddNumberToObject(t, "total_ms", ms1(total));
  cJSON *ac = ok ? cJSON_AddObjectToObject(t, "actions") : NULL;
  for(size_t i = 0; ac && i < acts.len; i++)
    ok = ok && cJSON_AddNumberToObject(ac, acts.name[i], acts.n[i]);
  if(ac && acts.other)
    ok = ok && cJSON_AddNumberToObject(ac, "other", acts.other);
  ok = ok && ac &&
       cJSON_AddNumberToObject(t, "skipped_lines", (double)cf->bad);
  char *text = ok ? cJSON_PrintUnformatted(doc) : NULL;
  cJSON_Delete(doc);
  if(!text)
    return false;
  fputs(text, out);
  fputc('\n', out);
  cJSON_free(text);
  return true;
}

bool capture_stats(struct cap_file *cf, FILE *out, bool json)
{
  struct stats s = {0};
  cJSON *rec;
  bool ok = true;
  while(ok && (rec = cap_next(cf))) {
    if(s.n == s.cap) {
      size_t cap = s.cap ? s.cap * 2 : 64;
      struct stat_row *v = realloc(s.v, cap * sizeof(*v));
      if(!v) {
        cJSON_Delete(rec);
        ok = false;
        break;
      }
      s.v = v;
      s.cap = cap;
    }
    /* keep what the row points into; drop the bodies (the bulk) */
    ok = stat_row_fill(&s.v[s.n], rec);
    s.n++;
    if(ok) {
      const cJSON *a;
      cJSON_ArrayForEach(a, cap_arr(rec, "attempts")) {
        static const char *const parts[] = {"request", "response", "handed"};
        for(int k = 0; k < 3; k++) {
          cJSON *p = cJSON_GetObjectItemCaseSensitive(a, parts[k]);
          if(cJSON_IsObject(p)) {
            cJSON_DeleteItemFromObjectCaseSensitive(p, "body");
            cJSON_DeleteItemFromObjectCaseSensitive(p, "program_body");
          }
        }
      }
    }
  }
  if(ok && !cf->read_error)
    ok = json ? print_json(&s, cf, out) : print_table(&s, out);
  stats_free(&s);
  if(!ok)
    fprintf(stderr, CAP_PROG ": out of memory\n");
  return ok;
}
