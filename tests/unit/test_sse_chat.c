/* test_sse_chat.c - the chat.completion -> chat.completion.chunk replay.
 *
 * Exact event bytes for small answers of every shape, the piece cutter's
 * boundaries (UTF-8, escapes, surrogate pairs), a 1 MiB answer streamed
 * one bounded event per call, and the answers the encoder must refuse. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "replay_check.h"
#include "sse_chat.h"

/* ---- answer and event templates ---- */

#define TOP                                                              \
  "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\","                \
  "\"created\":1700000000,\"model\":\"gpt-4o\",\"service_tier\":"         \
  "\"default\",\"system_fingerprint\":\"fp_x\",\"choices\":["
#define USAGE ",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3," \
  "\"total_tokens\":8}"
#define MSG(i, m, fr)                                                    \
  "{\"index\":" #i ",\"message\":{\"role\":\"assistant\"," m             \
  "},\"logprobs\":null,\"finish_reason\":" fr "}"

#define HEAD                                                             \
  "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","    \
  "\"created\":1700000000,\"model\":\"gpt-4o\",\"service_tier\":"         \
  "\"default\",\"system_fingerprint\":\"fp_x\",\"choices\":["
#define CH(i, d)                                                         \
  "{\"index\":" #i ",\"delta\":{" d                                      \
  "},\"logprobs\":null,\"finish_reason\":null}"
#define FIN(i, fr)                                                       \
  "{\"index\":" #i ",\"delta\":{},\"logprobs\":null,\"finish_reason\":"  \
  fr "}"
#define EV(x) HEAD x "]}\n\n"
#define EVU(x) HEAD x "],\"usage\":null}\n\n"
#define ROLE_TEXT "\"role\":\"assistant\",\"content\":\"\",\"refusal\":null"
#define ROLE_NULL "\"role\":\"assistant\",\"content\":null,\"refusal\":null"
#define DONE "data: [DONE]\n\n"

/* ---- helpers ---- */

/* Is ev one well-formed event: "data: " + one-line JSON + blank line, or
 * the [DONE] line? */
static int event_ok(const char *ev, size_t n)
{
  struct json_span v;
  if(n == strlen(DONE) && !memcmp(ev, DONE, n))
    return 1;
  if(n < 8 || memcmp(ev, "data: ", 6) || memcmp(ev + n - 2, "\n\n", 2))
    return 0;
  if(memchr(ev, '\n', n - 2) || memchr(ev, '\r', n))
    return 0;
  return json_parse(ev + 6, n - 8, &v) && v.type == JSON_OBJECT;
}

/* event_ok for replay_checked. */
static int chat_event_ok(const char *ev, size_t n, long index)
{
  (void)index;
  return event_ok(ev, n);
}

/* Replay answer into all (replay_checked); the stream ends with [DONE].
 * The event count, -1 when the encoder refused the answer. */
static long replay(const char *ans, size_t alen, size_t piece, int usage,
                   size_t maxev, struct buf *all)
{
  struct replay_opts o = {piece, usage != 0};
  long count = replay_checked(&sse_chat_encoder, ans, alen, &o,
                              maxev, chat_event_ok, all);
  CHECK(count < 0 || replay_ends_with(all, DONE));
  return count;
}

/* Replay a NUL-terminated answer and compare all bytes with want. */
static void expect(const char *ans, size_t piece, int usage, const char *want)
{
  struct buf all;
  buf_init(&all);
  CHECK(replay(ans, strlen(ans), piece, usage, 0, &all) > 0);
  CHECK_MEM(all.ptr, all.len, want, strlen(want));
  buf_free(&all);
}

/* Is the answer refused, with a reason? */
static int refused(const char *ans)
{
  struct replay_opts o = {8, true};
  const char *why = NULL;
  void *e = sse_chat_encoder.open(ans, strlen(ans), &o, &why);
  if(e) {
    sse_chat_encoder.close(e);
    return 0;
  }
  return why != NULL && why[0] != '\0';
}

/* The first "\n\n" in [p, end), or NULL (a loop: sanitizer string
 * interceptors would make a search per event cost the whole buffer). */
static const char *find_blank(const char *p, const char *end)
{
  for(; p + 1 < end; p++)
    if(p[0] == '\n' && p[1] == '\n')
      return p;
  return NULL;
}

/* Walk the events in [p, end) and append to raw the raw text of every
 * piece of delta member `name` (choice 0); the number of pieces. With
 * dec, also append each piece decoded on its own. */
static long pieces(const char *p, const char *end, const char *name,
                   struct buf *raw, struct buf *dec, struct buf *list)
{
  long n = 0;
  while(p < end) {
    const char *nl = find_blank(p, end);
    struct json_span v, ch, c0, d, s;
    struct json_iter it;
    if(!nl)
      break;
    if(json_parse(p + 6, (size_t)(nl - p - 6), &v) &&
       json_get(v, "choices", &ch)) {
      json_iter_init(&it, ch);
      if(json_next_element(&it, &c0) && json_get(c0, "delta", &d) &&
         json_get(d, name, &s) && s.type == JSON_STRING && s.len > 2) {
        replay_collect(s, raw, dec, list);
        n++;
      }
    }
    p = nl + 2;
  }
  return n;
}

/* Build a one-choice answer with the given raw content text. */
static void answer_with_content(struct buf *a, const char *raw, size_t n)
{
  buf_puts(a, TOP "{\"index\":0,\"message\":{\"role\":\"assistant\","
              "\"content\":\"");
  buf_append(a, raw, n);
  buf_puts(a, "\",\"refusal\":null},\"logprobs\":null,"
              "\"finish_reason\":\"stop\"}]" USAGE "}");
}

/* ---- exact sequences ---- */

static const char small[] =
  TOP MSG(0, "\"content\":\"Hello big world\",\"refusal\":null,"
             "\"annotations\":[]", "\"stop\"") "]" USAGE "}";

TEST(small_answer_exact)
{
  expect(small, 8, 0,
         EV(CH(0, ROLE_TEXT)) EV(CH(0, "\"content\":\"Hello \""))
         EV(CH(0, "\"content\":\"big \"")) EV(CH(0, "\"content\":\"world\""))
         EV(FIN(0, "\"stop\"")) DONE);
}

TEST(small_answer_include_usage)
{
  expect(small, 8, 1,
         EVU(CH(0, ROLE_TEXT)) EVU(CH(0, "\"content\":\"Hello \""))
         EVU(CH(0, "\"content\":\"big \"")) EVU(CH(0, "\"content\":\"world\""))
         EVU(FIN(0, "\"stop\""))
         HEAD "],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,"
         "\"total_tokens\":8}}\n\n" DONE);
}

TEST(whole_content_in_one_piece)
{
  expect(small, 100, 0,
         EV(CH(0, ROLE_TEXT)) EV(CH(0, "\"content\":\"Hello big world\""))
         EV(FIN(0, "\"stop\"")) DONE);
}

TEST(include_usage_without_usage)
{
  expect(TOP MSG(0, "\"content\":\"Hi\"", "\"stop\"") "]}", 8, 1,
         EVU(CH(0, ROLE_TEXT)) EVU(CH(0, "\"content\":\"Hi\""))
         EVU(FIN(0, "\"stop\"")) DONE);
  expect(TOP MSG(0, "\"content\":\"Hi\"", "\"stop\"") "],\"usage\":null}",
         8, 1,
         EVU(CH(0, ROLE_TEXT)) EVU(CH(0, "\"content\":\"Hi\""))
         EVU(FIN(0, "\"stop\"")) DONE);
}

/* Optional members absent; unknown top-level members not copied. */
TEST(minimal_top_and_unknown_top_member)
{
  expect("{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,"
         "\"model\":\"m\",\"kv_transfer_params\":{\"a\":1},\"choices\":["
         MSG(0, "\"content\":\"Hi\"", "\"length\"") "]}", 8, 0,
         "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\","
         "\"created\":1,\"model\":\"m\",\"choices\":[" CH(0, ROLE_TEXT) "]}\n\n"
         "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\","
         "\"created\":1,\"model\":\"m\",\"choices\":["
         CH(0, "\"content\":\"Hi\"") "]}\n\n"
         "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\","
         "\"created\":1,\"model\":\"m\",\"choices\":["
         FIN(0, "\"length\"") "]}\n\n" DONE);
}

/* A pretty-printed answer: copied containers lose the whitespace between
 * tokens, keep it inside strings; system_fingerprint null is copied. */
TEST(pretty_answer_compacted)
{
  expect("{\n  \"id\": \"c\",\n  \"object\": \"chat.completion\",\n"
         "  \"created\": 7,\n  \"model\": \"m\",\n  \"choices\": [\n"
         "    {\n      \"index\": 0,\n      \"message\": {\n"
         "        \"role\": \"assistant\",\n        \"content\": \"A b\"\n"
         "      },\n      \"finish_reason\": \"stop\"\n    }\n  ],\n"
         "  \"usage\": {\n    \"prompt_tokens\": 1,\n"
         "    \"note\": \"x  y\\n\",\n    \"d\": [ 1 , 2 ]\n  },\n"
         "  \"system_fingerprint\": null\n}\n", 8, 1,
         "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\","
         "\"created\":7,\"model\":\"m\",\"system_fingerprint\":null,"
         "\"choices\":[" CH(0, ROLE_TEXT) "],\"usage\":null}\n\n"
         "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\","
         "\"created\":7,\"model\":\"m\",\"system_fingerprint\":null,"
         "\"choices\":[" CH(0, "\"content\":\"A b\"") "],\"usage\":null}\n\n"
         "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\","
         "\"created\":7,\"model\":\"m\",\"system_fingerprint\":null,"
         "\"choices\":[" FIN(0, "\"stop\"") "],\"usage\":null}\n\n"
         "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\","
         "\"created\":7,\"model\":\"m\",\"system_fingerprint\":null,"
         "\"choices\":[],\"usage\":{\"prompt_tokens\":1,"
         "\"note\":\"x  y\\n\",\"d\":[1,2]}}\n\n" DONE);
}

TEST(two_choices)
{
  expect(TOP MSG(0, "\"content\":\"Hi\",\"refusal\":null", "\"stop\"") ","
         MSG(1, "\"content\":\"Yo there\",\"refusal\":null", "\"length\"")
         "]" USAGE "}", 6, 0,
         EV(CH(0, ROLE_TEXT)) EV(CH(0, "\"content\":\"Hi\""))
         EV(FIN(0, "\"stop\""))
         EV(CH(1, ROLE_TEXT)) EV(CH(1, "\"content\":\"Yo \""))
         EV(CH(1, "\"content\":\"there\"")) EV(FIN(1, "\"length\"")) DONE);
}

/* Two parallel calls, no text: call 0's head merged into the role chunk,
 * call 1's head in its own chunk; arguments cut in pieces. */
TEST(tool_calls_parallel)
{
  expect(TOP MSG(0, "\"content\":null,\"tool_calls\":["
                 "{\"id\":\"call_a\",\"type\":\"function\",\"function\":"
                 "{\"name\":\"get\",\"arguments\":\"{\\\"q\\\":1}\"}},"
                 "{\"id\":\"call_b\",\"type\":\"function\",\"function\":"
                 "{\"name\":\"put\",\"arguments\":\"\"}}],\"refusal\":null",
                 "\"tool_calls\"") "]}", 4, 0,
         EV(CH(0, "\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
                  "[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\","
                  "\"function\":{\"name\":\"get\",\"arguments\":\"\"}}],"
                  "\"refusal\":null"))
         EV(CH(0, "\"tool_calls\":[{\"index\":0,\"function\":"
                  "{\"arguments\":\"{\\\"q\\\"\"}}]"))
         EV(CH(0, "\"tool_calls\":[{\"index\":0,\"function\":"
                  "{\"arguments\":\":1}\"}}]"))
         EV(CH(0, "\"tool_calls\":[{\"index\":1,\"id\":\"call_b\","
                  "\"type\":\"function\",\"function\":{\"name\":\"put\","
                  "\"arguments\":\"\"}}]"))
         EV(FIN(0, "\"tool_calls\"")) DONE);
}

/* Text before the call: role chunk, content, then the call's own head. */
TEST(tool_call_after_content)
{
  expect(TOP MSG(0, "\"content\":\"Ok\",\"tool_calls\":["
                 "{\"id\":\"c1\",\"type\":\"function\",\"function\":"
                 "{\"name\":\"f\",\"arguments\":\"{}\"}}]", "\"tool_calls\"")
         "]}", 4, 0,
         EV(CH(0, ROLE_TEXT)) EV(CH(0, "\"content\":\"Ok\""))
         EV(CH(0, "\"tool_calls\":[{\"index\":0,\"id\":\"c1\","
                  "\"type\":\"function\",\"function\":{\"name\":\"f\","
                  "\"arguments\":\"\"}}]"))
         EV(CH(0, "\"tool_calls\":[{\"index\":0,\"function\":"
                  "{\"arguments\":\"{}\"}}]"))
         EV(FIN(0, "\"tool_calls\"")) DONE);
}

TEST(function_call_legacy)
{
  expect(TOP MSG(0, "\"content\":null,\"function_call\":{\"name\":\"f\","
                 "\"arguments\":\"{\\\"a\\\": 2}\"}", "\"function_call\"")
         "]}", 6, 0,
         EV(CH(0, "\"role\":\"assistant\",\"content\":null,"
                  "\"function_call\":{\"name\":\"f\",\"arguments\":\"\"},"
                  "\"refusal\":null"))
         EV(CH(0, "\"function_call\":{\"arguments\":\"{\\\"a\\\": \"}"))
         EV(CH(0, "\"function_call\":{\"arguments\":\"2}\"}"))
         EV(FIN(0, "\"function_call\"")) DONE);
}

TEST(refusal_answer)
{
  expect(TOP MSG(0, "\"content\":null,\"refusal\":\"I can't help.\"",
                 "\"stop\"") "]}", 6, 0,
         EV(CH(0, "\"role\":\"assistant\",\"content\":null,\"refusal\":\"\""))
         EV(CH(0, "\"refusal\":\"I \"")) EV(CH(0, "\"refusal\":\"can't \""))
         EV(CH(0, "\"refusal\":\"help.\"")) EV(FIN(0, "\"stop\"")) DONE);
}

TEST(reasoning_content_first)
{
  expect(TOP MSG(0, "\"content\":\"42\",\"reasoning_content\":"
                 "\"Think hard\"", "\"stop\"") "]}", 6, 0,
         EV(CH(0, ROLE_TEXT)) EV(CH(0, "\"reasoning_content\":\"Think \""))
         EV(CH(0, "\"reasoning_content\":\"hard\""))
         EV(CH(0, "\"content\":\"42\"")) EV(FIN(0, "\"stop\"")) DONE);
}

TEST(content_null_and_empty)
{
  expect(TOP MSG(0, "\"content\":null", "\"length\"") "]}", 4, 0,
         EV(CH(0, ROLE_NULL)) EV(FIN(0, "\"length\"")) DONE);
  expect(TOP MSG(0, "\"content\":\"\",\"reasoning_content\":null,"
                 "\"tool_calls\":[],\"function_call\":null", "null")
         "]}", 4, 0,
         EV(CH(0, ROLE_TEXT)) EV(FIN(0, "null")) DONE);
}

/* created and usage integers above 2^53 survive byte for byte. */
TEST(big_integers_exact)
{
  expect("{\"id\":\"i\",\"object\":\"chat.completion\","
         "\"created\":9007199254740993,\"model\":\"m\",\"choices\":["
         MSG(0, "\"content\":\"\"", "\"stop\"") "],\"usage\":"
         "{\"total_tokens\":123456789012345678901234567890,"
         "\"x\":1.50e+300}}", 4, 1,
         "data: {\"id\":\"i\",\"object\":\"chat.completion.chunk\","
         "\"created\":9007199254740993,\"model\":\"m\",\"choices\":["
         CH(0, ROLE_TEXT) "],\"usage\":null}\n\n"
         "data: {\"id\":\"i\",\"object\":\"chat.completion.chunk\","
         "\"created\":9007199254740993,\"model\":\"m\",\"choices\":["
         FIN(0, "\"stop\"") "],\"usage\":null}\n\n"
         "data: {\"id\":\"i\",\"object\":\"chat.completion.chunk\","
         "\"created\":9007199254740993,\"model\":\"m\",\"choices\":[],"
         "\"usage\":{\"total_tokens\":123456789012345678901234567890,"
         "\"x\":1.50e+300}}\n\n" DONE);
}

TEST(deterministic)
{
  struct buf a, b;
  buf_init(&a);
  buf_init(&b);
  CHECK(replay(small, strlen(small), 3, 1, 0, &a) > 0);
  CHECK(replay(small, strlen(small), 3, 1, 0, &b) > 0);
  CHECK_MEM(a.ptr, a.len, b.ptr, b.len);
  buf_free(&a);
  buf_free(&b);
}

/* ---- piece boundaries ---- */

/* Raw content: ASCII, 2/3/4-byte UTF-8, escapes, a surrogate pair. */
static const char tricky[] =
  "a\\u00e9\xe2\x82\xac\xf0\x9f\x98\x80\\ud83d\\ude00\\u0000\\\\\\\"\xc3\xa9"
  " \\n\\t\\/x";
static const char tricky_chars[] =
  "a|\\u00e9|\xe2\x82\xac|\xf0\x9f\x98\x80|\\ud83d\\ude00|\\u0000|\\\\|"
  "\\\"|\xc3\xa9| |\\n|\\t|\\/|x|";

/* With one character a piece, the pieces are exactly the characters. */
TEST(piece_chars_one_is_one_character)
{
  struct buf a, all, raw, list;
  buf_init(&a);
  buf_init(&all);
  buf_init(&raw);
  buf_init(&list);
  answer_with_content(&a, tricky, strlen(tricky));
  CHECK(replay(a.ptr, a.len, 1, 0, 0, &all) == 14 + 3);
  CHECK(pieces(all.ptr, all.ptr + all.len, "content", &raw, NULL, &list)
        == 14);
  CHECK_MEM(raw.ptr, raw.len, tricky, strlen(tricky));
  CHECK_MEM(list.ptr, list.len, tricky_chars, strlen(tricky_chars));
  buf_free(&a);
  buf_free(&all);
  buf_free(&raw);
  buf_free(&list);
}

/* Is every piece in list ("p1|p2|...") a whole run of characters of
 * tricky_chars, i.e. does each piece end on a character boundary? */
static int pieces_on_boundaries(const char *list, size_t n)
{
  const char *p = list, *end = list + n;
  const char *c = tricky_chars;
  while(p < end) {
    const char *bar = memchr(p, '|', (size_t)(end - p));
    size_t len = 0;
    if(!bar)
      return 0;
    while(len < (size_t)(bar - p)) {  /* consume whole characters */
      const char *cb = strchr(c, '|');
      size_t cl = (size_t)(cb - c);
      if(memcmp(p + len, c, cl))
        return 0;
      len += cl;
      c = cb + 1;
    }
    if(len != (size_t)(bar - p))
      return 0;
    p = bar + 1;
  }
  return *c == '\0';
}

/* For every piece size, pieces concatenate to the raw text and end on
 * character boundaries; decoded, they concatenate to the decoded text. */
TEST(pieces_never_split_characters)
{
  for(size_t k = 1; k <= 16; k++) {
    struct buf a, all, raw, list;
    buf_init(&a);
    buf_init(&all);
    buf_init(&raw);
    buf_init(&list);
    answer_with_content(&a, tricky, strlen(tricky));
    CHECK(replay(a.ptr, a.len, k, 1, 0, &all) > 0);
    pieces(all.ptr, all.ptr + all.len, "content", &raw, NULL, &list);
    CHECK_MEM(raw.ptr, raw.len, tricky, strlen(tricky));
    CHECK(pieces_on_boundaries(list.ptr, list.len));
    buf_free(&a);
    buf_free(&all);
    buf_free(&raw);
    buf_free(&list);
  }
}

/* Decoding the pieces one by one gives the decoded content (no piece
 * holds half a surrogate pair or half a UTF-8 sequence). */
TEST(decoded_pieces_equal_decoded_content)
{
  static const char text[] =
    "Caf\xc3\xa9 \\ud83d\\ude00 is \xf0\x9f\x98\x80, \\\"quoted\\\" "
    "back\\\\slash \\u00e9t\\u00e9\\n\\ud834\\udd1e end";
  static char want[4096];
  size_t wlen = replay_decode_text(text, want, sizeof(want));
  for(size_t k = 1; k <= 9; k++) {
    struct buf a, all, raw, dec;
    buf_init(&a);
    buf_init(&all);
    buf_init(&raw);
    buf_init(&dec);
    answer_with_content(&a, text, strlen(text));
    CHECK(replay(a.ptr, a.len, k, 0, 0, &all) > 0);
    pieces(all.ptr, all.ptr + all.len, "content", &raw, &dec, NULL);
    CHECK_MEM(raw.ptr, raw.len, text, strlen(text));
    CHECK_MEM(dec.ptr, dec.len, want, wlen);
    buf_free(&a);
    buf_free(&all);
    buf_free(&raw);
    buf_free(&dec);
  }
}

TEST(piece_chars_one_ascii)
{
  expect(TOP MSG(0, "\"content\":\"ab c\"", "\"stop\"") "]}", 1, 0,
         EV(CH(0, ROLE_TEXT)) EV(CH(0, "\"content\":\"a\""))
         EV(CH(0, "\"content\":\"b\"")) EV(CH(0, "\"content\":\" \""))
         EV(CH(0, "\"content\":\"c\"")) EV(FIN(0, "\"stop\"")) DONE);
}

/* A 1 MiB content streams one small event per call, losslessly. */
TEST(one_mib_streams_incrementally)
{
  static const char word[] = "lorem \xc3\xa9\xf0\x9f\x98\x80 \\ud83d\\ude00"
                             "ipsum\\n ";
  struct buf text, a, all, raw;
  long events;
  buf_init(&text);
  buf_init(&a);
  buf_init(&all);
  buf_init(&raw);
  while(text.len < (1u << 20) + 7)
    buf_puts(&text, word);
  answer_with_content(&a, text.ptr, text.len);
  events = replay(a.ptr, a.len, 16, 1, 512, &all);
  CHECK(events > (long)(text.len / (16 * 12)));
  CHECK(pieces(all.ptr, all.ptr + all.len, "content", &raw, NULL, NULL) ==
        events - 4);
  CHECK_MEM(raw.ptr, raw.len, text.ptr, text.len);
  buf_free(&text);
  buf_free(&a);
  buf_free(&all);
  buf_free(&raw);
}

/* An event refused for lack of memory is produced again after a reset. */
TEST(oom_event_is_redone)
{
  struct replay_opts o = {8, false};
  const char *why = NULL;
  struct buf ev;
  void *e = sse_chat_encoder.open(small, strlen(small), &o, &why);
  CHECK(e != NULL);
  if(!e)
    return;
  buf_init(&ev);
  ev.oom = true;
  CHECK(sse_chat_encoder.next(e, &ev) == -1);
  CHECK(ev.len == 0);
  buf_reset(&ev);
  CHECK(sse_chat_encoder.next(e, &ev) == 1);
  CHECK_MEM(ev.ptr, ev.len, EV(CH(0, ROLE_TEXT)), strlen(EV(CH(0, ROLE_TEXT))));
  sse_chat_encoder.close(e);
  buf_free(&ev);
}

/* ---- refusals ---- */

TEST(refuses_what_it_cannot_replay)
{
  CHECK(refused("{\"id\":\"x\",\"object\":\"chat.completion.chunk\","
                "\"created\":1,\"model\":\"m\",\"choices\":[]}"));
  CHECK(refused("{\"id\":\"x\",\"object\":\"chat.completion\","
                "\"created\":1,\"model\":\"m\"}"));
  CHECK(refused("{\"id\":\"x\",\"object\":\"chat.completion\","
                "\"created\":1,\"model\":\"m\",\"choices\":[" ));
  CHECK(refused("[]"));
  CHECK(refused(""));
  CHECK(refused("{\"error\":{\"message\":\"no\"}}"));
  /* logprobs that do not spell the content (more in test_chat_logprobs) */
  CHECK(refused(TOP "{\"index\":0,\"message\":{\"role\":\"assistant\","
                "\"content\":\"x\"},\"logprobs\":{\"content\":[]},"
                "\"finish_reason\":\"stop\"}]}"));
  CHECK(refused(TOP "{\"index\":0,\"finish_reason\":\"stop\"}]}"));
  CHECK(refused(TOP "{\"message\":{\"role\":\"assistant\"},"
                "\"finish_reason\":\"stop\"}]}"));
  CHECK(refused(TOP MSG(0, "\"content\":\"x\",\"audio\":null", "\"stop\"")
                "]}"));
  CHECK(refused(TOP MSG(0, "\"content\":\"x\",\"annotations\":[{}]",
                        "\"stop\"") "]}"));
  CHECK(refused(TOP MSG(0, "\"content\":1", "\"stop\"") "]}"));
  CHECK(refused(TOP MSG(0, "\"tool_calls\":[{\"id\":\"c\",\"type\":"
                        "\"custom\",\"custom\":{\"name\":\"n\",\"input\":"
                        "\"\"}}]", "\"tool_calls\"") "]}"));
  CHECK(refused(TOP MSG(0, "\"tool_calls\":[{\"id\":\"c\",\"type\":"
                        "\"function\",\"function\":{\"name\":\"n\"}}]",
                        "\"tool_calls\"") "]}"));
  CHECK(refused(TOP MSG(0, "\"content\":\"x\"", "\"stop\"")
                "],\"prompt_filter_results\":{}}"));
  CHECK(refused(TOP "{\"index\":0,\"message\":{\"role\":\"assistant\"},"
                "\"finish_reason\":\"stop\",\"content_filter_results\":[]}"
                "]}"));
  CHECK(refused("{\"object\":\"chat.completion\",\"choices\":[]}"));
}

/* What a client joining the stream would reject or merge (found by
 * fuzz_trip_chat: the stream did not join back into the answer): an
 * index it does not take (128), one index twice, a tool call or
 * function_call without a name, more tool calls than indices. */
TEST(refuses_what_a_client_cannot_join)
{
  struct buf many;
  CHECK(!refused(TOP MSG(127, "\"content\":\"x\"", "\"stop\"") "]}"));
  CHECK(refused(TOP MSG(128, "\"content\":\"x\"", "\"stop\"") "]}"));
  CHECK(refused(TOP MSG(1, "\"content\":\"x\"", "\"stop\"") ","
                MSG(1, "\"content\":\"y\"", "\"stop\"") "]}"));
  CHECK(refused(TOP MSG(0, "\"tool_calls\":[{\"id\":\"c\",\"type\":"
                        "\"function\",\"function\":{\"name\":\"\","
                        "\"arguments\":\"{}\"}}]", "\"tool_calls\"") "]}"));
  CHECK(refused(TOP MSG(0, "\"function_call\":{\"name\":\"\","
                        "\"arguments\":\"{}\"}", "\"function_call\"") "]}"));
  buf_init(&many);
  buf_puts(&many, TOP "{\"index\":0,\"message\":{\"role\":\"assistant\","
                  "\"tool_calls\":[");
  for(int i = 0; i < 129; i++)
    buf_puts(&many, i ? ",{\"id\":\"c\",\"type\":\"function\",\"function\":"
                        "{\"name\":\"n\",\"arguments\":\"\"}}"
                      : "{\"id\":\"c\",\"type\":\"function\",\"function\":"
                        "{\"name\":\"n\",\"arguments\":\"\"}}");
  buf_puts(&many, "]},\"finish_reason\":\"tool_calls\"}]}");
  CHECK(refused(buf_cstr(&many)));
  buf_free(&many);
}

TEST(accepts_minimal_valid)
{
  CHECK(!refused(TOP "]}"));
  CHECK(!refused(small));
}

/* Azure: prompt_filter_results first, in a chunk of its own with blank
 * metadata; a choice's content_filter_results on each of its chunks. */
TEST(azure_filter_results)
{
  expect(TOP "{\"index\":0,\"message\":{\"role\":\"assistant\","
         "\"content\":\"hi\"},\"logprobs\":null,\"finish_reason\":\"stop\","
         "\"content_filter_results\":{\"hate\":{\"filtered\":false}}}],"
         "\"prompt_filter_results\":[{\"prompt_index\":0}]}", 8, 0,
         "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\","
         "\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0}]}\n\n"
         HEAD "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\","
         "\"refusal\":null},\"logprobs\":null,\"finish_reason\":null,"
         "\"content_filter_results\":{\"hate\":{\"filtered\":false}}}]}\n\n"
         HEAD "{\"index\":0,\"delta\":{\"content\":\"hi\"},\"logprobs\":null,"
         "\"finish_reason\":null,\"content_filter_results\":"
         "{\"hate\":{\"filtered\":false}}}]}\n\n"
         HEAD "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":"
         "\"stop\",\"content_filter_results\":{\"hate\":{\"filtered\":false}}}]}"
         "\n\n"
         "data: [DONE]\n\n");
}

int main(void)
{
  RUN(small_answer_exact);
  RUN(small_answer_include_usage);
  RUN(whole_content_in_one_piece);
  RUN(include_usage_without_usage);
  RUN(minimal_top_and_unknown_top_member);
  RUN(pretty_answer_compacted);
  RUN(two_choices);
  RUN(tool_calls_parallel);
  RUN(tool_call_after_content);
  RUN(function_call_legacy);
  RUN(refusal_answer);
  RUN(reasoning_content_first);
  RUN(content_null_and_empty);
  RUN(big_integers_exact);
  RUN(deterministic);
  RUN(piece_chars_one_is_one_character);
  RUN(pieces_never_split_characters);
  RUN(decoded_pieces_equal_decoded_content);
  RUN(piece_chars_one_ascii);
  RUN(one_mib_streams_incrementally);
  RUN(oom_event_is_redone);
  RUN(refuses_what_it_cannot_replay);
  RUN(refuses_what_a_client_cannot_join);
  RUN(accepts_minimal_valid);
  RUN(azure_filter_results);
  return check_done();
}
