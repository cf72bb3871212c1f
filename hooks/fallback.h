/* fallback.h - auto mode's watcher: a stage of its own for a streaming
 * request llm_request.h decides to watch (see fallback.c). */
#ifndef SS_FALLBACK_H
#define SS_FALLBACK_H

#include "../shim/stage.h"

extern const struct ss_stage fallback_stage;

#endif
