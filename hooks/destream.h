/* destream.h - the de-streaming stage.
 *
 * Request side: a POST to an endpoint this build can replay, whose JSON
 * body asks for "stream": true and whose model (the Azure deployment wins
 * over the body's model) matches a configured glob, is sent without its
 * top-level stream and stream_options members. Response side: the final
 * 2xx header block is held until the answer is judged; a complete
 * chat.completion is replayed as chat.completion.chunk events, one event
 * per write-callback call, headers rewritten to text/event-stream; any
 * other answer goes out unchanged. */
#ifndef SS_DESTREAM_H
#define SS_DESTREAM_H

#include "../shim/stage.h"

extern const struct ss_stage destream_stage;

#endif
