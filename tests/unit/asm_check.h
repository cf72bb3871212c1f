/* asm_check.h - for the unit tests of the assemblers that take the SSE
 * reader's events (test_assemble_chat.c, test_assemble_completions.c): a
 * stream fed through the SSE reader (whole or in pieces) into an
 * assembler, and an answer replayed by an encoder into one stream. The
 * fixtures and the JSON comparison are fixture_json.h's. Include after
 * check.h. */
#ifndef SS_ASM_CHECK_H
#define SS_ASM_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "assemble.h"
#include "check.h"
#include "fixture_json.h"
#include "sse_encoder.h"
#include "sse_read.h"

/* ---- a stream through the reader into an assembler ---- */

struct asm_feed {
  const struct assembler *a;
  void *st;
  enum asm_result last;   /* the last event's result */
  const char *why;
  long events;
};

/* sse_read's callback: hand the event on; stop once the stream ended. */
static inline bool asm_feed_event(void *arg, const struct sse_event *ev)
{
  struct asm_feed *f = arg;
  f->events++;
  f->last = f->a->event(f->st, ev, &f->why);
  return f->last == ASM_MORE;
}

/* The result of a stream through a and finish: status, the answer in
 * out, *why. */
struct asm_outcome {
  int status;
  enum asm_result last;
  const char *why;
  bool pending;           /* the reader held an unfinished event */
};

/* Feed [s, s+n) in pieces of step bytes (0: whole) through a new reader
 * and state of a, then finish(eof) into out. */
static inline struct asm_outcome asm_run(const struct assembler *a,
                                         const char *s, size_t n,
                                         size_t step, bool eof,
                                         struct buf *out)
{
  struct asm_outcome o = {0, ASM_MORE, NULL, false};
  struct asm_feed f = {a, a->open(), ASM_MORE, NULL, 0};
  struct sse_reader r;
  size_t used;
  sse_read_init(&r, 0);
  if(!step)
    step = n ? n : 1;
  for(size_t i = 0; i < n && f.last == ASM_MORE; i += step) {
    size_t len = n - i < step ? n - i : step;
    int rc = sse_read_feed(&r, s + i, len, asm_feed_event, &f, &used);
    CHECK(rc == SSE_READ_OK || rc == SSE_READ_STOPPED);
  }
  o.pending = sse_read_pending(&r);
  o.last = f.last;
  o.why = f.why;
  o.status = a->finish(f.st, eof, out, &o.why);
  a->close(f.st);
  sse_read_free(&r);
  return o;
}

/* ---- an answer replayed by an encoder ---- */

/* The stream enc makes of answer [p, p+n) with o, into out; false when
 * the encoder refuses the answer (*why). */
static inline bool asm_encode(const struct replay_encoder *enc,
                              const char *p, size_t n,
                              const struct replay_opts *o, struct buf *out,
                              const char **why)
{
  struct buf ev;
  int r;
  void *e = enc->open(p, n, o, why);
  if(!e)
    return false;
  buf_init(&ev);
  while((r = enc->next(e, &ev)) == 1) {
    buf_append(out, ev.ptr, ev.len);
    buf_reset(&ev);
  }
  CHECK(r == 0);
  enc->close(e);
  buf_free(&ev);
  return true;
}

#endif
