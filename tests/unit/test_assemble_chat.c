/* test_assemble_chat.c - joining Chat Completions streams into the
 * chat.completion answer (hooks/pure/assemble_chat.c).
 *
 * 1. Round trip: every answer in tests/fixtures/chat is replayed by the
 *    encoder (sse_chat_encoder, with and without include_usage, several
 *    piece sizes), read back (sse_read) and joined; the answer must be the
 *    fixture as a JSON value, except where a stream cannot carry it
 *    (chat_allow says each), the same bytes for every piece size and
 *    however the stream is split (feeds of 1, 7, 64, 1000 bytes; for
 *    seven fixtures every feed size up to 400 and every 61st after).
 * 2. Real-world streams written by hand, each with its expected answer
 *    byte for byte: gpt-4o tool calls, parallel calls, n=2 interleaved,
 *    Azure, DashScope qwq, refusal, logprobs, legacy function_call,
 *    annotations, errors, streams without [DONE], keep-alives, CRLF,
 *    malformed data. Each is also fed split at every piece size. */
#include <stdlib.h>
#include <string.h>

#include "asm_check.h"
#include "sse_chat.h"

/* ---- 1. round trip through the encoder ---- */

struct rt_opts {
  bool usage;   /* include_usage was on */
};

/* Is v null, "" or []? */
static bool null_or_empty(struct json_span v)
{
  struct json_iter it;
  struct json_span el;
  if(v.type == JSON_NULL || (v.type == JSON_STRING && v.len == 2))
    return true;
  if(v.type != JSON_ARRAY)
    return false;
  json_iter_init(&it, v);
  return !json_next_element(&it, &el);
}

/* What a chat stream cannot carry, so the joined answer differs from the
 * fixture (want) there:
 * - usage: not streamed without include_usage, nor when the answer's is
 *   null (the encoder sends no usage chunk then);
 * - top-level members other than id, object, created, model, choices,
 *   usage, service_tier, system_fingerprint and prompt_filter_results
 *   (vLLM's prompt_logprobs, kv_transfer_params): the encoder drops them;
 * - message annotations []: no chunk carries them;
 * - message reasoning_content, tool_calls, function_call that are null or
 *   empty: the encoder sends nothing for them;
 * - message refusal: the role chunk always has "refusal" (null when the
 *   answer has none), so the answer gains "refusal":null;
 * - choice logprobs: every chunk has "logprobs" (null when the answer has
 *   none, gpt-5's), so the answer gains "logprobs":null. */
static bool chat_allow(const char *path, struct json_span want,
                       struct json_span got, void *arg)
{
  static const char *const top[] = {
    "id", "object", "created", "model", "choices", "usage", "service_tier",
    "system_fingerprint", "prompt_filter_results", NULL
  };
  const struct rt_opts *o = arg;
  if(got.type == JSON_NONE) {
    if(!strcmp(path, "usage"))
      return !o->usage || want.type == JSON_NULL;
    if(!strchr(path, '.')) {
      for(const char *const *t = top; *t; t++)
        if(!strcmp(path, *t))
          return false;
      return true;
    }
    if(!strcmp(path, "choices.message.annotations") ||
       !strcmp(path, "choices.message.reasoning_content") ||
       !strcmp(path, "choices.message.tool_calls") ||
       !strcmp(path, "choices.message.function_call"))
      return null_or_empty(want);
    return false;
  }
  if(!strcmp(path, "choices.message.refusal") ||
     !strcmp(path, "choices.logprobs"))
    return got.type == JSON_NULL;
  return false;
}

/* Join stream s (split in pieces of step, 0: whole) into out; checks that
 * it ends with [DONE] and gives 200. */
static bool join_ok(const struct buf *s, size_t step, struct buf *out)
{
  struct asm_outcome o = asm_run(&chat_assembler, s->ptr, s->len, step,
                                 false, out);
  CHECK(o.last == ASM_END);
  CHECK(o.status == 200);
  CHECK(!o.pending);
  if(o.status != 200)
    printf("#   why: %s\n", o.why ? o.why : "(none)");
  return o.status == 200;
}

/* One fixture through the encoder and back, every option; the number of
 * streams joined (0 when the encoder refuses the answer). */
static int round_trip(const char *path, bool all_splits)
{
  static const size_t pieces[] = {1, 4, 32, 100000};
  struct buf ans, stream, out, first;
  const char *why = NULL;
  int joined = 0;
  buf_init(&ans);
  buf_init(&stream);
  buf_init(&out);
  buf_init(&first);
  CHECK(read_whole_file(path, &ans));
  for(int u = 0; u < 2; u++) {
    struct rt_opts ro = {u == 1};
    buf_reset(&first);
    for(size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
      struct replay_opts o = {pieces[k], u == 1};
      if(ans.len > 65536 && pieces[k] < 4096)
        continue;  /* long-1mib: a few big pieces are enough */
      buf_reset(&stream);
      if(!asm_encode(&sse_chat_encoder, ans.ptr, ans.len, &o, &stream, &why)) {
        printf("# %s: the encoder refuses it (%s)\n", path, why);
        goto done;
      }
      buf_reset(&out);
      if(!join_ok(&stream, 0, &out)) {
        printf("#   in %s\n", path);
        continue;
      }
      joined++;
      if(!same_json_text(ans.ptr, ans.len, out.ptr, out.len, chat_allow, &ro)) {
        printf("#   in %s (usage %d, piece %zu)\n", path, u, pieces[k]);
        CHECK(0);
      }
      if(!first.len)  /* the same bytes whatever the piece size */
        buf_append(&first, out.ptr, out.len);
      else
        CHECK_MEM(out.ptr, out.len, first.ptr, first.len);
      /* split feeds give the same bytes */
      size_t steps[] = {1, 7, 64, 1000};
      for(size_t st = 0; st < 4 && ans.len <= 65536 && k == 2; st++) {
        struct buf again;
        buf_init(&again);
        join_ok(&stream, steps[st], &again);
        CHECK_MEM(again.ptr, again.len, out.ptr, out.len);
        buf_free(&again);
      }
      if(all_splits && k == 2 && u == 1) {
        /* every piece size up to 400 bytes, then every 61st */
        for(size_t st = 1; st <= stream.len; st += st < 400 ? 1 : 61) {
          struct buf again;
          buf_init(&again);
          asm_run(&chat_assembler, stream.ptr, stream.len, st, false, &again);
          CHECK_MEM(again.ptr, again.len, out.ptr, out.len);
          buf_free(&again);
        }
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

TEST(every_chat_fixture_round_trips)
{
  char **list;
  size_t n = fixture_list("chat", &list);
  size_t refused = 0;
  CHECK(n >= 60);
  for(size_t i = 0; i < n; i++)
    if(!round_trip(list[i], false))
      refused++;
  printf("# %zu chat fixtures, %zu refused by the encoder\n", n, refused);
  CHECK(refused == 0);
  fixture_list_free(list, n);
}

TEST(some_fixtures_in_every_split)
{
  static const char *const names[] = {
    "text-basic", "tool-parallel-2", "logprobs-n2", "azure-o3-mini-filters",
    "reasoning-deepseek-tool-call", "refusal-unicode", "multi-choice-3-tools",
  };
  char dir[PATH_MAX], path[PATH_MAX + 64];
  CHECK(fixture_dir("chat", dir, sizeof(dir)));
  for(size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    snprintf(path, sizeof(path), "%s/%s.json", dir, names[i]);
    CHECK(round_trip(path, true) > 0);
  }
}

/* ---- 2. streams written by hand ---- */

/* Join stream s (eof: the transfer ended there) and check the status and
 * answer; the same for s split at every piece size. */
static void expect_n(const char *s, size_t n, bool eof, int status,
                     const char *want)
{
  struct buf out;
  buf_init(&out);
  struct asm_outcome o = asm_run(&chat_assembler, s, n, 0, eof, &out);
  CHECK(o.status == status);
  if(o.status != status)
    printf("#   status %d, why: %s\n", o.status, o.why ? o.why : "(none)");
  CHECK_MEM(out.ptr, out.len, want, strlen(want));
  if(status == 200) {
    struct json_span v;
    CHECK(json_parse(out.ptr, out.len, &v));
  }
  for(size_t step = 1; step < n; step++) {
    buf_reset(&out);
    o = asm_run(&chat_assembler, s, n, step, eof, &out);
    CHECK(o.status == status);
    CHECK_MEM(out.ptr, out.len, want, strlen(want));
  }
  buf_free(&out);
}

#define EXPECT(s, status, want) expect_n(s, sizeof(s) - 1, false, status, want)
#define EXPECT_EOF(s, status, want) expect_n(s, sizeof(s) - 1, true, status, want)

/* Join s; the finish status (0 expected) and why must be want_why. */
static void expect_fail(const char *s, bool eof, enum asm_result last,
                        const char *want_why)
{
  struct buf out;
  buf_init(&out);
  struct asm_outcome o = asm_run(&chat_assembler, s, strlen(s), 0, eof, &out);
  CHECK(o.last == last);
  CHECK(o.status == 0);
  CHECK(out.len == 0);
  CHECK(o.why != NULL);
  if(o.why)
    CHECK_STR(o.why, want_why);
  buf_free(&out);
}

/* OpenAI gpt-4o: the chunk head, a choice entry, the chunk tail */
#define OAI "data: {\"id\":\"chatcmpl-C1\",\"object\":\"chat.completion.chunk\"," \
  "\"created\":1755000000,\"model\":\"gpt-4o-2024-08-06\",\"service_tier\":" \
  "\"default\",\"system_fingerprint\":\"fp_07871e2ad8\",\"choices\":["
#define C(i, d, fr) "{\"index\":" #i ",\"delta\":{" d "},\"logprobs\":null," \
  "\"finish_reason\":" fr "}"
#define UNULL(ob) "],\"usage\":null,\"obfuscation\":\"" ob "\"}\n\n"
#define NOU "]}\n\n"
#define DONE "data: [DONE]\n\n"
#define USAGE "{\"prompt_tokens\":80,\"completion_tokens\":15,\"total_tokens\":95," \
  "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0}," \
  "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0," \
  "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}"
#define OAI_USAGE OAI "],\"usage\":" USAGE ",\"obfuscation\":\"Zq\"}\n\n"
#define TOOL(i, rest) "\"tool_calls\":[{\"index\":" #i rest "}]"
#define ARGS(i, a) TOOL(i, ",\"function\":{\"arguments\":\"" a "\"}")

#define ANS "{\"id\":\"chatcmpl-C1\",\"object\":\"chat.completion\"," \
  "\"created\":1755000000,\"model\":\"gpt-4o-2024-08-06\",\"choices\":["
#define ANS_END "\"service_tier\":\"default\",\"system_fingerprint\":" \
  "\"fp_07871e2ad8\"}"

TEST(openai_tool_call_id_on_first_fragment_only)
{
  EXPECT(OAI C(0, "\"role\":\"assistant\",\"content\":null," TOOL(0,
           ",\"id\":\"call_abc\",\"type\":\"function\",\"function\":{"
           "\"name\":\"get_weather\",\"arguments\":\"\"}") ",\"refusal\":null",
           "null") UNULL("x1")
         OAI C(0, ARGS(0, "{\\\""), "null") UNULL("ab")
         OAI C(0, ARGS(0, "city"), "null") UNULL("")
         OAI C(0, ARGS(0, "\\\":\\\""), "null") UNULL("c")
         OAI C(0, ARGS(0, "Paris"), "null") UNULL("def")
         OAI C(0, ARGS(0, "\\\"}"), "null") UNULL("g")
         OAI C(0, "", "\"tool_calls\"") UNULL("hij")
         OAI_USAGE DONE,
         200,
         ANS "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
         "\"tool_calls\":[{\"id\":\"call_abc\",\"type\":\"function\",\"function\":"
         "{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}],"
         "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],"
         "\"usage\":" USAGE "," ANS_END);
}

TEST(openai_parallel_tool_calls)
{
  /* a role chunk of its own first (the relay-observed form), call 0
   * whole, then call 1 with its own index, id and name; no include_usage */
  EXPECT(OAI C(0, "\"role\":\"assistant\",\"content\":null,\"refusal\":null",
               "null") NOU
         OAI C(0, TOOL(0, ",\"id\":\"call_1\",\"type\":\"function\","
                       "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}"),
               "null") NOU
         OAI C(0, ARGS(0, "{\\\"city\\\": \\\"Paris\\\"}"), "null") NOU
         OAI C(0, TOOL(1, ",\"id\":\"call_2\",\"type\":\"function\","
                       "\"function\":{\"name\":\"get_time\",\"arguments\":\"\"}"),
               "null") NOU
         OAI C(0, ARGS(1, "{\\\"tz\\\""), "null") NOU
         OAI C(0, ARGS(1, ": \\\"CET\\\"}"), "null") NOU
         OAI C(0, "", "\"tool_calls\"") NOU DONE,
         200,
         ANS "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
         "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":"
         "{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\": \\\"Paris\\\"}\"}},"
         "{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":"
         "\"get_time\",\"arguments\":\"{\\\"tz\\\": \\\"CET\\\"}\"}}],"
         "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],"
         ANS_END);
}

TEST(n2_interleaved_sorted_by_index)
{
  EXPECT(OAI C(1, "\"role\":\"assistant\",\"content\":\"\",\"refusal\":null",
               "null") UNULL("a")
         OAI C(0, "\"role\":\"assistant\",\"content\":\"\",\"refusal\":null",
               "null") UNULL("b")
         OAI C(0, "\"content\":\"Hel\"", "null") UNULL("c")
         OAI C(1, "\"content\":\"Bon\"", "null") UNULL("d")
         OAI C(1, "\"content\":\"jour\"", "null") UNULL("e")
         OAI C(0, "\"content\":\"lo\"", "null") UNULL("f")
         OAI C(1, "", "\"stop\"") UNULL("g")
         OAI C(0, "", "\"length\"") UNULL("h")
         OAI_USAGE DONE,
         200,
         ANS "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
         "\"Hello\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":"
         "\"length\"},{\"index\":1,\"message\":{\"role\":\"assistant\","
         "\"content\":\"Bonjour\",\"refusal\":null},\"logprobs\":null,"
         "\"finish_reason\":\"stop\"}],\"usage\":" USAGE "," ANS_END);
}

/* Azure OpenAI: keys sorted, a first chunk with blank metadata */
#define AZ_SAFE "{\"filtered\":false,\"severity\":\"safe\"}"
#define AZ_PF "[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":" \
  AZ_SAFE ",\"jailbreak\":{\"filtered\":false,\"detected\":false}," \
  "\"self_harm\":" AZ_SAFE ",\"sexual\":" AZ_SAFE ",\"violence\":" AZ_SAFE "}}]"
#define AZ_CF(v) "{\"hate\":" AZ_SAFE ",\"self_harm\":" AZ_SAFE ",\"sexual\":" \
  AZ_SAFE ",\"violence\":{\"filtered\":false,\"severity\":\"" v "\"}}"
#define AZ_C(cf, d, fr) "data: {\"choices\":[{\"content_filter_results\":" cf \
  ",\"delta\":{" d "},\"finish_reason\":" fr ",\"index\":0,\"logprobs\":null}]," \
  "\"created\":1760000000,\"id\":\"chatcmpl-AZ1\",\"model\":" \
  "\"gpt-4o-2024-11-20\",\"object\":\"chat.completion.chunk\"," \
  "\"system_fingerprint\":\"fp_ee1d74bde0\"}\n\n"

TEST(azure_blank_first_chunk_and_filter_results)
{
  EXPECT("data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\","
         "\"object\":\"\",\"prompt_filter_results\":" AZ_PF ","
         "\"system_fingerprint\":null}\n\n"
         AZ_C("{}", "\"content\":\"\",\"refusal\":null,\"role\":\"assistant\"",
              "null")
         AZ_C(AZ_CF("safe"), "\"content\":\"The story\"", "null")
         AZ_C(AZ_CF("low"), "\"content\":\" begins\"", "null")
         AZ_C("{}", "", "\"stop\"")
         /* a late filter chunk (async filtering): blank id, no delta */
         "data: {\"choices\":[{\"content_filter_results\":" AZ_CF("medium")
         ",\"index\":0,\"finish_reason\":null}],\"created\":0,\"id\":\"\","
         "\"model\":\"\",\"object\":\"\",\"system_fingerprint\":null}\n\n"
         "data: {\"choices\":[],\"created\":1760000000,\"id\":\"chatcmpl-AZ1\","
         "\"model\":\"gpt-4o-2024-11-20\",\"object\":\"chat.completion.chunk\","
         "\"system_fingerprint\":\"fp_ee1d74bde0\",\"usage\":{\"completion_tokens\":"
         "3,\"prompt_tokens\":21,\"total_tokens\":24}}\n\n" DONE,
         200,
         "{\"id\":\"chatcmpl-AZ1\",\"object\":\"chat.completion\",\"created\":"
         "1760000000,\"model\":\"gpt-4o-2024-11-20\",\"choices\":[{\"index\":0,"
         "\"message\":{\"role\":\"assistant\",\"content\":\"The story begins\","
         "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\","
         "\"content_filter_results\":" AZ_CF("medium") "}],\"usage\":"
         "{\"completion_tokens\":3,\"prompt_tokens\":21,\"total_tokens\":24},"
         "\"system_fingerprint\":\"fp_ee1d74bde0\",\"prompt_filter_results\":"
         AZ_PF "}");
}

TEST(blank_ids_take_model_and_created_after_a_blank_first_chunk)
{
  /* every id "" (a relay that blanks them) after Azure's blank first
   * chunk: the later chunks' model and created replace its blank ones
   * (found by fuzz_trip_chat: the answer had "model":"") */
  EXPECT("data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\","
         "\"object\":\"\",\"prompt_filter_results\":[]}\n\n"
         "data: {\"id\":\"\",\"object\":\"chat.completion.chunk\",\"created\":7,"
         "\"model\":\"m\",\"choices\":[" C(0, "\"role\":\"assistant\","
         "\"content\":\"hi\"", "null") "]}\n\n"
         "data: {\"id\":\"\",\"object\":\"chat.completion.chunk\",\"created\":0,"
         "\"model\":\"\",\"choices\":[" C(0, "", "\"stop\"") "]}\n\n" DONE,
         200,
         "{\"id\":\"\",\"object\":\"chat.completion\",\"created\":7,\"model\":"
         "\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
         "\"content\":\"hi\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
         "\"prompt_filter_results\":[]}");
}

/* DashScope's compatible mode, qwq-plus: reasoning_content pieces, then
 * content pieces, a usage chunk with "choices":[]; keys in its order */
#define DS(ch, u) "data: {\"choices\":[" ch "],\"object\":\"chat.completion.chunk\"," \
  "\"usage\":" u ",\"created\":1741161237,\"system_fingerprint\":null," \
  "\"model\":\"qwq-plus\",\"id\":\"chatcmpl-3f1c\"}\n\n"
#define DSC(d, fr) "{\"delta\":{" d "},\"finish_reason\":" fr ",\"index\":0," \
  "\"logprobs\":null}"
#define DS_USAGE "{\"prompt_tokens\":12,\"completion_tokens\":240," \
  "\"total_tokens\":252,\"completion_tokens_details\":{\"reasoning_tokens\":230}}"

TEST(dashscope_qwq_reasoning_then_content)
{
  EXPECT(DS(DSC("\"content\":null,\"role\":\"assistant\",\"reasoning_content\":\"\"",
                "null"), "null")
         DS(DSC("\"content\":\"\",\"reasoning_content\":\"嗯\"", "null"), "null")
         DS(DSC("\"content\":\"\",\"reasoning_content\":\"，用户\"", "null"), "null")
         DS(DSC("\"content\":\"\",\"reasoning_content\":\"在问候。\\n\"", "null"),
            "null")
         DS(DSC("\"content\":\"你好\",\"reasoning_content\":null", "null"), "null")
         DS(DSC("\"content\":\"！\",\"reasoning_content\":null", "null"), "null")
         DS(DSC("\"content\":\"\",\"reasoning_content\":null", "\"stop\""), "null")
         DS("", DS_USAGE) DONE,
         200,
         "{\"id\":\"chatcmpl-3f1c\",\"object\":\"chat.completion\",\"created\":"
         "1741161237,\"model\":\"qwq-plus\",\"choices\":[{\"index\":0,\"message\":"
         "{\"role\":\"assistant\",\"content\":\"你好！\",\"reasoning_content\":"
         "\"嗯，用户在问候。\\n\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
         "\"usage\":" DS_USAGE ",\"system_fingerprint\":null}");
}

TEST(refusal_stream)
{
  EXPECT(OAI C(0, "\"role\":\"assistant\",\"content\":null,\"refusal\":\"\"",
               "null") NOU
         OAI C(0, "\"refusal\":\"I'm sorry, \"", "null") NOU
         OAI C(0, "\"refusal\":\"I can\\u2019t help.\"", "null") NOU
         OAI C(0, "", "\"stop\"") NOU DONE,
         200,
         ANS "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
         "\"refusal\":\"I'm sorry, I can\\u2019t help.\"},\"logprobs\":null,"
         "\"finish_reason\":\"stop\"}]," ANS_END);
}

#define LP(t, b) "{\"token\":\"" t "\",\"logprob\":-0.5,\"bytes\":" b \
  ",\"top_logprobs\":[]}"
#define CLP(i, d, lp) "{\"index\":" #i ",\"delta\":{" d "},\"logprobs\":" lp \
  ",\"finish_reason\":null}"

TEST(logprobs_entries_appended_once)
{
  /* the role chunk's empty arrays, then each content chunk's entries; a
   * null logprobs later changes nothing */
  EXPECT(OAI CLP(0, "\"role\":\"assistant\",\"content\":\"\",\"refusal\":null",
                 "{\"content\":[],\"refusal\":null}") NOU
         OAI CLP(0, "\"content\":\"Hi\"",
                 "{\"content\":[" LP("Hi", "[72,105]") "],\"refusal\":null}") NOU
         OAI CLP(0, "\"content\":\" there\"",
                 "{\"content\":[" LP(" there", "[32,116,104,101,114,101]")
                 "],\"refusal\":null}") NOU
         OAI C(0, "", "\"stop\"") NOU DONE,
         200,
         ANS "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
         "\"Hi there\",\"refusal\":null},\"logprobs\":{\"content\":["
         LP("Hi", "[72,105]") "," LP(" there", "[32,116,104,101,114,101]")
         "],\"refusal\":null},\"finish_reason\":\"stop\"}]," ANS_END);
}

#define G5 "data: {\"id\":\"chatcmpl-G5\",\"object\":\"chat.completion.chunk\"," \
  "\"created\":1755100000,\"model\":\"gpt-5-nano-2025-08-07\",\"service_tier\":" \
  "\"default\",\"system_fingerprint\":null,\"choices\":["
#define G5C(d, fr) "{\"index\":0,\"delta\":{" d "},\"finish_reason\":" fr "}"

TEST(gpt5_chunks_without_logprobs_key)
{
  EXPECT(G5 G5C("\"role\":\"assistant\",\"content\":\"\",\"refusal\":null",
                "null") "],\"obfuscation\":\"k\"}\n\n"
         G5 G5C("\"content\":\"OK\"", "null") "],\"obfuscation\":\"\"}\n\n"
         G5 G5C("", "\"stop\"") "],\"obfuscation\":\"abc\"}\n\n" DONE,
         200,
         "{\"id\":\"chatcmpl-G5\",\"object\":\"chat.completion\",\"created\":"
         "1755100000,\"model\":\"gpt-5-nano-2025-08-07\",\"choices\":[{\"index\":0,"
         "\"message\":{\"role\":\"assistant\",\"content\":\"OK\",\"refusal\":null},"
         "\"finish_reason\":\"stop\"}],\"service_tier\":\"default\","
         "\"system_fingerprint\":null}");
}

TEST(legacy_function_call)
{
  EXPECT(OAI C(0, "\"role\":\"assistant\",\"content\":null,\"function_call\":"
               "{\"name\":\"get_weather\",\"arguments\":\"\"},\"refusal\":null",
               "null") NOU
         OAI C(0, "\"function_call\":{\"arguments\":\"{\\\"city\\\"\"}", "null") NOU
         OAI C(0, "\"function_call\":{\"arguments\":\":\\\"Oslo\\\"}\"}", "null") NOU
         OAI C(0, "", "\"function_call\"") NOU DONE,
         200,
         ANS "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
         "\"function_call\":{\"name\":\"get_weather\",\"arguments\":"
         "\"{\\\"city\\\":\\\"Oslo\\\"}\"},\"refusal\":null},\"logprobs\":null,"
         "\"finish_reason\":\"function_call\"}]," ANS_END);
}

#define CITE(n) "{\"type\":\"url_citation\",\"url_citation\":{\"end_index\":" #n \
  ",\"start_index\":0,\"title\":\"T\",\"url\":\"https://example.com/" #n "\"}}"

TEST(annotations_elements_kept_in_order)
{
  EXPECT(OAI C(0, "\"role\":\"assistant\",\"content\":\"\",\"refusal\":null",
               "null") NOU
         OAI C(0, "\"content\":\"See example.\"", "null") NOU
         OAI C(0, "\"annotations\":[" CITE(5) "]", "null") NOU
         OAI C(0, "\"annotations\":[" CITE(12) "]", "null") NOU
         OAI C(0, "", "\"stop\"") NOU DONE,
         200,
         ANS "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
         "\"See example.\",\"refusal\":null,\"annotations\":[" CITE(5) ","
         CITE(12) "]},\"logprobs\":null,\"finish_reason\":\"stop\"}]," ANS_END);
}

TEST(vendor_members_last_value_wins)
{
  /* vLLM's "reasoning" joined like reasoning_content; Gemini's
   * extra_content on a tool call, an unknown choice member and an unknown
   * delta member keep their last value; a custom tool call */
  EXPECT(OAI C(0, "\"role\":\"assistant\",\"content\":null,\"reasoning\":\"Let\"",
               "null") NOU
         OAI C(0, "\"reasoning\":\" me think\",\"x_step\":1", "null") NOU
         OAI C(0, TOOL(0, ",\"id\":\"call_g\",\"type\":\"function\","
                       "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"},"
                       "\"extra_content\":{\"google\":{\"thought_signature\":\"c2ln\"}}"),
               "null") NOU
         OAI C(0, TOOL(1, ",\"id\":\"call_c\",\"type\":\"custom\",\"custom\":"
                       "{\"name\":\"sql\",\"input\":\"SELECT\"}"), "null") NOU
         OAI C(0, TOOL(1, ",\"custom\":{\"input\":\" 1\"}") ",\"x_step\":2",
               "null") NOU
         OAI "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":"
         "\"tool_calls\",\"stop_reason\":null}" NOU DONE,
         200,
         ANS "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
         "\"reasoning\":\"Let me think\",\"tool_calls\":[{\"id\":\"call_g\","
         "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"},"
         "\"extra_content\":{\"google\":{\"thought_signature\":\"c2ln\"}}},"
         "{\"id\":\"call_c\",\"type\":\"custom\",\"custom\":{\"name\":\"sql\","
         "\"input\":\"SELECT 1\"}}],\"x_step\":2},\"logprobs\":null,"
         "\"finish_reason\":\"tool_calls\",\"stop_reason\":null}]," ANS_END);
}

TEST(escapes_and_surrogates_copied_raw)
{
  /* a surrogate pair split across two pieces joins into a valid string */
  EXPECT(OAI C(0, "\"role\":\"assistant\",\"content\":\"\\u00e9\"", "null") NOU
         OAI C(0, "\"content\":\"\\ud83d\"", "null") NOU
         OAI C(0, "\"content\":\"\\ude00\\/\\n\"", "null") NOU
         OAI C(0, "\"content\":\"a\",\"content\":\"b\"", "\"stop\"") NOU DONE,
         200,
         ANS "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
         "\"\\u00e9\\ud83d\\ude00\\/\\nb\"},\"logprobs\":null,\"finish_reason\":"
         "\"stop\"}]," ANS_END);
}

TEST(keep_alive_comments_and_crlf)
{
  EXPECT(": keep-alive\r\n\r\n"
         "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
         "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
         "\"assistant\",\"content\":\"a\"},\"finish_reason\":null}]}\r\n\r\n"
         ": keep-alive\r\n\r\n"
         "data:{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
         "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"},"
         "\"finish_reason\":\"stop\"}]}\r\r"
         "data: [DONE]\r\n\r\n",
         200,
         "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":"
         "\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
         "\"content\":\"ab\"},\"finish_reason\":\"stop\"}]}");
}

#define MINI(d, fr) "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\"," \
  "\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{" d \
  "},\"finish_reason\":" fr "}]}\n\n"
#define MINI_ANS(c, fr) "{\"id\":\"c\",\"object\":\"chat.completion\"," \
  "\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":" \
  "{\"role\":\"assistant\",\"content\":" c "},\"finish_reason\":" fr "}]}"

TEST(without_done_complete_or_cut)
{
  /* every choice finished: a whole answer at the end of the transfer */
  EXPECT_EOF(MINI("\"role\":\"assistant\",\"content\":\"hi\"", "null")
             MINI("", "\"stop\""), 200, MINI_ANS("\"hi\"", "\"stop\""));
  /* not finished: not an answer */
  expect_fail(MINI("\"role\":\"assistant\",\"content\":\"hi\"", "null"), true,
              ASM_MORE, "the stream ended before every choice finished");
  /* one of two choices finished */
  expect_fail("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},"
              "\"finish_reason\":\"stop\"},{\"index\":1,\"delta\":{\"content\":"
              "\"b\"},\"finish_reason\":null}]}\n\n", true, ASM_MORE,
              "the stream ended before every choice finished");
  /* finish before the end of the transfer */
  expect_fail(MINI("\"content\":\"hi\"", "\"stop\""), false, ASM_MORE,
              "the stream has not ended");
  /* no choice at all, with or without [DONE]; no event at all */
  expect_fail(OAI_USAGE DONE, false, ASM_END, "the stream carried no choice");
  expect_fail(OAI_USAGE, true, ASM_MORE, "the stream carried no choice");
  expect_fail(": only a comment\n\n", true, ASM_MORE,
              "the stream carried no choice");
}

TEST(done_without_finish_reason_is_null)
{
  /* the non-streamed API answers finish_reason null for such a choice
   * (fixture finish-content-filter-null) */
  EXPECT(MINI("\"role\":\"assistant\",\"content\":\"cut\"", "null") DONE, 200,
         MINI_ANS("\"cut\"", "null"));
}

TEST(content_key_absent_gives_null_and_empty_stays_empty)
{
  EXPECT(MINI("\"role\":\"assistant\"", "null") MINI("", "\"stop\"") DONE, 200,
         MINI_ANS("null", "\"stop\""));
  EXPECT(MINI("\"role\":\"assistant\",\"content\":\"\"", "null")
         MINI("\"content\":null", "\"stop\"") DONE, 200,
         MINI_ANS("\"\"", "\"stop\""));
}

#define ERR_RL "{\"error\":{\"message\":\"Rate limit reached\",\"type\":" \
  "\"rate_limit_error\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}"
#define ERR_DS "{\"error\":{\"code\":\"invalid_parameter_error\",\"param\":null," \
  "\"message\":\"This model only support stream mode, please enable the " \
  "stream parameter to access the model. \",\"type\":" \
  "\"invalid_request_error\"},\"id\":\"chatcmpl-9\",\"request_id\":\"r-1\"}"

TEST(error_chunks_become_the_answer)
{
  /* an error chunk mid-stream: its bytes as received, its status */
  EXPECT(MINI("\"role\":\"assistant\",\"content\":\"par\"", "null")
         "data: " ERR_RL "\n\n" DONE, 429, ERR_RL);
  EXPECT("data: " ERR_DS "\n\n", 400, ERR_DS);
  /* event: error without an error member: the data is the error object */
  EXPECT("event: error\ndata: {\"message\":\"boom\",\"type\":\"server_error\"}\n\n",
         500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}");
  /* event: error with one (Anthropic's shape): as received */
  EXPECT("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
         "\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n", 529,
         "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
         "\"message\":\"Overloaded\"}}");
  /* a falsy error member is no error (openai-node: data.error) */
  EXPECT("data: {\"error\":null,\"choices\":[{\"index\":0,\"delta\":{\"content\":"
         "\"x\"},\"finish_reason\":\"stop\"}]}\n\n" DONE, 200,
         "{\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
         "{\"role\":\"assistant\",\"content\":\"x\"},\"finish_reason\":\"stop\"}],"
         "\"error\":null}");
  /* other event names are read as chunks, as openai-node does */
  EXPECT("event: message\n" MINI("\"content\":\"y\"", "\"stop\"")
         "event: ping\n" DONE, 200, MINI_ANS("\"y\"", "\"stop\""));
}

TEST(malformed_streams_refused)
{
  expect_fail("data: {\"id\":\n\n", false, ASM_BAD, "event data is not JSON");
  expect_fail("data: [1,2]\n\n", false, ASM_BAD,
              "event data is not a JSON object");
  expect_fail("event: ping\n\n", false, ASM_BAD, "event data is not JSON");
  expect_fail("data: {\"id\":\"x\"}\n\n", false, ASM_BAD,
              "a chunk without a choices array");
  expect_fail("data: {\"object\":\"text_completion\",\"choices\":[]}\n\n", true,
              ASM_BAD, "not a chat.completion.chunk");
  expect_fail("data: {\"choices\":[{\"index\":128,\"delta\":{}}]}\n\n", true,
              ASM_BAD, "a choice has no valid index");
  expect_fail("data: {\"choices\":[{\"index\":-1,\"delta\":{}}]}\n\n", true,
              ASM_BAD, "a choice has no valid index");
  expect_fail("data: {\"choices\":[{\"delta\":{}}]}\n\n", true, ASM_BAD,
              "a choice has no valid index");
  expect_fail(MINI("\"content\":5", "null"), true, ASM_BAD,
              "a delta's text is not a string or null");
  expect_fail(MINI("\"tool_calls\":[{\"id\":\"c\"}]", "null"), true, ASM_BAD,
              "a tool call delta has no valid index");
  expect_fail(MINI("\"audio\":{\"id\":\"a\",\"data\":\"UklG\"}", "null"), true,
              ASM_BAD, "audio deltas are not joined");
  expect_fail("event: thread.run.created\ndata: {}\n\n", false, ASM_BAD,
              "an Assistants thread event");
  expect_fail(MINI("\"content\":\"x\"", "5"), true, ASM_BAD,
              "a finish_reason is not a string or null");
  /* an empty finish_reason is none (the SDK: if(finish_reason)) */
  expect_fail(MINI("\"content\":\"x\"", "\"\""), true, ASM_MORE,
              "the stream ended before every choice finished");
  /* a delta with more unknown members than any answer has */
  {
    struct buf s;
    buf_init(&s);
    buf_puts(&s, "data: {\"choices\":[{\"index\":0,\"delta\":{");
    for(int i = 0; i < 65; i++) {
      char m[32];
      snprintf(m, sizeof(m), "%s\"x%d\":%d", i ? "," : "", i, i);
      buf_puts(&s, m);
    }
    buf_puts(&s, "},\"finish_reason\":\"stop\"}]}\n\n");
    expect_fail(buf_cstr(&s), true, ASM_BAD, "too many unknown members");
    buf_free(&s);
  }
  /* a tool call that never got its name */
  expect_fail(MINI(TOOL(0, ",\"function\":{\"arguments\":\"{}\"}"), "\"tool_calls\"")
              DONE, false, ASM_END, "a tool call without a name");
}

TEST(finish_is_repeatable_and_events_after_end_ignored)
{
  static const char s[] = MINI("\"content\":\"z\"", "\"stop\"") DONE;
  struct buf a, b;
  const char *why = NULL;
  void *st = chat_assembler.open();
  struct sse_reader r;
  struct asm_feed f = {&chat_assembler, st, ASM_MORE, NULL, 0};
  size_t used;
  struct sse_event late = {"", 0, "{\"choices\":[]}", 14};
  buf_init(&a);
  buf_init(&b);
  sse_read_init(&r, 0);
  CHECK(sse_read_feed(&r, s, sizeof(s) - 1, asm_feed_event, &f, &used) ==
        SSE_READ_STOPPED);
  CHECK(used == sizeof(s) - 1);
  CHECK(f.last == ASM_END);
  CHECK(chat_assembler.event(st, &late, &why) == ASM_END);
  CHECK(chat_assembler.finish(st, false, &a, &why) == 200);
  CHECK(chat_assembler.finish(st, true, &b, &why) == 200);
  CHECK_MEM(a.ptr, a.len, b.ptr, b.len);
  CHECK_STR(buf_cstr(&a), MINI_ANS("\"z\"", "\"stop\""));
  chat_assembler.close(st);
  sse_read_free(&r);
  buf_free(&a);
  buf_free(&b);
}

TEST(assembler_for_endpoints)
{
  CHECK(assembler_for(EP_CHAT) == &chat_assembler);
  CHECK(assembler_for(EP_COMPLETIONS) == &completions_assembler);
  CHECK(assembler_for(EP_NONE) == NULL);
}

int main(void)
{
  RUN(every_chat_fixture_round_trips);
  RUN(some_fixtures_in_every_split);
  RUN(openai_tool_call_id_on_first_fragment_only);
  RUN(openai_parallel_tool_calls);
  RUN(n2_interleaved_sorted_by_index);
  RUN(azure_blank_first_chunk_and_filter_results);
  RUN(blank_ids_take_model_and_created_after_a_blank_first_chunk);
  RUN(dashscope_qwq_reasoning_then_content);
  RUN(refusal_stream);
  RUN(logprobs_entries_appended_once);
  RUN(gpt5_chunks_without_logprobs_key);
  RUN(legacy_function_call);
  RUN(annotations_elements_kept_in_order);
  RUN(vendor_members_last_value_wins);
  RUN(escapes_and_surrogates_copied_raw);
  RUN(keep_alive_comments_and_crlf);
  RUN(without_done_complete_or_cut);
  RUN(done_without_finish_reason_is_null);
  RUN(content_key_absent_gives_null_and_empty_stays_empty);
  RUN(error_chunks_become_the_answer);
  RUN(malformed_streams_refused);
  RUN(finish_is_repeatable_and_events_after_end_ignored);
  RUN(assembler_for_endpoints);
  return check_done();
}
