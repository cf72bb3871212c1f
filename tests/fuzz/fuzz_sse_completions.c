/* fuzz_sse_completions.c - libFuzzer harness for the legacy completions
 * (text_completion) replay, logprobs included.
 *
 * Input: one option byte, then the answer. Option bits: 0x0F piece size
 * - 1, 0x80 include_usage, 0x40 "synthesise": the rest of the input
 * drives a generator of a valid answer with logprobs whose tokens split
 * characters anywhere (written "bytes:\\xHH..." as the API writes partial
 * characters), 0x20 corrupts one token (the answer must be refused).
 *
 * An accepted answer replays to the end, one "data: {...}\n\n" event per
 * call and [DONE] last, the same bytes twice; per choice the chunks' texts
 * concatenate to the answer's raw text and each logprobs array to the
 * answer's (compacted); every chunk's tokens spell exactly its text.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ishim -Ihooks \
 *     tests/fuzz/fuzz_sse_completions.c hooks/pure/sse_completions.c \
 *     hooks/pure/logprobs.c hooks/pure/sse_piece.c hooks/pure/json.c hooks/pure/buf.c \
 *     -o /tmp/fuzz_sse_completions */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sse_completions.h"
#include "sse_piece.h"

#define FUZZ_NAME "fuzz_sse_completions"
#include "fuzz_util.h"

#define FUZZ_DONE "data: [DONE]\n\n"
#define FUZZ_SYNTH 0x40
#define FUZZ_CORRUPT 0x20

static const char *const names[] = {"text", "tokens", "token_logprobs",
                                    "top_logprobs", "text_offset"};
#define NAMES 5

/* Append the bytes legacy token t stands for (an independent reading of
 * logprobs.c: "bytes:" then \xHH or literal characters); false when it
 * does not decode here. */
static int fuzz_token_bytes(struct json_span t, struct buf *out)
{
  static char tmp[65536];
  size_t n = 0, i = 0;
  if(!json_string_decode(t, tmp, sizeof(tmp), &n))
    return 0;
  if(n < 6 || memcmp(tmp, "bytes:", 6)) {
    buf_append(out, tmp, n);
    return 1;
  }
  for(i = 6; i < n; i++) {
    unsigned v;
    char hex[3] = {0, 0, 0};
    if(tmp[i] == '\\' && i + 3 < n && tmp[i + 1] == 'x') {
      hex[0] = tmp[i + 2];
      hex[1] = tmp[i + 3];
      if(strspn(hex, "0123456789abcdefABCDEF") == 2) {
        v = (unsigned)strtoul(hex, NULL, 16);
        unsigned char c = (unsigned char)v;
        buf_append(out, &c, 1);
        i += 3;
        continue;
      }
    }
    buf_append(out, tmp + i, 1);
  }
  return 1;
}

/* Append the elements of array a (compacted, each + ",") to out. */
static void fuzz_elements(struct json_span a, struct buf *out)
{
  struct json_iter it;
  struct json_span el;
  json_iter_init(&it, a);
  while(json_next_element(&it, &el)) {
    sse_put_value(out, el);
    buf_append(out, ",", 1);
  }
}

/* Collect choice c (of a chunk or of the answer) into acc[index][...]:
 * its raw text and its logprobs' elements. With chunk, also check that
 * its tokens spell its text. */
static void fuzz_collect(struct json_span c, struct buf acc[][NAMES],
                         int chunk)
{
  struct json_span idx, text, lp, v, t;
  struct json_iter it;
  struct buf spelled;
  static char dec[65536];
  size_t n = 0, k;
  int ok;
  json_get(c, "index", &idx);
  k = (size_t)strtoul(idx.ptr, NULL, 10);
  if(k > 3)
    return;
  json_get(c, "text", &text);
  buf_append(&acc[k][0], text.ptr + 1, text.len - 2);
  json_get(c, "logprobs", &lp);
  for(int i = 1; i < NAMES; i++)
    if(json_get(lp, names[i], &v))
      fuzz_elements(v, &acc[k][i]);
  if(!chunk || lp.type != JSON_OBJECT)
    return;
  buf_init(&spelled);
  ok = json_string_decode(text, dec, sizeof(dec), &n);
  json_get(lp, "tokens", &v);
  json_iter_init(&it, v);
  while(json_next_element(&it, &t))
    ok &= fuzz_token_bytes(t, &spelled);
  if(ok)
    fuzz_assert(spelled.len == n && (!n || !memcmp(dec, spelled.ptr, n)),
                "a chunk's tokens do not spell its text");
  buf_free(&spelled);
}

/* Replay the answer; check and collect every event. Whether accepted. */
static int fuzz_replay(const char *p, size_t n, const struct replay_opts *o,
                       struct buf *all, struct buf acc[][NAMES])
{
  const char *why = NULL;
  struct buf ev;
  struct json_span v, ch, c;
  struct json_iter it;
  int r, done = 0;
  void *e = sse_completions_encoder.open(p, n, o, &why);
  if(!e) {
    fuzz_assert(why && *why, "refusal without a reason");
    return 0;
  }
  buf_init(&ev);
  while((r = sse_completions_encoder.next(e, &ev)) == 1) {
    fuzz_assert(!done, "event after [DONE]");
    buf_append(all, ev.ptr, ev.len);
    if(ev.len == strlen(FUZZ_DONE) && !memcmp(ev.ptr, FUZZ_DONE, ev.len))
      done = 1;
    else {
      fuzz_assert(ev.len >= 8 && !memcmp(ev.ptr, "data: ", 6) &&
                  !memcmp(ev.ptr + ev.len - 2, "\n\n", 2) &&
                  !memchr(ev.ptr, '\n', ev.len - 2), "event framing");
      fuzz_assert(json_parse(ev.ptr + 6, ev.len - 8, &v) &&
                  v.type == JSON_OBJECT, "event data is not an object");
      json_get(v, "choices", &ch);
      json_iter_init(&it, ch);
      while(json_next_element(&it, &c))
        fuzz_collect(c, acc, 1);
    }
    buf_reset(&ev);
  }
  fuzz_assert(r == 0 && done, "stream did not end cleanly");
  sse_completions_encoder.close(e);
  buf_free(&ev);
  return 1;
}

/* ---- the generator ---- */

/* Append input byte b's character to text (escaped) and dec (decoded). */
static void synth_char(unsigned char b, struct buf *text, struct buf *dec)
{
  static const char *const esc[8] = {"a", " ", "\\n", "\\\"", "\\u00e9",
                                     "\xe2\x80\x99", "\\ud83d\\ude00", "\\\\"};
  static const char *const raw[8] = {"a", " ", "\n", "\"", "\xc3\xa9",
                                     "\xe2\x80\x99", "\xf0\x9f\x98\x80", "\\"};
  buf_puts(text, esc[b & 7]);
  buf_puts(dec, raw[b & 7]);
}

/* Append a legacy token for the bytes [p, p+n): "bytes:" + \xHH (and
 * printable ASCII as it is) when partial, else the escaped text given. */
static void synth_token(struct buf *b, const unsigned char *p, size_t n,
                        const char *esc, size_t esclen, int corrupt)
{
  static const char hex[] = "0123456789abcdef";
  buf_puts(b, "\"");
  if(esc && !corrupt)
    buf_append(b, esc, esclen);
  else {
    buf_puts(b, "bytes:");
    for(size_t i = 0; i < n; i++) {
      unsigned v = p[i] ^ (unsigned)(i == 0 && corrupt);
      char one[2] = {(char)v, 0};
      if(v >= 0x61 && v <= 0x7A)
        buf_puts(b, one);
      else {
        char x[7] = {'\\', '\\', 'x', hex[v >> 4], hex[v & 15], 0, 0};
        buf_puts(b, x);
      }
    }
  }
  buf_puts(b, "\"");
}

/* Build a one-choice answer with logprobs from the input bytes: a
 * character per byte; the top bit of a byte ends a token after it, its
 * bit 3 moves that end up to 2 bytes back into the character. */
static void fuzz_synth(const uint8_t *in, size_t n, int corrupt,
                       struct buf *out)
{
  struct buf text, dec, toks;
  size_t esc_at[1024 * 4 + 1], from = 0, ntok = 0;
  buf_init(&text);
  buf_init(&dec);
  buf_init(&toks);
  memset(esc_at, 0xFF, sizeof(esc_at));
  esc_at[0] = 0;
  for(size_t i = 0; i < n && i < 1024; i++) {
    synth_char(in[i], &text, &dec);
    esc_at[dec.len] = text.len;
    size_t back = (in[i] >> 3) & 3;
    if(((in[i] & 0x80) || i + 1 == n || i + 1 == 1024) && dec.len >= back &&
       dec.len - back > from) {
      size_t to = dec.len - back;
      int whole = esc_at[from] != SIZE_MAX && esc_at[to] != SIZE_MAX;
      if(ntok++)
        buf_puts(&toks, ",");
      synth_token(&toks, (const unsigned char *)dec.ptr + from, to - from,
                  whole && (in[i] & 0x40) ? text.ptr + esc_at[from] : NULL,
                  whole ? esc_at[to] - esc_at[from] : 0,
                  corrupt && ntok == 1);
      from = to;
    }
  }
  if(dec.len > from) {  /* what the last end left */
    if(ntok++)
      buf_puts(&toks, ",");
    synth_token(&toks, (const unsigned char *)dec.ptr + from, dec.len - from,
                NULL, 0, corrupt && ntok == 1);
  }
  if(!ntok && corrupt) {  /* spells more than "" */
    buf_puts(&toks, "\"z\"");
    ntok++;
  }
  buf_puts(out, "{\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,"
                "\"model\":\"m\",\"choices\":[{\"text\":\"");
  buf_append(out, text.ptr, text.len);
  buf_puts(out, "\",\"index\":0,\"logprobs\":{\"tokens\":[");
  buf_append(out, toks.ptr, toks.len);
  buf_puts(out, "],\"token_logprobs\":[");
  for(size_t t = 0; t < ntok; t++)
    buf_puts(out, t ? ",-0.5" : "null");
  buf_puts(out, "],\"top_logprobs\":null,\"text_offset\":[");
  for(size_t t = 0; t < ntok; t++) {
    if(t)
      buf_puts(out, ",");
    sse_put_uint(out, t);
  }
  buf_puts(out, "]},\"finish_reason\":\"length\"}]}");
  buf_free(&text);
  buf_free(&dec);
  buf_free(&toks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct buf acc[3][4][NAMES];  /* replay 1, replay 2, answer */
  struct replay_opts o;
  struct buf a, b, syn;
  const char *ans;
  size_t alen;
  int accepted;
  if(size < 1)
    return 0;
  o.piece_chars = (size_t)(data[0] & 0x0F) + 1;
  o.include_usage = (data[0] & 0x80) != 0;
  memset(acc, 0, sizeof(acc));
  buf_init(&a);
  buf_init(&b);
  buf_init(&syn);
  ans = (const char *)data + 1;
  alen = size - 1;
  if(data[0] & FUZZ_SYNTH) {
    fuzz_synth(data + 1, size - 1, (data[0] & FUZZ_CORRUPT) != 0, &syn);
    ans = syn.ptr;
    alen = syn.len;
  }
  accepted = fuzz_replay(ans, alen, &o, &a, acc[0]);
  if(data[0] & FUZZ_SYNTH)
    fuzz_assert(accepted == !(data[0] & FUZZ_CORRUPT),
                "synthesised answer refused, or corrupt one accepted");
  if(accepted) {
    struct json_span root, ch, c;
    struct json_iter it;
    fuzz_replay(ans, alen, &o, &b, acc[1]);
    fuzz_assert(fuzz_same_buf(&a, &b), "output not deterministic");
    json_parse(ans, alen, &root);
    json_get(root, "choices", &ch);
    json_iter_init(&it, ch);
    while(json_next_element(&it, &c))
      fuzz_collect(c, acc[2], 0);
    for(int k = 0; k < 4; k++)
      for(int i = 0; i < NAMES; i++)
        fuzz_assert(fuzz_same_buf(&acc[0][k][i], &acc[2][k][i]),
                    "the chunks do not join back to the answer's choice");
  }
  for(int r = 0; r < 3; r++)
    for(int k = 0; k < 4; k++)
      for(int i = 0; i < NAMES; i++)
        buf_free(&acc[r][k][i]);
  buf_free(&a);
  buf_free(&b);
  buf_free(&syn);
  return 0;
}
