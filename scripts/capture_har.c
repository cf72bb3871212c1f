/* capture_har.c - `streamshim har`: a capture file as HAR 1.2.
 *
 * One entry per attempt, since each is a request on the wire (an auto-mode
 * retry is two entries). The request and the response are what went over
 * the wire (bodies as libcurl decoded them); when the shim changed what
 * the program was handed, `_handed` says what that was. Entries keep the
 * file's order (the order transfers ended) and are written one at a time,
 * so memory stays at one record whatever the file's size.
 *
 * Timings: with libcurl's figures (info: durations from the attempt's own
 * start) connect is everything up to pretransfer (name lookup, TCP, TLS:
 * curl measures its connect time from the start), ssl the part after the
 * TCP connect on https (included in connect, as HAR 1.2 says), send 0
 * (libcurl does not tell when the request was sent), wait up to the first
 * byte and receive to the end; a reused connection (connect 0) puts its
 * pretransfer time in blocked. Without info they come from start_us,
 * first_byte_us and end_us. time is the sum of the timings (ssl excluded).
 */
#include "capture_tools.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

/* Adders that accept NULL (an allocation failure is caught at the end:
 * cJSON_PrintUnformatted of an incomplete tree still works, so the tree is
 * checked for the failure flag instead). */
static bool oom;

static cJSON *add(cJSON *o, const char *name, cJSON *v)
{
  if(!v || !o || !cJSON_AddItemToObject(o, name, v)) {
    cJSON_Delete(v);
    oom = true;
    return NULL;
  }
  return v;
}

static void add_str(cJSON *o, const char *name, const char *s)
{
  add(o, name, cJSON_CreateString(s ? s : ""));
}

static void add_num(cJSON *o, const char *name, double v)
{
  add(o, name, cJSON_CreateNumber(v));
}

static void push(cJSON *arr, cJSON *v)
{
  if(!v || !arr || !cJSON_AddItemToArray(arr, v)) {
    cJSON_Delete(v);
    oom = true;
  }
}

static cJSON *copy(const cJSON *v)
{
  cJSON *c = cJSON_Duplicate(v, true);
  if(!c)
    oom = true;
  return c;
}

/* Microseconds to milliseconds, exact to the microsecond. */
static double ms(int64_t us)
{
  return (double)us / 1000.0;
}

/* [[name, value], ...] to [{"name": ..., "value": ...}, ...] */
static cJSON *har_headers(const cJSON *list)
{
  cJSON *out = cJSON_CreateArray();
  const cJSON *h;
  cJSON_ArrayForEach(h, (cJSON_IsArray(list) ? list : NULL)) {
    cJSON *o = cJSON_CreateObject();
    /* cap_check saw two strings */
    add_str(o, "name", cJSON_GetArrayItem(h, 0)->valuestring);
    add_str(o, "value", cJSON_GetArrayItem(h, 1)->valuestring);
    push(out, o);
  }
  if(!out)
    oom = true;
  return out;
}

/* ------------------------------------------------------------------ */
/* URLs */

static bool allowed_in_uri(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || strchr("-._~:/?#@!$&'()*+,;=", c);
}

/* The URL with every byte a URI may not hold percent-encoded (a space or
 * the brackets of a redaction marker, bytes above 0x7f, a '%' that starts
 * no escape); the brackets of an IPv6 host stay. */
static void har_url(const char *url, struct buf *out)
{
  const char *host = NULL, *host_end = NULL;
  const char *s = strstr(url, "://");
  if(s && s < url + strcspn(url, "/?#")) {
    const char *auth = s + 3, *end = auth + strcspn(auth, "/?#");
    host = auth;
    for(const char *p = auth; p < end; p++)
      if(*p == '@')
        host = p + 1;
    host_end = end;
  }
  static const char hex[] = "0123456789ABCDEF";
  for(const char *p = url; *p; p++) {
    unsigned char c = (unsigned char)*p;
    bool keep = allowed_in_uri(c) ||
                ((c == '[' || c == ']') && host && p >= host && p < host_end) ||
                (c == '%' && json_hex_digit(p[1]) >= 0 &&
                 json_hex_digit(p[2]) >= 0);
    if(keep)
      buf_append(out, p, 1);
    else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      buf_append(out, e, 3);
    }
  }
}

/* Percent-decode [p, p+n) ('+' is a space) into out; false when the result
 * holds a NUL or is not UTF-8 (the caller keeps the raw text then). */
static bool form_decode(const char *p, size_t n, struct buf *out)
{
  buf_reset(out);
  for(size_t i = 0; i < n; i++) {
    char c = p[i];
    if(c == '+')
      c = ' ';
    else if(c == '%' && i + 2 < n && json_hex_digit(p[i + 1]) >= 0 &&
            json_hex_digit(p[i + 2]) >= 0) {
      c = (char)(json_hex_digit(p[i + 1]) * 16 + json_hex_digit(p[i + 2]));
      i += 2;
    }
    if(!c)
      return false;
    buf_append(out, &c, 1);
  }
  return buf_cstr(out) && cap_utf8_valid(out->ptr, out->len);
}

/* One name or value of a query or form body, decoded when that gives
 * text, else as it is (when that is text). */
static const char *param_text(const char *p, size_t n, struct buf *b)
{
  if(!form_decode(p, n, b)) {
    buf_reset(b);
    if(cap_utf8_valid(p, n) && !memchr(p, '\0', n))
      buf_append(b, p, n);
  }
  if(!buf_cstr(b))
    oom = true;
  return b->ptr;
}

/* "a=1&b=two%20words" to [{"name": "a", "value": "1"}, ...] */
static cJSON *har_params(const char *q, size_t n)
{
  cJSON *out = cJSON_CreateArray();
  struct buf name, value;
  buf_init(&name);
  buf_init(&value);
  for(size_t i = 0; i < n;) {
    const char *amp = memchr(q + i, '&', n - i);
    size_t len = amp ? (size_t)(amp - (q + i)) : n - i;
    if(len) {
      const char *eq = memchr(q + i, '=', len);
      size_t nl = eq ? (size_t)(eq - (q + i)) : len;
      cJSON *o = cJSON_CreateObject();
      add_str(o, "name", param_text(q + i, nl, &name));
      add_str(o, "value", eq ? param_text(eq + 1, len - nl - 1, &value) : "");
      push(out, o);
    }
    i += len + 1;
  }
  buf_free(&name);
  buf_free(&value);
  if(!out)
    oom = true;
  return out;
}

/* ------------------------------------------------------------------ */
/* Bodies */

/* content / postData members for a BODY: text, or base64 with the
 * encoding said in `enc_key` ("encoding" in content, "_encoding" in
 * postData, which HAR 1.2 gives no encoding). */
static void add_body_text(cJSON *o, const struct cap_body *b,
                          const char *enc_key)
{
  if(b->text)
    add_str(o, "text", b->text);
  else if(b->base64) {
    add_str(o, "text", b->base64);
    add_str(o, enc_key, "base64");
  }
  if(b->truncated) {
    add(o, "_truncated", cJSON_CreateTrue());
    add_str(o, "comment", "truncated by the capture: only the first bytes "
                          "are kept (capture_max_body)");
  }
}

static cJSON *har_content(const cJSON *headers, const struct cap_body *b)
{
  cJSON *c = cJSON_CreateObject();
  add_num(c, "size", b->present ? b->size : 0);
  add_str(c, "mimeType", cap_header(headers, "Content-Type"));
  if(b->present)
    add_body_text(c, b, "encoding");
  return c;
}

/* ------------------------------------------------------------------ */
/* An entry */

static cJSON *har_request(const cJSON *rq, const cJSON *info)
{
  cJSON *r = cJSON_CreateObject();
  const char *url = cap_str(rq, "url", "");
  struct buf u;
  buf_init(&u);
  har_url(url, &u);
  if(!buf_cstr(&u))
    oom = true;
  add_str(r, "method", cap_str(rq, "method", ""));
  add_str(r, "url", u.ptr);
  buf_free(&u);
  add_str(r, "httpVersion",
          cap_str(rq, "http_version", cap_str(info, "http_version", "")));
  add(r, "cookies", cJSON_CreateArray());
  const cJSON *headers = cap_arr(rq, "headers");
  add(r, "headers", har_headers(headers));
  const char *path, *query;
  size_t plen, qlen;
  cap_url_parts(url, &path, &plen, &query, &qlen);
  add(r, "queryString", har_params(query, qlen));
  add_num(r, "headersSize", -1);
  struct cap_body b;
  cap_body(rq, "body", &b);
  add_num(r, "bodySize", b.present ? b.size : 0);
  if(b.present) {
    cJSON *pd = add(r, "postData", cJSON_CreateObject());
    const char *type = cap_header(headers, "Content-Type");
    add_str(pd, "mimeType", type);
    if(type && b.text && !b.truncated &&
       !strncasecmp(type, "application/x-www-form-urlencoded", 33))
      add(pd, "params", har_params(b.text, strlen(b.text)));
    add_body_text(pd, &b, "_encoding");
  }
  return r;
}

static cJSON *har_blocks(const cJSON *list)
{
  cJSON *out = cJSON_CreateArray();
  const cJSON *e;
  cJSON_ArrayForEach(e, list) {
    cJSON *o = cJSON_CreateObject();
    add_num(o, "status", cap_num(e, "status", 0));
    add(o, "headers", har_headers(cap_arr(e, "headers")));
    push(out, o);
  }
  return out;
}

static cJSON *har_response(const cJSON *rs, const cJSON *rec)
{
  cJSON *r = cJSON_CreateObject();
  const cJSON *headers = cap_arr(rs, "headers");
  struct cap_body b;
  cap_body(rs, "body", &b);
  add_num(r, "status", cap_num(rs, "status", 0));
  add_str(r, "statusText", cap_str(rs, "reason", ""));
  add_str(r, "httpVersion", cap_str(rs, "http_version", ""));
  add(r, "cookies", cJSON_CreateArray());
  add(r, "headers", har_headers(headers));
  add(r, "content", har_content(headers, &b));
  add_str(r, "redirectURL", cap_header(headers, "Location"));
  add_num(r, "headersSize", -1);
  add_num(r, "bodySize", rs ? (b.present ? b.size : 0) : -1);
  if(!rs)
    add_str(r, "_error", cap_str(rec, "error", "no response"));
  static const char *const lists[] = {"informational", "earlier"};
  for(int i = 0; i < 2; i++) {
    const cJSON *l = cap_arr(rs, lists[i]);
    if(cJSON_GetArraySize(l) > 0) {
      char key[24];
      snprintf(key, sizeof(key), "_%s", lists[i]);
      add(r, key, har_blocks(l));
    }
  }
  if(cJSON_GetArraySize(cap_arr(rs, "trailers")) > 0)
    add(r, "_trailers", har_headers(cap_arr(rs, "trailers")));
  if(cap_arr(rs, "events_us"))
    add(r, "_events_us", copy(cap_arr(rs, "events_us")));
  return r;
}

static cJSON *har_handed(const cJSON *hd)
{
  cJSON *h = cJSON_CreateObject();
  const cJSON *headers = cap_arr(hd, "headers");
  struct cap_body b;
  cap_body(hd, "body", &b);
  add_num(h, "status", cap_num(hd, "status", 0));
  add(h, "headers", har_headers(headers));
  add(h, "content", har_content(headers, &b));
  if(cap_arr(hd, "events_us"))
    add(h, "events_us", copy(cap_arr(hd, "events_us")));
  return h;
}

static int64_t us_of(const cJSON *o, const char *name, int64_t dflt)
{
  double v = cap_num(o, name, (double)dflt);
  return v < 0 ? 0 : (int64_t)llround(v);
}

/* HAR timings for an attempt (see the top); returns `time`. */
static int64_t har_timings(cJSON *t, const cJSON *a, const cJSON *info,
                           const char *url, int64_t rec_end)
{
  int64_t blocked = -1, connect = -1, ssl = -1, wait, receive;
  if(cap_has_num(info, "total_us")) {
    int64_t c = us_of(info, "connect_us", 0);
    int64_t p = us_of(info, "pretransfer_us", 0);
    int64_t s = us_of(info, "starttransfer_us", 0);
    int64_t total = us_of(info, "total_us", 0);
    if(p < c)
      p = c;
    if(total < p)
      total = p;
    if(s == 0 || s > total)   /* no byte came: all of it was waiting */
      s = total;
    if(s < p)
      s = p;
    if(c > 0) {
      connect = p;
      if(!strncasecmp(url, "https:", 6))
        ssl = p - c;
    }
    else if(p > 0)
      blocked = p;
    wait = s - p;
    receive = total - s;
  }
  else {
    int64_t st = us_of(a, "start_us", 0);
    int64_t en = us_of(a, "end_us", rec_end);
    int64_t fb = cap_has_num(a, "first_byte_us") ? us_of(a, "first_byte_us", 0)
                                                 : en;
    if(en < st)
      en = st;
    if(fb < st)
      fb = st;
    if(fb > en)
      fb = en;
    wait = fb - st;
    receive = en - fb;
  }
  add_num(t, "blocked", blocked < 0 ? -1 : ms(blocked));
  add_num(t, "dns", -1);
  add_num(t, "connect", connect < 0 ? -1 : ms(connect));
  add_num(t, "ssl", ssl < 0 ? -1 : ms(ssl));
  add_num(t, "send", 0);
  add_num(t, "wait", ms(wait));
  add_num(t, "receive", ms(receive));
  return (blocked > 0 ? blocked : 0) + (connect > 0 ? connect : 0) + wait +
         receive;
}

/* The notes of the shim about attempt n. */
static cJSON *attempt_notes(const cJSON *shim, double n)
{
  cJSON *out = cJSON_CreateArray();
  const cJSON *note;
  cJSON_ArrayForEach(note, cap_arr(shim, "notes")) {
    if(cap_num(note, "attempt", 1) == n)
      push(out, copy(note));
  }
  return out;
}

static cJSON *har_entry(const cJSON *rec, const cJSON *a, double n, int count,
                        int64_t start)
{
  const cJSON *rq = cap_obj(a, "request");
  const cJSON *rs = cap_obj(a, "response");
  const cJSON *info = cap_obj(a, "info");
  const cJSON *shim = cap_obj(rec, "shim");
  int64_t rec_end = us_of(rec, "end_us", 0);
  cJSON *e = cJSON_CreateObject();
  char when[32];
  cap_format_time_ms(start + us_of(a, "start_us", 0), when);
  add_str(e, "startedDateTime", when);
  cJSON *time = add(e, "time", cJSON_CreateNumber(0));
  add(e, "request", har_request(rq, info));
  add(e, "response", har_response(rs, rec));
  add(e, "cache", cJSON_CreateObject());
  cJSON *t = add(e, "timings", cJSON_CreateObject());
  int64_t total = har_timings(t, a, info, cap_str(rq, "url", ""), rec_end);
  if(time)
    cJSON_SetNumberValue(time, ms(total));

  cJSON *s = add(e, "_streamshim", cJSON_CreateObject());
  add_num(s, "pid", cap_num(rec, "pid", 0));
  add_num(s, "transfer", cap_num(rec, "transfer", 0));
  add_num(s, "attempt", n);
  add_num(s, "attempts", count);
  const char *retry = cap_str(a, "retry", NULL);
  add(s, "retry", retry ? cJSON_CreateString(retry) : cJSON_CreateNull());
  add_str(s, "action", cap_str(shim, "action", ""));
  add_str(s, "why", cap_str(shim, "why", ""));
  add(s, "notes", attempt_notes(shim, n));
  add_num(s, "result", cap_num(rec, "result", 0));
  add_str(s, "error", cap_str(rec, "error", ""));
  add_str(s, "end", cap_str(rec, "end", ""));
  add_str(s, "start", cap_str(rec, "start", ""));
  add_num(s, "transfer_end_us", (double)rec_end);
  static const char *const times[] = {"start_us", "first_byte_us", "end_us"};
  for(int i = 0; i < 3; i++)
    if(cap_has_num(a, times[i]))
      add_num(s, times[i], cap_num(a, times[i], 0));
  if(cap_obj(rq, "program_body"))
    add(s, "program_body", copy(cap_obj(rq, "program_body")));
  if(info)
    add(s, "info", copy(info));

  const cJSON *hd = cap_obj(a, "handed");
  if(hd)
    add(e, "_handed", har_handed(hd));
  return e;
}

bool capture_har(struct cap_file *cf, FILE *out)
{
  fputs("{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"streamshim\","
        "\"version\":\"" SS_VERSION "\"},\"pages\":[],\"entries\":[",
        out);
  bool first = true;
  cJSON *rec;
  while((rec = cap_next(cf))) {
    int64_t start = 0;
    cap_parse_time(cap_str(rec, "start", ""), &start);
    const cJSON *list = cap_arr(rec, "attempts"), *a;
    int count = cJSON_GetArraySize(list), i = 0;
    cJSON_ArrayForEach(a, list) {
      i++;
      double n = cap_num(a, "attempt", i);
      oom = false;
      cJSON *e = har_entry(rec, a, n, count, start);
      char *text = oom ? NULL : cJSON_PrintUnformatted(e);
      cJSON_Delete(e);
      if(!text) {
        cJSON_Delete(rec);
        fputs("\n]}}\n", out);
        fprintf(stderr, CAP_PROG ": %s: line %lu: out of memory\n", cf->name,
                cf->line);
        return false;
      }
      fputs(first ? "\n" : ",\n", out);
      fputs(text, out);
      cJSON_free(text);
      first = false;
    }
    cJSON_Delete(rec);
  }
  fputs("\n]}}\n", out);
  return true;
}
