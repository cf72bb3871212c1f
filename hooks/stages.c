/* stages.c - the stage types, in chain order, and their work outside
 * callbacks (see shim/stage.h). Later stages (capture) are added here.
 * De-streaming, streaming for a program that does not, and auto mode's
 * watcher take turns: llm_request.h decides once per attempt, before any
 * of them starts (ss_stages_judge), and at most one of them takes part. */
#include "destream.h"
#include "fallback.h"
#include "learned.h"
#include "llm_request.h"
#include "stream_only.h"
#include <string.h>

#include "../shim/log.h"
#include "../shim/settings.h"

const struct ss_stage *const ss_stages[] = {
  &destream_stage,
  &stream_only_stage,
  &fallback_stage,
  0
};

void ss_stages_quiet(void)
{
  learned_flush();
}

/* All three start from llm_request, which passes everything in mode off,
 * and in force mode with no model to turn either way (only auto mode's
 * watcher asks for retries). */
bool ss_stages_idle(void)
{
  const struct ss_config *c = ss_settings();
  return c->mode == SS_MODE_OFF ||
         (c->mode == SS_MODE_FORCE && !c->models.n && !c->stream_only.n);
}

/* The judgment is llm_request's. */
const size_t ss_judgment_size = sizeof(struct llm_request);

/* Only POSTs are rewritten; the info log has a line for other methods
 * to LLM endpoints (llm_request.c). */
bool ss_stages_may_take(const char *method)
{
  return !strcmp(method, "POST") || SS_LOG_ON(SS_LOG_INFO);
}

bool ss_stages_judge(struct ss_xfer *x)
{
  return llm_request(x)->decision != LLM_PASS;
}
