/* fallback.c - auto mode's response side (see destream_int.h): the
 * request went out streaming, as the program wrote it. An answer whose
 * status could be a refusal to stream (refusal.h) is held, header block
 * and body, until it is judged:
 * - a refusal: nothing of it ever reaches the program; the refusal is
 *   learned (learned.h) and the core sends the request again without
 *   stream (xfer_want_retry), replayed as in force mode;
 * - anything else: it goes out unchanged.
 * Other answers (a native stream, other errors) pass through untouched;
 * header blocks other than 2xx wait for the next block, the first body
 * byte or the end, since a refused attempt's redirects or 100 Continue
 * must not show either.
 *
 * CURLOPT_FAILONERROR would end the transfer after the header block, before
 * the refusal's body, so the program's setting is lifted for the attempt
 * (destream_request.c) and applied again at each status line that cannot
 * be a refusal: libcurl then fails those answers itself, exactly (its 401
 * and 407 rules during authentication, 416 on resume, the error text). A
 * held answer judged not to be a refusal fails the way libcurl 7.88 fails
 * it: the whole header block reaches the program, no body, then
 * CURLE_HTTP_RETURNED_ERROR with "The requested URL returned error: N". */
#include "destream_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../shim/log.h"
#include "../shim/settings.h"
#include "headers.h"
#include "refusal.h"

/* More than any error answer: an answer this large is no refusal. */
#define FB_MAX_HELD (256u * 1024)

/* The held answer is not a refusal: out it goes, unchanged, or failed as
 * libcurl would have failed it for a program asking FAILONERROR. */
static enum ss_flow fb_release(struct ss_xfer *x, struct destream *d,
                               const char *why)
{
  char text[64];
  if(!x->h->app.failonerror || d->status < 400)
    return ds_give_up(x, d, why);
  ss_info("%s: failing as CURLOPT_FAILONERROR asks", why);
  x->h->view.body_withheld = true;
  ds_release_held(d);
  d->state = DS_SWALLOW;
  ds_pump(x, d);  /* the header block, as libcurl delivers it */
  snprintf(text, sizeof(text), "The requested URL returned error: %d",
           d->status);
  return xfer_fail(x, CURLE_HTTP_RETURNED_ERROR, text);
}

/* The held answer is complete: a refusal, or not. */
static enum ss_flow fb_judge(struct ss_xfer *x, struct destream *d)
{
  const struct ss_config *c = ss_settings();
  const char *rule = refusal_match(&c->refusals, d->status, d->answer.ptr,
                                   d->answer.len);
  if(!rule)
    return fb_release(x, d, "an error answer, not a refusal to stream");
  if(!xfer_want_retry(x))
    return fb_release(x, d, "a refusal to stream, but no retry possible");
  learned_add(c, d->host, d->model, d->fp, rule, time(NULL));
  ss_info("the server refused to stream model %s (rule %s): retrying "
          "without stream", d->model, rule);
  buf_reset(&d->held);
  d->holding = false;
  d->state = DS_SWALLOW;
  return SS_OK;
}

/* The Content-Length of the held block when its body is not encoded:
 * then the body's end is known before the transfer's. -1 otherwise. */
static long fb_length(const struct destream *d)
{
  const char *p = d->held.ptr, *end = p + d->held.len;
  long len = -1;
  while(p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
    if(header_is(p, n, "Content-Encoding"))
      return -1;
    if(header_is(p, n, "Content-Length")) {
      const char *v = memchr(p, ':', n);
      char num[24];
      size_t k = 0;
      for(v++; v < p + n && k + 1 < sizeof(num); v++)
        if(*v >= '0' && *v <= '9')
          num[k++] = *v;
      num[k] = '\0';
      len = k ? strtol(num, NULL, 10) : -1;
    }
    p += n;
  }
  return len;
}

/* Add body bytes of the held answer; judge once it is complete. */
static enum ss_flow fb_collect(struct ss_xfer *x, struct destream *d,
                               const char *p, size_t n)
{
  size_t at;
  if(!buf_append(&d->answer, p, n))
    return fb_release(x, d, "out of memory holding an error answer");
  if(d->answer.len > FB_MAX_HELD)
    return fb_release(x, d, "an error answer too large to be a refusal");
  long len = fb_length(d);
  bool complete = (len >= 0 && d->answer.len >= (size_t)len) ||
                  json_end_feed(&d->end, p, n, &at) == JSON_END_DONE;
  return complete ? fb_judge(x, d) : SS_OK;
}

enum ss_flow fb_header(struct ss_xfer *x, struct destream *d, const char *p,
                       size_t n)
{
  if(d->state == DS_SWALLOW)
    return SS_OK;
  if(d->state == DS_COLLECT) {  /* trailers of a held answer */
    buf_append(&d->trailers, p, n);
    return SS_OK;
  }
  if(d->state != DS_WAIT) {  /* trailers of an answer passed on */
    ds_queue_header(d, p, n);
    return ds_pump(x, d);
  }
  /* Every block is held until one is known to be final (a 2xx block, or
   * body bytes or the end follow it): a refused attempt's 100 Continue,
   * redirect or auth challenge must not reach the program either, since
   * the retry brings its own. */
  int status = header_status(p, n);
  if(status >= 0) {
    const struct ss_config *c = ss_settings();
    d->status = status;
    d->candidate = status >= 200 &&
                   refusal_status_candidate(&c->refusals, status);
    /* libcurl judges what cannot be a refusal itself */
    xfer_fail_on_error(x, !d->candidate);
  }
  d->holding = true;
  buf_append(&d->held, p, n);
  if(d->held.oom)
    return fb_release(x, d, "out of memory");
  /* A 2xx block that cannot be a refusal ends the attempt's doubts: out
   * it goes with what was held before it, without waiting for the body
   * (a model may think a while before its first event). */
  bool block_end = (n == 2 && p[0] == '\r') || (n == 1 && p[0] == '\n');
  if(block_end && !d->candidate && d->status >= 200 && d->status < 300) {
    ds_release_held(d);
    return ds_pump(x, d);
  }
  return SS_OK;
}

enum ss_flow fb_body(struct ss_xfer *x, struct destream *d, const char *p,
                     size_t n)
{
  switch(d->state) {
  case DS_WAIT:
    if(!d->candidate) {
      /* no refusal: the held blocks go out, then these bytes (queued
       * with them, should the program pause in a header callback) */
      if(d->holding)
        ds_release_held(d);
      d->state = DS_PASS;
      d->raw_off = d->answer.len;
      if(!buf_append(&d->answer, p, n))
        return xfer_fail(x, CURLE_OUT_OF_MEMORY, "Out of memory");
      return ds_pump(x, d);
    }
    d->state = DS_COLLECT;
    return fb_collect(x, d, p, n);
  case DS_COLLECT:
    return fb_collect(x, d, p, n);
  case DS_SWALLOW:
    return SS_OK;
  default:
    return xfer_pass_body(x, p, n);
  }
}

void fb_end(struct ss_xfer *x, struct destream *d)
{
  if(d->state == DS_COLLECT)  /* the body ended: judge what came */
    fb_judge(x, d);
  else if(d->holding && d->state == DS_WAIT) {
    ds_release_held(d);  /* blocks without a body */
    ds_pump(x, d);
  }
  else if(d->state != DS_SWALLOW)
    ds_pump(x, d);
}
