/* test_sse_responses_more.c - the Responses API replay, continued (see
 * test_sse_responses.c): logprobs replayed token by token and refused
 * when their bytes do not spell the text, determinism, a 1 MiB text
 * streamed in bounded events, the out-of-memory undo, and the answers the
 * encoder must refuse. */
#include "check.h"
#include "sse_responses_check.h"

static const char text_answer[] = TEXT_ANSWER;

TEST(logprobs_follow_tokens)
{
#define LP(tok, bytes, top)                                              \
  "{\"token\":\"" tok "\",\"bytes\":[" bytes "],\"logprob\":-0.5,"        \
  "\"top_logprobs\":[" top "]}"
#define LPE(tok, top) "{\"token\":\"" tok "\",\"logprob\":-0.5,"          \
  "\"top_logprobs\":[" top "]}"
#define TOPLP "{\"token\":\"Hi\",\"bytes\":[72,105],\"logprob\":-0.1}"
#define TOPLPE "{\"token\":\"Hi\",\"logprob\":-0.1}"
#define LPS LP("Hi", "72,105", TOPLP) "," LP("\\\\x", "195", "") ","     \
  LP("\\\\xa9", "169", "") "," LP(" \\\"", "32,34", "")
#define LPART "{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[" \
  LPS "],\"text\":\"Hi\\u00e9 \\\"\"}"
  expect(ANSWER(MSG("msg_l", "completed", LPART)), 1,
         HEAD2
         EVT("response.output_item.added", 2,
             ",\"output_index\":0,\"item\":" MSG_START("msg_l"))
         EVT("response.content_part.added", 3,
             REF("msg_l", 0) CI(0) ",\"part\":" TEXT_PART(""))
         EVT("response.output_text.delta", 4,
             REF("msg_l", 0) CI(0) ",\"delta\":\"Hi\",\"logprobs\":["
             LPE("Hi", TOPLPE) "]")
         EVT("response.output_text.delta", 5,
             REF("msg_l", 0) CI(0) ",\"delta\":\"\\u00e9\",\"logprobs\":["
             LPE("\\\\x", "") "," LPE("\\\\xa9", "") "]")
         EVT("response.output_text.delta", 6,
             REF("msg_l", 0) CI(0) ",\"delta\":\" \\\"\",\"logprobs\":["
             LPE(" \\\"", "") "]")
         EVT("response.output_text.done", 7,
             REF("msg_l", 0) CI(0) ",\"text\":\"Hi\\u00e9 \\\"\",\"logprobs\":["
             LPE("Hi", TOPLPE) "," LPE("\\\\x", "") "," LPE("\\\\xa9", "") ","
             LPE(" \\\"", "") "]")
         EVT("response.content_part.done", 8,
             REF("msg_l", 0) CI(0) ",\"part\":" LPART)
         EVT("response.output_item.done", 9, ",\"output_index\":0,\"item\":"
             MSG("msg_l", "completed", LPART))
         EVT("response.completed", 10, ",\"response\":"
             ANSWER(MSG("msg_l", "completed", LPART))));
}

/* Logprobs that do not spell the text are refused. */
TEST(logprobs_must_spell_the_text)
{
#define LPMSG(bytes, text)                                               \
  ANSWER(MSG("m", "completed", "{\"type\":\"output_text\",\"annotations\"" \
             ":[],\"logprobs\":[{\"token\":\"a\",\"bytes\":[" bytes "],"  \
             "\"logprob\":0,\"top_logprobs\":[]}],\"text\":\"" text "\"}"))
  CHECK(refusal(LPMSG("97", "a")) == NULL);
  CHECK(refusal(LPMSG("226,130,172", "\\u20ac")) == NULL);
  CHECK(refusal(LPMSG("240,159,152,128", "\\ud83d\\ude00")) == NULL);
  CHECK(refused(LPMSG("97", "ab"), "spell"));
  CHECK(refused(LPMSG("97,98", "a"), "spell"));
  CHECK(refused(LPMSG("98", "a"), "spell"));
  CHECK(refused(LPMSG("256", "a"), "logprob entry"));
  CHECK(refused(LPMSG("-1", "a"), "logprob entry"));
  CHECK(refused(LPMSG("237,160,189", "\\ud83d"), "spell"));
  CHECK(refused(ANSWER(MSG("m", "completed", "{\"type\":\"output_text\","
                           "\"annotations\":[],\"logprobs\":[{\"token\":"
                           "\"a\",\"logprob\":0}],\"text\":\"a\"}")),
                "logprob entry"));
}

/* custom_tool_call: input deltas; web_search_call: its three status
 * events, the action only in the done item. */

TEST(deterministic)
{
  struct buf a, b;
  buf_init(&a);
  buf_init(&b);
  CHECK(replay(text_answer, strlen(text_answer), 2, 0, &a) > 0);
  CHECK(replay(text_answer, strlen(text_answer), 2, 0, &b) > 0);
  CHECK_MEM(a.ptr, a.len, b.ptr, b.len);
  buf_free(&a);
  buf_free(&b);
}

/* The first "\n\n" in [p, end), or NULL. */
static const char *find_blank(const char *p, const char *end)
{
  for(; p + 1 < end; p++)
    if(p[0] == '\n' && p[1] == '\n')
      return p;
  return NULL;
}

/* Append to raw the raw text of every "delta" of events of type `type`
 * in [p, end); the number of such events. */
static long deltas(const char *p, const char *end, const char *type,
                   struct buf *raw)
{
  long n = 0;
  size_t tl = strlen(type);
  while(p < end) {
    const char *nl = find_blank(p, end);
    const char *data;
    struct json_span v, d;
    if(!nl)
      break;
    data = memchr(p, '\n', (size_t)(nl - p)) + 7;
    if((size_t)(nl - p) > 7 + tl && !memcmp(p + 7, type, tl) &&
       p[7 + tl] == '\n' && json_parse(data, (size_t)(nl - data), &v) &&
       json_get(v, "delta", &d) && d.type == JSON_STRING) {
      buf_append(raw, d.ptr + 1, d.len - 2);
      n++;
    }
    p = nl + 2;
  }
  return n;
}

/* A 1 MiB text streams in small delta events that rebuild it; pieces
 * never split a character, an escape or a surrogate pair. */
TEST(one_mib_streams_incrementally)
{
  static const char word[] = "lorem \xc3\xa9\xf0\x9f\x98\x80 \\ud83d\\ude00"
                             "ipsum\\n \\\"q\\\" \\\\ ";
  struct buf text, a, all, raw;
  long events, n;
  buf_init(&text);
  buf_init(&a);
  buf_init(&all);
  buf_init(&raw);
  while(text.len < (1u << 20) + 7)
    buf_puts(&text, word);
  buf_puts(&a, "{" TOP_MEMBERS ",\"output\":[{\"id\":\"msg_big\","
               "\"type\":\"message\",\"status\":\"completed\",\"content\":"
               "[{\"type\":\"output_text\",\"annotations\":[],\"text\":\"");
  buf_append(&a, text.ptr, text.len);
  buf_puts(&a, "\"}],\"role\":\"assistant\"}]}");
  events = replay(a.ptr, a.len, 16, 0, &all);
  n = deltas(all.ptr, all.ptr + all.len, "response.output_text.delta", &raw);
  CHECK(n > (long)(text.len / (16 * 12)));
  CHECK(events == n + 8);
  CHECK_MEM(raw.ptr, raw.len, text.ptr, text.len);
  buf_free(&text);
  buf_free(&a);
  buf_free(&all);
  buf_free(&raw);
}

/* An event refused for lack of memory is produced again after a reset,
 * with the same sequence number; every event of a replay survives it. */
TEST(oom_event_is_redone)
{
  struct replay_opts o = {3, false};
  const char *why = NULL;
  struct buf ev, all, want;
  int r;
  void *e =
    sse_responses_encoder.open(text_answer, strlen(text_answer), &o, &why);
  CHECK(e != NULL);
  if(!e)
    return;
  buf_init(&ev);
  buf_init(&all);
  buf_init(&want);
  for(;;) {
    ev.oom = true;
    CHECK(sse_responses_encoder.next(e, &ev) == -1 || ev.len == 0);
    CHECK(ev.len == 0);
    buf_reset(&ev);
    r = sse_responses_encoder.next(e, &ev);
    if(r != 1)
      break;
    buf_append(&all, ev.ptr, ev.len);
    buf_reset(&ev);
  }
  CHECK(r == 0);
  CHECK(replay(text_answer, strlen(text_answer), 3, 0, &want) == 11);
  CHECK_MEM(all.ptr, all.len, want.ptr, want.len);
  sse_responses_encoder.close(e);
  buf_free(&ev);
  buf_free(&all);
  buf_free(&want);
}

/* ---- refusals ---- */

TEST(refuses_what_it_cannot_replay)
{
  CHECK(refused("", "not a JSON object"));
  CHECK(refused("[]", "not a JSON object"));
  CHECK(refused("{\"object\":\"chat.completion\"}", "not a response"));
  CHECK(refused("{\"error\":{\"message\":\"no\"}}", "not a response"));
  CHECK(refused("{\"object\":\"response\",\"status\":\"completed\","
                "\"output\":[]}", "id"));
  CHECK(refused("{\"id\":\"r\",\"object\":\"response\",\"status\":"
                "\"in_progress\",\"output\":[]}", "status"));
  CHECK(refused("{\"id\":\"r\",\"object\":\"response\",\"status\":"
                "\"cancelled\",\"output\":[]}", "status"));
  CHECK(refused("{\"id\":\"r\",\"object\":\"response\",\"status\":"
                "\"completed\",\"output\":{}}", "output"));
  CHECK(refused(ANSWER("{\"id\":\"fs_1\",\"type\":\"file_search_call\","
                       "\"status\":\"completed\",\"queries\":[],"
                       "\"results\":null}"), "type not replayed"));
  CHECK(refused(ANSWER("{\"id\":\"ig_1\",\"type\":\"image_generation_call\","
                       "\"status\":\"completed\",\"result\":\"iVBO\"}"),
                "type not replayed"));
  CHECK(refused(ANSWER("{\"id\":\"mcp_1\",\"type\":\"mcp_call\"}"),
                "type not replayed"));
  CHECK(refused(ANSWER("[]"), "output item"));
  CHECK(refused(ANSWER("{\"type\":\"message\",\"status\":\"completed\","
                       "\"content\":[],\"role\":\"assistant\"}"), "id"));
  CHECK(refused(ANSWER("{\"id\":\"m\",\"type\":\"message\",\"status\":"
                       "\"completed\",\"content\":[],\"role\":\"assistant\","
                       "\"audio\":null}"), "unknown members"));
  CHECK(refused(ANSWER(MSG("m", "completed", "{\"type\":\"output_audio\","
                           "\"data\":\"\"}")), "part type"));
  CHECK(refused(ANSWER(MSG("m", "completed", "{\"type\":\"output_text\","
                           "\"text\":\"a\",\"annotations\":[],\"x\":1}")),
                "unknown members"));
  CHECK(refused(ANSWER(MSG("m", "completed", "{\"type\":\"output_text\","
                           "\"text\":1}")), "text is not a string"));
  CHECK(refused(ANSWER(MSG("m", "completed", "{\"type\":\"output_text\","
                           "\"text\":\"a\",\"annotations\":{}}")),
                "annotations"));
  CHECK(refused(ANSWER(MSG("m", "completed", "{\"type\":\"refusal\","
                           "\"refusal\":null}")), "refusal part"));
  CHECK(refused(ANSWER("{\"id\":\"f\",\"type\":\"function_call\","
                       "\"arguments\":{},\"call_id\":\"c\",\"name\":\"n\"}"),
                "string member"));
  CHECK(refused(ANSWER("{\"id\":\"f\",\"type\":\"function_call\","
                       "\"arguments\":\"\",\"call_id\":\"c\",\"name\":\"n\","
                       "\"parsed\":null}"), "unknown members"));
  CHECK(refused(ANSWER(RS("{\"type\":\"summary_text\"}", "")),
                "reasoning part"));
  CHECK(refused(ANSWER(RS("", ",\"content\":[{\"type\":\"summary_text\","
                              "\"text\":\"a\"}]")), "reasoning part"));
  CHECK(refused(ANSWER("{\"id\":\"ws\",\"type\":\"web_search_call\","
                       "\"status\":\"failed\"}"), "not completed"));
  CHECK(refused(ANSWER("{\"id\":\"m\",\"type\":\"message\",\"status\":7,"
                       "\"content\":[]}"), "status"));
}

TEST(accepts_minimal_valid)
{
  CHECK(refusal("{\"id\":\"r\",\"object\":\"response\",\"status\":"
                "\"completed\",\"output\":[]}") == NULL);
  CHECK(refusal(text_answer) == NULL);
  CHECK(refusal(ANSWER(MSG("m", "completed", "{\"type\":\"output_text\","
                           "\"text\":\"a\"}"))) == NULL);
}

int main(void)
{
  RUN(logprobs_follow_tokens);
  RUN(logprobs_must_spell_the_text);
  RUN(deterministic);
  RUN(one_mib_streams_incrementally);
  RUN(oom_event_is_redone);
  RUN(refuses_what_it_cannot_replay);
  RUN(accepts_minimal_valid);
  return check_done();
}
