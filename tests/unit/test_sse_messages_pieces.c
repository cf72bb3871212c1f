/* test_sse_messages_pieces.c - the Messages replay cut in pieces: text
 * and thinking pieces never split a UTF-8 sequence, an escape or a
 * surrogate pair; the input_json_delta pieces of a pretty-printed tool
 * input rebuild its compact text; a 1 MiB answer streams one bounded event
 * per call; every event refused for lack of memory comes again. */
#include "msg_replay.h"

/* ---- piece boundaries ---- */

/* Raw text: ASCII, 2/3/4-byte UTF-8, escapes, a surrogate pair. */
static const char tricky[] =
  "a\\u00e9\xe2\x82\xac\xf0\x9f\x98\x80\\ud83d\\ude00\\u0000\\\\\\\"\xc3\xa9"
  " \\n\\t\\/x";
static const char tricky_chars[] =
  "a|\\u00e9|\xe2\x82\xac|\xf0\x9f\x98\x80|\\ud83d\\ude00|\\u0000|\\\\|"
  "\\\"|\xc3\xa9| |\\n|\\t|\\/|x|";

/* With one character a piece, the text pieces are exactly the
 * characters, in text and in thinking blocks alike. */
TEST(piece_chars_one_is_one_character)
{
  static const char *const pre[] = {
    "{\"type\":\"text\",\"text\":\"",
    "{\"type\":\"thinking\",\"signature\":\"s\",\"thinking\":\""
  };
  static const char *const name[] = {"text", "thinking"};
  for(int i = 0; i < 2; i++) {
    struct buf a, all, raw, list;
    buf_init(&a);
    buf_init(&all);
    buf_init(&raw);
    buf_init(&list);
    answer_with(&a, pre[i], tricky, strlen(tricky), "\"}");
    CHECK(replay(a.ptr, a.len, 1, 0, &all) == 14 + 6 + i);
    CHECK(pieces(all.ptr, all.ptr + all.len, name[i], &raw, NULL, &list) ==
          14);
    CHECK_MEM(raw.ptr, raw.len, tricky, strlen(tricky));
    CHECK_MEM(list.ptr, list.len, tricky_chars, strlen(tricky_chars));
    buf_free(&a);
    buf_free(&all);
    buf_free(&raw);
    buf_free(&list);
  }
}

/* For every piece size, decoding the text pieces one by one gives the
 * decoded text (no piece holds half a character or half a pair). */
TEST(decoded_text_pieces_equal_text)
{
  static const char text[] =
    "Caf\xc3\xa9 \\ud83d\\ude00 is \xf0\x9f\x98\x80, \\\"quoted\\\" "
    "back\\\\slash \\u00e9t\\u00e9\\n\\ud834\\udd1e end";
  static char want[4096];
  size_t wlen = replay_decode_text(text, want, sizeof(want));
  for(size_t k = 1; k <= 12; k++) {
    struct buf a, all, raw, dec;
    buf_init(&a);
    buf_init(&all);
    buf_init(&raw);
    buf_init(&dec);
    answer_with(&a, "{\"type\":\"text\",\"text\":\"", text, strlen(text),
                "\"}");
    CHECK(replay(a.ptr, a.len, k, 0, &all) > 0);
    pieces(all.ptr, all.ptr + all.len, "text", &raw, &dec, NULL);
    CHECK_MEM(raw.ptr, raw.len, text, strlen(text));
    CHECK_MEM(dec.ptr, dec.len, want, wlen);
    buf_free(&a);
    buf_free(&all);
    buf_free(&raw);
    buf_free(&dec);
  }
}

/* A tool input with every kind of value, pretty-printed. */
static const char input_pretty[] =
  "{\n  \"s\": \"x \\\"q\\\" \\\\ \\n \\ud83d\\ude00 \xc3\xa9\xf0\x9f\x98\x80"
  " \\u00e9\",\n  \"a\": [ 1, -2.5e+3, true, false, null, [], {} ],\n"
  "  \"o\": { \"k y\": { \"deep\": [ \"\" ] } },\n  \"t\":\t\"\\t\"\r\n}";
static const char input_compact[] =
  "{\"s\":\"x \\\"q\\\" \\\\ \\n \\ud83d\\ude00 \xc3\xa9\xf0\x9f\x98\x80"
  " \\u00e9\",\"a\":[1,-2.5e+3,true,false,null,[],{}],"
  "\"o\":{\"k y\":{\"deep\":[\"\"]}},\"t\":\"\\t\"}";

/* Is every decoded piece in dec (joined by "\x01") a run of whole
 * characters of the compact text, i.e. no piece ends inside a UTF-8
 * sequence or an escape of a string? */
static int input_pieces_whole(const char *list, size_t n)
{
  const char *p = list, *end = list + n;
  while(p < end) {
    const char *bar = memchr(p, '\x01', (size_t)(end - p));
    if(!bar || bar == p)
      return 0;
    unsigned char last = (unsigned char)bar[-1];
    if(last >= 0x80 && (last & 0xC0) != 0x80)
      return 0;  /* a lead byte ends the piece */
    size_t bs = 0;
    for(const char *q = bar - 1; q >= p && *q == '\\'; q--)
      bs++;
    if(bs % 2)
      return 0;  /* a lone backslash ends the piece */
    p = bar + 1;
  }
  return 1;
}

/* For every piece size, the decoded partial_json pieces concatenate to
 * the input's compact text; none is empty but the first; none splits a
 * character of a string. */
TEST(input_json_pieces_rebuild_compact_input)
{
  for(size_t k = 1; k <= 24; k++) {
    struct buf a, all, raw, dec, sep;
    buf_init(&a);
    buf_init(&all);
    buf_init(&raw);
    buf_init(&dec);
    buf_init(&sep);
    answer_with(&a, "{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\","
                "\"input\":", input_pretty, strlen(input_pretty), "}");
    CHECK(replay(a.ptr, a.len, k, 0, &all) > 0);
    long n = pieces(all.ptr, all.ptr + all.len, "partial_json", &raw, &dec,
                    NULL);
    CHECK(n >= 1);
    CHECK_MEM(dec.ptr, dec.len, input_compact, strlen(input_compact));
    /* each piece again, decoded on its own, separated */
    {
      const char *p = all.ptr, *end = all.ptr + all.len;
      while(p < end) {
        const char *nl = find_blank(p, end);
        struct json_span v, d, s;
        static char tmp[8192];
        size_t got = 0;
        if(!nl)
          break;
        if(event_ok(p, (size_t)(nl + 2 - p), &v) &&
           json_get(v, "delta", &d) && json_get(d, "partial_json", &s) &&
           s.len > 2 && json_string_decode(s, tmp, sizeof(tmp), &got)) {
          CHECK(got <= 4 * k + 12);
          buf_append(&sep, tmp, got);
          buf_append(&sep, "\x01", 1);
        }
        p = nl + 2;
      }
    }
    CHECK(input_pieces_whole(sep.ptr, sep.len));
    buf_free(&a);
    buf_free(&all);
    buf_free(&raw);
    buf_free(&dec);
    buf_free(&sep);
  }
}

/* A 1 MiB text streams one small event per call, losslessly. */
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
  answer_with(&a, "{\"type\":\"text\",\"text\":\"", text.ptr, text.len, "\"}");
  events = replay(a.ptr, a.len, 16, 512, &all);
  CHECK(events > (long)(text.len / (16 * 12)));
  CHECK(pieces(all.ptr, all.ptr + all.len, "text", &raw, NULL, NULL) ==
        events - 6);
  CHECK_MEM(raw.ptr, raw.len, text.ptr, text.len);
  buf_free(&text);
  buf_free(&a);
  buf_free(&all);
  buf_free(&raw);
}

/* Every event, first refused for lack of memory, is produced again (the
 * same bytes) after a reset: the whole stream equals a plain replay. */
TEST(oom_every_event_is_redone)
{
  static const char ans[] =
    ANS("{\"type\":\"thinking\",\"thinking\":\"a b c\",\"signature\":\"S\"},"
        "{\"type\":\"text\",\"text\":\"x y\",\"citations\":[{\"t\":1}]},"
        "{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\",\"input\":"
        "{\"k\": \"v w\", \"n\": [1, 2]}},"
        "{\"type\":\"redacted_thinking\",\"data\":\"D\"}",
        "\"tool_use\"", "null");
  struct replay_opts o = {2, false};
  const char *why = NULL;
  struct buf ev, all, want;
  int r;
  void *e = sse_messages_encoder.open(ans, strlen(ans), &o, &why);
  CHECK(e != NULL);
  if(!e)
    return;
  buf_init(&ev);
  buf_init(&all);
  buf_init(&want);
  CHECK(replay(ans, strlen(ans), 2, 0, &want) > 20);
  for(;;) {
    buf_reset(&ev);
    ev.oom = true;
    r = sse_messages_encoder.next(e, &ev);
    if(r == 0)
      break;
    CHECK(r == -1);
    CHECK(ev.len == 0);
    buf_reset(&ev);
    CHECK(sse_messages_encoder.next(e, &ev) == 1);
    buf_append(&all, ev.ptr, ev.len);
  }
  CHECK_MEM(all.ptr, all.len, want.ptr, want.len);
  sse_messages_encoder.close(e);
  buf_free(&ev);
  buf_free(&all);
  buf_free(&want);
}

int main(void)
{
  RUN(piece_chars_one_is_one_character);
  RUN(decoded_text_pieces_equal_text);
  RUN(input_json_pieces_rebuild_compact_input);
  RUN(one_mib_streams_incrementally);
  RUN(oom_every_event_is_redone);
  return check_done();
}
