/* stages.c - the stage types, in chain order, and their work outside
 * callbacks (see shim/stage.h). Later stages (capture) are added here. */
#include "destream.h"
#include "learned.h"

const struct ss_stage *const ss_stages[] = {
  &destream_stage,
  0
};

void ss_stages_quiet(void)
{
  learned_flush();
}
