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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../shim/log.h"
#include "../shim/settings.h"
#include "pure/headers.h"
#include "pure/refusal.h"

/* More than any error answer: an answer this large is no refusal. */
#define FB_MAX_HELD (256u * 1024)

/* The held answer is not a refusal: out it goes, unchanged, or failed as
 * libcurl would have failed it for a program asking FAILONERROR. */
static enum ss_flow fb_release(struct ss_xfer *x, struct destream *d,
                               const char *why)
{
  if(!xfer_fails_on_status(x, d->status))
    return ds_give_up(x, d, why);
  ss_info("%s: failing as CURLOPT_FAILONERROR asks", why);
  ds_release_held(d);
  d->state = DS_SWALLOW;
  ds_pump(x, d);  /* the header block, as libcurl delivers it */
  return xfer_fail_status(x, d->status);
}

/* The held answer is complete: a refusal, or not. A refusal is learned
 * either way, and retried unless the transfer is past that point (judged
 * when a multi handle's transfer ended: the program saw it finish). */
static enum ss_flow fb_judge(struct ss_xfer *x, struct destream *d)
{
  const struct ss_config *c = ss_settings();
  const char *rule = refusal_match(&c->refusals, d->status, d->answer.ptr,
                                   d->answer.len);
  if(!rule)
    return fb_release(x, d, "an error answer, not a refusal to stream");
  int saved = errno;
  learned_add(c, d->host, d->model, d->fp, rule, time(NULL));
  errno = saved;
  if(!xfer_want_retry(x, SS_RETRY_WITHOUT_STREAM))
    return fb_release(x, d, "a refusal to stream, learned, but judged too "
                            "late to retry");
  ss_info("the server refused to stream model %s (rule %s): retrying "
          "without stream", d->model, rule);
  buf_reset(&d->held);
  d->holding = false;
  d->state = DS_SWALLOW;
  return SS_OK;
}

/* The value of field `name` in the last held block, or NULL; *len gets
 * its length (blanks around it dropped). */
static const char *fb_field(const struct destream *d, const char *name,
                            size_t *len)
{
  if(d->block_off >= d->held.len)
    return NULL;
  return headers_field(d->held.ptr + d->block_off,
                       d->held.len - d->block_off, name, len);
}

/* The Content-Length of the last held block when its body is neither
 * encoded nor chunked: the body's end is then known before the
 * transfer's. -1 otherwise. */
static long fb_length(const struct destream *d)
{
  size_t n, other;
  char num[24];
  const char *v = fb_field(d, "Content-Length", &n);
  if(!v || !n || n >= sizeof(num) ||
     fb_field(d, "Content-Encoding", &other) ||
     fb_field(d, "Transfer-Encoding", &other))
    return -1;
  memcpy(num, v, n);
  num[n] = '\0';
  char *stop;
  long len = strtol(num, &stop, 10);
  return *stop || len < 0 ? -1 : len;
}

/* Is the last held block a Server-Sent Events stream (an answer that
 * streams: no refusal, whatever a rule's status says)? */
static bool fb_is_stream(const struct destream *d)
{
  size_t n;
  const char *v = fb_field(d, "Content-Type", &n);
  return v && n >= 17 && !strncasecmp(v, "text/event-stream", 17);
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

/* The end of a held block: go out now when it is final and cannot be a
 * refusal: a 2xx answer (not a proxy's CONNECT answer, which has no
 * Content-Type and precedes the real one), or an error libcurl will fail
 * at once for FAILONERROR (it delivers the block, then stops). */
static enum ss_flow fb_block_end(struct ss_xfer *x, struct destream *d)
{
  size_t n;
  if(d->candidate && fb_is_stream(d)) {
    d->candidate = false;
    xfer_fail_on_error(x, true);
  }
  if(d->candidate)
    return SS_OK;
  bool final = (d->status >= 200 && d->status < 300 &&
                fb_field(d, "Content-Type", &n)) ||
               xfer_fails_on_status(x, d->status);
  if(!final)
    return SS_OK;
  ds_release_held(d);
  return ds_pump(x, d);
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
  /* Every block is held until one is known to be final (fb_block_end, or
   * body bytes or the end follow it): a refused attempt's 100 Continue,
   * redirect or auth challenge must not reach the program either, since
   * the retry brings its own. */
  int status = header_status(p, n);
  if(status >= 0) {
    const struct ss_config *c = ss_settings();
    d->status = status;
    d->block_off = d->held.len;
    /* 401 and 407 belong to libcurl's authentication */
    d->candidate = status >= 200 && status != 401 && status != 407 &&
                   refusal_status_candidate(&c->refusals, status);
    /* libcurl judges what cannot be a refusal itself */
    xfer_fail_on_error(x, !d->candidate);
  }
  d->holding = true;
  if(!buf_append(&d->held, p, n))
    return fb_release(x, d, "out of memory");
  bool block_end = (n == 2 && p[0] == '\r') || (n == 1 && p[0] == '\n');
  return block_end ? fb_block_end(x, d) : SS_OK;
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
      if(!buf_append(&d->answer, p, n)) {  /* pass on, come what may */
        enum ss_flow r = ds_pump(x, d);
        return r == SS_OK ? xfer_pass_body(x, p, n) : r;
      }
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
