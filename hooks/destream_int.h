/* destream_int.h - internals shared by the de-stream stage's files. */
#ifndef SS_DESTREAM_INT_H
#define SS_DESTREAM_INT_H

#include <stdbool.h>

#include "pure/buf.h"
#include "pure/config.h"
#include "learned.h"
#include "../shim/stage.h"
#include "destream.h"
#include "pure/json.h"
#include "pure/replay.h"

enum ds_state {
  DS_WAIT = 0,  /* headers so far; no body */
  DS_COLLECT,   /* collecting the answer behind a held block */
  DS_PASS,      /* the answer goes out unchanged */
  DS_REPLAY,    /* replaying events */
  DS_DONE,      /* replay complete; later bytes are dropped */
  DS_SWALLOW    /* watching: a refused attempt; nothing more goes out */
};

struct destream {
  enum ds_state state;
  struct replay_opts opts;
  const struct replay_encoder *encoder;  /* for the endpoint's answers */
  size_t max_answer;
  bool holding;          /* `held` is a 2xx block not yet judged */
  struct buf held;       /* its lines */
  struct buf hdr;        /* header lines queued for the program */
  size_t hdr_off;        /* next of them */
  struct buf answer;     /* the collected body */
  size_t answer_len;     /* the JSON value's length within it */
  size_t raw_off;        /* next unchanged answer byte to pass on */
  struct json_end end;
  void *enc;
  struct buf event;      /* the event being produced */
  struct buf trailers;   /* trailer lines, sent after the body */
  size_t trl_off;
  unsigned pace_ms;      /* wait between replayed events */
  bool ready;            /* `event` holds the next event, not yet sent */
  bool sent;             /* an event went out (pace before the next) */
  /* Watching (auto mode): the request went out streaming; an error answer
   * is held and judged (fallback.c). */
  bool watch;
  int status;            /* the status of the last block */
  bool candidate;        /* it could be a refusal: its body is judged */
  size_t block_off;      /* where that block starts in `held` */
  char host[256], model[256], fp[LEARNED_FP_LEN + 1];  /* what to learn */
};

struct destream *destream_new(const struct ss_config *c, bool include_usage,
                              const struct replay_encoder *encoder);
void destream_free(struct destream *d);
void *destream_start(struct ss_xfer *x);

/* destream.c: send what is queued (header lines, then the unchanged answer
 * or the replay's events, then trailers); queue header lines; release the
 * held block unchanged; stop trying (held block and answer go out
 * unchanged, logged with why). */
enum ss_flow ds_pump(struct ss_xfer *x, struct destream *d);
void ds_queue_header(struct destream *d, const char *p, size_t n);
void ds_release_held(struct destream *d);
enum ss_flow ds_give_up(struct ss_xfer *x, struct destream *d,
                        const char *why);

/* fallback.c: the response side while watching for a refusal. */
enum ss_flow fb_header(struct ss_xfer *x, struct destream *d, const char *p,
                       size_t n);
enum ss_flow fb_body(struct ss_xfer *x, struct destream *d, const char *p,
                     size_t n);
void fb_end(struct ss_xfer *x, struct destream *d);

#endif
