/* destream.h - the de-streaming stage.
 *
 * Request side: a request llm_request.h decides to de-stream is sent
 * without its top-level stream and stream_options members. Response
 * side: the final 2xx header block is held with the answer (hold.h); a
 * complete answer the endpoint's encoder takes is replayed as its
 * Server-Sent Events (json_to_sse.h), one event per write-callback call,
 * headers rewritten to text/event-stream; any other answer goes out
 * unchanged. */
#ifndef SS_DESTREAM_H
#define SS_DESTREAM_H

#include "../shim/stage.h"

extern const struct ss_stage destream_stage;

#endif
