/* test_sse_completions.c - the legacy Completions replay, byte for byte:
 * text pieces, usage, and logprobs (each chunk carries slices of the four
 * arrays for its own tokens, grouped until the text ends on a character
 * boundary; "bytes:\\xHH" tokens are partial characters). */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "sse_completions.h"

/* All events of an answer, concatenated; NULL (and *why) when refused. */
static char *replay_all(const char *answer, size_t piece, int usage,
                        const char **why)
{
  struct replay_opts o = {piece, usage != 0};
  void *e = sse_completions_encoder.open(answer, strlen(answer), &o, why);
  if(!e)
    return NULL;
  struct buf b;
  buf_init(&b);
  while(sse_completions_encoder.next(e, &b) > 0)
    ;
  sse_completions_encoder.close(e);
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
  /* logprobs whose tokens spell nothing of the text "x" */
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
  /* indices a client does not join into the answer's choices (found by
   * fuzz_trip_completions): not digits, 128 and over, one twice */
  static const char *const idx[] = {"1e0", "1.0", "128", "0,\"x\":0"};
  for(size_t i = 0; i < 4; i++) {
    char a[512];
    snprintf(a, sizeof(a), "{\"id\":\"c\",\"object\":\"text_completion\","
             "\"created\":1,\"model\":\"m\",\"choices\":[{\"text\":\"x\","
             "\"index\":%s,\"finish_reason\":\"stop\"}]}", idx[i]);
    why = NULL;
    CHECK(!replay_all(a, 4, 0, &why) && why);
  }
  why = NULL;
  CHECK(!replay_all("{\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,"
                    "\"model\":\"m\",\"choices\":[{\"text\":\"x\",\"index\":2,"
                    "\"finish_reason\":\"stop\"},{\"text\":\"y\",\"index\":2,"
                    "\"finish_reason\":\"stop\"}]}", 4, 0, &why) && why);
  char *s = replay_all("{\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,"
                       "\"model\":\"m\",\"choices\":[{\"text\":\"x\",\"index\":127,"
                       "\"finish_reason\":\"stop\"}]}", 4, 0, &why);
  CHECK(s != NULL);
  free(s);
}

/* ---- logprobs ---- */

/* An answer with text t (raw JSON text) and logprobs lp. */
#define LPANS(t, lp)                                                           \
  "{\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\","   \
  "\"choices\":[{\"text\":\"" t "\",\"index\":0,\"logprobs\":" lp               \
  ",\"finish_reason\":\"length\"}]}"
/* A chunk with text t, logprobs lp, finish_reason fr. */
#define LPEV(t, lp, fr)                                                        \
  HEAD "\"choices\":[{\"text\":\"" t "\",\"index\":0,\"logprobs\":" lp         \
  ",\"finish_reason\":" fr "}],\"model\":\"m\"}\n\n"
#define LP4(tok, tlp, top, off)                                                \
  "{\"tokens\":[" tok "],\"token_logprobs\":[" tlp "],\"top_logprobs\":[" top  \
  "],\"text_offset\":[" off "]}"

/* Replay answer a with piece size piece and compare with want. */
static void expect_text(const char *a, size_t piece, const char *want)
{
  const char *why = NULL;
  char *s = replay_all(a, piece, 0, &why);
  CHECK(s != NULL);
  if(!s) {
    printf("#   refused: %s\n", why ? why : "?");
    return;
  }
  CHECK_STR(s, want);
  free(s);
}

/* One chunk per token (piece_chars does not matter), top_logprobs copied
 * compact, the finish_reason on the last token's chunk. */
TEST(logprobs_ascii_tokens)
{
  static const char a[] =
    LPANS(" Hello world", "{\"tokens\": [\" Hello\", \" world\"],"
          " \"token_logprobs\": [-0.31, -1.5e-3], \"top_logprobs\": "
          "[{\" Hello\": -0.31, \" Hi\": -1.4}, {\" world\": -1.5e-3}],"
          " \"text_offset\": [5, 11]}");
  static const char want[] =
    LPEV(" Hello", LP4("\" Hello\"", "-0.31", "{\" Hello\":-0.31,\" Hi\":-1.4}",
                       "5"), "null")
    LPEV(" world", LP4("\" world\"", "-1.5e-3", "{\" world\":-1.5e-3}", "11"),
         "\"length\"")
    "data: [DONE]\n\n";
  expect_text(a, 1, want);
  expect_text(a, 100, want);
}

/* ’ (E2 80 99) over two "bytes:" tokens: one chunk with both and the
 * whole character; an escaped newline inside a token is one byte. */
TEST(logprobs_bytes_tokens)
{
  expect_text(LPANS("I\xe2\x80\x99m\\n", LP4("\"I\",\"bytes:\\\\xe2\\\\x80\","
                    "\"bytes:\\\\x99\",\"m\\n\"", "-1,-2,-3,-4",
                    "{},{},{},{}", "0,1,1,2")), 4,
              LPEV("I", LP4("\"I\"", "-1", "{}", "0"), "null")
              LPEV("\xe2\x80\x99", LP4("\"bytes:\\\\xe2\\\\x80\","
                   "\"bytes:\\\\x99\"", "-2,-3", "{},{}", "1,1"), "null")
              LPEV("m\\n", LP4("\"m\\n\"", "-4", "{}", "2"), "\"length\"")
              "data: [DONE]\n\n");
}

/* A \u escape and a surrogate pair in the text (copied escaped); echo's
 * null first entries; a null member stays null, an absent one absent. */
TEST(logprobs_escapes_nulls_and_members)
{
  expect_text(LPANS("caf\\u00e9 \\ud83d\\ude00",
                    "{\"tokens\":[\"caf\xc3\xa9\",\" \\ud83d\\ude00\"],"
                    "\"token_logprobs\":[null,-0.5],\"top_logprobs\":null}"), 4,
              LPEV("caf\\u00e9", "{\"tokens\":[\"caf\xc3\xa9\"],"
                   "\"token_logprobs\":[null],\"top_logprobs\":null}", "null")
              LPEV(" \\ud83d\\ude00", "{\"tokens\":[\" \\ud83d\\ude00\"],"
                   "\"token_logprobs\":[-0.5],\"top_logprobs\":null}",
                   "\"length\"")
              "data: [DONE]\n\n");
}

/* An empty text with empty arrays: one chunk, empty slices. */
TEST(logprobs_empty_text)
{
  expect_text(LPANS("", LP4("", "", "", "")), 4,
              LPEV("", LP4("", "", "", ""), "\"length\"") "data: [DONE]\n\n");
}

/* Tokens that do not spell the text, arrays of other lengths, unknown
 * members, tokens that are not strings. */
TEST(logprobs_refusals)
{
  static const char *const bad[] = {
    LPANS("ab", LP4("\"a\"", "-1", "{}", "0")),
    LPANS("ab", LP4("\"a\",\"bc\"", "-1,-1", "{},{}", "0,1")),
    LPANS("ab", LP4("\"a\",\"c\"", "-1,-1", "{},{}", "0,1")),
    LPANS("ab", LP4("\"a\",\"b\"", "-1", "{},{}", "0,1")),
    LPANS("ab", LP4("\"a\",\"b\"", "-1,-1", "{},{}", "0")),
    LPANS("ab", LP4("\"a\",2", "-1,-1", "{},{}", "0,1")),
    LPANS("ab", "{\"tokens\":[\"ab\"],\"logprob\":[1]}"),
    LPANS("ab", "{\"tokens\":\"ab\"}"),
    LPANS("ab", "{\"tokens\":[\"ab\"],\"text_offset\":0}"),
    LPANS("ab", "[\"ab\"]"),
    LPANS("\xe2\x80\x99", LP4("\"bytes:\\\\xe2\\\\x80\"", "-1", "{}", "0")),
    LPANS("\xe2\x80\x99", LP4("\"bytes:\\\\xe2\\\\x80\\\\x98\"", "-1", "{}",
                               "0")),
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    const char *why = NULL;
    char *s = replay_all(bad[i], 4, 0, &why);
    CHECK(!s && why && *why);
    free(s);
  }
}

int main(void)
{
  RUN(pieces_then_finish_on_the_last);
  RUN(usage_chunk_and_empty_text);
  RUN(refusals);
  RUN(logprobs_ascii_tokens);
  RUN(logprobs_bytes_tokens);
  RUN(logprobs_escapes_nulls_and_members);
  RUN(logprobs_empty_text);
  RUN(logprobs_refusals);
  return check_done();
}
