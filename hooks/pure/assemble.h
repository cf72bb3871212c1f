/* assemble.h - joining a streamed answer's events into the one JSON answer
 * the API returns without streaming. Pure: events in, bytes out, no
 * libcurl. One assembler per API shape exports a table; the reverse of
 * the SSE encoders (sse_encoder.h).
 *
 * Every string and number of the answer is copied from the events' own
 * bytes: text pieces are joined by concatenating the bytes between their
 * quotes (escapes as the server wrote them; pieces json_parse() accepted
 * join into a valid string), numbers and whole values (usage, logprobs,
 * filter results, a terminal response object) are copied as they came.
 * A member is in the answer when the stream carried it. The rules of
 * each shape are those of the official SDKs' accumulators
 * (ChatCompletionStream.finalChatCompletion(), ResponseStream's final
 * response, MessageStream.finalMessage()), except where the SDK loses
 * what the non-streamed answer has (each file says where). */
#ifndef SS_ASSEMBLE_H
#define SS_ASSEMBLE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "endpoint.h"
#include "sse_read.h"

enum asm_result {
  ASM_MORE = 0,    /* the stream goes on */
  ASM_END = 1,     /* the stream's terminal event ([DONE], message_stop,
                      response.completed, ...): the answer is complete */
  ASM_ERROR = 2,   /* an error event: the answer is that error */
  ASM_BAD = -1,    /* not a stream this assembler can join exactly: *why */
  ASM_OOM = -2
};

struct assembler {
  const char *name;   /* the answer's shape, for logs */
  /* A new, empty state; NULL when memory runs out. */
  void *(*open)(void);
  /* Take one event (copying what it keeps: ev's bytes do not outlive the
   * call). After ASM_END, ASM_ERROR or ASM_BAD no more events come. */
  enum asm_result (*event)(void *st, const struct sse_event *ev,
                           const char **why);
  /* The answer, once the stream ended (after ASM_END or ASM_ERROR, or at
   * the end of the transfer with no terminal event: eof). Appends the
   * JSON body to out and returns the HTTP status the non-streaming API
   * would have answered with: 200 for an answer, 4xx/5xx for an error
   * (out holds the error body that API gives, see asm_error_status);
   * 0 with *why (static) when the stream is not a whole answer (cut
   * short, a choice without its finish), -1 when memory ran out. */
  int (*finish)(void *st, bool eof, struct buf *out, const char **why);
  void (*close)(void *st);
};

/* The assembler for answers of an endpoint, or NULL. */
const struct assembler *assembler_for(enum ep_kind kind);

/* The HTTP status an API answers an error with, from the error object's
 * "type" (or "code"): invalid_request_error 400, authentication_error
 * 401, permission_error 403, not_found_error 404, request_too_large 413,
 * rate_limit_error / rate_limit_exceeded / insufficient_quota 429,
 * api_error / server_error 500, overloaded_error 529; a numeric code
 * 400-599 as itself; anything else 500. err is the error object's bytes
 * (a valid JSON object) or NULL. */
int asm_error_status(const char *err, size_t n);

extern const struct assembler chat_assembler;
extern const struct assembler completions_assembler;
extern const struct assembler responses_assembler;
extern const struct assembler messages_assembler;

#endif
