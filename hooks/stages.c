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

/* All three start from llm_request, which passes everything in mode off. */
bool ss_stages_idle(void)
{
  return ss_settings()->mode == SS_MODE_OFF;
}

/* The judgment is llm_request's. */
const size_t ss_judgment_size = sizeof(struct llm_request);

bool ss_stages_judge(struct ss_xfer *x)
{
  return llm_request(x)->decision != LLM_PASS;
}
