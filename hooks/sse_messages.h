/* sse_messages.h - replay an Anthropic Messages answer ("type":"message",
 * POST /v1/messages) as the message_start ... message_stop event stream
 * the API sends with "stream": true (specs/sse-formats.md section 5).
 *
 * Pure: bytes in, bytes out. Events are produced one at a time on demand
 * (the caller delivers each in its own write-callback call), so output is
 * bounded by one event, not by the answer. Strings and numbers are copied
 * from the answer's own bytes. */
#ifndef SS_SSE_MESSAGES_H
#define SS_SSE_MESSAGES_H

#include "../shim/buf.h"
#include "replay.h"

struct sse_messages;

/* Check that answer [p, p+n) is a message this encoder replays exactly;
 * NULL with *why set (a static string) when it is not, or when memory
 * runs out. The answer bytes must outlive the encoder. */
struct sse_messages *sse_messages_open(const char *p, size_t n,
                                       const struct replay_opts *o,
                                       const char **why);

/* Append the next whole event ("event: T\ndata: {...}\n\n") to out.
 * Returns 1 when an event was appended, 0 when the stream is complete
 * (after message_stop), -1 when memory ran out (the same event comes
 * again on the next call). */
int sse_messages_next(struct sse_messages *e, struct buf *out);

void sse_messages_close(struct sse_messages *e);

#endif
