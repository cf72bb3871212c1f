/* fuzz_sse_responses.c - libFuzzer harness for the Responses API replay.
 *
 * Input: one option byte (piece size 1..16 in the low bits), then the
 * answer. An answer is either refused with a reason, or replayed to the
 * end where every call appends exactly one event that is
 * "event: T\ndata: " + one-line JSON object + "\n\n" with "type" T and
 * "sequence_number" counting from 0; the first event is response.created,
 * the last a terminal one (response.completed / .incomplete / .failed)
 * carrying the whole answer (compacted); the raw text of all deltas
 * concatenates to the raw text of all done events; and a second replay
 * gives the same bytes.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ishim -Ihooks \
 *     tests/fuzz/fuzz_sse_responses.c hooks/pure/sse_responses*.c \
 *     hooks/pure/sse_piece.c hooks/pure/json.c hooks/pure/buf.c -o /tmp/fuzz_sse_responses
 * Without libFuzzer, -DSS_FUZZ_MAIN builds a main() that runs files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sse_piece.h"
#include "sse_responses.h"

#define FUZZ_NAME "fuzz_sse_responses"
#include "fuzz_util.h"

/* Does string span s hold exactly the characters of name? */
static int fuzz_is(struct json_span s, const char *name)
{
  size_t n = strlen(name);
  return s.type == JSON_STRING && s.len == n + 2 && !memcmp(s.ptr + 1, name, n);
}

/* Does string span s end with suffix (inside its quotes)? */
static int fuzz_ends(struct json_span s, const char *suffix)
{
  size_t n = strlen(suffix);
  return s.type == JSON_STRING && s.len >= n + 2 &&
         !memcmp(s.ptr + s.len - 1 - n, suffix, n);
}

/* What the replay collected. */
struct fuzz_state {
  long count;               /* events so far */
  int terminal;             /* the terminal event was seen */
  struct buf deltas, dones; /* raw text of all deltas / all done texts */
  struct buf final;         /* the terminal event's response, raw */
};

/* Append the raw text of the done event v's text member to st->dones. */
static void fuzz_done_text(struct json_span v, struct json_span t,
                           struct fuzz_state *st)
{
  static const char *const members[] = {"text", "refusal", "arguments",
                                        "input"};
  struct json_span s;
  if(!fuzz_ends(t, ".done") || fuzz_is(t, "response.content_part.done") ||
     fuzz_is(t, "response.reasoning_summary_part.done") ||
     fuzz_is(t, "response.output_item.done"))
    return;
  for(int i = 0; i < 4; i++)
    if(json_get(v, members[i], &s)) {
      fuzz_assert(s.type == JSON_STRING, "done text is not a string");
      buf_append(&st->dones, s.ptr + 1, s.len - 2);
      return;
    }
  fuzz_assert(0, "done event without its text");
}

/* Check one event and note what it carries. */
static void fuzz_event(const char *ev, size_t n, struct fuzz_state *st)
{
  struct json_span v, t, seq, s;
  const char *nl, *data;
  char num[24];
  int k;
  fuzz_assert(!st->terminal, "event after the terminal event");
  fuzz_assert(n >= 20 && !memcmp(ev, "event: ", 7) &&
              !memcmp(ev + n - 2, "\n\n", 2), "event framing");
  nl = memchr(ev, '\n', n);
  fuzz_assert(nl && (size_t)(nl - ev) + 9 <= n && !memcmp(nl + 1, "data: ", 6),
              "no data line after the event line");
  data = nl + 7;
  fuzz_assert(!memchr(data, '\n', (size_t)(ev + n - 2 - data)) &&
              !memchr(ev, '\r', n), "line break inside an event");
  fuzz_assert(json_parse(data, (size_t)(ev + n - 2 - data), &v) &&
              v.type == JSON_OBJECT, "event data is not a JSON object");
  fuzz_assert(json_get(v, "type", &t) && t.type == JSON_STRING &&
              t.len == (size_t)(nl - ev) - 7 + 2 &&
              !memcmp(t.ptr + 1, ev + 7, t.len - 2),
              "event line and data type differ");
  k = snprintf(num, sizeof(num), "%ld", st->count);
  fuzz_assert(json_get(v, "sequence_number", &seq) && seq.len == (size_t)k &&
              !memcmp(seq.ptr, num, seq.len), "sequence_number not contiguous");
  fuzz_assert(st->count > 0 || fuzz_is(t, "response.created"),
              "first event is not response.created");
  if(fuzz_is(t, "response.completed") || fuzz_is(t, "response.incomplete") ||
     fuzz_is(t, "response.failed")) {
    st->terminal = 1;
    fuzz_assert(json_get(v, "response", &s) && s.type == JSON_OBJECT,
                "terminal event without a response");
    buf_append(&st->final, s.ptr, s.len);
  }
  else if(fuzz_ends(t, ".delta")) {
    fuzz_assert(json_get(v, "delta", &s) && s.type == JSON_STRING && s.len > 2,
                "delta is not a non-empty string");
    buf_append(&st->deltas, s.ptr + 1, s.len - 2);
  }
  else
    fuzz_done_text(v, t, st);
  st->count++;
}

/* Replay the answer into all; checks every event. */
static void fuzz_replay(const char *p, size_t n, const struct replay_opts *o,
                        struct buf *all, struct fuzz_state *st)
{
  const char *why = NULL;
  struct buf ev, want;
  struct json_span root;
  int r;
  void *e = sse_responses_encoder.open(p, n, o, &why);
  if(!e) {
    fuzz_assert(why && *why, "refusal without a reason");
    return;
  }
  buf_init(&ev);
  while((r = sse_responses_encoder.next(e, &ev)) == 1) {
    fuzz_event(ev.ptr, ev.len, st);
    buf_append(all, ev.ptr, ev.len);
    buf_reset(&ev);
  }
  fuzz_assert(r == 0 && st->terminal && ev.len == 0,
              "stream did not end cleanly");
  fuzz_assert(sse_responses_encoder.next(e, &ev) == 0, "stream restarted");
  fuzz_assert(fuzz_same_buf(&st->deltas, &st->dones),
              "deltas do not rebuild the done texts");
  buf_init(&want);
  fuzz_assert(json_parse(p, n, &root), "accepted an invalid answer");
  sse_put_value(&want, root);
  fuzz_assert(fuzz_same_buf(&want, &st->final),
              "terminal response is not the answer");
  sse_responses_encoder.close(e);
  buf_free(&ev);
  buf_free(&want);
}

/* Release what a replay collected. */
static void fuzz_state_free(struct fuzz_state *st)
{
  buf_free(&st->deltas);
  buf_free(&st->dones);
  buf_free(&st->final);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct replay_opts o;
  struct buf a, b;
  struct fuzz_state sa, sb;
  if(size < 1)
    return 0;
  o.piece_chars = (size_t)(data[0] & 0x0F) + 1;
  o.include_usage = false;
  buf_init(&a);
  buf_init(&b);
  memset(&sa, 0, sizeof(sa));
  memset(&sb, 0, sizeof(sb));
  fuzz_replay((const char *)data + 1, size - 1, &o, &a, &sa);
  if(a.len) {
    fuzz_replay((const char *)data + 1, size - 1, &o, &b, &sb);
    fuzz_assert(fuzz_same_buf(&a, &b), "output not deterministic");
  }
  buf_free(&a);
  buf_free(&b);
  fuzz_state_free(&sa);
  fuzz_state_free(&sb);
  return 0;
}
