/* fuzz_assemble.c - libFuzzer harness for the SSE reader
 * (hooks/pure/sse_read.c) and the assemblers (hooks/pure/assemble*.c).
 *
 * Input: one option byte, then the stream. Option bits: 0x1F the feed
 * size - 1 of the split read, 0x20 a max_event of 96 bytes, 0x40 the
 * transfer ends there (finish with eof) rather than after the terminal
 * event, 0x80 the resumed read stops after every event.
 *
 * Properties: the stream read whole, read in pieces, and read stopping
 * after each event and resuming where *used says give the same events
 * and the same verdict (all read, or too big); every assembler available
 * (assembler_for each endpoint) then takes those events: after ASM_END,
 * ASM_ERROR or ASM_BAD it keeps answering the same; finish returns 200
 * only with an answer that passes json_parse() as an object, 4xx/5xx only
 * with an error body that does, 0 only with a reason and nothing
 * appended; a second finish gives the same status and bytes.
 *
 *   make build/fuzz/fuzz_assemble && build/fuzz/fuzz_assemble CORPUS
 * Without libFuzzer, -DSS_FUZZ_MAIN builds a main() that runs files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assemble.h"
#include "json.h"
#include "sse_read.h"

#define FUZZ_NAME "fuzz_assemble"
#include "fuzz_util.h"

#define FUZZ_MAX_EVENT 96
#define FUZZ_MAX_EVENTS 4096

/* The events of one read, as length-prefixed records, and their count. */
struct fuzz_events {
  struct buf rec;
  size_t count;
  bool stop_each;   /* the callback asks to stop after every event */
};

/* Append n in 8 decimal digits. */
static void fuzz_put_len(struct buf *b, size_t n)
{
  char d[8];
  for(int i = 7; i >= 0; i--, n /= 10)
    d[i] = (char)('0' + n % 10);
  buf_append(b, d, sizeof(d));
}

/* sse_read's callback: record the event. */
static bool fuzz_record(void *arg, const struct sse_event *ev)
{
  struct fuzz_events *e = arg;
  fuzz_put_len(&e->rec, ev->name_len);
  buf_append(&e->rec, ev->name, ev->name_len);
  fuzz_put_len(&e->rec, ev->data_len);
  buf_append(&e->rec, ev->data, ev->data_len);
  e->count++;
  return !e->stop_each;
}

/* Read p[0..n) in pieces of step bytes (stop_each: resuming after each
 * event); the last result (OK or an error) and pending state. */
static int fuzz_read(const char *p, size_t n, size_t step, size_t max_event,
                     struct fuzz_events *e, bool *pending)
{
  struct sse_reader r;
  size_t at = 0, used;
  int rc = SSE_READ_OK;
  sse_read_init(&r, max_event);
  while(at < n) {
    size_t len = n - at < step ? n - at : step;
    rc = sse_read_feed(&r, p + at, len, fuzz_record, e, &used);
    fuzz_assert(used <= len, "used past the bytes given");
    fuzz_assert(rc == SSE_READ_STOPPED || rc < 0 || used == len,
                "all read but not all used");
    if(rc < 0)
      break;
    fuzz_assert(used > 0 || rc == SSE_READ_OK, "stopped without progress");
    at += used;
    rc = SSE_READ_OK;
  }
  *pending = sse_read_pending(&r);
  sse_read_free(&r);
  return rc;
}

/* Does b hold one JSON object? */
static bool fuzz_is_object(const struct buf *b)
{
  struct json_span v;
  return b->len && json_parse(b->ptr, b->len, &v) && v.type == JSON_OBJECT;
}

/* Run the recorded events through assembler a and check its contract. */
static void fuzz_assemble(const struct assembler *a, const struct buf *rec,
                          bool eof)
{
  struct buf out, again;
  const char *why = NULL, *why2 = NULL;
  enum asm_result last = ASM_MORE;
  size_t at = 0;
  void *st = a->open();
  if(!st)
    return;
  while(at < rec->len && last == ASM_MORE) {
    struct sse_event ev;
    char num[9] = {0};
    memcpy(num, rec->ptr + at, 8);
    ev.name_len = strtoul(num, NULL, 10);
    ev.name = rec->ptr + at + 8;
    at += 8 + ev.name_len;
    memcpy(num, rec->ptr + at, 8);
    ev.data_len = strtoul(num, NULL, 10);
    ev.data = rec->ptr + at + 8;
    at += 8 + ev.data_len;
    last = a->event(st, &ev, &why);
    fuzz_assert(last != ASM_BAD || why, "ASM_BAD without a reason");
    if(last != ASM_MORE && last != ASM_OOM) {  /* it keeps answering that */
      const char *w = NULL;
      fuzz_assert(a->event(st, &ev, &w) == last, "an ended stream changed");
    }
  }
  buf_init(&out);
  buf_init(&again);
  int status = a->finish(st, eof || last == ASM_MORE, &out, &why);
  int status2 = a->finish(st, eof || last == ASM_MORE, &again, &why2);
  fuzz_assert(status == status2 && fuzz_same_buf(&out, &again),
              "finish is not repeatable");
  if(status == 200)
    fuzz_assert(fuzz_is_object(&out), "an answer that is not a JSON object");
  else if(status >= 400)
    fuzz_assert(status <= 599 && last == ASM_ERROR && fuzz_is_object(&out),
                "an error that is not a JSON object");
  else if(status == 0)
    fuzz_assert(why && !out.len, "no answer without a reason");
  else
    fuzz_assert(status == -1, "an unknown status");
  if(last == ASM_BAD)
    fuzz_assert(status == 0, "a refused stream gave an answer");
  a->close(st);
  buf_free(&out);
  buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const enum ep_kind kinds[] = {EP_CHAT, EP_COMPLETIONS, EP_RESPONSES,
                                       EP_MESSAGES};
  if(!size)
    return 0;
  uint8_t opt = data[0];
  const char *p = (const char *)data + 1;
  size_t n = size - 1;
  size_t step = (size_t)(opt & 0x1F) + 1;
  size_t max_event = (opt & 0x20) ? FUZZ_MAX_EVENT : 0;
  struct fuzz_events whole = {{0}, 0, false}, split = {{0}, 0, false},
                     resumed = {{0}, 0, (opt & 0x80) != 0};
  bool pw, ps, pr;
  buf_init(&whole.rec);
  buf_init(&split.rec);
  buf_init(&resumed.rec);
  int rw = fuzz_read(p, n, n ? n : 1, max_event, &whole, &pw);
  int rs = fuzz_read(p, n, step, max_event, &split, &ps);
  int rr = fuzz_read(p, n, n ? n : 1, max_event, &resumed, &pr);
  fuzz_assert(rw == rs && rw == rr, "the verdict depends on the split");
  fuzz_assert(fuzz_same_buf(&whole.rec, &split.rec) &&
              fuzz_same_buf(&whole.rec, &resumed.rec),
              "the events depend on the split");
  fuzz_assert(rw < 0 || (pw == ps && pw == pr),
              "the pending state depends on the split");
  fuzz_assert(rw == SSE_READ_OK || rw == SSE_READ_TOO_BIG,
              "an unexpected reader result");
  if(whole.count <= FUZZ_MAX_EVENTS)
    for(size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
      const struct assembler *a = assembler_for(kinds[k]);
      if(a)
        fuzz_assemble(a, &whole.rec, (opt & 0x40) != 0);
    }
  buf_free(&whole.rec);
  buf_free(&split.rec);
  buf_free(&resumed.rec);
  return 0;
}
