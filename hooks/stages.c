/* stages.c - the stage types, in chain order (see shim/stage.h). Later
 * stages (capture) are added here. */
#include "destream.h"

const struct ss_stage *const ss_stages[] = {
  &destream_stage,
  0
};
