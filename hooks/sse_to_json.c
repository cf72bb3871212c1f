/* sse_to_json.c - the joining transform (see sse_to_json.h). */
#include "sse_to_json.h"

#include <curl/curl.h>

#include "../shim/log.h"
#include "pure/headers.h"

void sse_to_json_init(struct sse_to_json *s, const struct assembler *a,
                      size_t max_event)
{
  s->a = a;
  s->st = a->open();
  sse_read_init(&s->reader, max_event);
  s->last = ASM_MORE;
  s->why = NULL;
  s->events = 0;
  buf_init(&s->out);
  s->out_off = 0;
  s->status = 0;
}

void sse_to_json_free(struct sse_to_json *s)
{
  if(s->st)
    s->a->close(s->st);
  s->st = NULL;
  sse_read_free(&s->reader);
  buf_free(&s->out);
}

/* One event from the reader: joined; false stops the reading at the end
 * of the stream (a terminal event) or at what cannot be joined. */
static bool take_event(void *arg, const struct sse_event *ev)
{
  struct sse_to_json *s = arg;
  s->last = s->a->event(s->st, ev, &s->why);
  s->events++;
  if(s->last == ASM_OOM)
    s->why = "out of memory joining the stream";
  return s->last == ASM_MORE;
}

static enum tf_scan scan_stream(void *ctx, const char *p, size_t n,
                                size_t *at, const char **why)
{
  struct sse_to_json *s = ctx;
  size_t used = 0;
  if(!s->st) {
    *why = "out of memory";
    return TF_BAD;
  }
  int r = sse_read_feed(&s->reader, p, n, take_event, s, &used);
  if(r == SSE_READ_TOO_BIG || r == SSE_READ_OOM) {
    *why = r == SSE_READ_OOM ? "out of memory" : "an event is too large";
    return TF_BAD;
  }
  if(r == SSE_READ_OK)
    return TF_MORE;
  if(s->last == ASM_END || s->last == ASM_ERROR) {
    *at = used;
    return TF_DONE;
  }
  *why = s->why ? s->why : "the stream cannot be joined";
  return TF_BAD;
}

/* The state is the context itself: the answer is built here, at once. */
static void *open_answer(void *ctx, const char *p, size_t n, const char **why)
{
  struct sse_to_json *s = ctx;
  (void)p;
  bool eof = s->last == ASM_MORE;  /* no terminal event: the transfer ended */
  if(eof && sse_read_pending(&s->reader)) {
    /* the last event without its blank line: taken if it is whole */
    int r = sse_read_end(&s->reader, take_event, s);
    if(r == SSE_READ_TOO_BIG || r == SSE_READ_OOM || s->last == ASM_BAD ||
       s->last == ASM_OOM) {
      *why = s->last == ASM_BAD && s->why ? s->why
                                          : "the stream ended inside an event";
      return NULL;
    }
    eof = s->last == ASM_MORE;
  }
  int status = s->a->finish(s->st, eof, &s->out, why);
  if(status <= 0) {
    if(status < 0)
      *why = NULL;  /* out of memory */
    return NULL;
  }
  s->status = status;
  if(status == 200)
    ss_info("joined %zu events (%zu bytes) into a %zu-byte %s answer",
            s->events, n, s->out.len, s->a->name);
  else
    ss_info("the stream carried an error: answering %d with its %zu-byte "
            "error body, as without streaming", status, s->out.len);
  return s;
}

static int next_piece(void *state, struct buf *out)
{
  struct sse_to_json *s = state;
  size_t left = s->out.len - s->out_off;
  if(!left)
    return 0;
  if(left > CURL_MAX_WRITE_SIZE)
    left = CURL_MAX_WRITE_SIZE;
  if(!buf_append(out, s->out.ptr + s->out_off, left))
    return -1;
  s->out_off += left;
  return 1;
}

static void close_answer(void *state)
{
  (void)state;  /* the stage frees the context (sse_to_json_free) */
}

static bool rewrite_for_json(void *state, const char *block, size_t n,
                             struct buf *out)
{
  struct sse_to_json *s = state;
  return headers_rewrite_for_json(block, n, s->status, s->out.len, out);
}

static int answer_status(void *state)
{
  const struct sse_to_json *s = state;
  return s->status;
}

const struct ss_transform sse_to_json = {
  .scan = scan_stream,
  .input_type = "text/event-stream",
  .other_type = "the answer is not an event stream",
  .ends_with_transfer = true,  /* the assembler says if what came is whole */
  .open = open_answer,
  .next = next_piece,
  .close = close_answer,
  .rewrite_headers = rewrite_for_json,
  .status = answer_status
};
