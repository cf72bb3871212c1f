/* sse_responses.h - replay a Responses API answer ("object":"response";
 * POST /v1/responses, Azure /openai/responses and /openai/v1/responses)
 * as the response.* Server-Sent Events stream that "stream": true sends
 * (README, "The streams replayed").
 *
 * Pure: bytes in, bytes out. Events are produced one at a time on demand
 * (the caller delivers each in its own write-callback call); strings and
 * numbers are copied from the answer's own bytes. */
#ifndef SS_SSE_RESPONSES_H
#define SS_SSE_RESPONSES_H

#include "sse_encoder.h"

/* open: NULL unless answer [p, p+n) is a response this encoder replays
 * exactly. next: the next whole event ("event: T\ndata: {...}\n\n");
 * 0 after the terminal response.completed / .incomplete / .failed. */
extern const struct replay_encoder sse_responses_encoder;

#endif
