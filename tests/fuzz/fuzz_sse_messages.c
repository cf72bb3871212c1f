/* fuzz_sse_messages.c - libFuzzer harness for the Anthropic Messages
 * replay.
 *
 * Input: one option byte (piece size 1..16 in the low bits), then the
 * answer. An answer is either refused with a reason, or replayed to the
 * end where every call appends exactly one event that is "event: T\n" +
 * "data: " + one-line valid JSON whose type is T + "\n\n" (the last one
 * message_stop, nothing after it), the text pieces of every text block
 * concatenate to the blocks' raw text, each block's input_json_delta
 * pieces decode to JSON that json_parse() accepts, and a second replay
 * gives the same bytes.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ishim -Ihooks \
 *     tests/fuzz/fuzz_sse_messages.c hooks/pure/sse_messages.c \
 *     hooks/pure/sse_messages_read.c hooks/pure/sse_piece.c hooks/pure/json.c hooks/pure/buf.c \
 *     -o /tmp/fuzz_sse_messages
 * Without libFuzzer, -DSS_FUZZ_MAIN builds a main() that runs files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sse_messages.h"

#define FUZZ_NAME "fuzz_sse_messages"
#include "fuzz_util.h"

#define FUZZ_STOP "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

/* Is the decoded partial_json text in json (the pieces of one block) one
 * JSON object? (A \u0000 of the input is escaped text there, never a
 * NUL, so json_string_decode() takes every piece.) */
static void fuzz_input_done(struct buf *json)
{
  struct json_span v;
  if(!json->len)
    return;
  fuzz_assert(json_parse(json->ptr, json->len, &v) && v.type == JSON_OBJECT,
              "input_json_delta pieces are not a JSON object");
  buf_reset(json);
}

/* Check one event; append the raw text of a text_delta to pieces and the
 * decoded partial_json to json. Returns 1 for message_stop, else 0. */
static int fuzz_event(const char *ev, size_t n, struct buf *pieces,
                      struct buf *json)
{
  struct json_span v, t, d, s;
  const char *nl = memchr(ev, '\n', n);
  fuzz_assert(n > 9 && !memcmp(ev, "event: ", 7) && nl &&
              !memcmp(ev + n - 2, "\n\n", 2) && ev + n - nl > 9 &&
              !memcmp(nl + 1, "data: ", 6), "event framing");
  fuzz_assert(!memchr(nl + 1, '\n', (size_t)(ev + n - nl - 3)) &&
              !memchr(ev, '\r', n), "line break inside an event");
  fuzz_assert(json_parse(nl + 7, (size_t)(ev + n - nl - 9), &v) &&
              v.type == JSON_OBJECT, "event data is not a JSON object");
  fuzz_assert(json_get(v, "type", &t) && t.type == JSON_STRING &&
              t.len - 2 == (size_t)(nl - ev - 7) &&
              !memcmp(t.ptr + 1, ev + 7, t.len - 2),
              "event line is not data.type");
  if(json_key_is(t, "content_block_stop"))
    fuzz_input_done(json);
  if(!json_get(v, "delta", &d) || !json_get(d, "type", &t))
    return json_key_is(t, "message_stop");
  if(json_key_is(t, "text_delta") && json_get(d, "text", &s))
    buf_append(pieces, s.ptr + 1, s.len - 2);
  if(json_key_is(t, "input_json_delta") && json_get(d, "partial_json", &s)) {
    static char tmp[1 << 16];
    size_t got = 0;
    fuzz_assert(json_string_decode(s, tmp, sizeof(tmp), &got),
                "partial_json does not decode");
    buf_append(json, tmp, got);
  }
  return 0;
}

/* The raw text of every text block, in order. */
static void fuzz_texts(const char *p, size_t n, struct buf *out)
{
  struct json_span root, content, b, t, s;
  struct json_iter it;
  json_parse(p, n, &root);
  json_get(root, "content", &content);
  json_iter_init(&it, content);
  while(json_next_element(&it, &b))
    if(json_get(b, "type", &t) && json_key_is(t, "text") &&
       json_get(b, "text", &s))
      buf_append(out, s.ptr + 1, s.len - 2);
}

/* Replay the answer into all; checks every event. */
static void fuzz_replay(const char *p, size_t n, const struct replay_opts *o,
                        struct buf *all, struct buf *pieces)
{
  const char *why = NULL;
  struct buf ev, json;
  int r, done = 0;
  void *e = sse_messages_encoder.open(p, n, o, &why);
  if(!e) {
    fuzz_assert(why && *why, "refusal without a reason");
    return;
  }
  buf_init(&ev);
  buf_init(&json);
  while((r = sse_messages_encoder.next(e, &ev)) == 1) {
    fuzz_assert(!done, "event after message_stop");
    done = fuzz_event(ev.ptr, ev.len, pieces, &json);
    buf_append(all, ev.ptr, ev.len);
    buf_reset(&ev);
  }
  fuzz_assert(r == 0 && done && ev.len == 0, "stream did not end cleanly");
  fuzz_assert(all->len >= strlen(FUZZ_STOP) &&
              !memcmp(all->ptr + all->len - strlen(FUZZ_STOP), FUZZ_STOP,
                      strlen(FUZZ_STOP)), "last event is not message_stop");
  fuzz_assert(sse_messages_encoder.next(e, &ev) == 0, "stream restarted");
  sse_messages_encoder.close(e);
  buf_free(&ev);
  buf_free(&json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct replay_opts o;
  struct buf a, b, pa, pb, want;
  if(size < 1)
    return 0;
  o.piece_chars = (size_t)(data[0] & 0x0F) + 1;
  o.include_usage = false;
  buf_init(&a);
  buf_init(&b);
  buf_init(&pa);
  buf_init(&pb);
  buf_init(&want);
  fuzz_replay((const char *)data + 1, size - 1, &o, &a, &pa);
  if(a.len) {
    fuzz_replay((const char *)data + 1, size - 1, &o, &b, &pb);
    fuzz_assert(fuzz_same_buf(&a, &b), "output not deterministic");
    fuzz_texts((const char *)data + 1, size - 1, &want);
    fuzz_assert(fuzz_same_buf(&pa, &want), "text pieces do not rebuild the text");
  }
  buf_free(&a);
  buf_free(&b);
  buf_free(&pa);
  buf_free(&pb);
  buf_free(&want);
  return 0;
}
