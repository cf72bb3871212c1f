/* test_sse_completions.c - the legacy Completions replay, byte for byte. */
#include <stdlib.h>

#include "check.h"
#include "sse_completions.h"

/* All events of an answer, concatenated; NULL (and *why) when refused. */
static char *replay_all(const char *answer, size_t piece, int usage,
                        const char **why)
{
  struct replay_opts o = {piece, usage != 0};
  struct sse_completions *e =
    sse_completions_open(answer, strlen(answer), &o, why);
  if(!e)
    return NULL;
  struct buf b;
  buf_init(&b);
  while(sse_completions_next(e, &b) > 0)
    ;
  sse_completions_close(e);
  return (char *)buf_cstr(&b);
}

#define HEAD "data: {\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,"

TEST(pieces_then_finish_on_the_last)
{
  const char *why = NULL;
  char *s = replay_all("{\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,"
                       "\"model\":\"m\",\"choices\":[{\"text\":\"ab cd\",\"index\":0,"
                       "\"logprobs\":null,\"finish_reason\":\"stop\"}]}", 3, 0, &why);
  CHECK_STR(s, HEAD "\"choices\":[{\"text\":\"ab \",\"index\":0,\"logprobs\":null,"
               "\"finish_reason\":null}],\"model\":\"m\"}\n\n"
               HEAD "\"choices\":[{\"text\":\"cd\",\"index\":0,\"logprobs\":null,"
               "\"finish_reason\":\"stop\"}],\"model\":\"m\"}\n\n"
               "data: [DONE]\n\n");
  free(s);
}

TEST(usage_chunk_and_empty_text)
{
  const char *why = NULL;
  char *s = replay_all("{\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,"
                       "\"model\":\"m\",\"choices\":[{\"text\":\"\",\"index\":0,"
                       "\"finish_reason\":\"length\"}],\"usage\":{ \"total_tokens\": 3 }}",
                       8, 1, &why);
  CHECK_STR(s, HEAD "\"choices\":[{\"text\":\"\",\"index\":0,\"logprobs\":null,"
               "\"finish_reason\":\"length\"}],\"model\":\"m\",\"usage\":null}\n\n"
               HEAD "\"model\":\"m\",\"usage\":{\"total_tokens\":3},\"choices\":[]}\n\n"
               "data: [DONE]\n\n");
  free(s);
}

TEST(refusals)
{
  const char *why = NULL;
  CHECK(!replay_all("{\"object\":\"chat.completion\"}", 4, 0, &why) && why);
  why = NULL;
  CHECK(!replay_all("{\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,"
                    "\"model\":\"m\",\"choices\":[{\"text\":\"x\",\"index\":0,"
                    "\"logprobs\":{\"tokens\":[]},\"finish_reason\":\"stop\"}]}",
                    4, 0, &why) && why);
  why = NULL;
  CHECK(!replay_all("{\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,"
                    "\"model\":\"m\",\"choices\":[{\"text\":\"x\",\"index\":0,"
                    "\"extra\":1,\"finish_reason\":\"stop\"}]}", 4, 0, &why) && why);
  why = NULL;
  CHECK(!replay_all("{\"id\":", 4, 0, &why) && why);
}

int main(void)
{
  RUN(pieces_then_finish_on_the_last);
  RUN(usage_chunk_and_empty_text);
  RUN(refusals);
  return check_done();
}
