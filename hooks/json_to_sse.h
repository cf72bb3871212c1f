/* json_to_sse.h - the de-streaming transform (transform.h): a complete
 * non-streamed JSON answer in, the endpoint's Server-Sent Events out,
 * one event per piece, by the answer's SSE encoder (pure/replay.h). The
 * input is complete when its top-level JSON value closes (json_end). */
#ifndef SS_JSON_TO_SSE_H
#define SS_JSON_TO_SSE_H

#include "pure/json.h"
#include "pure/replay.h"
#include "transform.h"

/* The content type of a replayed answer, as the streaming APIs send it. */
#define JSON_TO_SSE_CONTENT_TYPE "text/event-stream; charset=utf-8"

/* The transform's state for one transfer (the ctx of its functions). */
struct json_to_sse {
  const struct replay_encoder *encoder;  /* for the endpoint's answers */
  struct replay_opts opts;
  struct json_end end;                   /* where the answer closes */
  void *enc;                             /* the encoder, once opened */
};

void json_to_sse_init(struct json_to_sse *j,
                      const struct replay_encoder *encoder,
                      size_t piece_chars, bool include_usage);

extern const struct ss_transform json_to_sse;

#endif
