/* sse_chat.h - replay a chat.completion answer as chat.completion.chunk
 * Server-Sent Events, as the streaming Chat Completions API sends them.
 *
 * Pure: bytes in, bytes out. Events are produced one at a time on demand
 * (the caller delivers each in its own write-callback call), so output is
 * bounded by one event, not by the answer. Strings and numbers are copied
 * from the answer's own bytes. */
#ifndef SS_SSE_CHAT_H
#define SS_SSE_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "../shim/buf.h"
#include "replay.h"

struct sse_chat;

/* Check that answer [p, p+n) is a chat.completion this encoder replays
 * exactly; NULL with *why set (a static string) when it is not, or when
 * memory runs out. The answer bytes must outlive the encoder. */
struct sse_chat *sse_chat_open(const char *p, size_t n,
                               const struct replay_opts *o, const char **why);

/* Append the next whole event ("data: ...\n\n") to out.
 * Returns 1 when an event was appended, 0 when the stream is complete
 * (after "data: [DONE]\n\n"), -1 when memory ran out. */
int sse_chat_next(struct sse_chat *e, struct buf *out);

void sse_chat_close(struct sse_chat *e);

#endif
