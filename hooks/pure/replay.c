/* replay.c - which encoder replays which endpoint (see replay.h). */
#include "replay.h"

#include "sse_chat.h"
#include "sse_completions.h"
#include "sse_messages.h"
#include "sse_responses.h"

const struct replay_encoder *replay_encoder_for(enum ep_kind kind)
{
  switch(kind) {
  case EP_CHAT: return &sse_chat_encoder;
  case EP_COMPLETIONS: return &sse_completions_encoder;
  case EP_RESPONSES: return &sse_responses_encoder;
  case EP_MESSAGES: return &sse_messages_encoder;
  default: return NULL;
  }
}
