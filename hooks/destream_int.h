/* destream_int.h - internals shared by the de-stream stage's files. */
#ifndef SS_DESTREAM_INT_H
#define SS_DESTREAM_INT_H

#include <stdbool.h>

#include "../shim/buf.h"
#include "../shim/config.h"
#include "../shim/xfer.h"
#include "destream.h"
#include "json.h"
#include "replay.h"

enum ds_state {
  DS_WAIT = 0,  /* headers so far; no body */
  DS_COLLECT,   /* collecting the answer behind a held 2xx block */
  DS_PASS,      /* the answer goes out unchanged */
  DS_REPLAY,    /* replaying events */
  DS_DONE       /* replay complete; later bytes are dropped */
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
};

struct destream *destream_new(const struct ss_config *c, bool include_usage,
                              const struct replay_encoder *encoder);
void destream_free(struct destream *d);
void *destream_start(struct ss_xfer *x);

#endif
