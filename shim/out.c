/* out.c - the client writer (see out.h). */
#include "out.h"

#include <stdio.h>

#include "handle.h"
#include "log.h"

void out_init(struct ss_out *o)
{
  buf_init(&o->pending);
  o->has_pending = false;
  o->failed = false;
  o->fail_value = 0;
  o->at_end = false;
  o->headers_in_body = false;
  o->detached = false;
  o->direct = 0;
}

void out_free(struct ss_out *o)
{
  buf_free(&o->pending);
}

static size_t call_write(const struct ss_app_opts *a, const char *p, size_t n)
{
  return out_call_write(a, p, n);
}

static size_t call_header(const struct ss_app_opts *a, const char *p,
                          size_t n)
{
  return out_call_header(a, p, n);
}

/* How often a piece the program paused on after libcurl finished is
 * offered again before it counts as taken. */
#define OUT_AT_END_OFFERS 8

/* One call of the write callback (to_write) or the header callback. After
 * libcurl finished nothing can unpause: a piece the program pauses on is
 * offered again at once, so that a program that pauses, then takes the
 * same bytes on the next call, still gets them. */
static size_t offer(const struct ss_out *o, const struct ss_app_opts *a,
                    bool to_write, const char *p, size_t n)
{
  size_t w = to_write ? call_write(a, p, n) : call_header(a, p, n);
  for(int k = 0; o->at_end && w == CURL_WRITEFUNC_PAUSE &&
                 k < OUT_AT_END_OFFERS; k++)
    w = to_write ? call_write(a, p, n) : call_header(a, p, n);
  if(o->at_end && w == CURL_WRITEFUNC_PAUSE)
    ss_warn("the program kept pausing after its transfer ended: %zu "
            "bytes it did not take are dropped", n);
  return w;
}

/* Keep the refused rest of a piece for delivery after the unpause. */
static enum ss_flow keep_pending(struct ss_out *o, enum ss_out_kind kind,
                                 const char *p, size_t n)
{
  out_block_direct(o);  /* the kept piece goes first */
  buf_reset(&o->pending);
  if(!buf_append(&o->pending, p, n)) {
    o->failed = true;
    o->fail_value = 0;
    return SS_FAILED;
  }
  o->pending_kind = kind;
  o->has_pending = true;
  return SS_PAUSED;
}

/* The result of one call to the program: OK, or paused (the rest kept)
 * or failed. */
static enum ss_flow judge_call(struct ss_out *o, size_t w, size_t len,
                               enum ss_out_kind kind, const char *p, size_t n)
{
  if(w == CURL_WRITEFUNC_PAUSE && !o->at_end)
    return keep_pending(o, kind, p, n);
  if(w != len && w != CURL_WRITEFUNC_PAUSE) {
    out_block_direct(o);
    o->failed = true;
    o->fail_value = w;
    return SS_FAILED;
  }
  return SS_OK;
}

/* A header line for a program that set CURLOPT_HEADER: the write callback,
 * then the header callback. */
static enum ss_flow deliver_included(struct ss_out *o, struct ss_handle *h,
                                     const char *p, size_t n)
{
  enum ss_flow r = judge_call(o, offer(o, &h->app, true, p, n), n,
                              SS_OUT_HEADER, p, n);
  if(r != SS_OK)
    return r;
  return judge_call(o, offer(o, &h->app, false, p, n), n, SS_OUT_HEADER_CB,
                    p, n);
}

enum ss_flow out_deliver(struct ss_out *o, struct ss_handle *h,
                         enum ss_out_kind kind, const char *p, size_t n)
{
  const struct ss_app_opts *a = &h->app;
  if(o->failed)
    return SS_FAILED;
  if(o->detached)  /* the program reset the handle: its callbacks are gone */
    return SS_OK;
  if(kind != SS_OUT_BODY) {  /* a header line: one call */
    enum ss_flow r = kind == SS_OUT_HEADER && o->headers_in_body
                     ? deliver_included(o, h, p, n)
                     : judge_call(o, offer(o, a, false, p, n), n, kind, p, n);
    if(r == SS_OK)  /* taken: part of what the program saw */
      view_header(&h->view, p, n);
    return r;
  }
  do {  /* body bytes, in calls of at most CURL_MAX_WRITE_SIZE */
    size_t len = n <= CURL_MAX_WRITE_SIZE ? n : CURL_MAX_WRITE_SIZE;
    size_t w = offer(o, a, true, p, len);
    enum ss_flow r = judge_call(o, w, len, kind, p, n);
    if(r != SS_OK)
      return r;
    view_body(&h->view, len);
    p += len;
    n -= len;
  } while(n);
  return SS_OK;
}

enum ss_flow out_flush(struct ss_out *o, struct ss_handle *h)
{
  if(!o->has_pending)
    return o->failed ? SS_FAILED : SS_OK;
  /* Deliver from a private copy: a pause may refill o->pending. */
  struct buf held = o->pending;
  buf_init(&o->pending);
  o->has_pending = false;
  enum ss_flow r = out_deliver(o, h, o->pending_kind, held.ptr, held.len);
  buf_free(&held);
  return r;
}
