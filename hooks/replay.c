/* replay.c - which encoder replays which endpoint (see replay.h). */
#include "replay.h"

#include "sse_chat.h"
#include "sse_completions.h"

/* Adapters from each encoder's typed API to the common one. */
static void *chat_open(const char *p, size_t n, const struct replay_opts *o,
                       const char **why)
{
  return sse_chat_open(p, n, o, why);
}

static int chat_next(void *e, struct buf *out)
{
  return sse_chat_next(e, out);
}

static void chat_close(void *e)
{
  sse_chat_close(e);
}

static void *text_open(const char *p, size_t n, const struct replay_opts *o,
                       const char **why)
{
  return sse_completions_open(p, n, o, why);
}

static int text_next(void *e, struct buf *out)
{
  return sse_completions_next(e, out);
}

static void text_close(void *e)
{
  sse_completions_close(e);
}

static const struct replay_encoder chat = {
  "chat.completion", chat_open, chat_next, chat_close
};
static const struct replay_encoder text = {
  "text_completion", text_open, text_next, text_close
};

const struct replay_encoder *replay_encoder_for(enum ep_kind kind)
{
  switch(kind) {
  case EP_CHAT: return &chat;
  case EP_COMPLETIONS: return &text;
  default: return NULL;
  }
}
