/* hold.c - holding an answer back, then releasing, swallowing or
 * transforming it (see hold.h). */
#include "hold.h"

#include <string.h>
#include <strings.h>

#include "../shim/log.h"
#include "pure/headers.h"

void hold_init(struct hold *h, const struct ss_transform *t, void *tctx,
               size_t max_input, unsigned pace_ms)
{
  memset(h, 0, sizeof(*h));
  h->t = t;
  h->tctx = tctx;
  h->max_input = max_input;
  h->pace_ms = pace_ms;
  buf_init(&h->held);
  buf_init(&h->queue);
  buf_init(&h->input);
  buf_init(&h->piece);
  buf_init(&h->trailers);
}

void hold_free(struct hold *h)
{
  if(h->out)
    h->t->close(h->out);
  h->out = NULL;
  buf_free(&h->held);
  buf_free(&h->queue);
  buf_free(&h->input);
  buf_free(&h->piece);
  buf_free(&h->trailers);
}

/* Are all bytes of [p, p+n) whitespace? */
static bool blank(const char *p, size_t n)
{
  for(size_t i = 0; i < n; i++)
    if(p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
      return false;
  return true;
}

/* Pass the lines of b from *off on as header lines. */
static enum ss_flow emit_lines(struct ss_xfer *x, const struct buf *b,
                               size_t *off)
{
  enum ss_flow r = SS_OK;
  while(r == SS_OK && *off < b->len) {
    const char *p = b->ptr + *off;
    size_t n = header_line_len(p, b->len - *off);
    *off += n;
    r = xfer_pass_header(x, p, n);
  }
  return r;
}

/* The transform's pieces, each in a call of its own, paced. */
static enum ss_flow emit_output(struct ss_xfer *x, struct hold *h)
{
  enum ss_flow r = SS_OK;
  while(r == SS_OK && h->state == HOLD_OUTPUT) {
    if(!h->ready) {  /* the next piece; the pace comes before it */
      buf_reset(&h->piece);
      int k = h->t->next(h->out, &h->piece);
      if(k == 0) {  /* what the replay read is no longer needed */
        h->state = HOLD_DONE;
        h->t->close(h->out);
        h->out = NULL;
        buf_free(&h->input);
        buf_free(&h->piece);
        break;
      }
      if(k < 0) {
        ss_error("out of memory while replaying: transfer failed");
        return SS_FAILED;
      }
      h->ready = true;
      if(h->sent && (r = xfer_pace(x, h->pace_ms)) != SS_OK)
        break;  /* paused: the piece goes out on resume */
    }
    h->ready = false;
    h->sent = true;
    r = xfer_pass_body(x, h->piece.ptr, h->piece.len);
  }
  return r;
}

/* Offsets advance before each hand-over: a piece refused by a pause was
 * taken (the client keeps it). */
enum ss_flow hold_pump(struct ss_xfer *x, struct hold *h)
{
  if(h->queue.oom || h->trailers.oom) {  /* header lines were lost */
    ss_error("out of memory holding header lines: transfer failed");
    return SS_FAILED;
  }
  enum ss_flow r = emit_lines(x, &h->queue, &h->queue_off);
  if(h->queue_off == h->queue.len) {
    buf_reset(&h->queue);
    h->queue_off = 0;
  }
  while(r == SS_OK && h->state == HOLD_PASS && h->raw_off < h->input.len) {
    size_t n = h->input.len - h->raw_off;
    if(n > CURL_MAX_WRITE_SIZE)
      n = CURL_MAX_WRITE_SIZE;
    h->raw_off += n;
    r = xfer_pass_body(x, h->input.ptr + h->raw_off - n, n);
  }
  if(r == SS_OK)
    r = emit_output(x, h);
  bool body_out = h->state == HOLD_DONE ||
                  (h->state == HOLD_PASS && h->raw_off == h->input.len);
  if(r == SS_OK && body_out)
    r = emit_lines(x, &h->trailers, &h->trl_off);
  return r;
}

/* Room for a usual header block at the first line held: one allocation,
 * not a doubling per line or two. */
#define HOLD_FIRST_ROOM 1024

bool hold_keep(struct hold *h, const char *p, size_t n)
{
  if(header_status(p, n) >= 0)
    h->block_off = h->held.len;
  h->holding = true;
  if(!h->held.cap && n < HOLD_FIRST_ROOM)
    buf_reserve(&h->held, HOLD_FIRST_ROOM - 1);  /* and buf's NUL */
  if(buf_append(&h->held, p, n))
    return true;
  h->held.oom = false;  /* the lines before it are whole: they can go out */
  return false;
}

const char *hold_field(const struct hold *h, const char *name, size_t *len)
{
  if(h->block_off >= h->held.len)
    return NULL;
  return headers_field(h->held.ptr + h->block_off,
                       h->held.len - h->block_off, name, len);
}

void hold_release(struct hold *h)
{
  if(!h->queue.len && !h->queue_off) {  /* the usual case: the held lines
                                           become the queue, no copy */
    struct buf empty = h->queue;
    h->queue = h->held;
    h->held = empty;
  }
  else  /* a failure sets queue.oom: hold_pump then fails the transfer */
    buf_append(&h->queue, h->held.ptr, h->held.len);
  buf_reset(&h->held);
  h->block_off = 0;
  h->holding = false;
}

enum ss_flow hold_after_pump(struct ss_xfer *x, enum ss_flow r, bool header,
                             const char *p, size_t n)
{
  if(r == SS_PAUSED)  /* p cannot wait for the resume anywhere */
    return xfer_fail(x, CURLE_OUT_OF_MEMORY,
                     "out of memory keeping bytes while the program paused");
  if(r != SS_OK)
    return r;
  return header ? xfer_pass_header(x, p, n) : xfer_pass_body(x, p, n);
}

enum ss_flow hold_pass_header(struct ss_xfer *x, struct hold *h,
                              const char *p, size_t n)
{
  if(h->state == HOLD_WAIT && !buf_append(&h->queue, p, n)) {
    h->queue.oom = false;  /* p goes out after what is queued */
    return hold_after_pump(x, hold_pump(x, h), true, p, n);
  }
  if(h->state != HOLD_WAIT)
    buf_append(&h->trailers, p, n);
  return hold_pump(x, h);
}

enum ss_flow hold_pass_body(struct ss_xfer *x, struct hold *h,
                            const char *p, size_t n)
{
  if(h->holding)
    hold_release(h);
  h->state = HOLD_PASS;
  if(!h->queue.len && h->raw_off == h->input.len)
    return xfer_pass_body(x, p, n);  /* nothing before them */
  if(!buf_append(&h->input, p, n))  /* pass on after what is queued */
    return hold_after_pump(x, hold_pump(x, h), false, p, n);
  return hold_pump(x, h);
}

bool hold_collect(struct hold *h, const char *p, size_t n)
{
  h->state = HOLD_COLLECT;
  return buf_append(&h->input, p, n);
}

const char *hold_input(const struct hold *h, size_t *n)
{
  *n = h->input.len;
  return h->input.ptr;
}

enum ss_flow hold_give_up(struct ss_xfer *x, struct hold *h, const char *why)
{
  ss_info("answer passed through unchanged: %s", why);
  if(h->t)  /* a transform was meant to replace it (fallback notes its own) */
    xfer_note(x, "passed-unchanged", why);
  if(xfer_shim_decodes(x) &&
     headers_has(h->held.ptr, h->held.len, "Content-Encoding")) {
    /* The shim made libcurl decode: the fields no longer hold. */
    struct buf plain;
    buf_init(&plain);
    if(headers_drop_encoding(h->held.ptr, h->held.len, &plain)) {
      buf_free(&h->held);
      h->held = plain;
    }
    else
      buf_free(&plain);
  }
  hold_release(h);
  h->state = HOLD_PASS;
  h->raw_off = 0;
  return hold_pump(x, h);
}

enum ss_flow hold_give_up_line(struct ss_xfer *x, struct hold *h,
                               const char *p, size_t n)
{
  enum ss_flow r = hold_give_up(x, h, "out of memory");
  return r != SS_OK || h->state == HOLD_PASS ? hold_after_pump(x, r, true, p, n)
                                             : r;
}

void hold_swallow(struct hold *h)
{
  buf_reset(&h->held);
  buf_reset(&h->queue);
  buf_reset(&h->input);
  h->queue_off = h->raw_off = 0;
  h->holding = false;
  h->state = HOLD_SWALLOW;
}

enum ss_flow hold_fail(struct ss_xfer *x, struct hold *h, int status)
{
  hold_release(h);
  h->state = HOLD_SWALLOW;
  hold_pump(x, h);  /* the header block, as libcurl delivers it */
  return xfer_fail_status(x, status);
}

/* The input is complete: out goes the transform's output, or, when it
 * cannot take the input, the answer unchanged. An output that stands for
 * an error fails the transfer when the program asks FAILONERROR. */
static enum ss_flow transform(struct ss_xfer *x, struct hold *h)
{
  const char *why = NULL;
  struct buf rewritten;
  h->out = h->t->open(h->tctx, h->input.ptr, h->input_len, &why);
  if(!h->out)
    return hold_give_up(x, h, why ? why : "out of memory");
  buf_init(&rewritten);
  if(!h->t->rewrite_headers(h->out, h->held.ptr, h->held.len, &rewritten)) {
    buf_free(&rewritten);
    return hold_give_up(x, h, "out of memory");
  }
  buf_free(&h->held);
  h->held = rewritten;
  xfer_answer_replaced(x);
  int status = h->t->status ? h->t->status(h->out) : 0;
  if(status >= 400 && xfer_fails_on_status(x, status)) {
    ss_info("the stream carried an error (%d): failing as "
            "CURLOPT_FAILONERROR asks", status);
    return hold_fail(x, h, status);
  }
  hold_release(h);
  h->state = HOLD_OUTPUT;
  return hold_pump(x, h);
}

/* Before the first input byte: room for the whole body its Content-Length
 * announces, at once (collecting by doubling would hold up to twice the
 * answer). Not for an encoded body (libcurl may decode it to more bytes)
 * nor beyond max_input; a reservation that fails only costs the speed. */
static void reserve_input(struct hold *h)
{
  size_t n, len = 0, i;
  const char *v = hold_field(h, "Content-Length", &n);
  if(!v || hold_field(h, "Content-Encoding", &i) || !n || n > 19)
    return;
  for(i = 0; i < n; i++) {
    if(v[i] < '0' || v[i] > '9')
      return;
    len = len * 10 + (size_t)(v[i] - '0');
  }
  if(len && len <= h->max_input && !buf_reserve(&h->input, len))
    buf_reset(&h->input);
}

/* Add input bytes; transform once the scan says the input is complete. */
static enum ss_flow collect(struct ss_xfer *x, struct hold *h, const char *p,
                            size_t n)
{
  size_t at = 0;
  const char *why = NULL;
  if(!hold_collect(h, p, n)) {
    ss_error("out of memory collecting the answer: transfer failed");
    return SS_FAILED;
  }
  /* before scanning: a whole input over the limit in one piece too */
  if(h->input.len > h->max_input)
    return hold_give_up(x, h, "the answer is larger than max_answer");
  enum tf_scan s = h->t->scan(h->tctx, p, n, &at, &why);
  if(s == TF_BAD)
    return hold_give_up(x, h, why);
  if(s == TF_MORE)
    return SS_OK;
  h->input_len = h->input.len - (n - at);
  return transform(x, h);
}

enum ss_flow hold_header(struct ss_xfer *x, struct hold *h, const char *p,
                         size_t n)
{
  if(h->state != HOLD_WAIT)
    return hold_pass_header(x, h, p, n);
  int status = header_status(p, n);
  if(status >= 0 && h->holding)
    hold_release(h);  /* a new block: the held one was not final */
  if(h->holding || (status >= 200 && status < 300))
    return hold_keep(h, p, n) ? SS_OK : hold_give_up_line(x, h, p, n);
  return hold_pass_header(x, h, p, n);
}

/* Has the held block the content type the transform takes? */
static bool input_type_ok(const struct hold *h)
{
  size_t n, want = h->t && h->t->input_type ? strlen(h->t->input_type) : 0;
  if(!want)
    return true;
  const char *v = hold_field(h, "Content-Type", &n);
  return v && n >= want && !strncasecmp(v, h->t->input_type, want);
}

enum ss_flow hold_body(struct ss_xfer *x, struct hold *h, const char *p,
                       size_t n)
{
  switch(h->state) {
  case HOLD_WAIT:
    if(!h->holding)
      return hold_pass_body(x, h, p, n);
    if(!input_type_ok(h)) {  /* these bytes go out behind the held lines */
      if(!hold_collect(h, p, n)) {
        ss_error("out of memory holding the answer: transfer failed");
        return SS_FAILED;
      }
      return hold_give_up(x, h, h->t->other_type);
    }
    reserve_input(h);
    return collect(x, h, p, n);
  case HOLD_COLLECT:
    return collect(x, h, p, n);
  case HOLD_PASS:
    return hold_pass_body(x, h, p, n);
  case HOLD_SWALLOW:
    return SS_OK;
  default:
    if(!blank(p, n))
      ss_warn("dropped %zu bytes after the replayed answer", n);
    return SS_OK;
  }
}

void hold_end(struct ss_xfer *x, struct hold *h, CURLcode result)
{
  if(h->state == HOLD_COLLECT) {
    if(h->t->ends_with_transfer && result == CURLE_OK) {
      h->input_len = h->input.len;
      transform(x, h);
    }
    else
      hold_give_up(x, h, "the transfer ended before the answer was complete");
  }
  else if(h->holding)
    hold_give_up(x, h, "the transfer ended without a body");
  else
    hold_pump(x, h);
}

/* ---- the callbacks of a stage whose context starts with its hold ---- */

enum ss_flow hold_stage_header(struct ss_xfer *x, void *ctx, const char *p,
                               size_t n)
{
  return hold_header(x, ctx, p, n);
}

enum ss_flow hold_stage_body(struct ss_xfer *x, void *ctx, const char *p,
                             size_t n)
{
  return hold_body(x, ctx, p, n);
}

enum ss_flow hold_stage_resume(struct ss_xfer *x, void *ctx)
{
  return hold_pump(x, ctx);
}

void hold_stage_end(struct ss_xfer *x, void *ctx, CURLcode *result)
{
  hold_end(x, ctx, *result);
}
