/* fuzz_sse_chat.c - libFuzzer harness for the chat.completion replay.
 *
 * Input: one option byte, then the answer. Option bits: 0x0F piece size
 * - 1, 0x80 include_usage, 0x40 "synthesise": the rest of the input is
 * not an answer but drives a generator (fuzz_synth) that builds a valid
 * answer with logprobs whose tokens split characters, escapes and
 * surrogate pairs anywhere; 0x20 corrupts one token byte (the answer must
 * then be refused); 0x10 puts the text in the refusal instead of the
 * content.
 *
 * An answer is either refused with a reason, or replayed to the end where
 * every call appends exactly one event that is "data: " + one-line valid
 * JSON + "\n\n" (the last one "data: [DONE]\n\n"), the content pieces of
 * all choices concatenate to their contents' raw text, a second replay
 * gives the same bytes, and for logprobs: the first chunk of a choice has
 * no entries (openai-node would count them twice), every chunk's entries
 * spell exactly its decoded text, each group ends at the first character
 * boundary, and the entries of all chunks, in order, are the answer's.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ishim -Ihooks \
 *     tests/fuzz/fuzz_sse_chat.c hooks/pure/sse_chat.c hooks/pure/sse_chat_read.c \
 *     hooks/pure/logprobs.c hooks/pure/sse_piece.c hooks/pure/json.c hooks/pure/buf.c \
 *     -o /tmp/fuzz_sse_chat
 * Without libFuzzer, -DSS_FUZZ_MAIN builds a main() that runs files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sse_chat.h"
#include "sse_piece.h"

#define FUZZ_NAME "fuzz_sse_chat"
#include "fuzz_util.h"

#define FUZZ_DONE "data: [DONE]\n\n"
#define FUZZ_SYNTH 0x40
#define FUZZ_CORRUPT 0x20
#define FUZZ_REFUSAL 0x10

/* What a replay produced, beyond its bytes. */
struct fuzz_acc {
  struct buf pieces;   /* raw text of every content piece */
  struct buf entries;  /* every logprobs entry, compact, each + "," */
};

/* Append the bytes entry e stands for: its "bytes" array, else its
 * token decoded (an independent reading of what logprobs.c does). False
 * when the token does not decode here (\u0000, lone surrogates). */
static int fuzz_entry_bytes(struct json_span e, struct buf *out)
{
  struct json_span v, tok;
  struct json_iter it;
  static char tmp[65536];
  size_t n = 0;
  if(json_get(e, "bytes", &v) && v.type == JSON_ARRAY) {
    json_iter_init(&it, v);
    while(json_next_element(&it, &tok)) {
      unsigned char c = (unsigned char)strtoul(tok.ptr, NULL, 10);
      buf_append(out, &c, 1);
    }
    return 1;
  }
  json_get(e, "token", &tok);
  if(!json_string_decode(tok, tmp, sizeof(tmp), &n))
    return 0;
  buf_append(out, tmp, n);
  return 1;
}

/* Check the logprobs array lp of one chunk against the delta's text s
 * (when both decode here): the entries spell it, and no shorter run of
 * them ends on a character boundary. Collect the entries. */
static void fuzz_group(struct json_span lp, struct json_span s,
                       struct fuzz_acc *acc)
{
  static char text[65536];
  struct buf bytes, one;
  struct json_iter it;
  struct json_span e;
  size_t n = 0, at = 0;
  int ok;
  fuzz_assert(s.type == JSON_STRING, "logprobs entries without text");
  ok = json_string_decode(s, text, sizeof(text), &n);
  buf_init(&bytes);
  buf_init(&one);
  json_iter_init(&it, lp);
  while(json_next_element(&it, &e)) {
    ok &= fuzz_entry_bytes(e, &bytes);
    sse_put_value(&acc->entries, e);
    buf_append(&acc->entries, ",", 1);
  }
  if(ok) {
    fuzz_assert(bytes.len == n && (!n || !memcmp(bytes.ptr, text, n)),
                "a group's entries do not spell its text");
    json_iter_init(&it, lp);
    while(json_next_element(&it, &e)) {
      if(at > 0 && at < n)
        fuzz_assert(((unsigned char)text[at] & 0xC0) == 0x80,
                    "a group goes past a character boundary");
      buf_reset(&one);
      fuzz_entry_bytes(e, &one);
      at += one.len;
    }
  }
  buf_free(&bytes);
  buf_free(&one);
}

/* Check the logprobs of one chunk's choice c with delta d. */
static void fuzz_logprobs(struct json_span c, struct json_span d,
                          struct fuzz_acc *acc)
{
  static const char *const names[] = {"content", "refusal"};
  struct json_span lp, arr, s, role, e;
  struct json_iter it;
  if(!json_get(c, "logprobs", &lp) || lp.type != JSON_OBJECT)
    return;
  for(int i = 0; i < 2; i++) {
    if(!json_get(lp, names[i], &arr) || arr.type != JSON_ARRAY)
      continue;
    json_iter_init(&it, arr);
    if(json_get(d, "role", &role)) {
      fuzz_assert(!json_next_element(&it, &e), "entries on the role chunk");
      continue;
    }
    json_get(d, names[i], &s);
    fuzz_group(arr, s, acc);
  }
}

/* Check one event; collect its choice's content piece and logprobs.
 * Returns 1 for [DONE], else 0. */
static int fuzz_event(const char *ev, size_t n, struct fuzz_acc *acc)
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
  if(json_next_element(&it, &c0) && json_get(c0, "delta", &d)) {
    if(json_get(d, "content", &s) && s.type == JSON_STRING)
      buf_append(&acc->pieces, s.ptr + 1, s.len - 2);
    fuzz_logprobs(c0, d, acc);
  }
  return 0;
}

/* The raw text of every choice's message content, and every logprobs
 * entry (content then refusal), as the replay should give them. */
static void fuzz_expected(const char *p, size_t n, struct fuzz_acc *out)
{
  static const char *const names[] = {"content", "refusal"};
  struct json_span root, choices, c, m, s, lp, arr, e;
  struct json_iter it, ei;
  json_parse(p, n, &root);
  json_get(root, "choices", &choices);
  json_iter_init(&it, choices);
  while(json_next_element(&it, &c)) {
    if(json_get(c, "message", &m) && json_get(m, "content", &s) &&
       s.type == JSON_STRING)
      buf_append(&out->pieces, s.ptr + 1, s.len - 2);
    json_get(c, "logprobs", &lp);
    for(int i = 0; i < 2; i++) {
      json_get(lp, names[i], &arr);
      json_iter_init(&ei, arr);
      while(json_next_element(&ei, &e)) {
        sse_put_value(&out->entries, e);
        buf_append(&out->entries, ",", 1);
      }
    }
  }
}

/* Replay the answer into all; checks every event. Returns whether the
 * answer was accepted. */
static int fuzz_replay(const char *p, size_t n, const struct replay_opts *o,
                       struct buf *all, struct fuzz_acc *acc)
{
  const char *why = NULL;
  struct buf ev;
  int r, done = 0;
  void *e = sse_chat_encoder.open(p, n, o, &why);
  if(!e) {
    fuzz_assert(why && *why, "refusal without a reason");
    return 0;
  }
  buf_init(&ev);
  while((r = sse_chat_encoder.next(e, &ev)) == 1) {
    fuzz_assert(!done, "event after [DONE]");
    done = fuzz_event(ev.ptr, ev.len, acc);
    buf_append(all, ev.ptr, ev.len);
    buf_reset(&ev);
  }
  fuzz_assert(r == 0 && done && ev.len == 0, "stream did not end cleanly");
  fuzz_assert(sse_chat_encoder.next(e, &ev) == 0, "stream restarted");
  sse_chat_encoder.close(e);
  buf_free(&ev);
  return 1;
}

/* ---- the generator of answers with logprobs ---- */

#define SYN_MAX 512  /* input bytes used: at most 4 decoded bytes each */

struct synth {
  struct buf text;                     /* escaped text */
  unsigned char dec[SYN_MAX * 4];      /* decoded bytes */
  size_t ndec;
  size_t esc[SYN_MAX * 4 + 1];         /* escaped offset at each decoded
                                          offset; SIZE_MAX inside a char */
  size_t cut[SYN_MAX + 1], ncut;       /* token ends, increasing */
};

/* Append one character: escaped form esc, decoded bytes d (n of them). */
static void synth_char(struct synth *s, const char *esc, const char *d,
                       size_t n)
{
  for(size_t i = 1; i < n; i++)
    s->esc[s->ndec + i] = SIZE_MAX;
  memcpy(s->dec + s->ndec, d, n);
  s->ndec += n;
  buf_puts(&s->text, esc);
  s->esc[s->ndec] = s->text.len;
}

/* One input byte: a character (raw or escaped) or a token end, up to 3
 * bytes back (inside the last character). */
static void synth_byte(struct synth *s, unsigned char b)
{
  int alt = (b >> 3) & 1;
  char letter[2] = {(char)('a' + (b >> 4)), 0};
  size_t back = (b >> 3) & 3;
  switch(b & 7) {
  case 0: synth_char(s, letter, letter, 1); break;
  case 1: synth_char(s, alt ? "\\n" : " ", alt ? "\n" : " ", 1); break;
  case 2: synth_char(s, alt ? "\\\"" : "\\\\", alt ? "\"" : "\\", 1); break;
  case 3: synth_char(s, alt ? "\\u00e9" : "\xc3\xa9", "\xc3\xa9", 2); break;
  case 4: synth_char(s, alt ? "\\u20AC" : "\xe2\x82\xac", "\xe2\x82\xac", 3);
    break;
  case 5: synth_char(s, alt ? "\\ud83d\\ude00" : "\xf0\x9f\x98\x80",
                     "\xf0\x9f\x98\x80", 4); break;
  case 6: synth_char(s, alt ? "\\u0001" : "\\/", alt ? "\x01" : "/", 1);
    break;
  default:
    if(s->ndec >= back &&
       s->ndec - back > (s->ncut ? s->cut[s->ncut - 1] : 0))
      s->cut[s->ncut++] = s->ndec - back;
  }
}

/* Append the entry for decoded bytes [a, z): bytes null with the text as
 * token when it is whole characters and odd says so, else a bytes array
 * (the first byte changed when corrupt). */
static void synth_entry(const struct synth *s, struct buf *b, size_t a,
                        size_t z, int odd, int corrupt)
{
  buf_puts(b, "{\"token\":\"");
  if(odd && !corrupt && s->esc[a] != SIZE_MAX && s->esc[z] != SIZE_MAX) {
    buf_append(b, s->text.ptr + s->esc[a], s->esc[z] - s->esc[a]);
    buf_puts(b, "\",\"logprob\":-0.25,\"bytes\":null");
  }
  else {
    buf_puts(b, "t\",\"logprob\":-1.5e-7,\"bytes\":[");
    for(size_t i = a; i < z; i++) {
      unsigned v = s->dec[i];
      if(i == a && corrupt)
        v = (v + 1) & 0xFF;
      if(i > a)
        buf_puts(b, ",");
      sse_put_uint(b, v);
    }
    buf_puts(b, "]");
  }
  buf_puts(b, ",\"top_logprobs\":[{\"token\":\"t\",\"logprob\":-9,"
              "\"bytes\":null}]}");
}

/* Build an answer with logprobs into out from the input bytes. */
static void fuzz_synth(const uint8_t *in, size_t n, int opt, struct buf *out)
{
  static struct synth s;
  int refusal = (opt & FUZZ_REFUSAL) != 0;
  size_t from = 0;
  memset(&s, 0, sizeof(s));
  buf_init(&s.text);
  for(size_t i = 0; i < n && i < SYN_MAX; i++)
    synth_byte(&s, in[i]);
  if(s.ndec > (s.ncut ? s.cut[s.ncut - 1] : 0))
    s.cut[s.ncut++] = s.ndec;
  buf_puts(out, "{\"id\":\"f\",\"object\":\"chat.completion\",\"created\":1,"
                "\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{"
                "\"role\":\"assistant\",\"content\":");
  buf_puts(out, refusal ? "null,\"refusal\":\"" : "\"");
  buf_append(out, s.text.ptr, s.text.len);
  buf_puts(out, refusal ? "\"},\"logprobs\":{\"content\":null,\"refusal\":["
                        : "\",\"refusal\":null},\"logprobs\":{\"content\":[");
  for(size_t t = 0; t < s.ncut; t++) {
    if(t)
      buf_puts(out, ",");
    synth_entry(&s, out, from, s.cut[t], (int)(s.cut[t] & 1),
                t == 0 && (opt & FUZZ_CORRUPT));
    from = s.cut[t];
  }
  if(!s.ncut && (opt & FUZZ_CORRUPT))  /* spells more than "" */
    buf_puts(out, "{\"token\":\"z\",\"logprob\":0,\"bytes\":[122]}");
  buf_puts(out, refusal ? "]},\"finish_reason\":\"stop\"}]}"
                        : "],\"refusal\":null},\"finish_reason\":\"stop\"}]}");
  buf_free(&s.text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct replay_opts o;
  struct buf a, b, syn;
  struct fuzz_acc pa, pb, want;
  const char *ans;
  size_t alen;
  int accepted;
  if(size < 1)
    return 0;
  o.piece_chars = (size_t)(data[0] & 0x0F) + 1;
  o.include_usage = (data[0] & 0x80) != 0;
  buf_init(&a);
  buf_init(&b);
  buf_init(&syn);
  buf_init(&pa.pieces);
  buf_init(&pa.entries);
  buf_init(&pb.pieces);
  buf_init(&pb.entries);
  buf_init(&want.pieces);
  buf_init(&want.entries);
  ans = (const char *)data + 1;
  alen = size - 1;
  if(data[0] & FUZZ_SYNTH) {
    fuzz_synth(data + 1, size - 1, data[0], &syn);
    ans = syn.ptr;
    alen = syn.len;
  }
  accepted = fuzz_replay(ans, alen, &o, &a, &pa);
  if(data[0] & FUZZ_SYNTH)
    fuzz_assert(accepted == !(data[0] & FUZZ_CORRUPT),
                "synthesised answer refused, or corrupt one accepted");
  if(accepted) {
    fuzz_replay(ans, alen, &o, &b, &pb);
    fuzz_assert(fuzz_same_buf(&a, &b), "output not deterministic");
    fuzz_expected(ans, alen, &want);
    fuzz_assert(fuzz_same_buf(&pa.pieces, &want.pieces),
                "content pieces do not rebuild the content");
    fuzz_assert(fuzz_same_buf(&pa.entries, &want.entries),
                "logprobs entries of the chunks are not the answer's");
  }
  buf_free(&a);
  buf_free(&b);
  buf_free(&syn);
  buf_free(&pa.pieces);
  buf_free(&pa.entries);
  buf_free(&pb.pieces);
  buf_free(&pb.entries);
  buf_free(&want.pieces);
  buf_free(&want.entries);
  return 0;
}
