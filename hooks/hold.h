/* hold.h - holding an answer back until a stage knows what it is.
 *
 * One mechanism for every stage that must see an answer before the
 * program does. Header lines are held; body bytes are collected (the
 * input); then what is held goes out
 * - unchanged (hold_release, hold_give_up: logged with why),
 * - not at all (hold_swallow: a refused attempt),
 * - as the header block alone, failed (hold_fail: FAILONERROR), or
 * - replaced by a transform's output (transform.h): the final header block
 *   rewritten for it, then each piece in a write-callback call of its
 *   own, paced.
 * What is queued for the program goes out through hold_pump, in arrival
 * order (header lines; then the body unchanged or the output; then the
 * trailers). It stops when the program pauses (SS_PAUSED; the piece was
 * taken): the stage's resume calls hold_pump again.
 *
 * A transforming stage forwards its callbacks to hold_header, hold_body,
 * hold_pump and hold_end: the final 2xx block is held, its body collected
 * until the transform's scan says the input is complete, then opened and
 * replaced; anything the transform cannot take exactly goes out
 * unchanged. A judging stage (fallback.c, no transform) holds and decides
 * with the parts below its own rules. */
#ifndef SS_HOLD_H
#define SS_HOLD_H

#include <stdbool.h>
#include <stddef.h>

#include "../shim/stage.h"
#include "pure/buf.h"
#include "transform.h"

enum hold_state {
  HOLD_WAIT = 0,  /* header lines so far; no body */
  HOLD_COLLECT,   /* collecting the input behind the held lines */
  HOLD_PASS,      /* the answer goes out unchanged */
  HOLD_OUTPUT,    /* the transform's output goes out */
  HOLD_DONE,      /* the output is complete; later bytes are dropped */
  HOLD_SWALLOW    /* nothing more of the attempt goes out */
};

/* Embedded in a stage's context; read state and holding, change nothing
 * but through the functions. */
struct hold {
  enum hold_state state;
  bool holding;             /* `held` waits for a decision */
  const struct ss_transform *t;  /* NULL: the stage judges the input */
  void *tctx;
  void *out;                /* the transform's output, once opened */
  size_t max_input;         /* more input than this goes out unchanged */
  unsigned pace_ms;         /* wait between two output pieces */
  struct buf held;          /* held header lines */
  size_t block_off;         /* where the last held block starts */
  struct buf queue;         /* header lines for the program */
  size_t queue_off;         /* the next of them */
  struct buf input;         /* the collected body */
  size_t input_len;         /* the input's length within it, once done */
  size_t raw_off;           /* next unchanged body byte to pass on */
  struct buf piece;         /* the output piece being sent */
  bool ready;               /* `piece` is produced, not yet sent */
  bool sent;                /* a piece went out (pace before the next) */
  struct buf trailers;      /* header lines after the body */
  size_t trl_off;
};

/* t and tctx: the transform and its state (NULL, NULL for a stage that
 * only holds); max_input: the most input collected; pace_ms: between
 * output pieces. */
void hold_init(struct hold *h, const struct ss_transform *t, void *tctx,
               size_t max_input, unsigned pace_ms);
/* Free what h holds (and close the transform's output). */
void hold_free(struct hold *h);

/* ---- A transforming stage's callbacks ---- */

/* A header line: the final 2xx block is held (a status line after it
 * releases it: it was not final), other blocks go out; after the body,
 * trailers follow whatever body the program gets. */
enum ss_flow hold_header(struct ss_xfer *x, struct hold *h, const char *p,
                         size_t n);
/* Body bytes: collected behind a held block, transformed once complete;
 * else passed on. */
enum ss_flow hold_body(struct ss_xfer *x, struct hold *h, const char *p,
                       size_t n);
/* The attempt ended with result: an input the end completes is
 * transformed, anything else held goes out unchanged. */
void hold_end(struct ss_xfer *x, struct hold *h, CURLcode result);

/* The same four as ss_stage callbacks, for a transforming stage whose
 * context starts with its struct hold (destream.c, stream_only.c). */
enum ss_flow hold_stage_header(struct ss_xfer *x, void *ctx, const char *p,
                               size_t n);
enum ss_flow hold_stage_body(struct ss_xfer *x, void *ctx, const char *p,
                             size_t n);
enum ss_flow hold_stage_resume(struct ss_xfer *x, void *ctx);
void hold_stage_end(struct ss_xfer *x, void *ctx, CURLcode *result);

/* ---- The parts ---- */

/* Send what is queued (the resume callback). */
enum ss_flow hold_pump(struct ss_xfer *x, struct hold *h);
/* After bytes p that could not be queued (out of memory) and a pump of
 * what was before them that returned r: on SS_OK p goes out now (header
 * or body); when the program paused, p cannot wait anywhere and the
 * transfer fails; a failure stays one. */
enum ss_flow hold_after_pump(struct ss_xfer *x, enum ss_flow r, bool header,
                             const char *p, size_t n);
/* Hold a header line (a status line starts a block). False when memory
 * ran out. */
bool hold_keep(struct hold *h, const char *p, size_t n);
/* The value of field name in the last held block, or NULL (*len: its
 * length, as headers_field). */
const char *hold_field(const struct hold *h, const char *name, size_t *len);
/* hold_keep could not keep the line [p, p+n): what is held goes out
 * unchanged (hold_give_up), then that line. */
enum ss_flow hold_give_up_line(struct ss_xfer *x, struct hold *h,
                               const char *p, size_t n);
/* The held lines go out as they came (queued: hold_pump sends them). */
void hold_release(struct hold *h);
/* A header line not held: out after what is queued before it, or after
 * the body once it started. */
enum ss_flow hold_pass_header(struct ss_xfer *x, struct hold *h,
                              const char *p, size_t n);
/* Body bytes for the program: the held lines go out, then these bytes;
 * from now on the answer passes through. */
enum ss_flow hold_pass_body(struct ss_xfer *x, struct hold *h,
                            const char *p, size_t n);
/* Collect body bytes into the input (state HOLD_COLLECT). False when
 * memory ran out (they are lost). */
bool hold_collect(struct hold *h, const char *p, size_t n);
/* The input collected so far. */
const char *hold_input(const struct hold *h, size_t *n);
/* Stop trying: the held lines and the input go out unchanged (logged
 * with why), and the rest passes through. */
enum ss_flow hold_give_up(struct ss_xfer *x, struct hold *h,
                          const char *why);
/* Nothing held and nothing more of this attempt reaches the program. */
void hold_swallow(struct hold *h);
/* FAILONERROR as libcurl does it: the held lines go out, no body, and the
 * transfer fails for status (xfer_fail_status). */
enum ss_flow hold_fail(struct ss_xfer *x, struct hold *h, int status);

#endif
