/* capture_record.c - a transfer's record as one JSON line (the format is
 * the README's "Capture" and streamshim-capture(5)). Secrets are redacted
 * here, on the way out: header values, URLs, JSON and form bodies. */
#include "capture_record.h"
#include "capture_record_int.h"

#include <string.h>

#include "headers.h"
#include "json_write.h"

/* "HTTP/1.1" from "POST /path HTTP/1.1" or "HTTP/1.1 200 OK". */
static void version_of(const char *line, size_t n, bool request, char *out,
                       size_t cap)
{
  const char *v = line;
  size_t len = 0;
  if(request) {
    const char *sp = NULL;
    for(size_t i = 0; i < n; i++)
      if(line[i] == ' ')
        sp = line + i;
    v = sp ? sp + 1 : line + n;
    len = (size_t)(line + n - v);
  }
  else {
    while(len < n && line[len] != ' ')
      len++;
  }
  if(len >= cap)
    len = cap - 1;
  memcpy(out, v, len);
  out[len] = '\0';
}

/* One header block of lines [p, p+n) (kind letters stripped already):
 * member name: [[name, value], ...], status lines left out. */
static void put_fields(struct buf *o, const struct capture *c,
                       const char *name, const char *p, size_t n)
{
  cap_key(o, name);
  buf_append(o, "[", 1);
  struct buf line, scratch;
  buf_init(&line);
  buf_init(&scratch);
  for(size_t at = 0; at < n;) {
    if(!cap_next_field(p, n, &at, &line)) {
      cap_lost(o, &line);
      continue;
    }
    if(header_status(line.ptr, line.len) >= 0)
      continue;
    cap_field(o, c, line.ptr, line.len, &scratch);
    buf_append(o, ",", 1);
  }
  buf_free(&line);
  buf_free(&scratch);
  cap_close(o, ']');
  buf_append(o, ",", 1);
}

/* The server's next header line from *at in lines (each after one byte
 * of its kind, capture_int.h): its kind, *l and its length; 0 at the end. */
static size_t next_kind_line(const struct buf *lines, size_t *at, char *kind,
                             const char **l)
{
  if(*at + 1 >= lines->len)
    return 0;
  *kind = lines->ptr[(*at)++];
  *l = lines->ptr + *at;
  size_t len = header_line_len(*l, lines->len - *at);
  *at += len;
  return len;
}

/* Did libcurl follow a redirect in this attempt (a 3xx block came)? */
static bool redirected(const struct cap_attempt *a)
{
  const char *l;
  char kind;
  size_t len;
  for(size_t at = 0; (len = next_kind_line(&a->lines, &at, &kind, &l));) {
    int status = kind == 'S' ? header_status(l, len) : -1;
    if(status >= 300 && status < 400)
      return true;
  }
  return false;
}

/* The request: what was sent, else what the program asked for. */
static void put_request(struct buf *o, const struct capture *c,
                        const struct cap_attempt *a)
{
  const char *blk = a->sent.ptr;
  size_t blen = a->sent.len;
  char version[16] = "";
  const char *nl = blk ? memchr(blk, '\n', blen) : NULL;
  size_t first = nl ? (size_t)(nl - blk) + 1 : blen;
  /* The request line sent last names the method (a redirect may turn a
   * POST into a GET); its URL is then libcurl's effective one. */
  const char *sp = blk ? memchr(blk, ' ', first) : NULL;
  bool sent = sp && sp > blk;
  bool moved = a->effective_url.len && (!a->url.len ||
               a->effective_url.len != a->url.len ||
               memcmp(a->effective_url.ptr, a->url.ptr, a->url.len));
  cap_key(o, "request");
  buf_append(o, "{", 1);
  if(sent)
    cap_str(o, "method", blk, (size_t)(sp - blk));
  else
    cap_str(o, "method", a->method, strlen(a->method));
  cap_key(o, "url");
  if(moved && redirected(a))
    cap_url(o, c, a->effective_url.ptr, a->effective_url.len);
  else if(a->url.len)
    cap_url(o, c, a->url.ptr, a->url.len);
  else
    cap_url(o, c, a->effective_url.ptr ? a->effective_url.ptr : "",
            a->effective_url.len);
  buf_append(o, ",", 1);
  if(blk)
    version_of(blk, cap_trim_eol(blk, first), true, version, sizeof(version));
  cap_str(o, "http_version", version, strlen(version));
  const char *hdrs = blk ? blk + first : NULL;
  put_fields(o, c, "headers", hdrs ? hdrs : "", blen - first);
  if(a->req_body.size)
    cap_body(o, c, "body", &a->req_body, hdrs, blen - first, false);
  if(a->has_app_body)
    cap_body(o, c, "program_body", &a->app_body, hdrs, blen - first, false);
  cap_close(o, '}');
  buf_append(o, ",", 1);
}

/* The blocks of the server's lines: each STATUS line starts one. */
struct block {
  struct buf lines;
  int status;
  bool info;
};

#define CAP_BLOCKS 16

static void put_response(struct buf *o, const struct capture *c,
                         const struct cap_attempt *a)
{
  struct block blocks[CAP_BLOCKS];
  struct buf trailers;
  int nb = 0, dropped = 0;
  buf_init(&trailers);
  const char *l;
  char kind;
  size_t len;
  for(size_t at = 0; (len = next_kind_line(&a->lines, &at, &kind, &l));) {
    if(kind == 'S') {
      if(nb == CAP_BLOCKS) {  /* keep the last ones */
        buf_free(&blocks[0].lines);
        memmove(blocks, blocks + 1, sizeof(blocks[0]) * (CAP_BLOCKS - 1));
        nb--;
        dropped++;
      }
      buf_init(&blocks[nb].lines);
      blocks[nb].status = header_status(l, len);
      blocks[nb].info = blocks[nb].status < 200;
      nb++;
    }
    if(kind == 'T')
      buf_append(&trailers, l, len);
    else if(nb)
      buf_append(&blocks[nb - 1].lines, l, len);
  }
  for(int i = 0; i < nb; i++)
    cap_lost(o, &blocks[i].lines);
  cap_lost(o, &trailers);
  if(o->oom) {  /* the record is dropped: a block lost lines (or has none) */
    for(int i = 0; i < nb; i++)
      buf_free(&blocks[i].lines);
    buf_free(&trailers);
    return;
  }
  int last = nb - 1;
  while(last >= 0 && blocks[last].info)
    last--;
  char version[16] = "";
  cap_key(o, "response");
  buf_append(o, "{", 1);
  if(last >= 0) {
    const struct buf *f = &blocks[last].lines;
    const char *nl = memchr(f->ptr, '\n', f->len);
    size_t first = nl ? (size_t)(nl - f->ptr) + 1 : f->len;
    size_t l0 = cap_trim_eol(f->ptr, first);
    version_of(f->ptr, l0, false, version, sizeof(version));
    cap_str(o, "http_version", version, strlen(version));
    cap_int(o, "status", blocks[last].status);
    const char *sp = memchr(f->ptr, ' ', l0);
    const char *reason = sp && (size_t)(sp - f->ptr) + 4 < l0 ? sp + 5 : f->ptr + l0;
    cap_str(o, "reason", reason, (size_t)(f->ptr + l0 - reason));
  }
  for(int pass = 0; pass < 2; pass++) {  /* 1xx blocks, then earlier ones */
    cap_key(o, pass ? "earlier" : "informational");
    buf_append(o, "[", 1);
    for(int i = 0; i < nb; i++) {
      if(i == last || blocks[i].info != !pass || (pass && i > last))
        continue;
      buf_append(o, "{", 1);
      cap_int(o, "status", blocks[i].status);
      put_fields(o, c, "headers", blocks[i].lines.ptr, blocks[i].lines.len);
      cap_close(o, '}');
      buf_append(o, ",", 1);
    }
    cap_close(o, ']');
    buf_append(o, ",", 1);
  }
  if(dropped)  /* a long redirect chain: its first blocks are not kept */
    cap_int(o, "earlier_dropped", dropped);
  const struct buf *fin = last >= 0 ? &blocks[last].lines : NULL;
  put_fields(o, c, "headers", fin ? fin->ptr : "", fin ? fin->len : 0);
  put_fields(o, c, "trailers", trailers.ptr ? trailers.ptr : "", trailers.len);
  cap_body(o, c, "body", &a->resp_body, fin ? fin->ptr : NULL,
           fin ? fin->len : 0, a->decodes);
  cap_events(o, "events_us", &a->resp_events);
  cap_close(o, '}');
  buf_append(o, ",", 1);
  for(int i = 0; i < nb; i++)
    buf_free(&blocks[i].lines);
  buf_free(&trailers);
}

/* What the program was handed, when it is not what the server sent. */
static void put_handed(struct buf *o, const struct capture *c,
                       const struct cap_attempt *a)
{
  if(a->handed_hdr_hash == a->raw_hdr_hash &&
     a->handed_lines.len == a->raw_hdr_len &&
     !a->handed_differs &&
     a->handed_body.size == a->resp_body.size)
    return;
  /* the last block handed over */
  const char *p = a->handed_lines.ptr ? a->handed_lines.ptr : "";
  size_t n = a->handed_lines.len, start = 0;
  int status = 0;
  for(size_t at = 0; at < n;) {
    size_t len = header_line_len(p + at, n - at);
    int s = header_status(p + at, len);
    if(s >= 200 || (s >= 0 && !status)) {
      status = s;
      start = at;
    }
    at += len;
  }
  cap_key(o, "handed");
  buf_append(o, "{", 1);
  cap_int(o, "status", status);
  put_fields(o, c, "headers", p + start, n - start);
  cap_body(o, c, "body", &a->handed_body, p + start, n - start, a->decodes);
  cap_events(o, "events_us", &a->handed_events);
  cap_close(o, '}');
  buf_append(o, ",", 1);
}

static void put_info(struct buf *o, const struct capture *c,
                     const struct cap_attempt *a)
{
  const struct cap_info *i = &a->info;
  static const char *const versions[] = {"", "HTTP/1.0", "HTTP/1.1", "HTTP/2",
                                         "HTTP/2", "HTTP/2", "HTTP/3"};
  const char *v = i->http_version >= 0 && i->http_version < 7
                  ? versions[i->http_version] : "";
  if(i->http_version == CAP_HTTP_VERSION_3)
    v = "HTTP/3";
  cap_key(o, "info");
  buf_append(o, "{", 1);
  cap_int(o, "response_code", i->response_code);
  cap_key(o, "effective_url");
  cap_url(o, c, a->effective_url.ptr ? a->effective_url.ptr : "",
          a->effective_url.len);
  buf_append(o, ",", 1);
  cap_str(o, "http_version", v, strlen(v));
  cap_int(o, "size_upload", i->size_upload);
  cap_int(o, "size_download", i->size_download);
  cap_int(o, "total_us", i->total_us);
  cap_int(o, "namelookup_us", i->namelookup_us);
  cap_int(o, "connect_us", i->connect_us);
  cap_int(o, "appconnect_us", i->appconnect_us);
  cap_int(o, "pretransfer_us", i->pretransfer_us);
  cap_int(o, "starttransfer_us", i->starttransfer_us);
  cap_close(o, '}');
  buf_append(o, ",", 1);
}

static void put_attempt(struct buf *o, const struct capture *c, int k)
{
  const struct cap_attempt *a = &c->a[k];
  buf_append(o, "{", 1);
  cap_int(o, "attempt", k + 1);
  if(a->retry == CAP_RETRY_WITHOUT_STREAM)
    cap_str(o, "retry", "without_stream", 14);
  else if(a->retry == CAP_RETRY_WITH_STREAM)
    cap_str(o, "retry", "with_stream", 11);
  cap_int(o, "start_us", a->start_us);
  if(a->first_byte_us >= 0)
    cap_int(o, "first_byte_us", a->first_byte_us);
  cap_int(o, "end_us", a->end_us >= 0 ? a->end_us : c->end_us);
  put_request(o, c, a);
  put_response(o, c, a);
  put_handed(o, c, a);
  put_info(o, c, a);
  cap_close(o, '}');
}

/* The notes: "shim": {"action", "why", "notes": [...]}. */
static void put_shim(struct buf *o, const struct capture *c)
{
  const char *p = c->notes.ptr ? c->notes.ptr : "";
  size_t n = c->notes.len;
  const char *last_action = "pass-through", *last_why = "";
  size_t la = strlen(last_action), lw = 0;
  struct buf list;
  buf_init(&list);
  for(size_t at = 0; at < n;) {
    const char *l = p + at;
    const char *e = memchr(l, '\n', n - at);
    size_t len = e ? (size_t)(e - l) : n - at;
    at += len + 1;
    const char *t1 = memchr(l, '\t', len);
    const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(l + len - t1 - 1)) : NULL;
    if(!t2)
      continue;
    last_action = t1 + 1;
    la = (size_t)(t2 - t1 - 1);
    last_why = t2 + 1;
    lw = (size_t)(l + len - t2 - 1);
    buf_append(&list, "{\"attempt\":", 11);
    buf_append(&list, l, (size_t)(t1 - l));
    buf_append(&list, ",", 1);
    cap_str(&list, "action", last_action, la);
    cap_str(&list, "why", last_why, lw);
    cap_close(&list, '}');
    buf_append(&list, ",", 1);
  }
  if(la == 8 && !memcmp(last_action, "watching", 8)) {
    /* watched, and nothing followed: the answer went out as it came */
    last_action = "pass-through";
    la = strlen(last_action);
    last_why = "sent as written; no refusal";
    lw = strlen(last_why);
  }
  cap_lost(o, &list);
  cap_key(o, "shim");
  buf_append(o, "{", 1);
  cap_str(o, "action", last_action, la);
  cap_str(o, "why", last_why, lw);
  cap_key(o, "notes");
  buf_append(o, "[", 1);
  buf_append(o, list.ptr, list.len);
  cap_close(o, ']');
  cap_close(o, '}');
  buf_append(o, ",", 1);
  buf_free(&list);
}

/* v as n digits at d (leading zeros). */
static void put_digits(char *d, long v, int n)
{
  while(n--) {
    d[n] = (char)('0' + v % 10);
    v /= 10;
  }
}

/* "2026-12-02T03:50:14.123456Z", written by hand (strftime and snprintf
 * cost several thousand instructions); a time out of the years 0 to 9999
 * shows the epoch. */
static void put_start(struct buf *o, const struct capture *c)
{
  struct tm tm;
  char w[28];
  long us = c->start_real.tv_nsec / 1000;
  if(!gmtime_r(&c->start_real.tv_sec, &tm) || tm.tm_year < -1900 ||
     tm.tm_year > 9999 - 1900) {
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = 70;
    tm.tm_mday = 1;
  }
  memcpy(w, "0000-00-00T00:00:00.000000Z", 27);
  put_digits(w, tm.tm_year + 1900L, 4);
  put_digits(w + 5, tm.tm_mon + 1, 2);
  put_digits(w + 8, tm.tm_mday, 2);
  put_digits(w + 11, tm.tm_hour, 2);
  put_digits(w + 14, tm.tm_min, 2);
  put_digits(w + 17, tm.tm_sec, 2);
  put_digits(w + 20, us >= 0 && us < 1000000 ? us : 0, 6);
  cap_str(o, "start", w, 27);
}

/* The bytes a record of c takes, about: the reservation that spares the
 * output buffer its growing (escapes may still make it grow once). */
static size_t record_size(const struct capture *c)
{
  size_t n = 2048 + c->notes.len * 2;
  for(int k = 0; k < c->nattempts && k < CAP_ATTEMPTS; k++) {
    const struct cap_attempt *a = &c->a[k];
    size_t bodies = a->req_body.data.len + a->app_body.data.len +
                    a->resp_body.data.len + a->handed_body.data.len;
    n += 1024 + 2 * (a->url.len + a->effective_url.len) +
         2 * (a->sent.len + a->lines.len + a->handed_lines.len) +
         bodies + bodies / 4 +
         24 * (a->resp_events.us.len + a->handed_events.us.len) / 8;
  }
  return n;
}

void cap_record(const struct capture *c, struct buf *o)
{
  static const char *const ends[] = {"seen", "unseen", "cancelled"};
  buf_reserve(o, record_size(c));
  const char *end = ends[(unsigned)c->how <= CAP_END_CANCELLED ? c->how : 0];
  buf_append(o, "{", 1);
  cap_int(o, "capture", 1);
  cap_int(o, "pid", c->pid);
  cap_int(o, "transfer", (int64_t)c->serial);
  put_start(o, c);
  cap_int(o, "end_us", c->end_us);
  cap_int(o, "result", c->result);
  cap_str(o, "error", c->error ? c->error : "",
             c->error ? strlen(c->error) : 0);
  cap_str(o, "end", end, strlen(end));
  put_shim(o, c);
  cap_key(o, "attempts");
  buf_append(o, "[", 1);
  for(int k = 0; k < c->nattempts && k < CAP_ATTEMPTS; k++) {
    if(k)
      buf_append(o, ",", 1);
    put_attempt(o, c, k);
  }
  buf_puts(o, "]}\n");
}
