/* destream.c - the de-stream stage's response side (see destream.h). */
#include "destream_int.h"

#include <stdlib.h>
#include <string.h>

#include "../shim/log.h"
#include "pure/headers.h"

/* The content type of a replayed answer, as the streaming APIs send it. */
#define DS_CONTENT_TYPE "text/event-stream; charset=utf-8"

struct destream *destream_new(const struct ss_config *c, bool include_usage,
                              const struct replay_encoder *encoder)
{
  struct destream *d = calloc(1, sizeof(*d));
  if(!d)
    return NULL;
  d->opts.piece_chars = c->chunk_chars;
  d->opts.include_usage = include_usage;
  d->encoder = encoder;
  d->max_answer = c->max_answer;
  d->pace_ms = c->pace_ms;
  buf_init(&d->held);
  buf_init(&d->hdr);
  buf_init(&d->answer);
  buf_init(&d->event);
  buf_init(&d->trailers);
  json_end_init(&d->end);
  return d;
}

void destream_free(struct destream *d)
{
  if(!d)
    return;
  if(d->enc)
    d->encoder->close(d->enc);
  buf_free(&d->held);
  buf_free(&d->hdr);
  buf_free(&d->answer);
  buf_free(&d->event);
  buf_free(&d->trailers);
  free(d);
}

/* Pass the lines of b from *off on as header lines. */
static enum ss_flow emit_lines(struct ss_xfer *x, const struct buf *b,
                               size_t *off)
{
  enum ss_flow r = SS_OK;
  while(r == SS_OK && *off < b->len) {
    const char *p = b->ptr + *off;
    const char *nl = memchr(p, '\n', b->len - *off);
    size_t n = nl ? (size_t)(nl - p) + 1 : b->len - *off;
    *off += n;
    r = xfer_pass_header(x, p, n);
  }
  return r;
}

/* Send what is queued, in order: header lines, then the unchanged answer
 * or the replay's events. Offsets advance before each hand-over: a piece
 * refused by a pause was taken (the client keeps it). */
enum ss_flow ds_pump(struct ss_xfer *x, struct destream *d)
{
  enum ss_flow r = emit_lines(x, &d->hdr, &d->hdr_off);
  if(d->hdr_off == d->hdr.len) {
    buf_reset(&d->hdr);
    d->hdr_off = 0;
  }
  while(r == SS_OK && d->state == DS_PASS && d->raw_off < d->answer.len) {
    size_t n = d->answer.len - d->raw_off;
    if(n > CURL_MAX_WRITE_SIZE)
      n = CURL_MAX_WRITE_SIZE;
    d->raw_off += n;
    r = xfer_pass_body(x, d->answer.ptr + d->raw_off - n, n);
  }
  while(r == SS_OK && d->state == DS_REPLAY) {
    if(!d->ready) {  /* the next event; the pace comes before it */
      buf_reset(&d->event);
      int k = d->encoder->next(d->enc, &d->event);
      if(k == 0) {
        d->state = DS_DONE;
        break;
      }
      if(k < 0) {
        ss_error("out of memory while replaying: transfer failed");
        return SS_FAILED;
      }
      d->ready = true;
      if(d->sent && (r = xfer_pace(x, d->pace_ms)) != SS_OK)
        break;  /* paused: the event goes out on resume */
    }
    d->ready = false;
    d->sent = true;
    r = xfer_pass_body(x, d->event.ptr, d->event.len);
  }
  bool body_out = d->state == DS_DONE ||
                  (d->state == DS_PASS && d->raw_off == d->answer.len);
  if(r == SS_OK && body_out)
    r = emit_lines(x, &d->trailers, &d->trl_off);
  return r;
}

/* Queue lines for the program, in arrival order. */
void ds_queue_header(struct destream *d, const char *p, size_t n)
{
  buf_append(&d->hdr, p, n);
}

/* The held block goes out as it came. */
void ds_release_held(struct destream *d)
{
  ds_queue_header(d, d->held.ptr, d->held.len);
  buf_reset(&d->held);
  d->holding = false;
}

/* Stop trying: the held headers and the collected answer go out unchanged,
 * and everything after passes through. */
enum ss_flow ds_give_up(struct ss_xfer *x, struct destream *d,
                            const char *why)
{
  ss_info("answer passed through unchanged: %s", why);
  if(xfer_shim_decodes(x) &&
     headers_has(d->held.ptr, d->held.len, "Content-Encoding")) {
    /* The shim made libcurl decode: the fields no longer hold. */
    struct buf plain;
    buf_init(&plain);
    if(headers_drop_encoding(d->held.ptr, d->held.len, &plain)) {
      buf_free(&d->held);
      d->held = plain;
    }
    else
      buf_free(&plain);
  }
  ds_release_held(d);
  d->state = DS_PASS;
  d->raw_off = 0;
  return ds_pump(x, d);
}

/* The answer is complete: replay it if the encoder takes it. */
static enum ss_flow judge(struct ss_xfer *x, struct destream *d)
{
  const char *why = NULL;
  struct buf rewritten;
  d->enc = d->encoder->open(d->answer.ptr, d->answer_len, &d->opts, &why);
  if(!d->enc)
    return ds_give_up(x, d, why ? why : "out of memory");
  buf_init(&rewritten);
  if(!headers_rewrite_for_sse(d->held.ptr, d->held.len, DS_CONTENT_TYPE,
                              &rewritten)) {
    buf_free(&rewritten);
    return ds_give_up(x, d, "out of memory");
  }
  buf_free(&d->held);
  d->held = rewritten;
  ds_release_held(d);
  d->state = DS_REPLAY;
  xfer_answer_replaced(x, DS_CONTENT_TYPE);
  ss_info("replaying a %zu-byte %s answer as Server-Sent Events",
          d->answer_len, d->encoder->name);
  return ds_pump(x, d);
}

/* Are all bytes of [p, p+n) JSON whitespace? */
static bool blank(const char *p, size_t n)
{
  for(size_t i = 0; i < n; i++)
    if(p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
      return false;
  return true;
}

/* Add answer bytes; judge once the top-level JSON value closes. */
static enum ss_flow collect(struct ss_xfer *x, struct destream *d,
                            const char *p, size_t n)
{
  size_t at = 0;
  if(!buf_append(&d->answer, p, n)) {
    ss_error("out of memory collecting the answer: transfer failed");
    return SS_FAILED;
  }
  /* before judging: a whole answer over the limit in one piece too */
  if(d->answer.len > d->max_answer)
    return ds_give_up(x, d, "the answer is larger than max_answer");
  enum json_end_result e = json_end_feed(&d->end, p, n, &at);
  if(e == JSON_END_BAD)
    return ds_give_up(x, d, "the answer is not a JSON object");
  if(e == JSON_END_MORE)
    return SS_OK;
  if(!blank(p + at, n - at))
    return ds_give_up(x, d, "bytes follow the answer's JSON value");
  d->answer_len = d->answer.len - (n - at);
  return judge(x, d);
}

static enum ss_flow ds_header(struct ss_xfer *x, void *ctx, const char *p,
                              size_t n)
{
  struct destream *d = ctx;
  if(d->watch)
    return fb_header(x, d, p, n);
  int status = header_status(p, n);
  if(d->state != DS_WAIT) {
    /* Trailers: they follow whatever body the program gets. */
    buf_append(&d->trailers, p, n);
    return ds_pump(x, d);
  }
  if(status >= 0 && d->holding)
    ds_release_held(d);  /* a new block: the held one was not final */
  if(status >= 200 && status < 300 && d->state == DS_WAIT)
    d->holding = true;
  if(d->holding) {
    buf_append(&d->held, p, n);
    return d->held.oom ? ds_give_up(x, d, "out of memory") : SS_OK;
  }
  ds_queue_header(d, p, n);
  return ds_pump(x, d);
}

static enum ss_flow ds_body(struct ss_xfer *x, void *ctx, const char *p,
                            size_t n)
{
  struct destream *d = ctx;
  if(d->watch)
    return fb_body(x, d, p, n);
  switch(d->state) {
  case DS_WAIT:
    if(!d->holding) {
      d->state = DS_PASS;
      return xfer_pass_body(x, p, n);
    }
    d->state = DS_COLLECT;
    return collect(x, d, p, n);
  case DS_COLLECT:
    return collect(x, d, p, n);
  case DS_PASS:
    return xfer_pass_body(x, p, n);
  default:
    if(!blank(p, n))
      ss_warn("dropped %zu bytes after the replayed answer", n);
    return SS_OK;
  }
}

static enum ss_flow ds_resume(struct ss_xfer *x, void *ctx)
{
  return ds_pump(x, ctx);
}

static void ds_end(struct ss_xfer *x, void *ctx, CURLcode *result)
{
  struct destream *d = ctx;
  (void)result;
  if(d->watch)
    fb_end(x, d);
  else if(d->state == DS_COLLECT)
    ds_give_up(x, d, "the transfer ended before the answer was complete");
  else if(d->holding)
    ds_give_up(x, d, "the transfer ended without a body");
  else
    ds_pump(x, d);
}

static void ds_finish(struct ss_xfer *x, void *ctx)
{
  (void)x;
  destream_free(ctx);
}

const struct ss_stage destream_stage = {
  "destream", destream_start, ds_header, ds_body, ds_resume, ds_end,
  ds_finish
};
