/* fallback.c - auto mode's watcher (see fallback.h): the request went out
 * as the program wrote it, streaming or not. An answer whose status could
 * be a refusal of that way (refusal.h: a refusal to stream, or a refusal
 * of a model that only streams) is held (hold.h), header blocks and body,
 * until it is judged:
 * - a refusal: nothing of it ever reaches the program; the refusal is
 *   learned (learned.h) with its direction and the core sends the request
 *   again the other way (xfer_want_retry): without stream, which the
 *   de-stream stage replays, or streaming, which stream_only.c joins;
 * - anything else: it goes out unchanged.
 * Other answers (a native stream, other errors) pass through untouched;
 * header blocks other than 2xx wait for the next block, the first body
 * byte or the end, since a refused attempt's redirects or 100 Continue
 * must not show either.
 *
 * CURLOPT_FAILONERROR would end the transfer after the header block, before
 * the refusal's body, so the program's setting is lifted for the attempt
 * (at start) and applied again at each status line that cannot be a
 * refusal: libcurl then fails those answers itself, exactly (its 401
 * and 407 rules during authentication, 416 on resume, the error text). A
 * held answer judged not to be a refusal fails the way libcurl 7.88 fails
 * it: the whole header block reaches the program, no body, then
 * CURLE_HTTP_RETURNED_ERROR with "The requested URL returned error: N". */
#include "fallback.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../shim/log.h"
#include "../shim/settings.h"
#include "hold.h"
#include "learned.h"
#include "llm_request.h"
#include "pure/headers.h"
#include "pure/json.h"
#include "pure/refusal.h"

/* More than any error answer: an answer this large is no refusal. */
#define FB_MAX_HELD (256u * 1024)

struct fallback {
  struct hold hold;                   /* header blocks and error bodies */
  const struct ss_config *cfg;        /* where learned refusals go */
  const struct refusal_rules *rules;  /* the user's refusal rules */
  const struct llm_request *req;      /* the attempt's (llm_request.h):
                                         what a refusal is learned for */
  const struct llm_way *way;          /* the request's: which refusals */
  int status;                         /* the status of the last block */
  bool candidate;                     /* it could be a refusal: judged */
  bool through;                       /* a final answer that is no
                                         refusal: everything passes */
  bool direct;                        /* and nothing is queued before the
                                         body: bytes go straight on */
  struct json_end end;                /* where a JSON error body closes */
};

/* The held answer is not a refusal: out it goes, unchanged, or failed as
 * libcurl would have failed it for a program asking FAILONERROR. */
static enum ss_flow fb_release(struct ss_xfer *x, struct fallback *f,
                               const char *why)
{
  if(!xfer_fails_on_status(x, f->status)) {
    xfer_note(x, "pass-through", why);
    return hold_give_up(x, &f->hold, why);
  }
  ss_info("%s: failing as CURLOPT_FAILONERROR asks", why);
  xfer_note(x, "failed", "not a refusal; failed as CURLOPT_FAILONERROR asks");
  return hold_fail(x, &f->hold, f->status);
}

/* The held answer is complete: a refusal, or not. A refusal is learned
 * either way, and retried unless the transfer is past that point (judged
 * when a multi handle's transfer ended: the program saw it finish). */
static enum ss_flow fb_judge(struct ss_xfer *x, struct fallback *f)
{
  size_t n;
  const char *body = hold_input(&f->hold, &n);
  const struct llm_way *way = f->way;
  const char *rule = refusal_match(f->rules, way->refuses, f->status, body,
                                   n);
  char why[300];
  if(!rule) {
    snprintf(why, sizeof(why), "an error answer, not %s", way->refusal);
    return fb_release(x, f, why);
  }
  int saved = errno;
  char fp[LEARNED_FP_LEN + 1];
  if(f->req->fp[0])
    memcpy(fp, f->req->fp, sizeof(fp));
  else
    llm_fingerprint(x, fp);  /* not needed before: digested now */
  learned_add(f->cfg, f->req->ep.host, f->req->model, fp, way->refuses, rule,
              time(NULL));
  errno = saved;
  bool retry = xfer_want_retry(x, llm_retry(way));
  snprintf(why, sizeof(why), "rule %s; learned; %s%s", rule,
           retry ? "retrying " : "judged too late to retry",
           retry ? way->retried : "");
  xfer_note(x, "refused", why);
  if(!retry)
    return fb_release(x, f, "a refusal, learned, but judged too late to "
                            "retry");
  ss_info("%s model %s (rule %s): retrying %s", way->refused, f->req->model,
          rule, way->retried);
  hold_swallow(&f->hold);
  return SS_OK;
}

/* The Content-Length of the last held block when its body is neither
 * encoded nor chunked: the body's end is then known before the
 * transfer's. -1 otherwise. */
static long fb_length(const struct fallback *f)
{
  size_t n, other;
  char num[24];
  const char *v = hold_field(&f->hold, "Content-Length", &n);
  if(!v || !n || n >= sizeof(num) ||
     hold_field(&f->hold, "Content-Encoding", &other) ||
     hold_field(&f->hold, "Transfer-Encoding", &other))
    return -1;
  memcpy(num, v, n);
  num[n] = '\0';
  char *stop;
  long len = strtol(num, &stop, 10);
  return *stop || len < 0 ? -1 : len;
}

/* Is the last held block a Server-Sent Events stream (an answer that
 * streams: no refusal, whatever a rule's status says)? */
static bool fb_is_stream(const struct fallback *f)
{
  size_t n;
  const char *v = hold_field(&f->hold, "Content-Type", &n);
  return v && n >= 17 && !strncasecmp(v, "text/event-stream", 17);
}

/* Add body bytes of the held answer; judge once it is complete. */
static enum ss_flow fb_collect(struct ss_xfer *x, struct fallback *f,
                               const char *p, size_t n)
{
  size_t at, len;
  if(!hold_collect(&f->hold, p, n)) {
    /* released now, the answer would lack these bytes: fail instead */
    ss_error("out of memory holding an error answer: transfer failed");
    return SS_FAILED;
  }
  hold_input(&f->hold, &len);
  if(len > FB_MAX_HELD)
    return fb_release(x, f, "an error answer too large to be a refusal");
  long whole = fb_length(f);
  bool complete = (whole >= 0 && len >= (size_t)whole) ||
                  json_end_feed(&f->end, p, n, &at) == JSON_END_DONE;
  return complete ? fb_judge(x, f) : SS_OK;
}

/* The end of a held block: go out now when it is final and cannot be a
 * refusal: a 2xx answer (not a proxy's CONNECT answer, which has no
 * Content-Type and precedes the real one), or an error libcurl will fail
 * at once for FAILONERROR (it delivers the block, then stops). */
static enum ss_flow fb_block_end(struct ss_xfer *x, struct fallback *f)
{
  size_t n;
  if(f->candidate && fb_is_stream(f)) {
    f->candidate = false;
    xfer_fail_on_error(x, true);
  }
  if(f->candidate)
    return SS_OK;
  bool final = (f->status >= 200 && f->status < 300 &&
                hold_field(&f->hold, "Content-Type", &n)) ||
               xfer_fails_on_status(x, f->status);
  if(!final)
    return SS_OK;
  hold_release(&f->hold);
  return hold_pump(x, &f->hold);
}

/* A field of a block that is no candidate: a 2xx block is final once it
 * has a Content-Type (what fb_block_end would find at its end), so what
 * is held goes out now and the rest of the answer passes straight
 * through, unheld. */
static enum ss_flow fb_final_field(struct ss_xfer *x, struct fallback *f,
                                   const char *p, size_t n)
{
  if(f->status < 200 || f->status >= 300 || n < 13 || (p[0] | 0x20) != 'c' ||
     !header_is(p, n, "Content-Type"))
    return SS_OK;
  f->through = true;
  hold_release(&f->hold);
  enum ss_flow r = hold_pump(x, &f->hold);
  if(r == SS_OK && !f->hold.queue.len)  /* nothing of this stage's left */
    xfer_header_direct(x);
  return r;
}

static enum ss_flow fb_header(struct ss_xfer *x, void *ctx, const char *p,
                              size_t n)
{
  struct fallback *f = ctx;
  if(f->through) {
    /* A status line before any body byte: that block was not final after
     * all (a proxy's CONNECT answer with a Content-Type); this one is
     * judged as any block is. */
    if(f->hold.state == HOLD_WAIT && n && p[0] == 'H' &&
       header_status(p, n) >= 0)
      f->through = false;
    else if(f->hold.queue.len)  /* in arrival order: after what is queued */
      return hold_pass_header(x, &f->hold, p, n);
    else {  /* a line the core's direct way left to this stage */
      enum ss_flow r = xfer_pass_header(x, p, n);
      if(r == SS_OK)
        xfer_header_direct(x);
      return r;
    }
  }
  if(f->hold.state == HOLD_SWALLOW)
    return SS_OK;
  if(f->hold.state != HOLD_WAIT)  /* trailers */
    return hold_pass_header(x, &f->hold, p, n);
  /* Every block is held until one is known to be final (fb_block_end, or
   * body bytes or the end follow it): a refused attempt's 100 Continue,
   * redirect or auth challenge must not reach the program either, since
   * the retry brings its own. */
  int status = header_status(p, n);
  if(status >= 0) {
    f->status = status;
    /* 401 and 407 belong to libcurl's authentication */
    f->candidate = status >= 200 && status != 401 && status != 407 &&
                   refusal_status_candidate(f->rules, f->way->refuses,
                                            status);
    /* libcurl judges what cannot be a refusal itself */
    xfer_fail_on_error(x, !f->candidate);
  }
  if(!hold_keep(&f->hold, p, n)) {  /* what is held goes out, then p */
    enum ss_flow r = fb_release(x, f, "out of memory");
    return r != SS_OK || f->hold.state == HOLD_PASS
           ? hold_after_pump(x, r, true, p, n) : r;
  }
  bool block_end = (n == 2 && p[0] == '\r') || (n == 1 && p[0] == '\n');
  if(block_end)
    return fb_block_end(x, f);
  return f->candidate || status >= 0 ? SS_OK : fb_final_field(x, f, p, n);
}

static enum ss_flow fb_body(struct ss_xfer *x, void *ctx, const char *p,
                            size_t n)
{
  struct fallback *f = ctx;
  if(f->direct)  /* the confirmed answer: straight to the program */
    return xfer_pass_body(x, p, n);
  if(f->through) {
    enum ss_flow r = hold_pass_body(x, &f->hold, p, n);
    f->direct = !f->hold.queue.len && f->hold.raw_off == f->hold.input.len;
    if(f->direct)  /* nothing of this stage's left: the core may skip it */
      xfer_body_direct(x);
    return r;
  }
  switch(f->hold.state) {
  case HOLD_WAIT:
    if(!f->candidate)  /* no refusal: the held blocks go out, then these */
      return hold_pass_body(x, &f->hold, p, n);
    return fb_collect(x, f, p, n);
  case HOLD_COLLECT:
    return fb_collect(x, f, p, n);
  case HOLD_SWALLOW:
    return SS_OK;
  default:
    return hold_pass_body(x, &f->hold, p, n);
  }
}

static enum ss_flow fb_resume(struct ss_xfer *x, void *ctx)
{
  struct fallback *f = ctx;
  return hold_pump(x, &f->hold);
}

static void fb_end(struct ss_xfer *x, void *ctx, CURLcode *result)
{
  struct fallback *f = ctx;
  (void)result;
  /* the body ended (or the held candidate had none): judge what came */
  if(f->hold.state == HOLD_COLLECT ||
     (f->hold.state == HOLD_WAIT && f->hold.holding && f->candidate))
    fb_judge(x, f);
  else if(f->hold.state != HOLD_SWALLOW) {
    hold_release(&f->hold);  /* blocks without a body, if any */
    hold_pump(x, &f->hold);
  }
}

static void fb_free(struct fallback *f)
{
  if(!f)
    return;
  hold_free(&f->hold);
  free(f);
}

static void fb_finish(struct ss_xfer *x, void *ctx)
{
  (void)x;
  fb_free(ctx);
}

static void *fallback_start(struct ss_xfer *x)
{
  const struct llm_request *r = llm_request(x);
  if(r->decision != LLM_WATCH)
    return NULL;
  /* field by field, not calloc (nor malloc and memset, which the compiler
   * makes a calloc): glibc's calloc skips its per-thread cache */
  struct fallback *f = malloc(sizeof(*f));
  if(f) {
    hold_init(&f->hold, NULL, NULL, FB_MAX_HELD, 0);
    json_end_init(&f->end);
    f->cfg = ss_settings();  /* read once: never mid-transfer */
    f->rules = &f->cfg->refusals;
    f->req = r;  /* kept with the attempt, as f is */
    f->way = r->way;
    f->status = 0;
    f->candidate = f->through = f->direct = false;
  }
  /* an error answer's body must be seen: FAILONERROR is emulated */
  if(!f || !xfer_fail_on_error(x, false) || !xfer_watch_response(x)) {
    ss_warn("pass-through: out of memory or libcurl refused an option");
    fb_free(f);
    return NULL;
  }
  ss_info("%s %s %s: model %s, watching for %s", r->way->going,
          endpoint_name(r->ep.kind), r->ep.path, r->model, r->way->refusal);
  if(xfer_notes_wanted(x)) {
    char why[300];
    snprintf(why, sizeof(why), "model %s: sent %s, as written", r->model,
             r->way->sent);
    xfer_note(x, "watching", why);
  }
  return f;
}

const struct ss_stage fallback_stage = {
  "fallback", fallback_start, fb_header, fb_body, fb_resume, fb_end,
  fb_finish
};
