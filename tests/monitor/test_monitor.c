/* test_monitor.c - a monitoring stage that exists only in the tests
 * (built into build/monitor/libstreamshim.so, see the Makefile). It checks
 * what the core promises a monitor (shim/stage.h) and writes one JSON line
 * per transfer to $STREAMSHIM_TEST_MONITOR when the transfer ends, for
 * tests/test_monitor.py to compare with what the program and the server
 * saw:
 *   - every attempt starts with SS_EV_REQUEST, numbered 1, 2, ... and
 *     xfer_request agrees; every other event carries the running attempt;
 *   - an attempt's first header line from the server is a status line;
 *   - the serial stays the same over the transfer's attempts;
 *   - the end comes once (the record is written then; an event after it
 *     would touch freed memory, which the ASan run reports).
 * Violations go into the record's "errors". Byte counts and FNV-1a hashes
 * of what the server sent and what the program was handed, per attempt,
 * let the test check that nothing of a refused attempt reached the
 * program. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../shim/stage.h"
#include "../../hooks/pure/headers.h"

#define TM_ATTEMPTS 4

struct tm_attempt {
  int status;                 /* the last status line's code */
  char method[16];
  enum ss_retry retry;
  size_t raw_hdr, raw_body, handed_hdr, handed_body, sent_hdr, sent_body;
  uint64_t raw_body_hash, handed_body_hash;
  char types[96];             /* one letter per header line: S I F T */
  size_t ntypes;
  bool had_header;
};

struct tm_ctx {
  unsigned long serial;
  int attempt;
  struct tm_attempt a[TM_ATTEMPTS];
  char url[512];
  char errors[512];
  size_t errlen;
};

static const char *tm_path;

__attribute__((constructor)) static void tm_init(void)
{
  tm_path = getenv("STREAMSHIM_TEST_MONITOR");
}

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
  for(size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ull;
  }
  return h;
}

#define FNV_START 14695981039346656037ull

static void tm_error(struct tm_ctx *c, const char *fmt, ...)
{
  va_list ap;
  if(c->errlen + 2 >= sizeof(c->errors))
    return;
  if(c->errlen)
    c->errors[c->errlen++] = ';';
  va_start(ap, fmt);
  int k = vsnprintf(c->errors + c->errlen, sizeof(c->errors) - c->errlen,
                    fmt, ap);
  va_end(ap);
  if(k > 0)
    c->errlen += (size_t)k;
  if(c->errlen >= sizeof(c->errors))
    c->errlen = sizeof(c->errors) - 1;
}

static void *tm_start(struct ss_xfer *x)
{
  if(!tm_path)
    return NULL;
  struct tm_ctx *c = calloc(1, sizeof(*c));
  if(!c)
    return NULL;
  c->serial = xfer_serial(x);
  for(int i = 0; i < TM_ATTEMPTS; i++)
    c->a[i].raw_body_hash = c->a[i].handed_body_hash = FNV_START;
  return c;
}

/* Copy s into a JSON string body (quotes and backslashes escaped, control
 * bytes dropped). */
static void json_copy(char *out, size_t cap, const char *s)
{
  size_t o = 0;
  for(; s && *s && o + 2 < cap; s++) {
    if(*s == '"' || *s == '\\')
      out[o++] = '\\';
    if((unsigned char)*s >= 0x20)
      out[o++] = *s;
  }
  out[o] = '\0';
}

static char tm_type_letter(enum ss_header_kind k)
{
  switch(k) {
  case SS_HDR_STATUS: return 'S';
  case SS_HDR_INFORMATIONAL: return 'I';
  case SS_HDR_FINAL: return 'F';
  default: return 'T';
  }
}

static void tm_request(struct ss_xfer *x, struct tm_ctx *c,
                       const struct ss_event *ev)
{
  struct ss_request r;
  if(ev->attempt != c->attempt + 1)
    tm_error(c, "attempt %d after %d", ev->attempt, c->attempt);
  c->attempt = ev->attempt;
  xfer_request(x, &r);
  if(r.attempt != ev->attempt)
    tm_error(c, "xfer_request says attempt %d in %d", r.attempt, ev->attempt);
  if(c->attempt > TM_ATTEMPTS)
    return;
  struct tm_attempt *a = &c->a[c->attempt - 1];
  snprintf(a->method, sizeof(a->method), "%s", r.method ? r.method : "");
  a->retry = r.retry;
  if(c->attempt == 1)
    json_copy(c->url, sizeof(c->url), r.url);
}

static void tm_event(struct ss_xfer *x, void *ctx, const struct ss_event *ev)
{
  struct tm_ctx *c = ctx;
  if(xfer_serial(x) != c->serial)
    tm_error(c, "serial %lu became %lu", c->serial, xfer_serial(x));
  if(ev->kind == SS_EV_REQUEST) {
    tm_request(x, c, ev);
    return;
  }
  if(ev->kind == SS_EV_END)
    return;  /* written at finish, with ev's result (kept below) */
  if(ev->attempt != c->attempt)
    tm_error(c, "event of attempt %d in %d", ev->attempt, c->attempt);
  if(c->attempt < 1 || c->attempt > TM_ATTEMPTS)
    return;
  struct tm_attempt *a = &c->a[c->attempt - 1];
  switch(ev->kind) {
  case SS_EV_HEADER:
    if(!a->had_header && ev->header != SS_HDR_STATUS)
      tm_error(c, "attempt %d starts with a header of kind %d",
               c->attempt, (int)ev->header);
    a->had_header = true;
    if(a->ntypes + 1 < sizeof(a->types))
      a->types[a->ntypes++] = tm_type_letter(ev->header);
    if(ev->header == SS_HDR_STATUS)
      a->status = header_status(ev->p, ev->n);
    a->raw_hdr += ev->n;
    break;
  case SS_EV_SENT_HEADER:
    /* the request line libcurl wrote names the method xfer_request says */
    if(!a->sent_hdr && (ev->n <= strlen(a->method) ||
                        memcmp(ev->p, a->method, strlen(a->method)) ||
                        ev->p[strlen(a->method)] != ' '))
      tm_error(c, "attempt %d sent %.20s for %s", c->attempt, ev->p,
               a->method);
    a->sent_hdr += ev->n;
    break;
  case SS_EV_SENT_BODY:
    a->sent_body += ev->n;
    break;
  case SS_EV_BODY:
    a->raw_body += ev->n;
    a->raw_body_hash = fnv(a->raw_body_hash, ev->p, ev->n);
    break;
  case SS_EV_HANDED_HEADER:
    a->handed_hdr += ev->n;
    break;
  case SS_EV_HANDED_BODY:
    a->handed_body += ev->n;
    a->handed_body_hash = fnv(a->handed_body_hash, ev->p, ev->n);
    break;
  default:
    break;
  }
}

static const char *tm_how(enum ss_end how)
{
  return how == SS_END_SEEN ? "seen"
         : how == SS_END_UNSEEN ? "unseen" : "cancelled";
}

/* The record, in one write(2) on an O_APPEND descriptor: lines of many
 * threads and processes never interleave. */
static void tm_write(struct tm_ctx *c, struct ss_xfer *x,
                     const struct ss_event *ev)
{
  char line[4096];
  struct ss_xfer_info info;
  size_t o = 0;
  int n = c->attempt < TM_ATTEMPTS ? c->attempt : TM_ATTEMPTS;
  xfer_info(x, &info);
  c->errors[c->errlen] = '\0';
  o += (size_t)snprintf(line + o, sizeof(line) - o,
                        "{\"serial\":%lu,\"pid\":%d,\"url\":\"%s\","
                        "\"attempts\":%d,\"end_attempt\":%d,\"how\":\"%s\","
                        "\"result\":%d,\"response_code\":%ld,"
                        "\"errors\":\"%s\",\"a\":[",
                        c->serial, (int)getpid(), c->url, c->attempt,
                        ev->attempt, tm_how(ev->how), (int)ev->result,
                        info.response_code, c->errors);
  for(int i = 0; i < n && o < sizeof(line); i++) {
    const struct tm_attempt *a = &c->a[i];
    o += (size_t)snprintf(line + o, sizeof(line) - o,
                          "%s{\"method\":\"%s\",\"retry\":%d,\"status\":%d,"
                          "\"types\":\"%.*s\",\"sent_hdr\":%zu,"
                          "\"sent_body\":%zu,\"raw_hdr\":%zu,"
                          "\"raw_body\":%zu,\"raw_hash\":\"%016llx\","
                          "\"handed_hdr\":%zu,\"handed_body\":%zu,"
                          "\"handed_hash\":\"%016llx\"}",
                          i ? "," : "", a->method, (int)a->retry, a->status,
                          (int)a->ntypes, a->types, a->sent_hdr,
                          a->sent_body, a->raw_hdr, a->raw_body,
                          (unsigned long long)a->raw_body_hash, a->handed_hdr,
                          a->handed_body,
                          (unsigned long long)a->handed_body_hash);
  }
  if(o + 3 >= sizeof(line))
    o = sizeof(line) - 3;
  memcpy(line + o, "]}\n", 3);
  o += 3;
  int fd = open(tm_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if(fd < 0)
    return;
  if(write(fd, line, o) < 0) {
    /* nothing to do: the test sees the record missing */
  }
  close(fd);
}

/* The end event carries the result: the record is written from it. */
static void tm_event_end(struct ss_xfer *x, void *ctx,
                         const struct ss_event *ev)
{
  if(ev->kind == SS_EV_END)
    tm_write(ctx, x, ev);
  else
    tm_event(x, ctx, ev);
}

static void tm_finish(void *ctx)
{
  free(ctx);
}

const struct ss_monitor test_monitor = {
  "test-monitor", tm_start, tm_event_end, tm_finish
};
