/* stages.c - the stage types, in chain order, and their work outside
 * callbacks (see shim/stage.h). Later stages (capture) are added here.
 * De-streaming, streaming for a program that does not, and auto mode's
 * watcher take turns: llm_request.h decides once per attempt, and at most
 * one of them takes part. */
#include "destream.h"
#include "fallback.h"
#include "learned.h"
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
