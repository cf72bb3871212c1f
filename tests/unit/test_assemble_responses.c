/* test_assemble_responses.c - the Responses API assembler
 * (hooks/pure/assemble_responses.c): every fixture round-trips through the
 * encoder and back; real-shaped streams give the exact answer bytes; the
 * error event becomes the non-streaming error body with its status; a
 * stream that is cut short, or is not a Responses stream, is refused. */
#include "check.h"
#include "asm_events_check.h"
#include "sse_responses.h"

static const struct assembler *const A = &responses_assembler;

/* ---- real-shaped streams (gpt-5 recording, spec section 4) ---- */

#define EVN(t, n, x) \
  "event: " t "\ndata: {\"type\":\"" t "\",\"sequence_number\":" #n x "}\n\n"
#define TOP(status)                                                        \
  "\"id\":\"resp_68af4030592c81938ec0a5fbab4a3e9f05438e46b5f69a3b\","       \
  "\"object\":\"response\",\"created_at\":1756315696,\"status\":\"" status \
  "\",\"background\":false,\"error\":null,\"incomplete_details\":null,"      \
  "\"instructions\":null,\"max_output_tokens\":null,"                       \
  "\"model\":\"gpt-5-2025-08-07\""
#define RESP_START "{" TOP("in_progress") ",\"output\":[]," \
                                          "\"parallel_tool_calls\":" \
  "true,\"service_tier\":\"auto\",\"usage\":null,\"metadata\":{}}"
#define USAGE_DONE                                                          \
  "\"usage\":{\"input_tokens\":11,\"input_tokens_details\":" \
  "{\"cached_tokens\":0}," \
  "\"output_tokens\":10,\"output_tokens_details\":{\"reasoning_tokens\":0}," \
  "\"total_tokens\":21}"
#define MSG_DONE                                                            \
  "{\"id\":\"msg_68af40337fc08193a4e3bcd8\",\"type\":\"message\","           \
  "\"status\":\"completed\",\"content\":[{\"type\":\"output_text\","         \
  "\"annotations\":[],\"logprobs\":[],\"text\":\"Hello! \\u00bfQu\\u00e9 "  \
  "tal?\"}],\"role\":\"assistant\"}"
#define RESP_DONE "{" TOP("completed") ",\"output\":[" MSG_DONE "],"         \
  "\"parallel_tool_calls\":true,\"service_tier\":\"default\"," USAGE_DONE    \
  ",\"metadata\":{}}"
#define REF ",\"item_id\":\"msg_68af40337fc08193a4e3bcd8\",\"output_index\":" \
            "0," \
  "\"content_index\":0"
#define HEAD                                                                \
  EVN("response.created", 0, ",\"response\":" RESP_START)                   \
  EVN("response.in_progress", 1, ",\"response\":" RESP_START)
#define TEXT_BODY                                                           \
  EVN("response.output_item.added", 2, ",\"output_index\":0,\"item\":"      \
      "{\"id\":\"msg_68af40337fc08193a4e3bcd8\",\"type\":\"message\","       \
      "\"status\":\"in_progress\",\"content\":[],\"role\":\"assistant\"}")  \
  EVN("response.content_part.added", 3, REF ",\"part\":{\"type\":"          \
      "\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\"\"}")   \
  EVN("response.output_text.delta", 4, REF ",\"delta\":\"Hello!\","         \
      "\"logprobs\":[],\"obfuscation\":\"KyUW3cc3Hj\"")                      \
  EVN("response.output_text.delta", 5, REF ",\"delta\":\" \\u00bfQu\\u00e9\"," \
      "\"logprobs\":[],\"obfuscation\":\"y1\"")                              \
  EVN("response.output_text.delta", 6, REF ",\"delta\":\" tal?\","          \
      "\"logprobs\":[],\"obfuscation\":\"Zq0\"")                             \
  EVN("response.output_text.done", 7, REF ",\"text\":\"Hello! \\u00bfQu"    \
      "\\u00e9 tal?\",\"logprobs\":[]")                                      \
  EVN("response.content_part.done", 8, REF ",\"part\":{\"type\":"           \
      "\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":"         \
      "\"Hello! \\u00bfQu\\u00e9 tal?\"}")                                   \
  EVN("response.output_item.done", 9, ",\"output_index\":0,\"item\":" MSG_DONE)
#define TEXT_STREAM HEAD TEXT_BODY \
  EVN("response.completed", 10, ",\"response\":" RESP_DONE)

/* Run a over NUL-terminated stream s; expect status and body bytes. */
static void expect(const char *s, enum asm_result last, int status,
                   const char *body)
{
  struct buf out;
  enum asm_result r;
  const char *why;
  buf_init(&out);
  CHECK(asm_run(A, s, strlen(s), &out, &r, &why) == status);
  CHECK(r == last);
  CHECK_MEM(out.ptr, out.len, body, strlen(body));
  buf_free(&out);
}

/* Run a over stream s; expect it refused (finish 0) for reason why_want
 * (a prefix), with the last event's result last. */
static void expect_refused(const char *s, enum asm_result last,
                           const char *why_want)
{
  struct buf out;
  enum asm_result r;
  const char *why;
  buf_init(&out);
  CHECK(asm_run(A, s, strlen(s), &out, &r, &why) == 0);
  CHECK(r == last);
  CHECK(out.len == 0);
  CHECK(why != NULL && !strncmp(why, why_want, strlen(why_want)));
  if(why && strncmp(why, why_want, strlen(why_want)))
    printf("#   why: %s\n", why);
  buf_free(&out);
}

TEST(text_answer_is_the_completed_response)
{
  expect(TEXT_STREAM, ASM_END, 200, RESP_DONE);
}

TEST(function_call_answer)
{
#define FC_ITEM(st, args)                                                   \
  "{\"id\":\"fc_68af4031\",\"type\":\"function_call\",\"status\":\"" st     \
  "\",\"arguments\":\"" args "\",\"call_id\":\"call_Dht\",\"name\":" \
                             "\"get_weather\"}"
#define FC_REF ",\"item_id\":\"fc_68af4031\",\"output_index\":0"
#define FC_RESP "{" TOP("completed") ",\"output\":["                        \
  FC_ITEM("completed", "{\\\"city\\\":\\\"Bogot\\u00e1\\\"}") "],"           \
  "\"parallel_tool_calls\":true,\"service_tier\":\"default\"," USAGE_DONE    \
  ",\"metadata\":{}}"
  expect(HEAD
         EVN("response.output_item.added", 2, ",\"output_index\":0,\"item\":"
             FC_ITEM("in_progress", ""))
         EVN("response.function_call_arguments.delta", 3,
             FC_REF ",\"delta\":\"{\\\"city\\\":\",\"obfuscation\":\"a\"")
         EVN("response.function_call_arguments.delta", 4,
             FC_REF ",\"delta\":\"\\\"Bogot\\u00e1\\\"}\",\"obfuscation\":"
                    "\"b\"")
         EVN("response.function_call_arguments.done", 5,
             FC_REF ",\"arguments\":\"{\\\"city\\\":\\\"Bogot\\u00e1\\\"}\"")
         EVN("response.output_item.done", 6, ",\"output_index\":0,\"item\":"
             FC_ITEM("completed", "{\\\"city\\\":\\\"Bogot\\u00e1\\\"}"))
         EVN("response.completed", 7, ",\"response\":" FC_RESP),
         ASM_END, 200, FC_RESP);
}

TEST(incomplete_answer)
{
#define INC_RESP "{\"id\":\"resp_2\",\"object\":\"response\",\"status\":"  \
  "\"incomplete\",\"error\":null,\"incomplete_details\":{\"reason\":"        \
  "\"max_output_tokens\"},\"model\":\"o3\",\"output\":[{\"id\":\"rs_1\","    \
  "\"type\":\"reasoning\",\"summary\":[]}],\"usage\":{\"input_tokens\":8,"   \
  "\"output_tokens\":16,\"total_tokens\":24}}"
  expect(HEAD
         EVN("response.output_item.added", 2, ",\"output_index\":0,\"item\":"
             "{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[]}")
         EVN("response.output_item.done", 3, ",\"output_index\":0,\"item\":"
             "{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[]}")
         EVN("response.incomplete", 4, ",\"response\":" INC_RESP),
         ASM_END, 200, INC_RESP);
}

TEST(failed_answer_is_a_200_like_the_api)
{
#define FAIL_RESP "{\"id\":\"resp_3\",\"object\":\"response\",\"status\":" \
  "\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"The model " \
  "produced invalid content.\"},\"output\":[],\"usage\":null}"
  expect(HEAD EVN("response.failed", 2, ",\"response\":" FAIL_RESP),
         ASM_END, 200, FAIL_RESP);
}

TEST(no_event_lines)
{
  /* the same stream with its event: lines dropped: data.type decides */
  static const char with[] = TEXT_STREAM;
  struct buf s;
  const char *p = with, *end = with + sizeof(with) - 1;
  buf_init(&s);
  while(p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if(strncmp(p, "event: ", 7))
      buf_append(&s, p, (size_t)(nl + 1 - p));
    p = nl + 1;
  }
  buf_cstr(&s);
  CHECK(!strstr(s.ptr, "event:"));
  expect(s.ptr, ASM_END, 200, RESP_DONE);
  buf_free(&s);
}

TEST(other_events_are_not_looked_into)
{
  /* unknown types, keepalive, queued, gaps in sequence_number */
  expect(HEAD
         EVN("response.queued", 2, ",\"response\":" RESP_START)
         "data: {\"type\":\"keepalive\",\"sequence_number\":7}\n\n"
         EVN("response.future_event.delta", 40, ",\"x\":[1,2]")
         ": a comment\n\n"
         EVN("response.completed", 3, ",\"response\":" RESP_DONE),
         ASM_END, 200, RESP_DONE);
}

/* ---- errors ---- */

TEST(error_event_flat)
{
  expect(HEAD EVN("error", 2, ",\"code\":\"rate_limit_exceeded\","
                  "\"message\":\"Rate limit reached for o3\",\"param\":null"),
         ASM_ERROR, 429,
         "{\"error\":{\"message\":\"Rate limit reached for o3\",\"type\":"
         "\"rate_limit_exceeded\",\"param\":null,\"code\":"
         "\"rate_limit_exceeded\"}}");
  expect(EVN("error", 0, ",\"code\":\"server_error\",\"message\":\"An "
             "error occurred.\",\"param\":null"),
         ASM_ERROR, 500,
         "{\"error\":{\"message\":\"An error occurred.\",\"type\":"
         "\"server_error\",\"param\":null,\"code\":\"server_error\"}}");
  /* unknown code: a server error; absent members are null */
  expect("event: error\ndata: {\"type\":\"error\",\"code\":\"invalid_prompt\"}"
         "\n\n", ASM_ERROR, 500,
         "{\"error\":{\"message\":null,\"type\":\"server_error\",\"param\":"
         "null,\"code\":\"invalid_prompt\"}}");
  /* a code that is a status */
  expect("data: {\"type\":\"error\",\"code\":429,\"message\":\"slow\"}\n\n",
         ASM_ERROR, 429,
         "{\"error\":{\"message\":\"slow\",\"type\":\"invalid_request_error\","
         "\"param\":null,\"code\":429}}");
  /* a gateway that names the event error and types the data itself */
  expect("event: error\ndata: {\"type\":\"invalid_request_error\","
         "\"message\":\"bad\",\"param\":\"input\",\"code\":null}\n\n",
         ASM_ERROR, 400,
         "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\","
         "\"param\":\"input\",\"code\":null}}");
}

TEST(error_event_nested_and_gateway)
{
  /* first-party servers nest the error object: copied as it came */
#define NESTED "{\"type\":\"invalid_request_error\",\"code\":"             \
  "\"context_length_exceeded\",\"message\":\"Your input exceeds the "       \
  "context window of this model.\",\"param\":\"input\"}"
  expect(HEAD EVN("error", 2, ",\"error\":" NESTED), ASM_ERROR, 400,
         "{\"error\":" NESTED "}");
  /* without event lines too */
  expect("data: {\"type\":\"error\",\"sequence_number\":0,\"error\":" NESTED
         "}\n\n", ASM_ERROR, 400, "{\"error\":" NESTED "}");
  /* a data with a top-level error object and no type (a proxy's) */
  expect(HEAD "data: {\"error\":{\"message\":\"upstream overloaded\","
              "\"type\":\"overloaded_error\"}}\n\n",
         ASM_ERROR, 529,
         "{\"error\":{\"message\":\"upstream overloaded\",\"type\":"
         "\"overloaded_error\"}}");
}

/* ---- refusals ---- */

TEST(cut_short)
{
  expect_refused(HEAD TEXT_BODY, ASM_MORE,
                 "the stream ended before response.completed");
  expect_refused("", ASM_MORE, "the stream ended before response.completed");
  /* finish before the end of the transfer */
  struct buf out;
  const char *why = NULL;
  void *st = A->open();
  buf_init(&out);
  CHECK(asm_feed(A, st, HEAD, strlen(HEAD), &why, NULL) == ASM_MORE);
  CHECK(A->finish(st, false, &out, &why) == 0);
  CHECK_STR(why, "the stream has not ended");
  A->close(st);
  buf_free(&out);
}

TEST(done_before_and_after_the_terminal_event)
{
  expect_refused(HEAD "data: [DONE]\n\n", ASM_BAD,
                 "[DONE] before response.completed");
  /* after the terminal event, [DONE] (and anything) changes nothing */
  struct buf out;
  const char *why = NULL;
  void *st = A->open();
  buf_init(&out);
  CHECK(asm_feed(A, st, TEXT_STREAM, strlen(TEXT_STREAM), &why, NULL) ==
        ASM_END);
  CHECK(asm_feed(A, st, "data: [DONE]\n\n", 14, &why, NULL) == ASM_END);
  CHECK(asm_feed(A, st, "data: x\n\n", 9, &why, NULL) == ASM_END);
  CHECK(A->finish(st, true, &out, &why) == 200);
  CHECK_MEM(out.ptr, out.len, RESP_DONE, strlen(RESP_DONE));
  A->close(st);
  buf_free(&out);
}

TEST(not_a_responses_stream)
{
  expect_refused(HEAD "event: response.completed\ndata: {\"type\":"
                 "\"response.incomplete\",\"response\":{}}\n\n", ASM_BAD,
                 "an event's name is not its data's type");
  expect_refused("data: {\"choices\":[]}\n\n", ASM_BAD,
                 "an event's data has no string type");
  expect_refused("data: {\"type\":7}\n\n", ASM_BAD,
                 "an event's data has no string type");
  expect_refused("data: [1]\n\n", ASM_BAD,
                 "an event's data is not a JSON object");
  expect_refused("data: {\"type\":\"x\",}\n\n", ASM_BAD,
                 "an event's data is not a JSON object");
  expect_refused(EVN("response.completed", 0, ",\"response\":null"), ASM_BAD,
                 "a terminal event without a response object");
  expect_refused(EVN("response.failed", 0, ""), ASM_BAD,
                 "a terminal event without a response object");
  expect_refused("data: {\"type\":\"response.created\",\"error\":\"boom\"}"
                 "\n\n", ASM_BAD, "an event's error member is not an object");
  /* a null or false error member is no error */
  expect("data: {\"type\":\"response.created\",\"error\":null,"
         "\"response\":" RESP_START "}\n\n"
         "data: {\"type\":\"response.completed\",\"error\":false,"
         "\"response\":" RESP_DONE "}\n\n", ASM_END, 200, RESP_DONE);
}

TEST(after_a_refusal_it_stays_refused)
{
  const char *why = NULL;
  struct buf out;
  void *st = A->open();
  buf_init(&out);
  CHECK(asm_feed(A, st, "data: nope\n\n", 12, &why, NULL) == ASM_BAD);
  why = NULL;
  CHECK(asm_feed(A, st, TEXT_STREAM, strlen(TEXT_STREAM), &why, NULL) ==
        ASM_BAD);
  CHECK(why && !strcmp(why, "an event's data is not a JSON object"));
  CHECK(A->finish(st, true, &out, &why) == 0);
  CHECK(out.len == 0);
  A->close(st);
  buf_free(&out);
}

/* ---- the round trip ---- */

TEST(every_fixture_round_trips)
{
  /* the encoder refuses image_generation_call items (sse_responses.c) */
  static const char *const refused[] = {"refused-image-generation.json", NULL};
  asm_round_trip_all("responses", &sse_responses_encoder, A, refused, 20);
}

TEST(the_comparison_itself)
{
  /* the round trip's judge (fixture_json.h): order-free objects with
   * each key once, decoded strings, number bytes; it prints each
   * difference it finds, so the lines below are the expected ones */
#define SAME(a, b) same_json_text(a, strlen(a), b, strlen(b), NULL, NULL)
  CHECK(SAME("{\"a\":1,\"b\":[true,null]}", " { \"b\" : [ true , null ] , "
                                            "\"a\" : 1 } "));
  CHECK(SAME("\"\\u00e9\\n\"", "\"\xc3\xa9\\u000a\""));
  CHECK(!SAME("{\"a\":1.0}", "{\"a\":1}"));
  CHECK(!SAME("{\"a\":1}", "{\"a\":1,\"b\":2}"));
  CHECK(!SAME("{\"a\":1,\"b\":2}", "{\"a\":1}"));
  CHECK(!SAME("[1,2]", "[2,1]"));
  CHECK(!SAME("[1]", "[1,1]"));
  CHECK(!SAME("{\"a\":\"x\"}", "{\"a\":\"y\"}"));
  CHECK(!SAME("{\"a\":1,\"a\":1}", "{\"a\":1}"));
  CHECK(!SAME("{\"a\":1}", "{\"a\":1,\"a\":1}"));
  CHECK(!SAME("null", "false"));
}

int main(void)
{
  RUN(text_answer_is_the_completed_response);
  RUN(function_call_answer);
  RUN(incomplete_answer);
  RUN(failed_answer_is_a_200_like_the_api);
  RUN(no_event_lines);
  RUN(other_events_are_not_looked_into);
  RUN(error_event_flat);
  RUN(error_event_nested_and_gateway);
  RUN(cut_short);
  RUN(done_before_and_after_the_terminal_event);
  RUN(not_a_responses_stream);
  RUN(after_a_refusal_it_stays_refused);
  RUN(every_fixture_round_trips);
  RUN(the_comparison_itself);
  return check_done();
}
