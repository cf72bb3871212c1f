/* test_assemble_completions.c - joining legacy Completions streams
 * (text_completion chunks) into the text_completion answer
 * (hooks/pure/assemble_completions.c).
 *
 * 1. Round trip: every answer in tests/fixtures/completions replayed by
 *    sse_completions_encoder (with and without include_usage, several
 *    piece sizes), read back and joined, equals the fixture as a JSON
 *    value except where a stream cannot carry it (text_allow), with the
 *    same bytes for every piece size and every feed size.
 * 2. Streams written by hand, each with its answer byte for byte, also
 *    fed split at every piece size. */
#include <stdlib.h>
#include <string.h>

#include "asm_check.h"
#include "sse_completions.h"

/* ---- 1. round trip through the encoder ---- */

/* What a Completions stream cannot carry: usage without include_usage
 * (or a null usage: no usage chunk then); top-level members other than
 * id, object, created, model, system_fingerprint, choices and usage (the
 * encoder does not stream them). */
static bool text_allow(const char *path, struct json_span want,
                       struct json_span got, void *arg)
{
  static const char *const top[] = {"id", "object", "created", "model",
                                    "system_fingerprint", "choices", NULL};
  const bool *usage = arg;
  if(got.type != JSON_NONE)
    return false;
  if(!strcmp(path, "usage"))
    return !*usage || want.type == JSON_NULL;
  if(strchr(path, '.'))
    return false;
  for(const char *const *t = top; *t; t++)
    if(!strcmp(path, *t))
      return false;
  return true;
}

/* Join stream s fed in pieces of step bytes (0: whole) into out. */
static int join(const struct buf *s, size_t step, struct buf *out)
{
  struct asm_outcome o = asm_run(&completions_assembler, s->ptr, s->len,
                                 step, false, out);
  CHECK(o.last == ASM_END);
  CHECK(!o.pending);
  if(o.status != 200)
    printf("#   status %d, why: %s\n", o.status, o.why ? o.why : "(none)");
  return o.status;
}

/* One fixture through the encoder and back; the streams joined. */
static int round_trip(const char *path)
{
  static const size_t pieces[] = {1, 5, 64, 100000};
  struct buf ans, stream, out, first;
  const char *why = NULL;
  int joined = 0;
  buf_init(&ans);
  buf_init(&stream);
  buf_init(&out);
  buf_init(&first);
  CHECK(read_whole_file(path, &ans));
  for(int u = 0; u < 2; u++) {
    bool usage = u == 1;
    buf_reset(&first);
    for(size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
      struct replay_opts o = {pieces[k], usage};
      buf_reset(&stream);
      if(!asm_encode(&sse_completions_encoder, ans.ptr, ans.len, &o, &stream,
                     &why)) {
        printf("# %s: the encoder refuses it (%s)\n", path, why);
        goto done;
      }
      buf_reset(&out);
      CHECK(join(&stream, 0, &out) == 200);
      joined++;
      if(!same_json_text(ans.ptr, ans.len, out.ptr, out.len, text_allow,
                         &usage)) {
        printf("#   in %s (usage %d, piece %zu)\n", path, u, pieces[k]);
        CHECK(0);
      }
      if(!first.len)
        buf_append(&first, out.ptr, out.len);
      else
        CHECK_MEM(out.ptr, out.len, first.ptr, first.len);
      for(size_t st = 1; k == 1 && st <= stream.len; st += st < 300 ? 1 : 47) {
        struct buf again;
        buf_init(&again);
        CHECK(join(&stream, st, &again) == 200);
        CHECK_MEM(again.ptr, again.len, out.ptr, out.len);
        buf_free(&again);
      }
    }
  }
done:
  buf_free(&ans);
  buf_free(&stream);
  buf_free(&out);
  buf_free(&first);
  return joined;
}

TEST(every_completions_fixture_round_trips)
{
  char **list;
  size_t n = fixture_list("completions", &list);
  size_t refused = 0;
  CHECK(n >= 8);
  for(size_t i = 0; i < n; i++)
    if(!round_trip(list[i]))
      refused++;
  printf("# %zu completions fixtures, %zu refused by the encoder\n", n,
         refused);
  CHECK(refused == 0);
  fixture_list_free(list, n);
}

/* ---- 2. streams written by hand ---- */

/* Join s (eof: the transfer ended there); check status and answer, also
 * for s split at every piece size. */
static void expect_n(const char *s, size_t n, bool eof, int status,
                     const char *want)
{
  struct buf out;
  buf_init(&out);
  for(size_t step = 0; step < n; step++) {
    buf_reset(&out);
    struct asm_outcome o = asm_run(&completions_assembler, s, n, step, eof,
                                   &out);
    CHECK(o.status == status);
    if(o.status != status)
      printf("#   status %d, why: %s\n", o.status, o.why ? o.why : "(none)");
    CHECK_MEM(out.ptr, out.len, want, strlen(want));
    if(o.status != status)
      break;
  }
  if(status == 200) {
    struct json_span v;
    CHECK(json_parse(out.ptr, out.len, &v));
  }
  buf_free(&out);
}

#define EXPECT(s, status, want) expect_n(s, sizeof(s) - 1, false, status, want)
#define EXPECT_EOF(s, status, want) expect_n(s, sizeof(s) - 1, true, status, want)

/* Join s; finish must fail (0) with why. */
static void expect_fail(const char *s, bool eof, const char *want_why)
{
  struct buf out;
  buf_init(&out);
  struct asm_outcome o = asm_run(&completions_assembler, s, strlen(s), 0, eof,
                                 &out);
  CHECK(o.status == 0);
  CHECK(out.len == 0);
  CHECK(o.why != NULL);
  if(o.why)
    CHECK_STR(o.why, want_why);
  buf_free(&out);
}

/* api.openai.com's chunks (babbage-002, gpt-3.5-turbo-instruct): key
 * order id, object, created, choices, model, then usage when asked */
#define T(ch, tail) "data: {\"id\":\"cmpl-9x\",\"object\":\"text_completion\"," \
  "\"created\":1757400000,\"choices\":[" ch "],\"model\":" \
  "\"gpt-3.5-turbo-instruct:20230824-v2\"" tail "}\n\n"
#define TC(i, t, lp, fr) "{\"text\":\"" t "\",\"index\":" #i ",\"logprobs\":" \
  lp ",\"finish_reason\":" fr "}"
#define TU ",\"usage\":null"
#define T_USAGE "data: {\"id\":\"cmpl-9x\",\"object\":\"text_completion\"," \
  "\"created\":1757400000,\"model\":\"gpt-3.5-turbo-instruct:20230824-v2\"," \
  "\"usage\":{\"prompt_tokens\":6,\"completion_tokens\":4,\"total_tokens\":10}," \
  "\"choices\":[]}\n\n"
#define DONE "data: [DONE]\n\n"
#define ANS "{\"id\":\"cmpl-9x\",\"object\":\"text_completion\",\"created\":" \
  "1757400000,\"model\":\"gpt-3.5-turbo-instruct:20230824-v2\",\"choices\":["
#define ANS_USAGE ",\"usage\":{\"prompt_tokens\":6,\"completion_tokens\":4," \
  "\"total_tokens\":10}}"

TEST(text_pieces_finish_on_last_chunk_usage_chunk)
{
  EXPECT(T(TC(0, "\\n\\nThe", "null", "null"), TU)
         T(TC(0, " quick", "null", "null"), TU)
         T(TC(0, " fox\\u2019s", "null", "null"), TU)
         T(TC(0, " den", "null", "\"length\""), TU)
         T_USAGE DONE,
         200,
         ANS TC(0, "\\n\\nThe quick fox\\u2019s den", "null", "\"length\"") "]"
         ANS_USAGE);
}

TEST(n2_interleaved_with_logprobs)
{
  EXPECT(T(TC(1, "Sa", "{\"tokens\":[\"Sa\"],\"token_logprobs\":[-0.5],"
              "\"top_logprobs\":null,\"text_offset\":[10]}", "null"), "")
         T(TC(0, "Bon", "{\"tokens\":[\"Bon\"],\"token_logprobs\":[-0.1],"
              "\"top_logprobs\":null,\"text_offset\":[10]}", "null"), "")
         T(TC(1, "lut", "{\"tokens\":[\"l\",\"ut\"],\"token_logprobs\":[-1,-2],"
              "\"top_logprobs\":null,\"text_offset\":[12,13]}", "\"stop\""), "")
         T(TC(0, "jour", "{\"tokens\":[\"jour\"],\"token_logprobs\":[-0.2],"
              "\"top_logprobs\":null,\"text_offset\":[13]}", "\"stop\""), "")
         DONE,
         200,
         ANS TC(0, "Bonjour", "{\"tokens\":[\"Bon\",\"jour\"],\"token_logprobs\":"
                "[-0.1,-0.2],\"top_logprobs\":null,\"text_offset\":[10,13]}",
                "\"stop\"") ","
         TC(1, "Salut", "{\"tokens\":[\"Sa\",\"l\",\"ut\"],\"token_logprobs\":"
            "[-0.5,-1,-2],\"top_logprobs\":null,\"text_offset\":[10,12,13]}",
            "\"stop\"") "]}");
}

TEST(fingerprint_and_vendor_members)
{
  /* system_fingerprint goes before choices (text-n2-fingerprint); an
   * unknown top-level member keeps its last value and goes last; a chunk
   * without "logprobs" leaves the choice without it */
  EXPECT("data: {\"id\":\"cmpl-f\",\"object\":\"text_completion\",\"created\":5,"
         "\"choices\":[{\"text\":\"a\",\"index\":0,\"finish_reason\":null}],"
         "\"model\":\"m\",\"system_fingerprint\":\"fp_1\",\"x_trace\":1}\n\n"
         "data: {\"id\":\"cmpl-f\",\"object\":\"text_completion\",\"created\":5,"
         "\"choices\":[{\"text\":\"b\",\"index\":0,\"finish_reason\":\"stop\","
         "\"stop_reason\":null}],\"model\":\"m\",\"system_fingerprint\":\"fp_1\","
         "\"x_trace\":2}\n\n" DONE,
         200,
         "{\"id\":\"cmpl-f\",\"object\":\"text_completion\",\"created\":5,"
         "\"model\":\"m\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"text\":"
         "\"ab\",\"index\":0,\"finish_reason\":\"stop\",\"stop_reason\":null}],"
         "\"x_trace\":2}");
}

TEST(without_done)
{
  EXPECT_EOF(T(TC(0, "x", "null", "null"), "") T(TC(0, "y", "null", "\"stop\""), ""),
             200, ANS TC(0, "xy", "null", "\"stop\"") "]}");
  expect_fail(T(TC(0, "x", "null", "null"), ""), true,
              "the stream ended before every choice finished");
  expect_fail(T(TC(0, "x", "null", "null"), ""), false,
              "the stream has not ended");
  expect_fail(T_USAGE DONE, false, "the stream carried no choice");
}

TEST(errors_and_malformed)
{
  EXPECT(T(TC(0, "x", "null", "null"), "")
         "data: {\"error\":{\"message\":\"The server had an error\",\"type\":"
         "\"server_error\",\"param\":null,\"code\":null}}\n\n",
         500, "{\"error\":{\"message\":\"The server had an error\",\"type\":"
         "\"server_error\",\"param\":null,\"code\":null}}");
  EXPECT("data: {\"error\":{\"message\":\"Too many\",\"type\":\"requests\","
         "\"code\":\"429\"}}\n\n", 429,
         "{\"error\":{\"message\":\"Too many\",\"type\":\"requests\","
         "\"code\":\"429\"}}");
  expect_fail("data: {\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\n",
              true, "not a text_completion chunk");
  expect_fail("data: nope\n\n", true, "event data is not JSON");
  expect_fail(T(TC(0, "x", "{\"tokens\":[\"x\"],\"bytes\":[1]}", "null"), ""),
              true, "a choice's logprobs is not a known object");
  expect_fail(T(TC(0, "x", "{\"tokens\":\"x\"}", "null"), ""), true,
              "a logprobs member is not an array or null");
  expect_fail(T("{\"text\":1,\"index\":0}", ""), true,
              "a choice's text is not a string");
  expect_fail(T("{\"text\":\"a\",\"index\":1e1}", ""), true,
              "a choice has no valid index");
}

int main(void)
{
  RUN(every_completions_fixture_round_trips);
  RUN(text_pieces_finish_on_last_chunk_usage_chunk);
  RUN(n2_interleaved_with_logprobs);
  RUN(fingerprint_and_vendor_members);
  RUN(without_done);
  RUN(errors_and_malformed);
  return check_done();
}
