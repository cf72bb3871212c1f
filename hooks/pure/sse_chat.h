/* sse_chat.h - replay a chat.completion answer as chat.completion.chunk
 * Server-Sent Events, as the streaming Chat Completions API sends them.
 *
 * Pure: bytes in, bytes out. Events are produced one at a time on demand
 * (the caller delivers each in its own write-callback call), so output is
 * bounded by one event, not by the answer. Strings and numbers are copied
 * from the answer's own bytes. */
#ifndef SS_SSE_CHAT_H
#define SS_SSE_CHAT_H

#include "sse_encoder.h"

/* open: NULL unless answer [p, p+n) is a chat.completion this encoder
 * replays exactly. next: the next whole event ("data: ...\n\n"); 0
 * after "data: [DONE]\n\n". */
extern const struct replay_encoder sse_chat_encoder;

#endif
