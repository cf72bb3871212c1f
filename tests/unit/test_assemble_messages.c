/* test_assemble_messages.c - the Anthropic Messages assembler
 * (hooks/pure/assemble_messages*.c): every fixture round-trips
 * through the encoder and back; real-shaped streams (text, tool_use with
 * input_json_delta pieces, thinking with its signature, cumulative usage,
 * pings, citations, whole blocks) give the exact message bytes; the error
 * event is the error body with its status; streams cut short or not
 * joinable exactly are refused. */
#include "check.h"
#include "asm_events_check.h"
#include "sse_messages.h"

static const struct assembler *const A = &messages_assembler;

/* ---- event templates (the API's wire shapes, spec section 5) ---- */

#define EV(t, x) "event: " t "\ndata: {\"type\":\"" t "\"" x "}\n\n"
#define MSG_TOP                                                             \
  "\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\","            \
  "\"role\":\"assistant\",\"model\":\"claude-opus-4-1-20250805\""
#define U_START                                                             \
  "{\"input_tokens\":25,\"cache_creation_input_tokens\":0,"                  \
  "\"cache_read_input_tokens\":0,\"cache_creation\":{"                       \
  "\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":0},"        \
  "\"output_tokens\":1,\"service_tier\":\"standard\"}"
#define U_DONE(out)                                                         \
  "{\"input_tokens\":25,\"cache_creation_input_tokens\":0,"                  \
  "\"cache_read_input_tokens\":0,\"cache_creation\":{"                       \
  "\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":0},"        \
  "\"output_tokens\":" #out ",\"service_tier\":\"standard\"}"
#define START                                                               \
  EV("message_start", ",\"message\":{" MSG_TOP ",\"content\":[],"           \
     "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":" U_START "}")
#define CBS(i, blk) \
  EV("content_block_start", ",\"index\":" #i ",\"content_block\":" blk)
#define CBD(i, d) EV("content_block_delta", ",\"index\":" #i ",\"delta\":" d)
#define TD(i, s) CBD(i, "{\"type\":\"text_delta\",\"text\":\"" s "\"}")
#define IJ(i, s) CBD(i, "{\"type\":\"input_json_delta\",\"partial_json\":" \
                        "\"" s "\"}")
#define THD(i, s) CBD(i, "{\"type\":\"thinking_delta\",\"thinking\":\"" s "\"}")
#define SIG(i, s) CBD(i, "{\"type\":\"signature_delta\",\"signature\":" \
                         "\"" s "\"}")
#define CIT(i, c) CBD(i, "{\"type\":\"citations_delta\",\"citation\":" c "}")
#define STOP(i) EV("content_block_stop", ",\"index\":" #i)
#define PING "event: ping\ndata: {\"type\": \"ping\"}\n\n"
#define MD(sr, usage)                                                       \
  EV("message_delta", ",\"delta\":{\"stop_reason\":\"" sr "\","              \
     "\"stop_sequence\":null},\"usage\":" usage)
#define MSTOP EV("message_stop", "")
/* The answer: the members in message_start's order. */
#define ANSWER(content, sr, usage)                                          \
  "{" MSG_TOP ",\"content\":[" content "],\"stop_reason\":\"" sr "\","       \
  "\"stop_sequence\":null,\"usage\":" usage "}"

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
  if(r != last && why)
    printf("#   why: %s\n", why);
  CHECK_MEM(out.ptr, out.len, body, strlen(body));
  CHECK(status != 200 ||
        same_json_text(body, strlen(body), out.ptr, out.len, NULL, NULL));
  buf_free(&out);
}

/* Run a over stream s; expect it refused (finish 0) for reason why_want,
 * the last event's result being last. */
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
  CHECK(why != NULL && !strcmp(why, why_want));
  if(why && strcmp(why, why_want))
    printf("#   why: %s\n", why);
  buf_free(&out);
}

/* ---- real-shaped answers ---- */

TEST(text_answer)
{
  expect(START CBS(0, "{\"type\":\"text\",\"text\":\"\"}") PING
         TD(0, "Hello") TD(0, "! \\u00bfQu\\u00e9 tal? \\\"quoted\\\"\\n")
         TD(0, "\xf0\x9f\x91\x8b") STOP(0)
         MD("end_turn", "{\"output_tokens\":15}") MSTOP,
         ASM_END, 200,
         ANSWER("{\"type\":\"text\",\"text\":\"Hello! \\u00bfQu\\u00e9 tal? "
                "\\\"quoted\\\"\\n\xf0\x9f\x91\x8b\"}",
                "end_turn", U_DONE(15)));
}

TEST(tool_use_with_input_pieces)
{
  /* the docs' get_weather stream: "" first, pieces cut anywhere (inside
   * strings, between a key and its colon), with the model's spaces; the
   * input is the joined text as it came, not re-serialised */
#define TOOL_START "{\"type\":\"tool_use\",\"id\":" \
                   "\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\"," \
  "\"name\":\"get_weather\",\"input\":{}}"
  expect(START CBS(0, "{\"type\":\"text\",\"text\":\"\"}")
         TD(0, "Okay, let's check the weather.") STOP(0)
         CBS(1, TOOL_START) IJ(1, "") IJ(1, "{\\\"location\\\":")
         IJ(1, " \\\"San Fra") IJ(1, "ncisco, CA\\\"") IJ(1, ", ")
         IJ(1, "\\\"unit\\\": \\\"fah") IJ(1, "renheit\\\", \\\"note\\\": "
                                              "\\\"a\\\\n")
         IJ(1, "b \\\\u00e9 \\\\\\\"q\\\\\\\"\\\"}") STOP(1)
         MD("tool_use", "{\"output_tokens\":89}") MSTOP,
         ASM_END, 200,
         ANSWER("{\"type\":\"text\",\"text\":\"Okay, let's check the "
                "weather.\"},"
                "{\"type\":\"tool_use\",\"id\":"
                "\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\","
                "\"name\":\"get_weather\",\"input\":{\"location\": "
                "\"San Francisco, CA\", \"unit\": \"fahrenheit\", \"note\": "
                "\"a\\nb \\u00e9 \\\"q\\\"\"}}", "tool_use", U_DONE(89)));
}

TEST(tool_input_edge_cases)
{
  /* only "" pieces: the start's input stands */
  expect(START CBS(0, TOOL_START) IJ(0, "") IJ(0, "") STOP(0)
         MD("tool_use", "{\"output_tokens\":9}") MSTOP, ASM_END, 200,
         ANSWER(TOOL_START, "tool_use", U_DONE(9)));
  /* a surrogate pair cut between two pieces joins again */
  expect(START CBS(0, TOOL_START) IJ(0, "{\\\"e\\\":\\\"\\ud83d")
         IJ(0, "\\ude00\\\"}") STOP(0)
         MD("tool_use", "{\"output_tokens\":9}") MSTOP, ASM_END, 200,
         ANSWER("{\"type\":\"tool_use\",\"id\":"
                "\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\","
                "\"name\":\"get_weather\",\"input\":{\"e\":"
                "\"\xf0\x9f\x98\x80\"}}",
                "tool_use", U_DONE(9)));
  /* server_tool_use and mcp_tool_use (beta) stream their input too; a
   * block left open at message_stop is checked there */
  expect(START CBS(0, "{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\","
                      "\"name\":\"web_search\",\"input\":{}}")
         IJ(0, "{\\\"query\\\": \\\"weather\\\"}") STOP(0)
         CBS(1, "{\"type\":\"mcp_tool_use\",\"id\":\"mcptoolu_1\",\"name\":"
                "\"echo\",\"server_name\":\"example\",\"input\":{}}")
         IJ(1, "{\\\"text\\\":") IJ(1, "\\\"hi\\\"}")
         MD("tool_use", "{\"output_tokens\":9}") MSTOP, ASM_END, 200,
         ANSWER("{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\",\"name\":"
                "\"web_search\",\"input\":{\"query\": \"weather\"}},"
                "{\"type\":\"mcp_tool_use\",\"id\":\"mcptoolu_1\",\"name\":"
                "\"echo\",\"server_name\":\"example\",\"input\":{\"text\":"
                "\"hi\"}}",
                "tool_use", U_DONE(9)));
  /* a start without input gets it after its other members */
  expect(START CBS(0, "{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\"}")
         IJ(0, "[1, 2]") STOP(0) MD("tool_use", "{\"output_tokens\":9}") MSTOP,
         ASM_END, 200,
         ANSWER("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\","
                "\"input\":[1, 2]}", "tool_use", U_DONE(9)));
}

TEST(thinking_and_signature)
{
#define SIGV "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
  expect(START CBS(0, "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":"
                      "\"\"}")
         THD(0, "I need to find the GCD of 1071 and 462.\\n\\n1071 = 2 "
                "\xc3\x97 462 + 147")
         THD(0, "\\n462 = 3 \xc3\x97 147 + 21") SIG(0, SIGV) STOP(0)
         CBS(1, "{\"type\":\"text\",\"text\":\"\"}") TD(1, "The GCD is 21.")
         STOP(1) MD("end_turn", "{\"output_tokens\":120}") MSTOP,
         ASM_END, 200,
         ANSWER("{\"type\":\"thinking\",\"thinking\":\"I need to find the GCD "
                "of 1071 and 462.\\n\\n1071 = 2 \xc3\x97 462 + 147\\n"
                "462 = 3 \xc3\x97 147 + 21\",\"signature\":\"" SIGV "\"},"
                "{\"type\":\"text\","
                "\"text\":\"The GCD is 21.\"}", "end_turn", U_DONE(120)));
  /* a start without signature: it comes after thinking; the last
   * signature_delta wins */
  expect(START CBS(0, "{\"type\":\"thinking\",\"thinking\":\"\"}")
         THD(0, "hm") SIG(0, "old") SIG(0, "new") STOP(0)
         MD("end_turn", "{\"output_tokens\":3}") MSTOP, ASM_END, 200,
         ANSWER("{\"type\":\"thinking\",\"thinking\":\"hm\",\"signature\":"
                "\"new\"}", "end_turn", U_DONE(3)));
  /* redacted_thinking comes whole and is copied as it came */
#define REDACTED "{\"type\":\"redacted_thinking\",\"data\":" \
                 "\"EmwKAhgBEgy3va3pzix/LafPsn4a\"}"
  expect(START CBS(0, REDACTED) STOP(0) CBS(1, "{\"type\":\"text\",\"text\":"
                                               "\"\"}")
         TD(1, "ok") STOP(1) MD("end_turn", "{\"output_tokens\":3}") MSTOP,
         ASM_END, 200,
         ANSWER(REDACTED ",{\"type\":\"text\",\"text\":\"ok\"}", "end_turn",
                U_DONE(3)));
}

TEST(usage_is_cumulative_in_message_delta)
{
  /* the web search example: message_delta repeats the input counters
   * with their final values and adds server_tool_use; output_tokens and
   * the non-null counters replace; a null one does not; cache_creation,
   * service_tier and unknown members of the delta's usage are not taken */
#define U_WS_START "{\"input_tokens\":2679,\"cache_creation_input_tokens\":0," \
  "\"cache_read_input_tokens\":0,\"output_tokens\":3,\"service_tier\":" \
  "\"standard\"}"
#define U_WS_DELTA "{\"input_tokens\":10682,\"cache_creation_input_tokens\":" \
                   "null," \
  "\"cache_read_input_tokens\":128,\"output_tokens\":510,\"service_tier\":"  \
  "\"priority\",\"future_counter\":4,\"server_tool_use\":" \
  "{\"web_search_requests\":1}}"
#define U_WS_DONE "{\"input_tokens\":10682,\"cache_creation_input_tokens\":0," \
  "\"cache_read_input_tokens\":128,\"output_tokens\":510,\"service_tier\":"  \
  "\"standard\",\"server_tool_use\":{\"web_search_requests\":1}}"
  expect(EV("message_start", ",\"message\":{" MSG_TOP ",\"content\":[],"
            "\"stop_reason\":null,\"stop_sequence\":null,"
            "\"usage\":" U_WS_START "}")
         CBS(0, "{\"type\":\"text\",\"text\":\"\"}") TD(0, "Done.") STOP(0)
         MD("end_turn", U_WS_DELTA) MSTOP, ASM_END, 200,
         ANSWER("{\"type\":\"text\",\"text\":\"Done.\"}", "end_turn",
                U_WS_DONE));
  /* a later message_delta replaces an earlier one's values */
  expect(START CBS(0, "{\"type\":\"text\",\"text\":\"\"}") TD(0, "x") STOP(0)
         MD("max_tokens", "{\"output_tokens\":7}")
         MD("end_turn", "{\"output_tokens\":8}") MSTOP, ASM_END, 200,
         ANSWER("{\"type\":\"text\",\"text\":\"x\"}", "end_turn", U_DONE(8)));
}

TEST(pings_anywhere)
{
  expect(PING START PING CBS(0, TOOL_START) PING IJ(0, "") PING
         IJ(0, "{\\\"a\\\":") PING IJ(0, "1}") PING STOP(0) PING
         MD("tool_use", "{\"output_tokens\":5}") PING MSTOP, ASM_END, 200,
         ANSWER("{\"type\":\"tool_use\",\"id\":"
                "\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\","
                "\"name\":\"get_weather\",\"input\":{\"a\":1}}", "tool_use",
                U_DONE(5)));
}

TEST(citations_and_server_tool_results)
{
#define CITE1 "{\"type\":\"char_location\",\"cited_text\":\"The grass is " \
              "green.\"," \
  "\"document_index\":0,\"document_title\":\"Doc\",\"start_char_index\":0,"  \
  "\"end_char_index\":20}"
#define CITE2 "{\"type\":\"web_search_result_location\",\"url\":\"https:" \
              "//e.org\"," \
  "\"title\":\"E\",\"encrypted_index\":\"Eo8B\",\"cited_text\":\"sky\"}"
#define WSR "{\"type\":\"web_search_tool_result\",\"tool_use_id\":" \
            "\"srvtoolu_1\"," \
  "\"content\":[{\"type\":\"web_search_result\",\"title\":\"E\",\"url\":"   \
  "\"https://e.org\",\"encrypted_content\":\"EqgfCio\",\"page_age\":null}]}"
  /* citations made by the deltas go after text; a null one is replaced
   * in place; a whole server tool result is copied */
  expect(START CBS(0, "{\"type\":\"text\",\"text\":\"\"}") CIT(0, CITE1)
         TD(0, "the grass is green") CIT(0, CITE2) STOP(0)
         CBS(1, WSR) STOP(1)
         CBS(2, "{\"type\":\"text\",\"text\":\"\",\"citations\":null}")
         CIT(2, CITE2) TD(2, "blue") STOP(2)
         CBS(3, "{\"type\":\"text\",\"text\":\"\",\"citations\":null}")
         TD(3, ".") STOP(3)
         MD("end_turn", "{\"output_tokens\":30}") MSTOP, ASM_END, 200,
         ANSWER("{\"type\":\"text\",\"text\":\"the grass is green\","
                "\"citations\":[" CITE1 "," CITE2 "]}," WSR ","
                "{\"type\":\"text\",\"text\":\"blue\",\"citations\":["
                CITE2 "]},"
                "{\"type\":\"text\",\"text\":\".\",\"citations\":null}",
                "end_turn", U_DONE(30)));
}

TEST(message_delta_members)
{
  /* container (null does not replace), stop_details, a new member, and
   * context_management beside delta (beta); stop_sequence as sent */
#define CONT "{\"id\":\"container_1\",\"expires_at\":\"2026-01-01T00:00:00Z\"}"
  expect(EV("message_start", ",\"message\":{" MSG_TOP ",\"content\":[],"
            "\"stop_reason\":null,\"stop_sequence\":null,\"stop_details\":null,"
            "\"container\":" CONT ",\"usage\":" U_START "}")
         CBS(0, "{\"type\":\"text\",\"text\":\"\"}") TD(0, "END") STOP(0)
         EV("message_delta", ",\"delta\":{\"stop_reason\":\"stop_sequence\","
            "\"stop_sequence\":\"END\",\"stop_details\":{\"type\":\"x\"},"
            "\"container\":null,\"future\":1},\"context_management\":"
            "{\"applied_edits\":[]},\"usage\":{\"output_tokens\":4}")
         MSTOP, ASM_END, 200,
         "{" MSG_TOP ",\"content\":[{\"type\":\"text\",\"text\":\"END\"}],"
         "\"stop_reason\":\"stop_sequence\",\"stop_sequence\":\"END\","
         "\"stop_details\":{\"type\":\"x\"},\"container\":" CONT ",\"usage\":"
         U_DONE(4) ",\"future\":1,\"context_management\":{\"applied_edits\":"
                   "[]}}");
  /* no message_delta at all: message_start's values stand (the SDK's
   * result too) */
  expect(START CBS(0, "{\"type\":\"text\",\"text\":\"\"}") STOP(0) MSTOP,
         ASM_END, 200,
         "{" MSG_TOP ",\"content\":[{\"type\":\"text\",\"text\":\"\"}],"
         "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":" U_START "}");
}

TEST(compaction_block)
{
  expect(START CBS(0, "{\"type\":\"compaction\",\"content\":null}")
         CBD(0, "{\"type\":\"compaction_delta\",\"content\":\"Summary: \","
                "\"encrypted_content\":\"e1\"}")
         CBD(0, "{\"type\":\"compaction_delta\",\"content\":\"we talked.\","
                "\"encrypted_content\":\"e2\"}") STOP(0)
         MD("end_turn", "{\"output_tokens\":3}") MSTOP, ASM_END, 200,
         ANSWER("{\"type\":\"compaction\",\"content\":\"Summary: we talked.\","
                "\"encrypted_content\":\"e2\"}", "end_turn", U_DONE(3)));
}

TEST(order_the_sdk_accepts)
{
  /* deltas after a block's stop, stops out of order, unknown events */
  expect(START CBS(0, "{\"type\":\"text\",\"text\":\"\"}") TD(0, "a")
         CBS(1, "{\"type\":\"text\",\"text\":\"\"}") TD(1, "b") STOP(1)
         TD(0, "c") STOP(0) EV("future_event", ",\"x\":1")
         "event: future_event\ndata: not json\n\n"
         MD("end_turn", "{\"output_tokens\":2}") MSTOP, ASM_END, 200,
         ANSWER("{\"type\":\"text\",\"text\":\"ac\"},{\"type\":\"text\","
                "\"text\":\"b\"}", "end_turn", U_DONE(2)));
}

/* ---- errors ---- */

TEST(error_event)
{
#define OVERLOADED "{\"type\":\"error\",\"error\":{\"type\":" \
                   "\"overloaded_error\"," \
  "\"message\":\"Overloaded\"}}"
  expect(START CBS(0, "{\"type\":\"text\",\"text\":\"\"}") TD(0, "Hel")
         "event: error\ndata: " OVERLOADED "\n\n", ASM_ERROR, 529, OVERLOADED);
  expect("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
         "\"rate_limit_error\",\"message\":\"slow down\"},\"request_id\":"
         "\"req_011\"}\n\n", ASM_ERROR, 429,
         "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
         "\"message\":\"slow down\"},\"request_id\":\"req_011\"}");
  expect("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
         "\"invalid_request_error\",\"message\":\"prompt is too long\"}}\n\n",
         ASM_ERROR, 400,
         "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
         "\"message\":\"prompt is too long\"}}");
  /* without an error object: as it came, 500 */
  expect(START "event: error\ndata: {\"type\":\"error\"}\n\n", ASM_ERROR, 500,
         "{\"type\":\"error\"}");
  /* not JSON: made an api_error with the data as its message */
  expect(START "event: error\ndata: upstream \"gone\"\n\n", ASM_ERROR, 500,
         "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":"
         "\"upstream \\\"gone\\\"\"}}");
}

/* ---- refusals ---- */

TEST(cut_short)
{
  expect_refused(START CBS(0, "{\"type\":\"text\",\"text\":\"\"}") TD(0, "Hi")
                 STOP(0) MD("end_turn", "{\"output_tokens\":2}"), ASM_MORE,
                 "the stream ended before message_stop");
  expect_refused(START CBS(0, "{\"type\":\"text\",\"text\":\"\"}") TD(0, "Hi"),
                 ASM_MORE, "the stream ended before message_stop");
  expect_refused("", ASM_MORE, "the stream ended before message_stop");
  struct buf out;
  const char *why = NULL;
  void *st = A->open();
  buf_init(&out);
  CHECK(asm_feed(A, st, START, strlen(START), &why, NULL) == ASM_MORE);
  CHECK(A->finish(st, false, &out, &why) == 0);
  CHECK_STR(why, "the stream has not ended");
  A->close(st);
  buf_free(&out);
}

TEST(not_joinable_exactly)
{
#define TXT CBS(0, "{\"type\":\"text\",\"text\":\"\"}")
  expect_refused("data: {\"type\":\"message_start\",\"message\":{}}\n\n",
                 ASM_BAD, "an event without an event: line");
  expect_refused("event: message_start\ndata: {\"type\":\"message_stop\"}\n\n",
                 ASM_BAD, "an event's name is not its data's type");
  expect_refused("event: message_start\ndata: {\"message\":{}}\n\n",
                 ASM_BAD, "an event's name is not its data's type");
  expect_refused(START "event: content_block_delta_v2\ndata: {\"type\":"
                 "\"content_block_start\",\"index\":0,\"content_block\":"
                 "{}}\n\n",
                 ASM_BAD, "an event's name is not its data's type");
  expect_refused("event: message_start\ndata: nope\n\n", ASM_BAD,
                 "an event's data is not a JSON object");
  expect_refused(TXT, ASM_BAD, "an event before message_start");
  expect_refused(START START, ASM_BAD, "a second message_start");
  expect_refused(EV("message_start", ",\"message\":{\"content\":[],\"usage\":"
                                     "7}"),
                 ASM_BAD, "message_start without a message with content and "
                          "usage");
  expect_refused(EV("message_start", ",\"message\":{\"content\":[{}],\"usage\":"
                                     "{}}"),
                 ASM_BAD, "message_start's content is not empty");
  expect_refused(START CBS(1, "{\"type\":\"text\",\"text\":\"\"}"), ASM_BAD,
                 "content_block_start's index is not the next");
  expect_refused(START TXT TXT, ASM_BAD,
                 "content_block_start's index is not the next");
  expect_refused(START CBS(0, "{\"type\":\"text\",\"text\":null}"), ASM_BAD,
                 "content_block_start's block is mistyped");
  expect_refused(START CBS(0, "{\"text\":\"\"}"), ASM_BAD,
                 "content_block_start's block is mistyped");
  expect_refused(START TXT TD(1, "x"), ASM_BAD,
                 "a content_block_delta for no started block");
  expect_refused(START TXT CBD(0, "{\"text\":\"x\"}"), ASM_BAD,
                 "a content_block_delta without a typed delta");
  expect_refused(START TXT IJ(0, "{}"), ASM_BAD,
                 "a delta its block's type does not take");
  expect_refused(START CBS(0, TOOL_START) TD(0, "x"), ASM_BAD,
                 "a delta its block's type does not take");
  expect_refused(START CBS(0, REDACTED) THD(0, "x"), ASM_BAD,
                 "a delta its block's type does not take");
  expect_refused(START TXT CBD(0, "{\"type\":\"image_delta\",\"x\":"
                                  "1}"), ASM_BAD,
                 "an unknown delta type");
  expect_refused(START TXT CBD(0, "{\"type\":\"text_delta\",\"text\":"
                                  "1}"), ASM_BAD,
                 "a delta's text member is not a string");
  expect_refused(START TXT STOP(3), ASM_BAD,
                 "a content_block_stop for no started block");
  /* a tool input that does not join into JSON: at its stop, or at
   * message_stop when the block never stopped */
  expect_refused(START CBS(0, TOOL_START) IJ(0, "{\\\"a\\\":") STOP(0), ASM_BAD,
                 "a tool input's pieces do not join into JSON");
  expect_refused(START CBS(0, TOOL_START) IJ(0, "{\\\"a\\\":1}") IJ(0, "}")
                 MD("tool_use", "{\"output_tokens\":1}") MSTOP, ASM_BAD,
                 "a tool input's pieces do not join into JSON");
  expect_refused(START CBS(0, TOOL_START) IJ(0, "\\\"\\u0000\\"
                                                "\"") STOP(0), ASM_BAD,
                 "a tool input's pieces do not join into JSON");
  expect_refused(START EV("message_delta", ",\"usage\":{}"), ASM_BAD,
                 "message_delta's delta or usage is not an object");
  expect_refused(START EV("message_delta", ",\"delta\":{\"content\":"
                                           "[]}"), ASM_BAD,
                 "message_delta's delta sets content or usage");
}

TEST(after_the_end_nothing_changes)
{
  static const char s[] = START TXT TD(0, "a") STOP(0)
    MD("end_turn", "{\"output_tokens\":2}") MSTOP;
  const char *why = NULL;
  struct buf out;
  void *st = A->open();
  buf_init(&out);
  CHECK(asm_feed(A, st, s, sizeof(s) - 1, &why, NULL) == ASM_END);
  CHECK(asm_feed(A, st, TD(0, "b") "data: [DONE]\n\n", strlen(TD(0, "b")) + 14,
                 &why, NULL) == ASM_END);
  CHECK(A->finish(st, true, &out, &why) == 200);
  static const char want[] = ANSWER("{\"type\":\"text\",\"text\":\"a\"}",
                                    "end_turn", U_DONE(2));
  CHECK_MEM(out.ptr, out.len, want, sizeof(want) - 1);
  /* finish again: the same answer again */
  buf_reset(&out);
  CHECK(A->finish(st, true, &out, &why) == 200);
  CHECK_MEM(out.ptr, out.len, want, sizeof(want) - 1);
  A->close(st);
  buf_free(&out);
}

/* ---- the round trip ---- */

TEST(every_fixture_round_trips)
{
  /* the encoder refuses mcp_tool_use blocks (sse_messages_read.c); the
   * assembler's side of them is in tool_input_edge_cases */
  static const char *const refused[] = {"refused-mcp-tool-use.json", NULL};
  asm_round_trip_all("messages", &sse_messages_encoder, A, refused, 25);
}

int main(void)
{
  RUN(text_answer);
  RUN(tool_use_with_input_pieces);
  RUN(tool_input_edge_cases);
  RUN(thinking_and_signature);
  RUN(usage_is_cumulative_in_message_delta);
  RUN(pings_anywhere);
  RUN(citations_and_server_tool_results);
  RUN(message_delta_members);
  RUN(compaction_block);
  RUN(order_the_sdk_accepts);
  RUN(error_event);
  RUN(cut_short);
  RUN(not_joinable_exactly);
  RUN(after_the_end_nothing_changes);
  RUN(every_fixture_round_trips);
  return check_done();
}
