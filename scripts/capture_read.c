/* capture_read.c - reading and checking capture records (capture_read.h). */
#include "capture_read.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "body.h"
#include "endpoint.h"
#include "json.h"

/* ------------------------------------------------------------------ */
/* The file */

bool cap_open(struct cap_file *cf, const char *path)
{
  memset(cf, 0, sizeof(*cf));
  if(!strcmp(path, "-")) {
    cf->f = stdin;
    cf->name = "standard input";
    return true;
  }
  cf->name = path;
  cf->f = fopen(path, "r");
  if(!cf->f) {
    fprintf(stderr, CAP_PROG ": cannot read %s: %s\n", path, strerror(errno));
    return false;
  }
  return true;
}

void cap_close(struct cap_file *cf)
{
  if(cf->f && cf->f != stdin)
    fclose(cf->f);
  cf->f = NULL;
  free(cf->buf);
  cf->buf = NULL;
}

static bool blank(const char *p, size_t n)
{
  for(size_t i = 0; i < n; i++)
    if(p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
      return false;
  return true;
}

cJSON *cap_next(struct cap_file *cf)
{
  for(;;) {
    errno = 0;
    ssize_t got = getline(&cf->buf, &cf->cap, cf->f);
    if(got < 0) {
      if(ferror(cf->f)) {
        fprintf(stderr, CAP_PROG ": cannot read %s: %s\n", cf->name,
                strerror(errno ? errno : EIO));
        cf->read_error = true;
      }
      return NULL;
    }
    cf->line++;
    size_t n = (size_t)got;
    bool complete = n && cf->buf[n - 1] == '\n';
    if(complete)
      n--;
    if(blank(cf->buf, n))
      continue;
    const char *why = NULL;
    cJSON *rec = NULL;
    struct json_span span;
    if(!json_parse(cf->buf, n, &span))
      why = complete ? "not one valid JSON value"
                     : "not one valid JSON value (an incomplete last line)";
    else if(!(rec = cJSON_ParseWithLength(cf->buf, n)))
      why = "cannot be parsed (out of memory?)";
    else
      why = cap_check(rec);
    if(!why) {
      cf->records++;
      return rec;
    }
    cJSON_Delete(rec);
    cf->bad++;
    fprintf(stderr, CAP_PROG ": %s: line %lu: %s; skipped\n", cf->name,
            cf->line, why);
  }
}

/* ------------------------------------------------------------------ */
/* The record's shape */

static char why_buf[256];

static bool fail(const char *fmt, ...)
  __attribute__((format(printf, 1, 2)));
static bool fail(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
  va_end(ap);
  return false;
}

/* Counts (sizes, times, numbers) are integers a double holds exactly:
 * sums of a few stay far below INT64_MAX. */
#define COUNT_MAX 9007199254740992.0  /* 2^53 */

enum want { W_NUM, W_COUNT, W_STR, W_BOOL, W_OBJ, W_ARR };

/* Member `name` of o, when present, is of the wanted kind (W_COUNT: a
 * number >= 0); `need`: it must be present. */
static bool member(const cJSON *o, const char *where, const char *name,
                   enum want w, bool need)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  static const char *const what[] = {"a number", "a number from 0 to 2^53", "a string",
                                     "true or false", "an object", "a list"};
  if(!v)
    return !need || fail("%s%s%s: missing", where, *where ? "." : "", name);
  bool ok = false;
  switch(w) {
  case W_NUM: ok = cJSON_IsNumber(v); break;
  case W_COUNT: ok = cJSON_IsNumber(v) && v->valuedouble >= 0 &&
                     v->valuedouble <= COUNT_MAX; break;
  case W_STR: ok = cJSON_IsString(v); break;
  case W_BOOL: ok = cJSON_IsBool(v); break;
  case W_OBJ: ok = cJSON_IsObject(v); break;
  case W_ARR: ok = cJSON_IsArray(v); break;
  }
  return ok || fail("%s%s%s: not %s", where, *where ? "." : "", name, what[w]);
}

static bool members(const cJSON *o, const char *where,
                    const char *const *names, enum want w)
{
  for(; *names; names++)
    if(!member(o, where, *names, w, false))
      return false;
  return true;
}

/* A list of [name, value] string pairs. */
static bool header_list(const cJSON *o, const char *where, const char *name)
{
  const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, name);
  if(!l)
    return true;
  const cJSON *h;
  bool ok = cJSON_IsArray(l);
  cJSON_ArrayForEach(h, (ok ? l : NULL)) {
    if(!cJSON_IsArray(h) || cJSON_GetArraySize(h) != 2 ||
       !cJSON_IsString(cJSON_GetArrayItem(h, 0)) ||
       !cJSON_IsString(cJSON_GetArrayItem(h, 1)))
      ok = false;
  }
  return ok || fail("%s.%s: not a list of [name, value] strings", where, name);
}

static bool number_list(const cJSON *o, const char *where, const char *name)
{
  const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, name);
  if(!l)
    return true;
  const cJSON *e;
  bool ok = cJSON_IsArray(l);
  cJSON_ArrayForEach(e, (ok ? l : NULL)) {
    if(!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > COUNT_MAX)
      ok = false;
  }
  return ok || fail("%s.%s: not a list of numbers from 0 to 2^53", where, name);
}

static bool body(const cJSON *o, const char *where, const char *name)
{
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, name);
  if(!b)
    return true;
  char at[160];
  snprintf(at, sizeof(at), "%s.%s", where, name);
  if(!cJSON_IsObject(b))
    return fail("%s: not an object", at);
  if(!member(b, at, "size", W_COUNT, true) ||
     !member(b, at, "text", W_STR, false) ||
     !member(b, at, "base64", W_STR, false) ||
     !member(b, at, "truncated", W_BOOL, false))
    return false;
  bool text = cJSON_HasObjectItem(b, "text");
  bool b64 = cJSON_HasObjectItem(b, "base64");
  if(text == b64)
    return fail("%s: needs either text or base64", at);
  return true;
}

/* informational / earlier: [{"status": N, "headers": [...]}, ...] */
static bool blocks(const cJSON *o, const char *where, const char *name)
{
  const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, name);
  if(!l)
    return true;
  if(!cJSON_IsArray(l))
    return fail("%s.%s: not a list", where, name);
  char at[160];
  int i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, l) {
    snprintf(at, sizeof(at), "%s.%s[%d]", where, name, i++);
    if(!cJSON_IsObject(e))
      return fail("%s: not an object", at);
    if(!member(e, at, "status", W_COUNT, false) || !header_list(e, at, "headers"))
      return false;
  }
  return true;
}

static bool attempt(const cJSON *a, int i)
{
  char at[64], sub[96];
  snprintf(at, sizeof(at), "attempts[%d]", i);
  static const char *const times[] = {"attempt", "start_us", "first_byte_us",
                                      "end_us", NULL};
  if(!cJSON_IsObject(a))
    return fail("%s: not an object", at);
  if(!members(a, at, times, W_COUNT) || !member(a, at, "retry", W_STR, false) ||
     !member(a, at, "request", W_OBJ, true) ||
     !member(a, at, "response", W_OBJ, false) ||
     !member(a, at, "handed", W_OBJ, false) ||
     !member(a, at, "info", W_OBJ, false))
    return false;

  const cJSON *rq = cJSON_GetObjectItemCaseSensitive(a, "request");
  snprintf(sub, sizeof(sub), "%s.request", at);
  if(!member(rq, sub, "method", W_STR, true) ||
     !member(rq, sub, "url", W_STR, true) ||
     !member(rq, sub, "http_version", W_STR, false) ||
     !header_list(rq, sub, "headers") || !body(rq, sub, "body") ||
     !body(rq, sub, "program_body"))
    return false;

  const cJSON *rs = cJSON_GetObjectItemCaseSensitive(a, "response");
  snprintf(sub, sizeof(sub), "%s.response", at);
  if(rs && (!member(rs, sub, "http_version", W_STR, false) ||
            !member(rs, sub, "status", W_COUNT, false) ||
            !member(rs, sub, "reason", W_STR, false) ||
            !blocks(rs, sub, "informational") || !blocks(rs, sub, "earlier") ||
            !header_list(rs, sub, "headers") ||
            !header_list(rs, sub, "trailers") || !body(rs, sub, "body") ||
            !number_list(rs, sub, "events_us")))
    return false;

  const cJSON *hd = cJSON_GetObjectItemCaseSensitive(a, "handed");
  snprintf(sub, sizeof(sub), "%s.handed", at);
  if(hd && (!member(hd, sub, "status", W_COUNT, false) ||
            !header_list(hd, sub, "headers") || !body(hd, sub, "body") ||
            !number_list(hd, sub, "events_us")))
    return false;

  static const char *const info_num[] = {
    "response_code", "size_upload", "size_download", "total_us", "connect_us",
    "pretransfer_us", "starttransfer_us", NULL};
  static const char *const info_str[] = {"effective_url", "http_version", NULL};
  const cJSON *in = cJSON_GetObjectItemCaseSensitive(a, "info");
  snprintf(sub, sizeof(sub), "%s.info", at);
  return !in || (members(in, sub, info_num, W_COUNT) &&
                 members(in, sub, info_str, W_STR));
}

const char *cap_check(const cJSON *rec)
{
  int64_t t;
  if(!cJSON_IsObject(rec))
    return "not a JSON object";
  static const char *const strs[] = {"error", "end", NULL};
  if(!member(rec, "", "capture", W_NUM, true) ||
     !member(rec, "", "pid", W_COUNT, true) ||
     !member(rec, "", "transfer", W_COUNT, true) ||
     !member(rec, "", "start", W_STR, true) ||
     !member(rec, "", "end_us", W_COUNT, false) ||
     !member(rec, "", "result", W_NUM, false) || !members(rec, "", strs, W_STR) ||
     !member(rec, "", "shim", W_OBJ, false) ||
     !member(rec, "", "attempts", W_ARR, true))
    return why_buf;
  if(cap_num(rec, "capture", 0) < 1)
    return "capture: not a format version (1 or later)";
  if(!cap_parse_time(cap_str(rec, "start", ""), &t))
    return "start: not a UTC time like 2026-12-02T03:50:14.123456Z";

  const cJSON *shim = cap_obj(rec, "shim");
  if(shim) {
    static const char *const s[] = {"action", "why", NULL};
    if(!members(shim, "shim", s, W_STR) ||
       !member(shim, "shim", "notes", W_ARR, false))
      return why_buf;
    const cJSON *note;
    int i = 0;
    cJSON_ArrayForEach(note, cap_arr(shim, "notes")) {
      char at[48];
      snprintf(at, sizeof(at), "shim.notes[%d]", i++);
      if(!cJSON_IsObject(note)) {
        fail("%s: not an object", at);
        return why_buf;
      }
      if(!member(note, at, "attempt", W_COUNT, false) ||
         !members(note, at, s, W_STR))
        return why_buf;
    }
  }

  const cJSON *list = cap_arr(rec, "attempts");
  if(cJSON_GetArraySize(list) < 1)
    return "attempts: empty";
  const cJSON *a;
  int i = 0;
  cJSON_ArrayForEach(a, list) {
    if(!attempt(a, i++))
      return why_buf;
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Accessors */

const cJSON *cap_obj(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *cap_arr(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsArray(v) ? v : NULL;
}

const char *cap_str(const cJSON *o, const char *name, const char *dflt)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : dflt;
}

double cap_num(const cJSON *o, const char *name, double dflt)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

bool cap_has_num(const cJSON *o, const char *name)
{
  return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, name));
}

void cap_body(const cJSON *o, const char *name, struct cap_body *b)
{
  memset(b, 0, sizeof(*b));
  const cJSON *v = cap_obj(o, name);
  if(!v)
    return;
  b->present = true;
  b->size = cap_num(v, "size", 0);
  b->text = cap_str(v, "text", NULL);
  b->base64 = b->text ? NULL : cap_str(v, "base64", NULL);
  b->truncated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "truncated"));
}

const char *cap_header(const cJSON *headers, const char *name)
{
  const cJSON *h;
  cJSON_ArrayForEach(h, (cJSON_IsArray(headers) ? headers : NULL)) {
    const cJSON *n = cJSON_GetArrayItem(h, 0), *v = cJSON_GetArrayItem(h, 1);
    if(cJSON_IsString(n) && cJSON_IsString(v) &&
       !strcasecmp(n->valuestring, name))
      return v->valuestring;
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Times */

static bool digits(const char *s, int n, int *out)
{
  int v = 0;
  for(int i = 0; i < n; i++) {
    if(s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool cap_parse_time(const char *s, int64_t *us)
{
  int y, mo, d, h, mi, sec;
  if(strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' ||
     !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
     s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
     !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
    return false;
  if(mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return false;
  const char *p = s + 19;
  int64_t frac = 0;
  if(*p == '.') {
    int n = 0;
    for(p++; *p >= '0' && *p <= '9'; p++, n++) {
      if(n < 6)
        frac = frac * 10 + (*p - '0');
    }
    if(n < 1 || n > 9)
      return false;
    for(; n < 6; n++)
      frac *= 10;
  }
  if(strcmp(p, "Z"))
    return false;
  struct tm tm = {0};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  *us = (int64_t)t * 1000000 + frac;
  return true;
}

void cap_format_time_ms(int64_t us, char out[32])
{
  int64_t s = us / 1000000, rem = us % 1000000;
  if(rem < 0) {
    rem += 1000000;
    s--;
  }
  time_t t = (time_t)s;
  struct tm tm;
  gmtime_r(&t, &tm);
  char date[24];
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 32, "%s.%03dZ", date, (int)(rem / 1000));
}

/* ------------------------------------------------------------------ */
/* URLs, UTF-8, the model */

void cap_url_parts(const char *url, const char **path, size_t *plen,
                   const char **query, size_t *qlen)
{
  const char *p = strstr(url, "://");
  p = p && p < url + strcspn(url, "/?#") ? p + 3 : url;
  p += strcspn(p, "/?#");           /* after the authority */
  size_t n = *p == '/' ? strcspn(p, "?#") : 0;
  *path = n ? p : "/";
  *plen = n ? n : 1;
  const char *q = p + strcspn(p, "?#");
  if(*q == '?') {
    *query = q + 1;
    *qlen = strcspn(q + 1, "#");
  }
  else {
    *query = "";
    *qlen = 0;
  }
}

bool cap_utf8_valid(const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s;
  for(size_t i = 0; i < n;) {
    unsigned c = p[i];
    size_t len;
    unsigned min, cp;
    if(c < 0x80) {
      i++;
      continue;
    }
    if(c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; cp = c & 0x1f; }
    else if(c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; cp = c & 0x0f; }
    else if(c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; cp = c & 0x07; }
    else
      return false;
    if(i + len > n)
      return false;
    for(size_t k = 1; k < len; k++) {
      if((p[i + k] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if(cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

/* /openai/deployments/NAME/... on any endpoint (endpoint.h finds it on
 * the LLM endpoints it knows; this covers the others too). */
static bool deployment(const char *url, struct buf *out)
{
  struct endpoint ep;
  endpoint_classify(url, &ep);
  if(ep.azure && ep.deployment[0])
    return buf_puts(out, ep.deployment);
  const char *path, *query;
  size_t plen, qlen;
  cap_url_parts(url, &path, &plen, &query, &qlen);
  static const char key[] = "/openai/deployments/";
  const char *s = memmem(path, plen, key, sizeof(key) - 1);
  if(!s)
    return false;
  s += sizeof(key) - 1;
  const char *e = memchr(s, '/', plen - (size_t)(s - path));
  if(!e || e == s)
    return false;
  /* percent-decode, as endpoint.c does; refuse NULs and bad UTF-8 */
  size_t start = out->len;
  for(const char *c = s; c < e; c++) {
    char ch = *c;
    if(ch == '%' && e - c > 2 && json_hex_digit(c[1]) >= 0 &&
       json_hex_digit(c[2]) >= 0) {
      ch = (char)(json_hex_digit(c[1]) * 16 + json_hex_digit(c[2]));
      c += 2;
    }
    if(!ch) {
      out->len = start;
      return false;
    }
    buf_append(out, &ch, 1);
  }
  return true;
}

static bool body_model(const cJSON *request, const char *name, struct buf *out)
{
  struct cap_body b;
  cap_body(request, name, &b);
  struct body_info bi;
  if(!b.text || !body_inspect(b.text, strlen(b.text), &bi) ||
     bi.model.type != JSON_STRING)
    return false;
  char model[1024];
  size_t n;
  if(!json_string_decode(bi.model, model, sizeof(model), &n) || !n)
    return false;
  return buf_append(out, model, n);
}

bool cap_request_model(const cJSON *request, struct buf *out)
{
  const char *url = cap_str(request, "url", "");
  if(deployment(url, out))
    return true;
  if(cap_obj(request, "program_body"))
    return body_model(request, "program_body", out);
  return body_model(request, "body", out);
}
