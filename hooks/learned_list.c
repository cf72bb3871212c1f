/* learned_list.c - learned-refusal entries in memory and their text form
 * (see learned_file.h for the format). Pure: no I/O. */
#include "learned_file.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HEADER \
  "# streamshim learned refusals: models that refused to stream (or to " \
  "answer without streaming), kept by " \
  "auto mode (`streamshim models` shows them, `streamshim models --forget` " \
  "removes them).\n" \
  "# host\tmodel\tfingerprint\tlearned\texpires\trule[\tdirection] (Unix " \
  "times; \\\\ \\t \\n \\r escaped; no direction: sent without " \
  "stream, stream-only: sent streaming; rewritten whole under " \
  "<file>.lock)\n"

#define FORGET_TAG "#!forget\t"

void learned_list_init(struct learned_list *l)
{
  l->v = NULL;
  l->n = 0;
  l->fv = NULL;
  l->nf = 0;
}

/* Free what one entry owns. */
static void entry_free(struct learned_entry *e)
{
  free(e->host);
  free(e->model);
  free(e->rule);
}

void learned_list_free(struct learned_list *l)
{
  for(size_t i = 0; i < l->n; i++)
    entry_free(&l->v[i]);
  free(l->v);
  for(size_t i = 0; i < l->nf; i++)
    free(l->fv[i].pattern);
  free(l->fv);
  learned_list_init(l);
}

bool learned_fp_valid(const char *fp)
{
  if(!strcmp(fp, "-"))
    return true;
  for(size_t i = 0; i < LEARNED_FP_LEN; i++)
    if(!((fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'a' && fp[i] <= 'f')))
      return false;
  return fp[LEARNED_FP_LEN] == '\0';
}

bool learned_list_put(struct learned_list *l, const char *host,
                      const char *model, const char *fp,
                      enum refusal_dir dir, const char *rule,
                      long long learned, long long expires)
{
  struct learned_entry e;
  if(!learned_fp_valid(fp))
    return false;
  struct learned_entry *v = realloc(l->v, (l->n + 1) * sizeof(*v));
  if(!v)
    return false;
  l->v = v;
  e.host = strdup(host);
  e.model = strdup(model);
  e.rule = strdup(rule);
  if(!e.host || !e.model || !e.rule) {
    entry_free(&e);
    return false;
  }
  memcpy(e.fp, fp, strlen(fp) + 1);
  e.learned = learned;
  e.expires = expires;
  e.dir = dir == REFUSES_NONSTREAM ? REFUSES_NONSTREAM : REFUSES_STREAM;
  e.noted_ns = 0;
  e.pending = false;
  l->v[l->n++] = e;
  return true;
}

void learned_list_remove(struct learned_list *l, size_t i)
{
  if(i >= l->n)
    return;
  entry_free(&l->v[i]);
  memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
  l->n--;
}

long learned_list_find(const struct learned_list *l, const char *host,
                       const char *model, const char *fp)
{
  for(size_t i = 0; i < l->n; i++) {
    const struct learned_entry *e = &l->v[i];
    if(!strcmp(e->model, model) && !strcmp(e->host, host) &&
       !strcmp(e->fp, fp))
      return (long)i;
  }
  return -1;
}

/* Order by learned time, then by the triple (a total order). */
static int by_learned(const void *a, const void *b)
{
  const struct learned_entry *x = a, *y = b;
  int d;
  if(x->learned != y->learned)
    return x->learned < y->learned ? -1 : 1;
  if((d = strcmp(x->host, y->host)) || (d = strcmp(x->model, y->model)))
    return d;
  return strcmp(x->fp, y->fp);
}

/* Drop forget record i (order kept). */
static void forget_remove(struct learned_list *l, size_t i)
{
  free(l->fv[i].pattern);
  memmove(&l->fv[i], &l->fv[i + 1], (l->nf - i - 1) * sizeof(l->fv[0]));
  l->nf--;
}

/* Forget records in time order. */
static int by_time(const void *a, const void *b)
{
  const struct learned_forget *x = a, *y = b;
  return x->at_ns < y->at_ns ? -1 : x->at_ns > y->at_ns;
}

/* Drop the forget records older than LEARNED_FORGET_KEEP at now, then the
 * oldest beyond LEARNED_MAX_FORGETS. */
static size_t prune_forgets(struct learned_list *l, time_t now)
{
  size_t dropped = 0;
  long long horizon = ((long long)now - LEARNED_FORGET_KEEP) * 1000000000LL;
  if(l->nf > 1)
    qsort(l->fv, l->nf, sizeof(l->fv[0]), by_time);
  while(l->nf && (l->fv[0].at_ns < horizon || l->nf > LEARNED_MAX_FORGETS)) {
    forget_remove(l, 0);
    dropped++;
  }
  return dropped;
}

size_t learned_list_prune(struct learned_list *l, time_t now, size_t max)
{
  size_t dropped = prune_forgets(l, now), keep = 0;
  for(size_t i = 0; i < l->n; i++) {
    if(l->v[i].expires <= (long long)now) {
      entry_free(&l->v[i]);
      dropped++;
    } else {
      l->v[keep++] = l->v[i];
    }
  }
  l->n = keep;
  if(l->n > 1)
    qsort(l->v, l->n, sizeof(l->v[0]), by_learned);
  if(l->n > max) {
    size_t extra = l->n - max;
    for(size_t i = 0; i < extra; i++)
      entry_free(&l->v[i]);
    memmove(l->v, l->v + extra, max * sizeof(l->v[0]));
    l->n = max;
    dropped += extra;
  }
  return dropped;
}

/* ---- forget records --------------------------------------------------- */

bool learned_forget_matches(const char *pattern,
                            const struct learned_entry *e)
{
  return !pattern || !fnmatch(pattern, e->model, 0) ||
         !fnmatch(pattern, e->host, 0);
}

bool learned_list_forget(struct learned_list *l, const char *pattern,
                         long long at_ns)
{
  char *dup = pattern ? strdup(pattern) : NULL;
  if(pattern && !dup)
    return false;
  struct learned_forget *v = realloc(l->fv, (l->nf + 1) * sizeof(*v));
  if(!v) {
    free(dup);
    return false;
  }
  l->fv = v;
  /* an older record of the same pattern, or any older one when this one
   * forgets everything, covers nothing this one does not */
  for(size_t i = l->nf; i-- > 0;) {
    if(l->fv[i].at_ns <= at_ns &&
       (!pattern || (l->fv[i].pattern && !strcmp(l->fv[i].pattern, pattern))))
      forget_remove(l, i);
  }
  l->fv[l->nf++] = (struct learned_forget){dup, at_ns};
  /* at most LEARNED_MAX_FORGETS, the newest: a file of many records
   * costs linear time to read */
  while(l->nf > LEARNED_MAX_FORGETS) {
    size_t oldest = 0;
    for(size_t i = 1; i < l->nf; i++)
      if(l->fv[i].at_ns < l->fv[oldest].at_ns)
        oldest = i;
    forget_remove(l, oldest);
  }
  return true;
}

bool learned_forgotten(const struct learned_list *l,
                       const struct learned_entry *e, long long noted_ns)
{
  for(size_t i = 0; i < l->nf; i++)
    if(noted_ns <= l->fv[i].at_ns &&
       learned_forget_matches(l->fv[i].pattern, e))
      return true;
  return false;
}

long long learned_clock_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- text ------------------------------------------------------------ */

bool learned_escape(struct buf *out, const char *s)
{
  for(; *s; s++) {
    const char *esc = *s == '\\' ? "\\\\" : *s == '\t' ? "\\t"
                      : *s == '\n' ? "\\n" : *s == '\r' ? "\\r" : NULL;
    if(esc)
      buf_append(out, esc, 2);
    else
      buf_append(out, s, 1);
  }
  return !out->oom;
}

/* Unescape field [p, p+n) into a malloc'ed string; NULL when an escape is
 * bad, the field is too long or holds a NUL. */
static char *unescape(const char *p, size_t n)
{
  if(n > 2 * LEARNED_MAX_FIELD)
    return NULL;
  char *s = malloc(n + 1);
  size_t o = 0;
  for(size_t i = 0; s && i < n; i++) {
    char c = p[i];
    if(c == '\\') {
      c = ++i >= n ? '\0' : p[i] == '\\' ? '\\' : p[i] == 't' ? '\t'
          : p[i] == 'n' ? '\n' : p[i] == 'r' ? '\r' : '\0';
    }
    if(!c || o >= LEARNED_MAX_FIELD) {
      free(s);
      return NULL;
    }
    s[o++] = c;
  }
  if(s)
    s[o] = '\0';
  return s;
}

/* A Unix time: 1 to 18 decimal digits. */
static bool parse_time(const char *p, size_t n, long long *out)
{
  long long v = 0;
  if(!n || n > 18)
    return false;
  for(size_t i = 0; i < n; i++) {
    if(p[i] < '0' || p[i] > '9')
      return false;
    v = v * 10 + (p[i] - '0');
  }
  *out = v;
  return true;
}

/* The direction field [p, p+n): "no-stream" or "stream-only". */
static bool parse_dir(const char *p, size_t n, enum refusal_dir *dir)
{
  static const enum refusal_dir dirs[] = {REFUSES_STREAM, REFUSES_NONSTREAM};
  for(size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
    const char *name = refusal_dir_name(dirs[i]);
    if(n == strlen(name) && !memcmp(p, name, n)) {
      *dir = dirs[i];
      return true;
    }
  }
  return false;
}

/* Parse one entry line [p, p+n) (no newline) and append it: six fields
 * (an older writer's: no-stream) or seven. */
static void parse_line(const char *p, size_t n, struct learned_list *out)
{
  const char *f[7];
  size_t len[7], k = 0;
  const char *s = p, *end = p + n;
  enum refusal_dir dir = REFUSES_STREAM;
  while(k < 7) {
    const char *tab = memchr(s, '\t', (size_t)(end - s));
    f[k] = s;
    len[k++] = (size_t)((tab ? tab : end) - s);
    if(!tab)
      break;
    s = tab + 1;
  }
  long long learned, expires;
  char fp[LEARNED_FP_LEN + 1];
  if((k != 6 && k != 7) || f[k - 1] + len[k - 1] != end ||
     len[2] > LEARNED_FP_LEN || !parse_time(f[3], len[3], &learned) ||
     !parse_time(f[4], len[4], &expires) || !len[5] ||
     (k == 7 && !parse_dir(f[6], len[6], &dir)))
    return;
  memcpy(fp, f[2], len[2]);
  fp[len[2]] = '\0';
  char *host = unescape(f[0], len[0]), *model = unescape(f[1], len[1]);
  char *rule = unescape(f[5], len[5]);
  if(host && model && rule && *rule)
    learned_list_put(out, host, model, fp, dir, rule, learned, expires);
  free(host);
  free(model);
  free(rule);
}

/* Seconds beyond which a time is refused (the year 2255): the product in
 * nanoseconds must fit a long long. */
#define LEARNED_MAX_TIME 9000000000LL

/* A forget record's time: SECONDS.NANOSECONDS (9 digits) in ns. */
static bool parse_ns(const char *p, size_t n, long long *out)
{
  const char *dot = memchr(p, '.', n);
  long long sec, ns;
  if(!dot || (size_t)(p + n - dot - 1) != 9 || dot - p > 10 ||
     !parse_time(p, (size_t)(dot - p), &sec) ||
     !parse_time(dot + 1, 9, &ns) || sec > LEARNED_MAX_TIME)
    return false;
  *out = sec * 1000000000LL + ns;
  return true;
}

/* Parse a forget record [p, p+n) (after its tag) and add it. */
static void parse_forget(const char *p, size_t n, struct learned_list *out)
{
  const char *tab = memchr(p, '\t', n);
  size_t tlen = tab ? (size_t)(tab - p) : n;
  long long at;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  /* A record from the future (a clock stepped back since, or a forged
   * one) would forget everything learned until then: it is dropped. */
  if(!parse_ns(p, tlen, &at) ||
     at > ((long long)now.tv_sec + 1) * 1000000000LL)
    return;
  if(!tab) {
    learned_list_forget(out, NULL, at);
    return;
  }
  const char *pat = tab + 1;
  size_t plen = n - tlen - 1;
  if(memchr(pat, '\t', plen))
    return;
  char *pattern = unescape(pat, plen);
  if(pattern)
    learned_list_forget(out, pattern, at);
  free(pattern);
}

void learned_parse(const char *text, size_t n, struct learned_list *out)
{
  const char *p = text, *end = text + n;
  while(p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *b = nl ? nl : end;
    size_t tag = sizeof(FORGET_TAG) - 1;
    if((size_t)(b - p) > tag && !memcmp(p, FORGET_TAG, tag))
      parse_forget(p + tag, (size_t)(b - p) - tag, out);
    else if(b > p && *p != '#')
      parse_line(p, (size_t)(b - p), out);
    p = nl ? nl + 1 : end;
  }
}

/* Append a decimal number. */
static void put_number(struct buf *out, long long v)
{
  char d[24];
  size_t i = sizeof(d);
  unsigned long long u = v < 0 ? 0 : (unsigned long long)v;
  do {
    d[--i] = (char)('0' + u % 10);
    u /= 10;
  } while(u);
  buf_append(out, d + i, sizeof(d) - i);
}

/* Append a forget record's line. */
static void put_forget(struct buf *out, const struct learned_forget *f)
{
  char t[48];
  snprintf(t, sizeof(t), "%lld.%09lld", f->at_ns / 1000000000LL,
           f->at_ns % 1000000000LL);
  buf_puts(out, FORGET_TAG);
  buf_puts(out, t);
  if(f->pattern) {
    buf_puts(out, "\t");
    learned_escape(out, f->pattern);
  }
  buf_puts(out, "\n");
}

bool learned_format(const struct learned_list *l, struct buf *out)
{
  buf_puts(out, HEADER);
  for(size_t i = 0; i < l->nf; i++)
    put_forget(out, &l->fv[i]);
  for(size_t i = 0; i < l->n; i++) {
    const struct learned_entry *e = &l->v[i];
    learned_escape(out, e->host);
    buf_puts(out, "\t");
    learned_escape(out, e->model);
    buf_puts(out, "\t");
    buf_puts(out, e->fp);
    buf_puts(out, "\t");
    put_number(out, e->learned);
    buf_puts(out, "\t");
    put_number(out, e->expires);
    buf_puts(out, "\t");
    learned_escape(out, e->rule);
    if(e->dir != REFUSES_STREAM) {  /* a no-stream line stays six fields */
      buf_puts(out, "\t");
      buf_puts(out, refusal_dir_name(e->dir));
    }
    buf_puts(out, "\n");
  }
  return !out->oom;
}
