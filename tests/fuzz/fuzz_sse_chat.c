/* fuzz_sse_chat.c - libFuzzer harness for the chat.completion replay.
 *
 * Input: one option byte (piece size 1..16 in the low bits, include_usage
 * in the top bit), then the answer. An answer is either refused with a
 * reason, or replayed to the end where every call appends exactly one
 * event that is "data: " + one-line valid JSON + "\n\n" (the last one
 * "data: [DONE]\n\n"), the content pieces of all choices concatenate to
 * their contents' raw text, and a second replay gives the same bytes.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ishim -Ihooks \
 *     tests/fuzz/fuzz_sse_chat.c hooks/sse_chat.c hooks/sse_piece.c \
 *     hooks/json.c shim/buf.c -o /tmp/fuzz_sse_chat
 * Without libFuzzer, -DSS_FUZZ_MAIN builds a main() that runs files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sse_chat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DONE "data: [DONE]\n\n"

/* Stop the fuzzer on a broken property. */
static void fuzz_assert(int ok, const char *what)
{
  if(!ok) {
    fprintf(stderr, "fuzz_sse_chat: %s\n", what);
    abort();
  }
}

/* Do the two buffers hold the same bytes? */
static int fuzz_same(const struct buf *x, const struct buf *y)
{
  return x->len == y->len && (!x->len || !memcmp(x->ptr, y->ptr, x->len));
}

/* Check one event and append the raw text of its choice's content piece
 * (if any) to pieces. Returns 1 for [DONE], else 0. */
static int fuzz_event(const char *ev, size_t n, struct buf *pieces)
{
  struct json_span v, ch, c0, d, s;
  struct json_iter it;
  if(n == strlen(FUZZ_DONE) && !memcmp(ev, FUZZ_DONE, n))
    return 1;
  fuzz_assert(n >= 8 && !memcmp(ev, "data: ", 6) &&
              !memcmp(ev + n - 2, "\n\n", 2), "event framing");
  fuzz_assert(!memchr(ev, '\n', n - 2) && !memchr(ev, '\r', n),
              "line break inside an event");
  fuzz_assert(json_parse(ev + 6, n - 8, &v) && v.type == JSON_OBJECT,
              "event data is not a JSON object");
  json_get(v, "choices", &ch);
  json_iter_init(&it, ch);
  if(json_next_element(&it, &c0) && json_get(c0, "delta", &d) &&
     json_get(d, "content", &s) && s.type == JSON_STRING)
    buf_append(pieces, s.ptr + 1, s.len - 2);
  return 0;
}

/* The raw text of every choice's message content, in order. */
static void fuzz_contents(const char *p, size_t n, struct buf *out)
{
  struct json_span root, choices, c, m, s;
  struct json_iter it;
  json_parse(p, n, &root);
  json_get(root, "choices", &choices);
  json_iter_init(&it, choices);
  while(json_next_element(&it, &c))
    if(json_get(c, "message", &m) && json_get(m, "content", &s) &&
       s.type == JSON_STRING)
      buf_append(out, s.ptr + 1, s.len - 2);
}

/* Replay the answer into all; checks every event. */
static void fuzz_replay(const char *p, size_t n, const struct replay_opts *o,
                        struct buf *all, struct buf *pieces)
{
  const char *why = NULL;
  struct buf ev;
  int r, done = 0;
  struct sse_chat *e = sse_chat_open(p, n, o, &why);
  if(!e) {
    fuzz_assert(why && *why, "refusal without a reason");
    return;
  }
  buf_init(&ev);
  while((r = sse_chat_next(e, &ev)) == 1) {
    fuzz_assert(!done, "event after [DONE]");
    done = fuzz_event(ev.ptr, ev.len, pieces);
    buf_append(all, ev.ptr, ev.len);
    buf_reset(&ev);
  }
  fuzz_assert(r == 0 && done && ev.len == 0, "stream did not end cleanly");
  fuzz_assert(sse_chat_next(e, &ev) == 0, "stream restarted");
  sse_chat_close(e);
  buf_free(&ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct replay_opts o;
  struct buf a, b, pa, pb, want;
  if(size < 1)
    return 0;
  o.piece_chars = (size_t)(data[0] & 0x0F) + 1;
  o.include_usage = (data[0] & 0x80) != 0;
  buf_init(&a);
  buf_init(&b);
  buf_init(&pa);
  buf_init(&pb);
  buf_init(&want);
  fuzz_replay((const char *)data + 1, size - 1, &o, &a, &pa);
  if(a.len) {
    fuzz_replay((const char *)data + 1, size - 1, &o, &b, &pb);
    fuzz_assert(fuzz_same(&a, &b), "output not deterministic");
    fuzz_contents((const char *)data + 1, size - 1, &want);
    fuzz_assert(fuzz_same(&pa, &want),
                "content pieces do not rebuild the content");
  }
  buf_free(&a);
  buf_free(&b);
  buf_free(&pa);
  buf_free(&pb);
  buf_free(&want);
  return 0;
}

#ifdef SS_FUZZ_MAIN
/* Run each file named on the command line through the harness. */
int main(int argc, char **argv)
{
  for(int i = 1; i < argc; i++) {
    struct buf in;
    char chunk[4096];
    size_t got;
    FILE *f = fopen(argv[i], "rb");
    if(!f)
      continue;
    buf_init(&in);
    while((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
      buf_append(&in, chunk, got);
    fclose(f);
    LLVMFuzzerTestOneInput((const uint8_t *)in.ptr, in.len);
    buf_free(&in);
  }
  return 0;
}
#endif
