/* test_sse_responses.c - the Responses API answer -> response.* event
 * stream replay: exact event bytes for small answers of every item type
 * (text, function call, reasoning with summary and reasoning text,
 * refusal, several items, custom tool call, web search, annotations), the
 * terminal event after the status (incomplete, failed) and the
 * in-progress forms. test_sse_responses_more.c has the rest. */
#include "check.h"
#include "sse_responses_check.h"

/* ---- exact sequences ---- */

static const char text_answer[] = TEXT_ANSWER;

TEST(text_answer_exact)
{
  expect(text_answer, 3,
         HEAD2
         EVT("response.output_item.added", 2,
             ",\"output_index\":0,\"item\":" MSG_START("msg_1"))
         EVT("response.content_part.added", 3,
             REF("msg_1", 0) CI(0) ",\"part\":" TEXT_PART(""))
         EVT("response.output_text.delta", 4,
             REF("msg_1", 0) CI(0) ",\"delta\":\"Hi \",\"logprobs\":[]")
         EVT("response.output_text.delta", 5,
             REF("msg_1", 0) CI(0) ",\"delta\":\"the\",\"logprobs\":[]")
         EVT("response.output_text.delta", 6,
             REF("msg_1", 0) CI(0) ",\"delta\":\"re\",\"logprobs\":[]")
         EVT("response.output_text.done", 7,
             REF("msg_1", 0) CI(0) ",\"text\":\"Hi there\",\"logprobs\":[]")
         EVT("response.content_part.done", 8,
             REF("msg_1", 0) CI(0) ",\"part\":" TEXT_PART("Hi there"))
         EVT("response.output_item.done", 9,
             ",\"output_index\":0,\"item\":"
             MSG("msg_1", "completed", TEXT_PART("Hi there")))
         EVT("response.completed", 10, ",\"response\":" ANSWER(
             MSG("msg_1", "completed", TEXT_PART("Hi there")))));
}

/* A part without logprobs (the API before it added them): no logprobs
 * member anywhere; the whole text in one piece. */
TEST(text_without_logprobs_member)
{
#define OLD_PART "{\"type\":\"output_text\",\"annotations\":[],\"text\":\"Yo\"}"
  expect(ANSWER(MSG("msg_2", "completed", OLD_PART)), 100,
         HEAD2
         EVT("response.output_item.added", 2,
             ",\"output_index\":0,\"item\":" MSG_START("msg_2"))
         EVT("response.content_part.added", 3,
             REF("msg_2", 0) CI(0) ",\"part\":{\"type\":\"output_text\","
             "\"annotations\":[],\"text\":\"\"}")
         EVT("response.output_text.delta", 4,
             REF("msg_2", 0) CI(0) ",\"delta\":\"Yo\"")
         EVT("response.output_text.done", 5,
             REF("msg_2", 0) CI(0) ",\"text\":\"Yo\"")
         EVT("response.content_part.done", 6,
             REF("msg_2", 0) CI(0) ",\"part\":" OLD_PART)
         EVT("response.output_item.done", 7, ",\"output_index\":0,\"item\":"
             MSG("msg_2", "completed", OLD_PART))
         EVT("response.completed", 8, ",\"response\":"
             ANSWER(MSG("msg_2", "completed", OLD_PART))));
}

#define FC_START(id)                                                     \
  "{\"id\":\"" id "\",\"type\":\"function_call\",\"status\":"             \
  "\"in_progress\",\"arguments\":\"\",\"call_id\":\"call_" id "\","       \
  "\"name\":\"get\"}"

TEST(function_call_exact)
{
  expect(ANSWER(FC("fc_1", "{\\\"q\\\":1}")), 4,
         HEAD2
         EVT("response.output_item.added", 2,
             ",\"output_index\":0,\"item\":" FC_START("fc_1"))
         EVT("response.function_call_arguments.delta", 3,
             REF("fc_1", 0) ",\"delta\":\"{\\\"q\\\"\"")
         EVT("response.function_call_arguments.delta", 4,
             REF("fc_1", 0) ",\"delta\":\":1}\"")
         EVT("response.function_call_arguments.done", 5,
             REF("fc_1", 0) ",\"arguments\":\"{\\\"q\\\":1}\",\"name\":\"get\"")
         EVT("response.output_item.done", 6, ",\"output_index\":0,\"item\":"
             FC("fc_1", "{\\\"q\\\":1}"))
         EVT("response.completed", 7, ",\"response\":"
             ANSWER(FC("fc_1", "{\\\"q\\\":1}"))));
}


/* Reasoning with two summary parts, then a message. */
TEST(reasoning_summary_then_message)
{
  expect(ANSWER(RS(SUM("A b") "," SUM("C"), ",\"encrypted_content\":\"gAAA\"")
                "," MSG("msg_1", "completed", TEXT_PART("Ok"))), 2,
         HEAD2
         EVT("response.output_item.added", 2, ",\"output_index\":0,\"item\":"
             RS("", ",\"encrypted_content\":\"gAAA\""))
         EVT("response.reasoning_summary_part.added", 3,
             REF("rs_1", 0) SI(0) ",\"part\":" SUM(""))
         EVT("response.reasoning_summary_text.delta", 4,
             REF("rs_1", 0) SI(0) ",\"delta\":\"A \"")
         EVT("response.reasoning_summary_text.delta", 5,
             REF("rs_1", 0) SI(0) ",\"delta\":\"b\"")
         EVT("response.reasoning_summary_text.done", 6,
             REF("rs_1", 0) SI(0) ",\"text\":\"A b\"")
         EVT("response.reasoning_summary_part.done", 7,
             REF("rs_1", 0) SI(0) ",\"part\":" SUM("A b"))
         EVT("response.reasoning_summary_part.added", 8,
             REF("rs_1", 0) SI(1) ",\"part\":" SUM(""))
         EVT("response.reasoning_summary_text.delta", 9,
             REF("rs_1", 0) SI(1) ",\"delta\":\"C\"")
         EVT("response.reasoning_summary_text.done", 10,
             REF("rs_1", 0) SI(1) ",\"text\":\"C\"")
         EVT("response.reasoning_summary_part.done", 11,
             REF("rs_1", 0) SI(1) ",\"part\":" SUM("C"))
         EVT("response.output_item.done", 12, ",\"output_index\":0,\"item\":"
             RS(SUM("A b") "," SUM("C"), ",\"encrypted_content\":\"gAAA\""))
         EVT("response.output_item.added", 13,
             ",\"output_index\":1,\"item\":" MSG_START("msg_1"))
         EVT("response.content_part.added", 14,
             REF("msg_1", 1) CI(0) ",\"part\":" TEXT_PART(""))
         EVT("response.output_text.delta", 15,
             REF("msg_1", 1) CI(0) ",\"delta\":\"Ok\",\"logprobs\":[]")
         EVT("response.output_text.done", 16,
             REF("msg_1", 1) CI(0) ",\"text\":\"Ok\",\"logprobs\":[]")
         EVT("response.content_part.done", 17,
             REF("msg_1", 1) CI(0) ",\"part\":" TEXT_PART("Ok"))
         EVT("response.output_item.done", 18, ",\"output_index\":1,\"item\":"
             MSG("msg_1", "completed", TEXT_PART("Ok")))
         EVT("response.completed", 19, ",\"response\":"
             ANSWER(RS(SUM("A b") "," SUM("C"),
                       ",\"encrypted_content\":\"gAAA\"") ","
                    MSG("msg_1", "completed", TEXT_PART("Ok")))));
}

/* A reasoning item without summary: added and done only; one with
 * reasoning_text content (open-weight models): content part events. */
TEST(reasoning_empty_and_reasoning_text)
{
#define RT(t) "{\"type\":\"reasoning_text\",\"text\":\"" t "\"}"
  expect(ANSWER(RS("", "") "," RS("", ",\"content\":[" RT("Hm.") "]")), 8,
         HEAD2
         EVT("response.output_item.added", 2,
             ",\"output_index\":0,\"item\":" RS("", ""))
         EVT("response.output_item.done", 3,
             ",\"output_index\":0,\"item\":" RS("", ""))
         EVT("response.output_item.added", 4,
             ",\"output_index\":1,\"item\":" RS("", ",\"content\":[]"))
         EVT("response.content_part.added", 5,
             REF("rs_1", 1) CI(0) ",\"part\":" RT(""))
         EVT("response.reasoning_text.delta", 6,
             REF("rs_1", 1) CI(0) ",\"delta\":\"Hm.\"")
         EVT("response.reasoning_text.done", 7,
             REF("rs_1", 1) CI(0) ",\"text\":\"Hm.\"")
         EVT("response.content_part.done", 8,
             REF("rs_1", 1) CI(0) ",\"part\":" RT("Hm."))
         EVT("response.output_item.done", 9, ",\"output_index\":1,\"item\":"
             RS("", ",\"content\":[" RT("Hm.") "]"))
         EVT("response.completed", 10, ",\"response\":"
             ANSWER(RS("", "") "," RS("", ",\"content\":[" RT("Hm.") "]"))));
}

#define REFUSAL_PART(t) "{\"type\":\"refusal\",\"refusal\":\"" t "\"}"

TEST(refusal_exact)
{
  expect(ANSWER(MSG("msg_r", "completed", REFUSAL_PART("No, sorry."))), 4,
         HEAD2
         EVT("response.output_item.added", 2,
             ",\"output_index\":0,\"item\":" MSG_START("msg_r"))
         EVT("response.content_part.added", 3,
             REF("msg_r", 0) CI(0) ",\"part\":" REFUSAL_PART(""))
         EVT("response.refusal.delta", 4,
             REF("msg_r", 0) CI(0) ",\"delta\":\"No, \"")
         EVT("response.refusal.delta", 5,
             REF("msg_r", 0) CI(0) ",\"delta\":\"sorr\"")
         EVT("response.refusal.delta", 6,
             REF("msg_r", 0) CI(0) ",\"delta\":\"y.\"")
         EVT("response.refusal.done", 7,
             REF("msg_r", 0) CI(0) ",\"refusal\":\"No, sorry.\"")
         EVT("response.content_part.done", 8,
             REF("msg_r", 0) CI(0) ",\"part\":" REFUSAL_PART("No, sorry."))
         EVT("response.output_item.done", 9, ",\"output_index\":0,\"item\":"
             MSG("msg_r", "completed", REFUSAL_PART("No, sorry.")))
         EVT("response.completed", 10, ",\"response\":"
             ANSWER(MSG("msg_r", "completed", REFUSAL_PART("No, sorry.")))));
}

/* Two parallel function calls with empty arguments, then a message with
 * two parts: output indexes and content indexes count up. */
TEST(multiple_items)
{
  expect(ANSWER(FC("fc_a", "") "," FC("fc_b", "{}") ","
                MSG("msg_m", "completed", TEXT_PART("") "," TEXT_PART("x"))),
         8,
         HEAD2
         EVT("response.output_item.added", 2,
             ",\"output_index\":0,\"item\":" FC_START("fc_a"))
         EVT("response.function_call_arguments.done", 3,
             REF("fc_a", 0) ",\"arguments\":\"\",\"name\":\"get\"")
         EVT("response.output_item.done", 4,
             ",\"output_index\":0,\"item\":" FC("fc_a", ""))
         EVT("response.output_item.added", 5,
             ",\"output_index\":1,\"item\":" FC_START("fc_b"))
         EVT("response.function_call_arguments.delta", 6,
             REF("fc_b", 1) ",\"delta\":\"{}\"")
         EVT("response.function_call_arguments.done", 7,
             REF("fc_b", 1) ",\"arguments\":\"{}\",\"name\":\"get\"")
         EVT("response.output_item.done", 8,
             ",\"output_index\":1,\"item\":" FC("fc_b", "{}"))
         EVT("response.output_item.added", 9,
             ",\"output_index\":2,\"item\":" MSG_START("msg_m"))
         EVT("response.content_part.added", 10,
             REF("msg_m", 2) CI(0) ",\"part\":" TEXT_PART(""))
         EVT("response.output_text.done", 11,
             REF("msg_m", 2) CI(0) ",\"text\":\"\",\"logprobs\":[]")
         EVT("response.content_part.done", 12,
             REF("msg_m", 2) CI(0) ",\"part\":" TEXT_PART(""))
         EVT("response.content_part.added", 13,
             REF("msg_m", 2) CI(1) ",\"part\":" TEXT_PART(""))
         EVT("response.output_text.delta", 14,
             REF("msg_m", 2) CI(1) ",\"delta\":\"x\",\"logprobs\":[]")
         EVT("response.output_text.done", 15,
             REF("msg_m", 2) CI(1) ",\"text\":\"x\",\"logprobs\":[]")
         EVT("response.content_part.done", 16,
             REF("msg_m", 2) CI(1) ",\"part\":" TEXT_PART("x"))
         EVT("response.output_item.done", 17, ",\"output_index\":2,\"item\":"
             MSG("msg_m", "completed", TEXT_PART("") "," TEXT_PART("x")))
         EVT("response.completed", 18, ",\"response\":"
             ANSWER(FC("fc_a", "") "," FC("fc_b", "{}") ","
                    MSG("msg_m", "completed",
                        TEXT_PART("") "," TEXT_PART("x")))));
}

/* status "incomplete": the terminal event is response.incomplete; the
 * start form nulls incomplete_details and usage; the item's status
 * "incomplete" starts as "in_progress". status "failed": response.failed
 * with the error object, null at the start. */
TEST(incomplete_and_failed)
{
#define INC_TOP                                                          \
  "{\"id\":\"resp_2\",\"object\":\"response\",\"status\":\"incomplete\","  \
  "\"incomplete_details\":{\"reason\":\"max_output_tokens\"},"           \
  "\"max_output_tokens\":16,\"output\":["
#define INC_START                                                        \
  "{\"id\":\"resp_2\",\"object\":\"response\",\"status\":\"in_progress\"," \
  "\"incomplete_details\":null,\"max_output_tokens\":16,\"output\":[],"  \
  "\"usage\":null}"
#define INC MSG("msg_i", "incomplete", TEXT_PART("Cut"))
  expect(INC_TOP INC "],\"usage\":{\"output_tokens\":16}}", 8,
         EVT("response.created", 0, ",\"response\":" INC_START)
         EVT("response.in_progress", 1, ",\"response\":" INC_START)
         EVT("response.output_item.added", 2,
             ",\"output_index\":0,\"item\":" MSG_START("msg_i"))
         EVT("response.content_part.added", 3,
             REF("msg_i", 0) CI(0) ",\"part\":" TEXT_PART(""))
         EVT("response.output_text.delta", 4,
             REF("msg_i", 0) CI(0) ",\"delta\":\"Cut\",\"logprobs\":[]")
         EVT("response.output_text.done", 5,
             REF("msg_i", 0) CI(0) ",\"text\":\"Cut\",\"logprobs\":[]")
         EVT("response.content_part.done", 6,
             REF("msg_i", 0) CI(0) ",\"part\":" TEXT_PART("Cut"))
         EVT("response.output_item.done", 7, ",\"output_index\":0,\"item\":" INC)
         EVT("response.incomplete", 8, ",\"response\":" INC_TOP INC
             "],\"usage\":{\"output_tokens\":16}}"));
#define FAILED                                                           \
  "{\"id\":\"resp_3\",\"object\":\"response\",\"status\":\"failed\","      \
  "\"error\":{\"code\":\"server_error\",\"message\":\"The model failed.\"}," \
  "\"output\":[],\"usage\":null}"
#define FAILED_START                                                     \
  "{\"id\":\"resp_3\",\"object\":\"response\",\"status\":\"in_progress\"," \
  "\"error\":null,\"output\":[],\"usage\":null}"
  expect(FAILED, 8,
         EVT("response.created", 0, ",\"response\":" FAILED_START)
         EVT("response.in_progress", 1, ",\"response\":" FAILED_START)
         EVT("response.failed", 2, ",\"response\":" FAILED));
}

/* The start form: completed_at and output_text (as some servers send)
 * are reset; null members stay null; unknown members are copied; a
 * pretty-printed answer is compacted, strings keep their spaces. */
TEST(start_form_and_pretty_answer)
{
  expect("{\n  \"id\": \"resp_p\",\n  \"object\": \"response\",\n"
         "  \"completed_at\": 1700000009,\n  \"status\": \"completed\",\n"
         "  \"content_filters\": null,\n  \"instructions\": \"Be  brief\\n\",\n"
         "  \"output\": [],\n  \"output_text\": \"\",\n  \"usage\": null,\n"
         "  \"tools\": [ { \"type\": \"web_search\" } ]\n}\n", 8,
         EVT("response.created", 0, ",\"response\":{\"id\":\"resp_p\","
             "\"object\":\"response\",\"completed_at\":null,\"status\":"
             "\"in_progress\",\"content_filters\":null,\"instructions\":"
             "\"Be  brief\\n\",\"output\":[],\"output_text\":\"\","
             "\"usage\":null,\"tools\":[{\"type\":\"web_search\"}]}")
         EVT("response.in_progress", 1, ",\"response\":{\"id\":\"resp_p\","
             "\"object\":\"response\",\"completed_at\":null,\"status\":"
             "\"in_progress\",\"content_filters\":null,\"instructions\":"
             "\"Be  brief\\n\",\"output\":[],\"output_text\":\"\","
             "\"usage\":null,\"tools\":[{\"type\":\"web_search\"}]}")
         EVT("response.completed", 2, ",\"response\":{\"id\":\"resp_p\","
             "\"object\":\"response\",\"completed_at\":1700000009,\"status\":"
             "\"completed\",\"content_filters\":null,\"instructions\":"
             "\"Be  brief\\n\",\"output\":[],\"output_text\":\"\","
             "\"usage\":null,\"tools\":[{\"type\":\"web_search\"}]}"));
}

/* Annotations go one event each after the deltas; the added part has
 * none, the done part all. */
TEST(annotations_replayed)
{
#define CITE(i) "{\"type\":\"url_citation\",\"start_index\":" #i ","      \
  "\"end_index\":2,\"title\":\"T\",\"url\":\"https://e.x/\"}"
#define APART "{\"type\":\"output_text\",\"annotations\":[" CITE(0) ","   \
  CITE(1) "],\"logprobs\":[],\"text\":\"Ab\"}"
  expect(ANSWER(MSG("msg_a", "completed", APART)), 8,
         HEAD2
         EVT("response.output_item.added", 2,
             ",\"output_index\":0,\"item\":" MSG_START("msg_a"))
         EVT("response.content_part.added", 3,
             REF("msg_a", 0) CI(0) ",\"part\":" TEXT_PART(""))
         EVT("response.output_text.delta", 4,
             REF("msg_a", 0) CI(0) ",\"delta\":\"Ab\",\"logprobs\":[]")
         EVT("response.output_text.annotation.added", 5,
             REF("msg_a", 0) CI(0) ",\"annotation_index\":0,\"annotation\":"
             CITE(0))
         EVT("response.output_text.annotation.added", 6,
             REF("msg_a", 0) CI(0) ",\"annotation_index\":1,\"annotation\":"
             CITE(1))
         EVT("response.output_text.done", 7,
             REF("msg_a", 0) CI(0) ",\"text\":\"Ab\",\"logprobs\":[]")
         EVT("response.content_part.done", 8,
             REF("msg_a", 0) CI(0) ",\"part\":" APART)
         EVT("response.output_item.done", 9, ",\"output_index\":0,\"item\":"
             MSG("msg_a", "completed", APART))
         EVT("response.completed", 10, ",\"response\":"
             ANSWER(MSG("msg_a", "completed", APART))));
}

/* Logprobs: one delta per token, the entries without bytes; a token that
 * ends inside a character (the two halves of "é") joins the next. */

TEST(custom_tool_and_web_search)
{
#define CTC(in) "{\"type\":\"custom_tool_call\",\"id\":\"ctc_1\","         \
  "\"status\":\"completed\",\"call_id\":\"call_c\",\"input\":\"" in "\"," \
  "\"name\":\"apply_patch\"}"
#define WS "{\"id\":\"ws_1\",\"type\":\"web_search_call\",\"status\":"    \
  "\"completed\",\"action\":{\"type\":\"search\",\"query\":\"q\"}}"
  expect(ANSWER(CTC("*** Begin") "," WS), 6,
         HEAD2
         EVT("response.output_item.added", 2, ",\"output_index\":0,\"item\":"
             "{\"type\":\"custom_tool_call\",\"id\":\"ctc_1\",\"status\":"
             "\"in_progress\",\"call_id\":\"call_c\",\"input\":\"\","
             "\"name\":\"apply_patch\"}")
         EVT("response.custom_tool_call_input.delta", 3,
             REF("ctc_1", 0) ",\"delta\":\"*** \"")
         EVT("response.custom_tool_call_input.delta", 4,
             REF("ctc_1", 0) ",\"delta\":\"Begin\"")
         EVT("response.custom_tool_call_input.done", 5,
             REF("ctc_1", 0) ",\"input\":\"*** Begin\"")
         EVT("response.output_item.done", 6,
             ",\"output_index\":0,\"item\":" CTC("*** Begin"))
         EVT("response.output_item.added", 7, ",\"output_index\":1,\"item\":"
             "{\"id\":\"ws_1\",\"type\":\"web_search_call\",\"status\":"
             "\"in_progress\"}")
         EVT("response.web_search_call.in_progress", 8,
             ",\"output_index\":1,\"item_id\":\"ws_1\"")
         EVT("response.web_search_call.searching", 9,
             ",\"output_index\":1,\"item_id\":\"ws_1\"")
         EVT("response.web_search_call.completed", 10,
             ",\"output_index\":1,\"item_id\":\"ws_1\"")
         EVT("response.output_item.done", 11,
             ",\"output_index\":1,\"item\":" WS)
         EVT("response.completed", 12, ",\"response\":"
             ANSWER(CTC("*** Begin") "," WS)));
}

int main(void)
{
  RUN(text_answer_exact);
  RUN(text_without_logprobs_member);
  RUN(function_call_exact);
  RUN(reasoning_summary_then_message);
  RUN(reasoning_empty_and_reasoning_text);
  RUN(refusal_exact);
  RUN(multiple_items);
  RUN(incomplete_and_failed);
  RUN(start_form_and_pretty_answer);
  RUN(annotations_replayed);
  RUN(custom_tool_and_web_search);
  return check_done();
}
