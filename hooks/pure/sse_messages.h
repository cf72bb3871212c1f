/* sse_messages.h - replay an Anthropic Messages answer ("type":"message",
 * POST /v1/messages) as the message_start ... message_stop event stream
 * the API sends with "stream": true (README, "The streams replayed").
 *
 * Pure: bytes in, bytes out. Events are produced one at a time on demand
 * (the caller delivers each in its own write-callback call), so output is
 * bounded by one event, not by the answer. Strings and numbers are copied
 * from the answer's own bytes. */
#ifndef SS_SSE_MESSAGES_H
#define SS_SSE_MESSAGES_H

#include "sse_encoder.h"

/* open: NULL unless answer [p, p+n) is a message this encoder replays
 * exactly. next: the next whole event ("event: T\ndata: {...}\n\n");
 * 0 after message_stop. */
extern const struct replay_encoder sse_messages_encoder;

#endif
