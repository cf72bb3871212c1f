/* test_chat_logprobs.c - chat.completion answers with logprobs, replayed
 * as the streaming API sends them: the role chunk with empty arrays, one
 * content (refusal) chunk per token group with exactly its entries, the
 * final chunk with "logprobs":null. Exact bytes for ASCII tokens, a
 * character split over tokens, escapes inside tokens, a surrogate pair,
 * top_logprobs, refusal logprobs, tool calls; and the answers refused
 * because their logprobs do not spell the text. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "replay_check.h"
#include "json.h"
#include "sse_chat.h"

/* ---- answer and event templates ---- */

#define TOP                                                              \
  "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,"           \
  "\"model\":\"gpt-4o-mini\",\"choices\":["
/* One choice: message members m, logprobs lp, finish_reason fr. */
#define ANS(m, lp, fr)                                                   \
  TOP "{\"index\":0,\"message\":{\"role\":\"assistant\"," m "},"          \
  "\"logprobs\":" lp ",\"finish_reason\":" fr "}]}"
/* A logprobs entry with no top_logprobs. */
#define ENT(tok, bytes)                                                  \
  "{\"token\":\"" tok "\",\"logprob\":-0.5,\"bytes\":" bytes             \
  ",\"top_logprobs\":[]}"

#define HEAD                                                             \
  "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\","             \
  "\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":["
/* One chunk: delta d, logprobs lp, finish_reason fr. */
#define EV(d, lp, fr)                                                    \
  HEAD "{\"index\":0,\"delta\":{" d "},\"logprobs\":" lp                 \
  ",\"finish_reason\":" fr "}]}\n\n"
#define ROLE_TEXT "\"role\":\"assistant\",\"content\":\"\",\"refusal\":null"
#define LP_ROLE "{\"content\":[],\"refusal\":null}"
#define LPC(e) "{\"content\":[" e "],\"refusal\":null}"
#define DONE "data: [DONE]\n\n"

/* ---- helpers ---- */

/* Is ev one event: "data: " + one-line JSON object + blank line? */
static int event_ok(const char *ev, size_t n)
{
  struct json_span v;
  if(n == strlen(DONE) && !memcmp(ev, DONE, n))
    return 1;
  if(n < 8 || memcmp(ev, "data: ", 6) || memcmp(ev + n - 2, "\n\n", 2) ||
     memchr(ev, '\n', n - 2))
    return 0;
  return json_parse(ev + 6, n - 8, &v) && v.type == JSON_OBJECT;
}

/* event_ok for replay_checked. */
static int lp_event_ok(const char *ev, size_t n, long index)
{
  (void)index;
  return event_ok(ev, n);
}

/* Replay ans (piece size piece) and compare all events with want; each
 * call must append exactly one well-formed event. */
static void expect(const char *ans, size_t piece, const char *want)
{
  struct replay_opts o = {piece, false};
  struct buf all;
  buf_init(&all);
  CHECK(replay_checked(&sse_chat_encoder, ans, strlen(ans), &o, 0,
                       lp_event_ok, &all) > 0);
  CHECK_MEM(all.ptr, all.len, want, strlen(want));
  buf_free(&all);
}

/* Is the answer refused with a reason? */
static int refused(const char *ans)
{
  struct replay_opts o = {4, false};
  const char *why = NULL;
  void *e = sse_chat_encoder.open(ans, strlen(ans), &o, &why);
  if(e) {
    sse_chat_encoder.close(e);
    return 0;
  }
  return why != NULL && why[0] != '\0';
}

/* ---- exact sequences ---- */

/* ASCII tokens: one chunk per token, whatever piece_chars says. */
static const char ascii[] =
  ANS("\"content\":\"Hello big world\",\"refusal\":null",
      "{\"content\":[" ENT("Hello", "[72,101,108,108,111]") ","
      ENT(" big", "[32,98,105,103]") "," ENT(" world",
      "[32,119,111,114,108,100]") "],\"refusal\":null}", "\"stop\"");

static const char ascii_want[] =
  EV(ROLE_TEXT, LP_ROLE, "null")
  EV("\"content\":\"Hello\"", LPC(ENT("Hello", "[72,101,108,108,111]")),
     "null")
  EV("\"content\":\" big\"", LPC(ENT(" big", "[32,98,105,103]")), "null")
  EV("\"content\":\" world\"",
     LPC(ENT(" world", "[32,119,111,114,108,100]")), "null")
  EV("", "null", "\"stop\"") DONE;

TEST(ascii_tokens)
{
  expect(ascii, 1, ascii_want);
  expect(ascii, 100, ascii_want);
}

/* An emoji over two tokens with partial bytes: the second group holds
 * both entries and the whole character (raw UTF-8). */
TEST(character_split_over_tokens)
{
  expect(ANS("\"content\":\"Hi \xf0\x9f\x98\x80\"",
             "{\"content\":[" ENT("Hi", "[72,105]") ","
             ENT(" \\\\xf0\\\\x9f", "[32,240,159]") ","
             ENT("\\\\x98\\\\x80", "[152,128]") "],\"refusal\":null}",
             "\"stop\""), 8,
         EV(ROLE_TEXT, LP_ROLE, "null")
         EV("\"content\":\"Hi\"", LPC(ENT("Hi", "[72,105]")), "null")
         EV("\"content\":\" \xf0\x9f\x98\x80\"",
            LPC(ENT(" \\\\xf0\\\\x9f", "[32,240,159]") ","
                ENT("\\\\x98\\\\x80", "[152,128]")), "null")
         EV("", "null", "\"stop\"") DONE);
}

/* A surrogate-pair escape is 4 bytes and never cut; the token that ends
 * the character also carries the next one ("b"). \u00e9 is 2 bytes, here
 * from a token with bytes null (its own UTF-8 counts). */
TEST(surrogate_pair_and_unicode_escape)
{
  expect(ANS("\"content\":\"a\\ud83d\\ude00b caf\\u00e9\"",
             "{\"content\":[" ENT("a", "[97]") ","
             ENT("\\\\xf0\\\\x9f\\\\x98", "[240,159,152]") ","
             ENT("\\\\x80b", "[128,98]") "," ENT(" caf", "null") ","
             ENT("\\u00e9", "null") "],\"refusal\":null}", "\"stop\""), 3,
         EV(ROLE_TEXT, LP_ROLE, "null")
         EV("\"content\":\"a\"", LPC(ENT("a", "[97]")), "null")
         EV("\"content\":\"\\ud83d\\ude00b\"",
            LPC(ENT("\\\\xf0\\\\x9f\\\\x98", "[240,159,152]") ","
                ENT("\\\\x80b", "[128,98]")), "null")
         EV("\"content\":\" caf\"", LPC(ENT(" caf", "null")), "null")
         EV("\"content\":\"\\u00e9\"", LPC(ENT("\\u00e9", "null")), "null")
         EV("", "null", "\"stop\"") DONE);
}

/* Escapes inside tokens: \" and \n are one byte each, copied escaped. */
TEST(escaped_quote_and_newline_in_tokens)
{
  expect(ANS("\"content\":\"Say \\\"hi\\\"\\n\"",
             "{\"content\":[" ENT("Say", "[83,97,121]") ","
             ENT(" \\\"", "[32,34]") "," ENT("hi", "null") ","
             ENT("\\\"\\n", "[34,10]") "],\"refusal\":null}", "\"stop\""), 8,
         EV(ROLE_TEXT, LP_ROLE, "null")
         EV("\"content\":\"Say\"", LPC(ENT("Say", "[83,97,121]")), "null")
         EV("\"content\":\" \\\"\"", LPC(ENT(" \\\"", "[32,34]")), "null")
         EV("\"content\":\"hi\"", LPC(ENT("hi", "null")), "null")
         EV("\"content\":\"\\\"\\n\"", LPC(ENT("\\\"\\n", "[34,10]")),
            "null")
         EV("", "null", "\"stop\"") DONE);
}

/* top_logprobs and unknown entry members are copied whole, compacted. */
TEST(top_logprobs_copied_compact)
{
  expect(ANS("\"content\":\"Yes\"",
             "{ \"content\": [ { \"token\": \"Yes\", \"logprob\": -1.2e-5,"
             " \"bytes\": [ 89, 101, 115 ], \"top_logprobs\": [ {\"token\":"
             " \"Yes\", \"logprob\": -1.2e-5, \"bytes\": [89,101,115]},"
             " {\"token\": \"No\", \"logprob\": -11.5, \"bytes\": null} ],"
             " \"x\": 1 } ], \"refusal\": null }", "\"stop\""), 8,
         EV(ROLE_TEXT, LP_ROLE, "null")
         EV("\"content\":\"Yes\"",
            LPC("{\"token\":\"Yes\",\"logprob\":-1.2e-5,\"bytes\":[89,101,"
                "115],\"top_logprobs\":[{\"token\":\"Yes\",\"logprob\":"
                "-1.2e-5,\"bytes\":[89,101,115]},{\"token\":\"No\","
                "\"logprob\":-11.5,\"bytes\":null}],\"x\":1}"), "null")
         EV("", "null", "\"stop\"") DONE);
}

/* Refusal logprobs: {"content":null,"refusal":[...]} on each piece. */
TEST(refusal_logprobs)
{
  expect(ANS("\"content\":null,\"refusal\":\"I can't.\"",
             "{\"content\":null,\"refusal\":[" ENT("I", "[73]") ","
             ENT(" can't", "[32,99,97,110,39,116]") "," ENT(".", "[46]")
             "]}", "\"stop\""), 8,
         EV("\"role\":\"assistant\",\"content\":null,\"refusal\":\"\"",
            "{\"content\":null,\"refusal\":[]}", "null")
         EV("\"refusal\":\"I\"",
            "{\"content\":null,\"refusal\":[" ENT("I", "[73]") "]}", "null")
         EV("\"refusal\":\" can't\"", "{\"content\":null,\"refusal\":["
            ENT(" can't", "[32,99,97,110,39,116]") "]}", "null")
         EV("\"refusal\":\".\"",
            "{\"content\":null,\"refusal\":[" ENT(".", "[46]") "]}", "null")
         EV("", "null", "\"stop\"") DONE);
}

/* A tool call answer with {"content":null,"refusal":null}: the role
 * chunk (with the call's head) carries it; argument pieces have null. */
TEST(tool_call_with_null_logprobs)
{
  expect(ANS("\"content\":null,\"tool_calls\":[{\"id\":\"k\",\"type\":"
             "\"function\",\"function\":{\"name\":\"f\",\"arguments\":"
             "\"{}\"}}],\"refusal\":null",
             "{\"content\":null,\"refusal\":null}", "\"tool_calls\""), 8,
         EV("\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{"
            "\"index\":0,\"id\":\"k\",\"type\":\"function\",\"function\":{"
            "\"name\":\"f\",\"arguments\":\"\"}}],\"refusal\":null",
            "{\"content\":null,\"refusal\":null}", "null")
         EV("\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
            "\"{}\"}}]", "null", "null")
         EV("", "null", "\"tool_calls\"") DONE);
}

/* Empty content and []: role and final chunks only. A null logprobs
 * member leaves its text to piece_chars; an absent one stays absent. */
TEST(empty_and_null_members)
{
  expect(ANS("\"content\":\"\"", "{\"content\":[],\"refusal\":null}",
             "\"length\""), 8,
         EV(ROLE_TEXT, LP_ROLE, "null") EV("", "null", "\"length\"") DONE);
  expect(ANS("\"content\":\"ab cd\"", "{\"content\":null}", "\"stop\""), 3,
         EV(ROLE_TEXT, "{\"content\":null}", "null")
         EV("\"content\":\"ab \"", "null", "null")
         EV("\"content\":\"cd\"", "null", "null")
         EV("", "null", "\"stop\"") DONE);
  expect(ANS("\"content\":\"ok\"", "{\"content\":[" ENT("ok", "[111,107]")
             "]}", "\"stop\""), 8,
         EV(ROLE_TEXT, "{\"content\":[]}", "null")
         EV("\"content\":\"ok\"", "{\"content\":[" ENT("ok", "[111,107]")
            "]}", "null")
         EV("", "null", "\"stop\"") DONE);
}

/* An entry of no bytes is a group of its own with no text. */
TEST(zero_byte_entry)
{
  expect(ANS("\"content\":\"ab\"", "{\"content\":[" ENT("a", "[97]") ","
             ENT("", "[]") "," ENT("b", "[98]") "],\"refusal\":null}",
             "\"stop\""), 8,
         EV(ROLE_TEXT, LP_ROLE, "null")
         EV("\"content\":\"a\"", LPC(ENT("a", "[97]")), "null")
         EV("\"content\":\"\"", LPC(ENT("", "[]")), "null")
         EV("\"content\":\"b\"", LPC(ENT("b", "[98]")), "null")
         EV("", "null", "\"stop\"") DONE);
}

/* An event refused for lack of memory in the middle of the groups is
 * produced again, identical, after a reset. */
TEST(oom_group_is_redone)
{
  struct replay_opts o = {4, false};
  const char *why = NULL;
  struct buf ev, again;
  void *e = sse_chat_encoder.open(ascii, strlen(ascii), &o, &why);
  CHECK(e != NULL);
  if(!e)
    return;
  buf_init(&ev);
  buf_init(&again);
  CHECK(sse_chat_encoder.next(e, &ev) == 1);  /* role */
  buf_reset(&ev);
  CHECK(sse_chat_encoder.next(e, &ev) == 1);  /* "Hello" */
  buf_reset(&ev);
  again.oom = true;
  CHECK(sse_chat_encoder.next(e, &again) == -1);
  buf_reset(&again);
  CHECK(sse_chat_encoder.next(e, &again) == 1);
  CHECK_STR(buf_cstr(&again), EV("\"content\":\" big\"",
                                 LPC(ENT(" big", "[32,98,105,103]")), "null"));
  sse_chat_encoder.close(e);
  buf_free(&ev);
  buf_free(&again);
}

/* ---- refusals ---- */

TEST(refuses_logprobs_that_do_not_spell_the_text)
{
  /* wrong byte, too few and too many tokens */
  CHECK(refused(ANS("\"content\":\"Hi\"", LPC(ENT("Hi", "[72,106]")),
                    "\"stop\"")));
  CHECK(refused(ANS("\"content\":\"Hi\"", LPC(ENT("H", "[72]")),
                    "\"stop\"")));
  CHECK(refused(ANS("\"content\":\"Hi\"", LPC(ENT("Hi!", "[72,105,33]")),
                    "\"stop\"")));
  CHECK(refused(ANS("\"content\":\"x\"", "{\"content\":[]}", "\"stop\"")));
  /* bytes null: the token's own text counts, and "\\xf0" is not a byte */
  CHECK(refused(ANS("\"content\":\"\xf0\x9f\x98\x80\"",
                    LPC(ENT("\\\\xf0\\\\x9f\\\\x98\\\\x80", "null")),
                    "\"stop\"")));
  /* a split character whose last part is missing */
  CHECK(refused(ANS("\"content\":\"\\u00e9\"", LPC(ENT("", "[195]")),
                    "\"stop\"")));
  /* entries for a null content, refusal entries for the content */
  CHECK(refused(ANS("\"content\":null", LPC(ENT("a", "[97]")), "\"stop\"")));
  CHECK(refused(ANS("\"content\":null", LPC(ENT("", "[]")), "\"stop\"")));
  CHECK(refused(ANS("\"content\":\"a\",\"refusal\":null",
                    "{\"content\":[],\"refusal\":[" ENT("a", "[97]") "]}",
                    "\"stop\"")));
  /* malformed entries and objects */
  CHECK(refused(ANS("\"content\":\"a\"", LPC(ENT("a", "[353]")), "null")));
  CHECK(refused(ANS("\"content\":\"a\"", LPC(ENT("a", "[9.7e1]")), "null")));
  CHECK(refused(ANS("\"content\":\"a\"", LPC(ENT("a", "\"a\"")), "null")));
  CHECK(refused(ANS("\"content\":\"a\"",
                    LPC("{\"token\":1,\"bytes\":[97]}"), "null")));
  CHECK(refused(ANS("\"content\":\"a\"", LPC("[97]"), "null")));
  CHECK(refused(ANS("\"content\":\"a\"", "{\"content\":{}}", "null")));
  CHECK(refused(ANS("\"content\":\"a\"", "[]", "null")));
  CHECK(refused(ANS("\"content\":\"a\"",
                    "{\"content\":[" ENT("a", "[97]") "],\"audio\":[]}",
                    "null")));
}

TEST(accepts_what_it_replays)
{
  CHECK(!refused(ascii));
  CHECK(!refused(ANS("\"content\":\"a\"", "null", "\"stop\"")));
  CHECK(!refused(ANS("\"content\":null", "{\"content\":[],\"refusal\":[]}",
                     "\"stop\"")));
}

int main(void)
{
  RUN(ascii_tokens);
  RUN(character_split_over_tokens);
  RUN(surrogate_pair_and_unicode_escape);
  RUN(escaped_quote_and_newline_in_tokens);
  RUN(top_logprobs_copied_compact);
  RUN(refusal_logprobs);
  RUN(tool_call_with_null_logprobs);
  RUN(empty_and_null_members);
  RUN(zero_byte_entry);
  RUN(oom_group_is_redone);
  RUN(refuses_logprobs_that_do_not_spell_the_text);
  RUN(accepts_what_it_replays);
  return check_done();
}
