/* replay.h - which SSE encoder replays the answers of which endpoint.
 *
 * The encoders export their own tables (sse_chat_encoder and the others,
 * interface in sse_encoder.h); this is only the mapping. */
#ifndef SS_REPLAY_H
#define SS_REPLAY_H

#include "endpoint.h"
#include "sse_encoder.h"

/* The encoder for answers of an endpoint, or NULL when this build cannot
 * replay it. */
const struct replay_encoder *replay_encoder_for(enum ep_kind kind);

#endif
