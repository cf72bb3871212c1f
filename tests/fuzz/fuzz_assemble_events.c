/* fuzz_assemble_events.c - libFuzzer harness for the Responses and
 * Messages assemblers (hooks/pure/assemble_responses.c,
 * assemble_messages.c).
 *
 * Input: one mode byte, then the rest.
 * - Even mode byte: the rest is events, separated by "\n\n", each its
 *   event name up to the first "\n" and its data after it. Both
 *   assemblers take every event (also after their end: the result must
 *   then stay what it was). finish(eof) must give 200 or an error status
 *   with a body json_parse() accepts (a JSON object), or 0 with a reason;
 *   a second state fed the same events must give the same bytes.
 * - Odd mode byte: the rest is an answer. When the Responses or Messages
 *   encoder accepts it (pieces of (mode >> 1) % 16 + 1 characters), its
 *   events fed to the assembler must give 200 and the answer's compact
 *   form byte for byte (the round trip of the unit tests, on any answer
 *   without a key twice in one object).
 *
 * Built by the Makefile's fuzz rule (`make build/fuzz/fuzz_assemble_events`:
 * clang -fsanitize=fuzzer,address,undefined with every pure source).
 * Without libFuzzer, -DSS_FUZZ_MAIN builds a main() that runs files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assemble.h"
#include "json.h"
#include "sse_messages.h"
#include "sse_piece.h"
#include "sse_responses.h"

#define FUZZ_NAME "fuzz_assemble_events"
#include "fuzz_util.h"

/* The first "\n\n" in [p, end), or end. */
static const char *fuzz_blank(const char *p, const char *end)
{
  for(; p + 1 < end; p++)
    if(p[0] == '\n' && p[1] == '\n')
      return p;
  return end;
}

/* Feed every event of [p, p+n) to a fresh state of a, finish it into out;
 * checks the results stay put after the end. finish's status. */
static int fuzz_feed(const struct assembler *a, const char *p, size_t n,
                     struct buf *out)
{
  const char *end = p + n, *why = NULL;
  enum asm_result r = ASM_MORE, first = ASM_MORE;
  void *st = a->open();
  fuzz_assert(st != NULL, "open failed");
  while(p < end) {
    const char *stop = fuzz_blank(p, end);
    const char *nl = memchr(p, '\n', (size_t)(stop - p));
    struct sse_event ev;
    ev.name = p;
    ev.name_len = (size_t)((nl ? nl : stop) - p);
    ev.data = nl ? nl + 1 : stop;
    ev.data_len = (size_t)(stop - ev.data);
    why = NULL;
    r = a->event(st, &ev, &why);
    fuzz_assert(r != ASM_OOM, "out of memory");
    fuzz_assert(r != ASM_BAD || (why && *why), "refused without a reason");
    if(first != ASM_MORE)
      fuzz_assert(r == first, "the result changed after the end");
    else
      first = r;
    p = stop + (stop < end ? 2 : 0);
  }
  why = NULL;
  int status = a->finish(st, true, out, &why);
  a->close(st);
  fuzz_assert(status != -1, "out of memory at finish");
  fuzz_assert(status == 0 || status == 200 || (status >= 400 && status < 600),
              "finish gave an odd status");
  fuzz_assert(status != 0 || (why && *why && out->len == 0),
              "finish refused without a reason, or wrote");
  fuzz_assert((status == 200) == (first == ASM_END), "200 without ASM_END");
  if(status) {
    struct json_span v;
    fuzz_assert(json_parse(out->ptr, out->len, &v) && v.type == JSON_OBJECT,
                "the answer is not a JSON object");
  }
  return status;
}

/* Events mode: both assemblers, twice each (the same bytes). */
static void fuzz_events(const char *p, size_t n)
{
  static const struct assembler *const as[] = {&responses_assembler,
                                               &messages_assembler};
  for(size_t i = 0; i < 2; i++) {
    struct buf x, y;
    buf_init(&x);
    buf_init(&y);
    int s1 = fuzz_feed(as[i], p, n, &x), s2 = fuzz_feed(as[i], p, n, &y);
    fuzz_assert(s1 == s2 && fuzz_same_buf(&x, &y), "not deterministic");
    buf_free(&x);
    buf_free(&y);
  }
}

/* Do keys a and b decode to the same text (raw bytes when long)? */
static int fuzz_key_same(struct json_span a, struct json_span b)
{
  char x[256], y[256];
  size_t nx, ny;
  if(a.len == b.len && !memcmp(a.ptr, b.ptr, a.len))
    return 1;
  return json_string_decode(a, x, sizeof(x), &nx) &&
         json_string_decode(b, y, sizeof(y), &ny) && nx == ny &&
         !memcmp(x, y, nx);
}

/* Has value v (a parsed span) an object with a key twice, anywhere? Such
 * an answer has no one meaning (JSON parsers keep the last), so the
 * round trip is not asked to keep it byte for byte. */
static int fuzz_dup_keys(struct json_span v)
{
  struct json_iter it, jt;
  struct json_span k, e, k2, e2;
  if(v.type != JSON_OBJECT && v.type != JSON_ARRAY)
    return 0;
  json_iter_init(&it, v);
  if(v.type == JSON_ARRAY) {
    while(json_next_element(&it, &e))
      if(fuzz_dup_keys(e))
        return 1;
    return 0;
  }
  while(json_next_member(&it, &k, &e)) {
    if(fuzz_dup_keys(e))
      return 1;
    jt = it;
    while(json_next_member(&jt, &k2, &e2))
      if(fuzz_key_same(k, k2))
        return 1;
  }
  return 0;
}

/* Round-trip mode: answer [p, p+n) through enc and back through a. */
static void fuzz_trip(const struct replay_encoder *enc,
                      const struct assembler *a, const char *p, size_t n,
                      size_t piece)
{
  struct replay_opts o = {piece, true};
  struct buf ev, out, want;
  struct json_span root;
  const char *why = NULL;
  enum asm_result r = ASM_MORE;
  void *e = enc->open(p, n, &o, &why);
  if(!e)
    return;
  void *st = a->open();
  buf_init(&ev);
  buf_init(&out);
  buf_init(&want);
  while(enc->next(e, &ev) == 1) {
    /* an encoder event: "event: T\ndata: D\n\n" (one data line) */
    const char *nl = memchr(ev.ptr, '\n', ev.len);
    fuzz_assert(nl && ev.len > 10 && !memcmp(ev.ptr, "event: ", 7) &&
                !memcmp(nl + 1, "data: ", 6), "encoder event framing");
    struct sse_event se = {ev.ptr + 7, (size_t)(nl - ev.ptr - 7), nl + 7,
                           (size_t)(ev.ptr + ev.len - 2 - (nl + 7))};
    fuzz_assert(r == ASM_MORE, "the assembler ended before the stream");
    r = a->event(st, &se, &why);
    buf_reset(&ev);
  }
  fuzz_assert(r == ASM_END, "the round trip did not end the answer");
  fuzz_assert(a->finish(st, true, &out, &why) == 200, "round trip not 200");
  fuzz_assert(json_parse(p, n, &root), "encoder took a non-JSON answer");
  sse_put_value(&want, root);
  fuzz_assert(fuzz_same_buf(&out, &want) || fuzz_dup_keys(root),
              "round trip changed the answer");
  a->close(st);
  enc->close(e);
  buf_free(&ev);
  buf_free(&out);
  buf_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if(size < 1)
    return 0;
  const char *p = (const char *)data + 1;
  size_t n = size - 1;
  if(!(data[0] & 1)) {
    fuzz_events(p, n);
    return 0;
  }
  size_t piece = (size_t)((data[0] >> 1) % 16) + 1;
  fuzz_trip(&sse_responses_encoder, &responses_assembler, p, n, piece);
  fuzz_trip(&sse_messages_encoder, &messages_assembler, p, n, piece);
  return 0;
}
