/* capture.c - the capture's monitoring stage: what each event of a
 * transfer adds to its record (see capture.h). */
#include "capture_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../shim/settings.h"
#include "pure/headers.h"

/* FNV-1a, 64 bits: enough to tell two byte streams apart. */
#define FNV_START 14695981039346656037ull

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
  for(size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ull;
  }
  return h;
}

int64_t cap_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void body_init(struct cap_body *b)
{
  buf_init(&b->data);
  b->size = 0;
}

static void body_add(struct cap_body *b, size_t max, const char *p, size_t n)
{
  if(b->data.len < max)
    buf_append(&b->data, p, n < max - b->data.len ? n : max - b->data.len);
  b->size += n;
}

/* Note when events of a stream end (a blank line) in these bytes: line
 * by line (memchr), since only a line's ends and whether it holds a byte
 * other than CR matter. */
static void events_add(struct cap_events *e, int64_t at, const char *p,
                       size_t n)
{
  if(!e->stream)
    return;
  const char *end = p + n;
  while(p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    while(p < stop && *p == '\r')
      p++;
    if(p < stop) {  /* the line has text */
      e->at_line_end = false;
      e->in_event = true;
    }
    if(!nl)
      break;
    if(e->at_line_end && e->in_event) {  /* a blank line ends an event */
      buf_append(&e->us, &at, sizeof(at));
      e->in_event = false;
    }
    e->at_line_end = true;
    p = nl + 1;
  }
}

static void attempt_init(struct cap_attempt *a)
{
  memset(a, 0, sizeof(*a));
  a->start_us = a->first_byte_us = a->end_us = -1;
  buf_init(&a->url);
  buf_init(&a->sent);
  body_init(&a->req_body);
  body_init(&a->app_body);
  buf_init(&a->lines);
  body_init(&a->resp_body);
  buf_init(&a->resp_events.us);
  buf_init(&a->handed_lines);
  body_init(&a->handed_body);
  buf_init(&a->handed_events.us);
  a->raw_hdr_hash = a->handed_hdr_hash = FNV_START;
  buf_init(&a->effective_url);
}

static void attempt_free(struct cap_attempt *a)
{
  buf_free(&a->url);
  buf_free(&a->sent);
  buf_free(&a->req_body.data);
  buf_free(&a->app_body.data);
  buf_free(&a->lines);
  buf_free(&a->resp_body.data);
  buf_free(&a->resp_events.us);
  buf_free(&a->handed_lines);
  buf_free(&a->handed_body.data);
  buf_free(&a->handed_events.us);
  buf_free(&a->effective_url);
}

bool capture_idle(void)
{
  return !ss_settings()->capture[0];
}

/* The record's enums name the stages' values as they are. */
_Static_assert((int)CAP_RETRY_WITHOUT_STREAM == (int)SS_RETRY_WITHOUT_STREAM &&
               (int)CAP_RETRY_WITH_STREAM == (int)SS_RETRY_WITH_STREAM &&
               (int)CAP_END_UNSEEN == (int)SS_END_UNSEEN &&
               (int)CAP_END_CANCELLED == (int)SS_END_CANCELLED &&
               CAP_HTTP_VERSION_3 == CURL_HTTP_VERSION_3,
               "capture_record.h's values are libcurl's and the stages'");

static void *cap_start(struct ss_xfer *x)
{
  const struct ss_config *cfg = ss_settings();
  if(!cfg->capture[0])
    return NULL;
  struct cap_stage *s = calloc(1, sizeof(*s));
  if(!s)
    return NULL;
  struct capture *c = &s->rec;
  c->serial = xfer_serial(x);
  c->pid = (int)getpid();
  clock_gettime(CLOCK_REALTIME, &c->start_real);
  c->start_us = cap_now_us();
  c->max_body = cfg->capture_max_body;
  c->rules = &cfg->capture_redact;
  buf_init(&c->notes);
  return s;
}

static int64_t offset(const struct capture *c)
{
  return cap_now_us() - c->start_us;
}

/* libcurl's figures for the attempt that just ended. */
static void take_info(struct ss_xfer *x, struct cap_attempt *a)
{
  struct ss_xfer_info i;
  xfer_info(x, &i);
  buf_reset(&a->effective_url);
  if(i.effective_url)  /* libcurl's pointer: its bytes are kept */
    buf_puts(&a->effective_url, i.effective_url);
  a->info.response_code = i.response_code;
  a->info.http_version = i.http_version;
  a->info.total_us = i.total_us;
  a->info.namelookup_us = i.namelookup_us;
  a->info.connect_us = i.connect_us;
  a->info.appconnect_us = i.appconnect_us;
  a->info.pretransfer_us = i.pretransfer_us;
  a->info.starttransfer_us = i.starttransfer_us;
  a->info.size_upload = i.size_upload;
  a->info.size_download = i.size_download;
}

static void on_request(struct ss_xfer *x, struct cap_stage *s)
{
  struct capture *c = &s->rec;
  struct ss_request r;
  if(c->nattempts >= CAP_ATTEMPTS)
    return;
  if(c->nattempts) {  /* the previous attempt is over */
    c->a[c->nattempts - 1].end_us = offset(c);
    take_info(x, &c->a[c->nattempts - 1]);
  }
  memset(&s->live[c->nattempts], 0, sizeof(s->live[0]));
  dechunk_init(&s->live[c->nattempts].dechunk);
  struct cap_attempt *a = &c->a[c->nattempts++];
  attempt_init(a);
  xfer_request(x, &r);
  a->retry = (enum cap_retry)r.retry;
  a->decodes = r.decodes_answer;
  a->start_us = offset(c);
  size_t mlen = r.method ? strnlen(r.method, sizeof(a->method) - 1) : 0;
  memcpy(a->method, r.method ? r.method : "", mlen);
  a->method[mlen] = '\0';
  if(r.url)
    buf_puts(&a->url, r.url);
  if(r.app_body) {
    a->has_app_body = true;
    body_add(&a->app_body, c->max_body, r.app_body, r.app_body_len);
  }
}

/* The request header block libcurl sent: a new request line starts a new
 * block (a redirect or an authentication round): the last one is kept. */
static void on_sent_header(struct cap_attempt *a, struct cap_live *l,
                           const char *p, size_t n)
{
  if(l->sent_done) {
    buf_reset(&a->sent);
    l->sent_done = false;
    buf_reset(&a->req_body.data);
    a->req_body.size = 0;
  }
  buf_append(&a->sent, p, n);
  size_t len = a->sent.len, vlen;
  if(len >= 4 && !memcmp(a->sent.ptr + len - 4, "\r\n\r\n", 4)) {
    l->sent_done = true;
    const char *te = headers_field(a->sent.ptr, len, "Transfer-Encoding",
                                   &vlen);
    l->sent_chunked = te && vlen >= 7 && !strncasecmp(te, "chunked", 7);
    dechunk_init(&l->dechunk);
  }
}

/* A run of request body payload (dechunk_feed's output). */
struct sent_payload {
  struct cap_body *body;
  size_t max;
};

static void add_payload(void *arg, const char *p, size_t n)
{
  struct sent_payload *sp = arg;
  body_add(sp->body, sp->max, p, n);
}

/* Request body bytes as sent: a chunked body's framing is libcurl's, the
 * payload the program's. */
static void on_sent_body(struct capture *c, struct cap_attempt *a,
                         struct cap_live *l, const char *p, size_t n)
{
  struct sent_payload sp = {&a->req_body, c->max_body};
  if(l->sent_chunked)
    dechunk_feed(&l->dechunk, p, n, add_payload, &sp);
  else
    body_add(&a->req_body, c->max_body, p, n);
}

/* Body bytes handed to the program: are they the server's? The same
 * piece passed on (pass-through) is told by its address; other bytes are
 * compared with what was kept of the server's body. */
static void on_handed_body(struct capture *c, struct cap_attempt *a,
                           struct cap_live *l, const char *p, size_t n)
{
  size_t at = a->handed_body.size;
  const struct buf *raw = &a->resp_body.data;
  if(!a->handed_differs) {
    if(p == l->raw_piece + l->raw_piece_used &&
       l->raw_piece_used + n <= l->raw_piece_len)
      l->raw_piece_used += n;
    else {  /* beyond what was kept, the sizes tell */
      size_t k = at < raw->len ? raw->len - at : 0;
      if(k > n)
        k = n;
      a->handed_differs = (k && memcmp(raw->ptr + at, p, k)) ||
                          at + n > a->resp_body.size;
    }
  }
  body_add(&a->handed_body, c->max_body, p, n);
}

static bool is_event_stream(const char *p, size_t n)
{
  size_t vlen;
  const char *v = header_value(p, n, "Content-Type", &vlen);
  return v && vlen >= 17 && !strncasecmp(v, "text/event-stream", 17);
}

static char kind_letter(enum ss_header_kind k)
{
  return k == SS_HDR_STATUS ? 'S' : k == SS_HDR_INFORMATIONAL ? 'I'
         : k == SS_HDR_FINAL ? 'F' : 'T';
}

static void on_header(struct capture *c, struct cap_attempt *a,
                      const struct ss_event *ev)
{
  char kind = kind_letter(ev->header);
  if(a->first_byte_us < 0)
    a->first_byte_us = offset(c);
  if(kind == 'S')  /* a new block: is it a stream? its own fields say */
    a->resp_events.stream = false;
  if(kind == 'F' && is_event_stream(ev->p, ev->n))
    a->resp_events.stream = true;
  buf_append(&a->lines, &kind, 1);
  buf_append(&a->lines, ev->p, ev->n);
  a->raw_hdr_hash = fnv(a->raw_hdr_hash, ev->p, ev->n);
  a->raw_hdr_len += ev->n;
}

static void on_handed_header(struct cap_attempt *a, const char *p, size_t n)
{
  if(header_status(p, n) >= 0)
    a->handed_events.stream = false;
  else if(is_event_stream(p, n))
    a->handed_events.stream = true;
  buf_append(&a->handed_lines, p, n);
  a->handed_hdr_hash = fnv(a->handed_hdr_hash, p, n);
}

static void on_note(struct capture *c, const struct ss_event *ev)
{
  char num[16], *d = num + sizeof(num);  /* "N\t", N by hand */
  unsigned v = ev->attempt > 0 ? (unsigned)ev->attempt : 0;
  *--d = '\t';
  do {
    *--d = (char)('0' + v % 10);
    v /= 10;
  } while(v);
  buf_append(&c->notes, d, (size_t)(num + sizeof(num) - d));
  buf_append(&c->notes, ev->p, ev->n);
  buf_puts(&c->notes, "\t");
  buf_puts(&c->notes, ev->why);
  buf_puts(&c->notes, "\n");
}

static void on_end(struct ss_xfer *x, struct capture *c,
                   const struct ss_event *ev)
{
  c->result = (int)ev->result;
  c->how = (enum cap_end)ev->how;
  c->end_us = offset(c);
  c->error = xfer_result_text(x, ev->result);
  if(c->nattempts) {
    struct cap_attempt *a = &c->a[c->nattempts - 1];
    a->end_us = c->end_us;
    take_info(x, a);
  }
  if((int)getpid() != c->pid)
    return;  /* a forked child's copy of the parent's transfer */
  struct buf line;
  buf_init(&line);
  cap_record(c, &line);
  cap_write(ss_settings()->capture, &line);
  buf_free(&line);
}

static void cap_event(struct ss_xfer *x, void *ctx, const struct ss_event *ev)
{
  struct cap_stage *s = ctx;
  struct capture *c = &s->rec;
  if(ev->kind == SS_EV_REQUEST) {
    on_request(x, s);
    return;
  }
  if(ev->kind == SS_EV_END) {
    on_end(x, c, ev);
    return;
  }
  if(ev->kind == SS_EV_NOTE) {
    on_note(c, ev);
    return;
  }
  if(!c->nattempts || ev->attempt != c->nattempts)
    return;  /* past the attempts kept */
  struct cap_attempt *a = &c->a[c->nattempts - 1];
  struct cap_live *l = &s->live[c->nattempts - 1];
  switch(ev->kind) {
  case SS_EV_SENT_HEADER:
    on_sent_header(a, l, ev->p, ev->n);
    break;
  case SS_EV_SENT_BODY:
    on_sent_body(c, a, l, ev->p, ev->n);
    break;
  case SS_EV_HEADER:
    on_header(c, a, ev);
    break;
  case SS_EV_BODY:
    if(a->first_byte_us < 0)
      a->first_byte_us = offset(c);
    body_add(&a->resp_body, c->max_body, ev->p, ev->n);
    l->raw_piece = ev->p;
    l->raw_piece_len = ev->n;
    l->raw_piece_used = 0;
    events_add(&a->resp_events, offset(c), ev->p, ev->n);
    break;
  case SS_EV_HANDED_HEADER:
    on_handed_header(a, ev->p, ev->n);
    break;
  case SS_EV_HANDED_BODY:
    on_handed_body(c, a, l, ev->p, ev->n);
    events_add(&a->handed_events, offset(c), ev->p, ev->n);
    break;
  default:
    break;
  }
}

static void cap_finish(void *ctx)
{
  struct cap_stage *s = ctx;
  struct capture *c = &s->rec;
  for(int i = 0; i < c->nattempts; i++)
    attempt_free(&c->a[i]);
  buf_free(&c->notes);
  free(s);
}

const struct ss_monitor capture_monitor = {
  "capture", cap_start, cap_event, cap_finish
};
