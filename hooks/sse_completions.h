/* sse_completions.h - replay a legacy text_completion answer
 * (POST /v1/completions) as the stream that API sends: text_completion
 * chunks, no role chunk, the finish_reason on each choice's last text
 * chunk, then the usage chunk when asked, then [DONE]
 * (specs/sse-formats.md section 3). A choice with logprobs is cut at its
 * token groups, each chunk with the logprobs of its own tokens (see
 * sse_completions.c). Pure; one event per call. */
#ifndef SS_SSE_COMPLETIONS_H
#define SS_SSE_COMPLETIONS_H

#include "../shim/buf.h"
#include "replay.h"

struct sse_completions;

struct sse_completions *sse_completions_open(const char *p, size_t n,
                                             const struct replay_opts *o,
                                             const char **why);
int sse_completions_next(struct sse_completions *e, struct buf *out);
void sse_completions_close(struct sse_completions *e);

#endif
