/* replay.c - which encoder replays which endpoint (see replay.h). */
#include "replay.h"

#include <string.h>

#include "sse_chat.h"
#include "sse_completions.h"
#include "sse_messages.h"
#include "sse_responses.h"

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

static void *resp_open(const char *p, size_t n, const struct replay_opts *o,
                       const char **why)
{
  return sse_responses_open(p, n, o, why);
}

static int resp_next(void *e, struct buf *out)
{
  return sse_responses_next(e, out);
}

static void resp_close(void *e)
{
  sse_responses_close(e);
}

static void *msg_open(const char *p, size_t n, const struct replay_opts *o,
                      const char **why)
{
  return sse_messages_open(p, n, o, why);
}

static int msg_next(void *e, struct buf *out)
{
  return sse_messages_next(e, out);
}

static void msg_close(void *e)
{
  sse_messages_close(e);
}

static const struct replay_encoder chat = {
  "chat.completion", chat_open, chat_next, chat_close
};
static const struct replay_encoder text = {
  "text_completion", text_open, text_next, text_close
};
static const struct replay_encoder resp = {
  "response", resp_open, resp_next, resp_close
};
static const struct replay_encoder msg = {
  "message", msg_open, msg_next, msg_close
};

const struct replay_encoder *replay_encoder_for(enum ep_kind kind)
{
  switch(kind) {
  case EP_CHAT: return &chat;
  case EP_COMPLETIONS: return &text;
  case EP_RESPONSES: return &resp;
  case EP_MESSAGES: return &msg;
  default: return NULL;
  }
}

int replay_next_event(void *enc, void *cur, void *saved, size_t size,
                      bool (*done)(const void *enc),
                      bool (*step)(void *enc, struct buf *out),
                      struct buf *out)
{
  size_t start = out->len;
  memcpy(saved, cur, size);
  for(;;) {
    if(done(enc))
      return 0;
    if(step(enc, out))
      break;
  }
  if(out->oom) {
    memcpy(cur, saved, size);
    out->len = start;
    return -1;
  }
  return 1;
}
