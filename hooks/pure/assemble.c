/* assemble.c - which assembler joins the streamed answers of an endpoint
 * (see assemble.h). Each shape exports its own table. */
#include "assemble.h"

#include <stddef.h>

const struct assembler *assembler_for(enum ep_kind kind)
{
  switch(kind) {
  case EP_CHAT:
    return &chat_assembler;
  case EP_COMPLETIONS:
    return &completions_assembler;
  case EP_RESPONSES:
    return &responses_assembler;
  case EP_MESSAGES:
    return &messages_assembler;
  default:
    return NULL;
  }
}
