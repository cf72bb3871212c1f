/* sse_responses.h - replay a Responses API answer ("object":"response";
 * POST /v1/responses, Azure /openai/responses and /openai/v1/responses)
 * as the response.* Server-Sent Events stream that "stream": true sends
 * (specs/sse-formats.md section 4).
 *
 * Pure: bytes in, bytes out. Events are produced one at a time on demand
 * (the caller delivers each in its own write-callback call); strings and
 * numbers are copied from the answer's own bytes. */
#ifndef SS_SSE_RESPONSES_H
#define SS_SSE_RESPONSES_H

#include "../shim/buf.h"
#include "replay.h"

struct sse_responses;

/* Check that answer [p, p+n) is a response this encoder replays exactly;
 * NULL with *why set (a static string) when it is not, or when memory
 * runs out. The answer bytes must outlive the encoder. */
struct sse_responses *sse_responses_open(const char *p, size_t n,
                                         const struct replay_opts *o,
                                         const char **why);

/* Append the next whole event ("event: T\ndata: {...}\n\n") to out.
 * Returns 1 when an event was appended, 0 when the stream is complete
 * (after the terminal response.completed / .incomplete / .failed), -1
 * when memory ran out (out is left as it was; the next call after
 * buf_reset() produces the same event). */
int sse_responses_next(struct sse_responses *e, struct buf *out);

void sse_responses_close(struct sse_responses *e);

#endif
