/* stream_only.h - the stage of the reverse direction: a program that
 * does not stream, a model that only streams.
 *
 * Request side: a non-streaming request llm_request.h decides to send
 * streaming gets "stream": true (a "stream": false replaced in place,
 * else appended) and, for Chat Completions and legacy Completions,
 * "stream_options": {"include_usage": true} when it has no
 * stream_options (the non-streamed answer always reports usage); every
 * other byte stays. Response side: the final 2xx block is held with the
 * event stream (hold.h) until its terminal event, then the program gets
 * the one JSON answer the endpoint's assembler joins from the events
 * (sse_to_json.h), or, for a stream that cannot be joined exactly, the
 * answer unchanged; the log says which. */
#ifndef SS_STREAM_ONLY_H
#define SS_STREAM_ONLY_H

#include "../shim/stage.h"

extern const struct ss_stage stream_only_stage;

#endif
