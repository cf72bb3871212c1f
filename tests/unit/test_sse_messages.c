/* test_sse_messages.c - the Anthropic message -> Messages event stream
 * replay: exact event bytes for small answers of every block type (text,
 * tool_use with nested input, thinking + signature, redacted_thinking,
 * citations, server tools, several blocks, every stop member, unknown
 * top-level members, usage), and the answers the encoder must refuse.
 * Piece boundaries, the 1 MiB answer and the out-of-memory undo are in
 * test_sse_messages_pieces.c. */
#include "msg_replay.h"

/* ---- exact sequences ---- */

static const char hello[] =
  ANS("{\"type\":\"text\",\"text\":\"Hello big world\"}", "\"end_turn\"",
      "null");

TEST(text_answer_exact)
{
  expect(hello, 8,
         START CBS(0, TEXT_START) PING TD(0, "Hello ") TD(0, "big ")
         TD(0, "world") CBSTOP(0) MD("\"end_turn\"", "null") MSTOP);
}

TEST(text_whole_in_one_piece)
{
  expect(hello, 100,
         START CBS(0, TEXT_START) PING TD(0, "Hello big world") CBSTOP(0)
         MD("\"end_turn\"", "null") MSTOP);
}

/* Nested input: {} at start, "" first, then pieces of the compact text,
 * JSON-escaped; pretty whitespace between tokens is dropped. */
TEST(tool_use_nested_input)
{
  expect(ANS("{\"type\":\"tool_use\",\"id\":\"toolu_01A\",\"name\":\"f\","
             "\"input\":{ \"q\": \"a \\\"b\\\"\", \"n\": [1, {\"x\": null}]"
             " }}", "\"tool_use\"", "null"), 8,
         START CBS(0, "{\"type\":\"tool_use\",\"id\":\"toolu_01A\","
                      "\"name\":\"f\",\"input\":{}}") PING
         IJ(0, "") IJ(0, "{\\\"q\\\":\\\"a ") IJ(0, "\\\\\\\"b\\\\\\\"\\\",")
         IJ(0, "\\\"n\\\":[1,") IJ(0, "{\\\"x\\\":nul") IJ(0, "l}]}")
         CBSTOP(0) MD("\"tool_use\"", "null") MSTOP);
}

TEST(tool_use_empty_input)
{
  expect(ANS("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"now\","
             "\"input\":{}}", "\"tool_use\"", "null"), 8,
         START CBS(0, "{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"now\","
                      "\"input\":{}}") PING IJ(0, "") IJ(0, "{}") CBSTOP(0)
         MD("\"tool_use\"", "null") MSTOP);
}

TEST(thinking_signature_text)
{
  expect(ANS("{\"type\":\"thinking\",\"thinking\":\"Let me see\","
             "\"signature\":\"EqQBCkY+/=\"},"
             "{\"type\":\"text\",\"text\":\"42\"}", "\"end_turn\"", "null"),
         6,
         START CBS(0, "{\"type\":\"thinking\",\"thinking\":\"\","
                      "\"signature\":\"\"}") PING
         THD(0, "Let ") THD(0, "me see") SIG(0, "EqQBCkY+/=")
         CBSTOP(0) CBS(1, TEXT_START) TD(1, "42") CBSTOP(1)
         MD("\"end_turn\"", "null") MSTOP);
}

TEST(redacted_thinking_whole)
{
  expect(ANS("{\"type\":\"redacted_thinking\",\"data\":\"EmwKAhgB\"},"
             "{\"type\":\"text\",\"text\":\"ok\"}", "\"end_turn\"", "null"), 8,
         START CBS(0, "{\"type\":\"redacted_thinking\",\"data\":\"EmwKAhgB\"}")
         PING CBSTOP(0) CBS(1, TEXT_START) TD(1, "ok") CBSTOP(1)
         MD("\"end_turn\"", "null") MSTOP);
}

/* Text then two parallel tool calls; one ping only. */
TEST(several_blocks)
{
  expect(ANS("{\"type\":\"text\",\"text\":\"On it.\"},"
             "{\"type\":\"tool_use\",\"id\":\"a\",\"name\":\"f\","
             "\"input\":{\"k\":1}},"
             "{\"type\":\"tool_use\",\"id\":\"b\",\"name\":\"g\","
             "\"input\":{\"k\":2},\"caller\":{\"type\":\"direct\"}}",
             "\"tool_use\"", "null"), 20,
         START CBS(0, TEXT_START) PING TD(0, "On it.") CBSTOP(0)
         CBS(1, "{\"type\":\"tool_use\",\"id\":\"a\",\"name\":\"f\","
                "\"input\":{}}") IJ(1, "") IJ(1, "{\\\"k\\\":1}") CBSTOP(1)
         CBS(2, "{\"type\":\"tool_use\",\"id\":\"b\",\"name\":\"g\","
                "\"input\":{},\"caller\":{\"type\":\"direct\"}}")
         IJ(2, "") IJ(2, "{\\\"k\\\":2}") CBSTOP(2)
         MD("\"tool_use\"", "null") MSTOP);
}

TEST(max_tokens_and_stop_sequence)
{
  expect(ANS("{\"type\":\"text\",\"text\":\"cut\"}", "\"max_tokens\"",
             "null"), 8,
         START CBS(0, TEXT_START) PING TD(0, "cut") CBSTOP(0)
         MD("\"max_tokens\"", "null") MSTOP);
  expect(ANS("{\"type\":\"text\",\"text\":\"1, 2, \"}", "\"stop_sequence\"",
             "\"\\n\\nHuman:\""), 8,
         START CBS(0, TEXT_START) PING TD(0, "1, 2, ") CBSTOP(0)
         MD("\"stop_sequence\"", "\"\\n\\nHuman:\"") MSTOP);
}

/* No blocks: the ping follows message_start; an empty text block has no
 * delta. */
TEST(empty_content_and_empty_text)
{
  expect(ANS("", "\"end_turn\"", "null"), 8,
         START PING MD("\"end_turn\"", "null") MSTOP);
  expect(ANS("{\"type\":\"text\",\"text\":\"\"}", "\"end_turn\"", "null"), 8,
         START CBS(0, TEXT_START) PING CBSTOP(0) MD("\"end_turn\"", "null")
         MSTOP);
}

/* Citations: [] at start, one citations_delta each, then the text. */
TEST(text_with_citations)
{
  expect(ANS("{\"type\":\"text\",\"text\":\"Sky is blue\",\"citations\":["
             "{\"type\":\"char_location\",\"cited_text\":\"blue\","
             "\"document_index\":0,\"start_char_index\":0,"
             "\"end_char_index\":4},{\"type\":\"x\"}]},"
             "{\"type\":\"text\",\"text\":\".\",\"citations\":null}",
             "\"end_turn\"", "null"), 50,
         START CBS(0, "{\"type\":\"text\",\"text\":\"\",\"citations\":[]}") PING
         CBD(0, "{\"type\":\"citations_delta\",\"citation\":{\"type\":"
                "\"char_location\",\"cited_text\":\"blue\",\"document_index\":"
                "0,\"start_char_index\":0,\"end_char_index\":4}}")
         CBD(0, "{\"type\":\"citations_delta\",\"citation\":{\"type\":\"x\"}}")
         TD(0, "Sky is blue") CBSTOP(0)
         CBS(1, "{\"type\":\"text\",\"text\":\"\",\"citations\":null}")
         TD(1, ".") CBSTOP(1) MD("\"end_turn\"", "null") MSTOP);
}

/* server_tool_use streams its input like tool_use; a result block comes
 * whole (compacted) in its start. */
TEST(server_tool_blocks)
{
  expect(ANS("{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\","
             "\"name\":\"web_search\",\"input\":{\"query\":\"x\"}},"
             "{\"type\":\"web_search_tool_result\",\"tool_use_id\":"
             "\"srvtoolu_1\",\"content\":[ {\"type\": \"web_search_result\","
             " \"url\": \"https://a.example/ b\"} ]}", "\"end_turn\"", "null"),
         40,
         START CBS(0, "{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\","
                      "\"name\":\"web_search\",\"input\":{}}") PING
         IJ(0, "") IJ(0, "{\\\"query\\\":\\\"x\\\"}") CBSTOP(0)
         CBS(1, "{\"type\":\"web_search_tool_result\",\"tool_use_id\":"
                "\"srvtoolu_1\",\"content\":[{\"type\":\"web_search_result\","
                "\"url\":\"https://a.example/ b\"}]}") CBSTOP(1)
         MD("\"end_turn\"", "null") MSTOP);
}

/* Unknown top-level members ride in message_start; stop_details is null
 * there and given in message_delta; container in both; output_tokens 0
 * stays 0; the delta usage keeps the answer's order and only the
 * counters. */
TEST(top_members_and_usage)
{
  expect("{\"model\":\"m\",\"id\":\"i\",\"type\":\"message\",\"role\":"
         "\"assistant\",\"content\":[],\"stop_reason\":\"refusal\","
         "\"stop_sequence\":null,\"stop_details\":{\"category\":\"cyber\"},"
         "\"container\":{\"id\":\"c\"},\"x_extra\":[1, 2],\"usage\":"
         "{\"cache_creation\":{\"ephemeral_5m_input_tokens\":3},"
         "\"output_tokens\":0,\"server_tool_use\":{\"web_search_requests\":1},"
         "\"input_tokens\":9007199254740993}}", 8,
         EV("message_start", ",\"message\":{\"model\":\"m\",\"id\":\"i\","
            "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
            "\"stop_reason\":null,\"stop_sequence\":null,\"stop_details\":null,"
            "\"container\":{\"id\":\"c\"},\"x_extra\":[1,2],\"usage\":"
            "{\"cache_creation\":{\"ephemeral_5m_input_tokens\":3},"
            "\"output_tokens\":0,\"server_tool_use\":{\"web_search_requests\":"
            "1},\"input_tokens\":9007199254740993}}")
         PING
         EV("message_delta", ",\"delta\":{\"stop_reason\":\"refusal\","
            "\"stop_sequence\":null,\"stop_details\":{\"category\":\"cyber\"},"
            "\"container\":{\"id\":\"c\"}},\"usage\":{\"output_tokens\":0,"
            "\"server_tool_use\":{\"web_search_requests\":1},"
            "\"input_tokens\":9007199254740993}")
         MSTOP);
}

/* A pretty-printed answer: every copied container is compacted. */
TEST(pretty_answer_compacted)
{
  expect("{\n  \"id\": \"msg_01\",\n  \"type\": \"message\",\n  \"role\": "
         "\"assistant\",\n  \"model\": \"claude-x\",\n  \"content\": [\n"
         "    {\n      \"type\": \"text\",\n      \"text\": \"Hi  there\"\n"
         "    }\n  ],\n  \"stop_reason\": \"pause_turn\",\n"
         "  \"stop_sequence\": null,\n  \"usage\": {\n"
         "    \"input_tokens\": 10,\n    \"cache_read_input_tokens\": 0,\n"
         "    \"output_tokens\": 7,\n    \"service_tier\": \"standard\"\n"
         "  }\n}\n", 20,
         START CBS(0, TEXT_START) PING TD(0, "Hi  there") CBSTOP(0)
         MD("\"pause_turn\"", "null") MSTOP);
}

TEST(deterministic)
{
  struct buf a, b;
  buf_init(&a);
  buf_init(&b);
  CHECK(replay(hello, strlen(hello), 3, 0, &a) > 0);
  CHECK(replay(hello, strlen(hello), 3, 0, &b) > 0);
  CHECK_MEM(a.ptr, a.len, b.ptr, b.len);
  buf_free(&a);
  buf_free(&b);
}

/* ---- refusals ---- */

TEST(refuses_what_it_cannot_replay)
{
  CHECK(refused(""));
  CHECK(refused("[]"));
  CHECK(refused("{\"type\":\"message\""));
  CHECK(refused("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                "\"message\":\"Overloaded\"}}"));
  CHECK(refused("{\"id\":\"x\",\"object\":\"chat.completion\","
                "\"created\":1,\"model\":\"m\",\"choices\":[]}"));
  /* top level */
  CHECK(refused(ANS_USAGE("", "\"end_turn\"", "null", "null")));
  CHECK(refused(ANS_USAGE("", "\"end_turn\"", "null",
                          "{\"input_tokens\":1}")));
  CHECK(refused(ANS_USAGE("", "\"end_turn\"", "null",
                          "{\"output_tokens\":\"2\"}")));
  CHECK(refused(ANS("", "1", "null")));
  CHECK(refused(ANS("", "\"end_turn\"", "[]")));
  CHECK(refused("{\"id\":\"msg_01\",\"type\":\"message\",\"role\":"
                "\"assistant\",\"model\":\"m\",\"content\":\"hi\","
                "\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
                "\"usage\":{\"output_tokens\":1}}"));
  CHECK(refused("{\"id\":\"msg_01\",\"type\":\"message\",\"role\":"
                "\"assistant\",\"model\":\"m\",\"content\":[],"
                "\"stop_sequence\":null,\"usage\":{\"output_tokens\":1}}"));
  CHECK(refused("{\"type\":\"message\",\"role\":\"assistant\",\"model\":"
                "\"m\",\"content\":[],\"stop_reason\":null,"
                "\"stop_sequence\":null,\"usage\":{\"output_tokens\":1}}"));
  CHECK(refused("{\"id\":\"msg_01\",\"type\":\"message\",\"role\":"
                "\"assistant\",\"model\":\"m\",\"content\":[],"
                "\"stop_reason\":null,\"stop_sequence\":null,"
                "\"stop_details\":\"x\",\"usage\":{\"output_tokens\":1}}"));
  /* blocks */
  CHECK(refused(ANS("{\"type\":\"image\",\"source\":{}}", "\"end_turn\"",
                    "null")));
  CHECK(refused(ANS("{\"type\":\"mcp_tool_use\",\"id\":\"x\",\"name\":\"n\","
                    "\"server_name\":\"s\",\"input\":{}}", "\"end_turn\"",
                    "null")));
  CHECK(refused(ANS("{\"text\":\"no type\"}", "\"end_turn\"", "null")));
  CHECK(refused(ANS("\"text\"", "\"end_turn\"", "null")));
  CHECK(refused(ANS("{\"type\":\"text\",\"text\":null}", "\"end_turn\"",
                    "null")));
  CHECK(refused(ANS("{\"type\":\"text\",\"text\":\"a\",\"extra\":1}",
                    "\"end_turn\"", "null")));
  CHECK(refused(ANS("{\"type\":\"text\",\"text\":\"a\",\"citations\":[1]}",
                    "\"end_turn\"", "null")));
  CHECK(refused(ANS("{\"type\":\"text\",\"text\":\"a\",\"citations\":{}}",
                    "\"end_turn\"", "null")));
  CHECK(refused(ANS("{\"type\":\"thinking\",\"thinking\":\"a\"}",
                    "\"end_turn\"", "null")));
  CHECK(refused(ANS("{\"type\":\"redacted_thinking\",\"data\":1}",
                    "\"end_turn\"", "null")));
  CHECK(refused(ANS("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\","
                    "\"input\":\"{}\"}", "\"tool_use\"", "null")));
  CHECK(refused(ANS("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\","
                    "\"input\":[]}", "\"tool_use\"", "null")));
  CHECK(refused(ANS("{\"type\":\"tool_use\",\"name\":\"n\",\"input\":{}}",
                    "\"tool_use\"", "null")));
  CHECK(refused(ANS("{\"type\":\"server_tool_use\",\"id\":\"t\",\"name\":"
                    "\"n\",\"input\":{},\"toolset_name\":\"x\"}",
                    "\"tool_use\"", "null")));
}

TEST(accepts_minimal_valid)
{
  CHECK(!refused(ANS("", "null", "null")));
  CHECK(!refused(hello));
  CHECK(!refused(ANS("{\"type\":\"code_execution_tool_result\","
                     "\"tool_use_id\":\"s\",\"content\":{\"type\":\"x\"}}",
                     "\"end_turn\"", "null")));
}

int main(void)
{
  RUN(text_answer_exact);
  RUN(text_whole_in_one_piece);
  RUN(tool_use_nested_input);
  RUN(tool_use_empty_input);
  RUN(thinking_signature_text);
  RUN(redacted_thinking_whole);
  RUN(several_blocks);
  RUN(max_tokens_and_stop_sequence);
  RUN(empty_content_and_empty_text);
  RUN(text_with_citations);
  RUN(server_tool_blocks);
  RUN(top_members_and_usage);
  RUN(pretty_answer_compacted);
  RUN(deterministic);
  RUN(refuses_what_it_cannot_replay);
  RUN(accepts_minimal_valid);
  return check_done();
}
