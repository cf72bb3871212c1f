/* test_replay.c - unit tests for hooks/pure/replay.c: which encoder table
 * replays the answers of which endpoint. */
#include "check.h"
#include "replay.h"
#include "sse_chat.h"
#include "sse_completions.h"
#include "sse_messages.h"
#include "sse_responses.h"

TEST(each_kind_has_its_table)
{
  CHECK(replay_encoder_for(EP_CHAT) == &sse_chat_encoder);
  CHECK(replay_encoder_for(EP_COMPLETIONS) == &sse_completions_encoder);
  CHECK(replay_encoder_for(EP_RESPONSES) == &sse_responses_encoder);
  CHECK(replay_encoder_for(EP_MESSAGES) == &sse_messages_encoder);
}

TEST(tables_are_whole)
{
  const struct replay_encoder *t[] = {
    &sse_chat_encoder, &sse_completions_encoder, &sse_responses_encoder,
    &sse_messages_encoder
  };
  for(size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    CHECK(t[i]->name && t[i]->open && t[i]->next && t[i]->close);
  CHECK_STR(sse_chat_encoder.name, "chat.completion");
  CHECK_STR(sse_completions_encoder.name, "text_completion");
  CHECK_STR(sse_responses_encoder.name, "response");
  CHECK_STR(sse_messages_encoder.name, "message");
}

/* An answer of the wrong shape is refused, with a reason, by every
 * table. */
TEST(tables_refuse_other_shapes)
{
  static const char ans[] = "{\"object\":\"something.else\"}";
  const struct replay_encoder *t[] = {
    &sse_chat_encoder, &sse_completions_encoder, &sse_responses_encoder,
    &sse_messages_encoder
  };
  struct replay_opts o = {8, false};
  for(size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    const char *why = NULL;
    void *e = t[i]->open(ans, sizeof(ans) - 1, &o, &why);
    CHECK(e == NULL);
    CHECK(why != NULL);
    if(e)
      t[i]->close(e);
  }
}

int main(void)
{
  RUN(each_kind_has_its_table);
  RUN(tables_are_whole);
  RUN(tables_refuse_other_shapes);
  return check_done();
}
