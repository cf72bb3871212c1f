/* sse_completions.h - replay a legacy text_completion answer
 * (POST /v1/completions) as the stream that API sends: text_completion
 * chunks, no role chunk, the finish_reason on each choice's last text
 * chunk, then the usage chunk when asked, then [DONE]
 * (README, "The streams replayed"). A choice with logprobs is cut at its
 * token groups, each chunk with the logprobs of its own tokens (see
 * sse_completions.c). Pure; one event per call. */
#ifndef SS_SSE_COMPLETIONS_H
#define SS_SSE_COMPLETIONS_H

#include "sse_encoder.h"

extern const struct replay_encoder sse_completions_encoder;

#endif
