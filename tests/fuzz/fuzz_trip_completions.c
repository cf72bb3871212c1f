/* fuzz_trip_completions.c - libFuzzer harness: the round trip of a
 * legacy text_completion answer through its SSE encoder
 * (hooks/pure/sse_completions.c) and back through the project's own
 * accumulator of such streams (hooks/pure/assemble_completions.c,
 * asm_chunks.c).
 *
 * Input: one option byte, then the rest. Option bits: 0x0F piece size
 * - 1, 0x10 include_usage, 0x60 the feed (the stream is also given to
 * the SSE reader in pieces of 1, 3, 17 or 64 bytes), 0x80 "synthesise":
 * the rest drives a generator (gen_answer) of valid answers with several
 * choices in any index order, legacy logprobs whose tokens split
 * characters ("bytes:\\xHH" tokens) with each of their arrays an array,
 * null or absent, usage and fingerprint; without it the rest is the
 * answer itself.
 *
 * Property: the encoder refuses the answer with a reason (it then passes
 * through), or its stream is valid SSE ("data: " + one JSON object per
 * event, [DONE] last) that the assembler joins, whole and in pieces
 * alike, into a 200 answer equal to the input answer after exactly these
 * normalisations (fuzz_trip.h: compared in canonical form, so key order
 * is free; an answer with a name twice is not compared):
 * - "object" is "text_completion" as plain text;
 * - top-level members other than id, created, model, choices, usage and
 *   system_fingerprint are dropped (service_tier included: the encoder
 *   does not stream them); usage is kept only with include_usage and
 *   when it is an object;
 * - choices are in index order;
 * - a choice's logprobs, when absent, is null (every chunk carries it);
 *   a finish_reason "" is null (the SDKs' if(finish_reason)).
 * An answer without a choice is streamed (usage, [DONE]) but is no
 * answer to the assembler ("the stream carried no choice"): only its
 * stream is checked. A synthesised answer must be accepted unless the
 * generator made it one that cannot be streamed exactly (an index over
 * 127 or twice).
 *
 * Built by the Makefile's fuzz rule; -DSS_FUZZ_MAIN builds a main() that
 * runs files instead. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm_part.h"
#include "assemble.h"
#include "json.h"
#include "sse_completions.h"
#include "sse_piece.h"

#define FUZZ_NAME "fuzz_trip_completions"
#include "fuzz_util.h"
#include "fuzz_gen.h"
#include "fuzz_trip.h"

#define OPT_USAGE 0x10
#define OPT_SYNTH 0x80

/* ---- what the answer must become ---- */

/* A choice, normalised (see the file comment). */
static void want_choice(struct json_span c, struct buf *out)
{
  static const char *const names[] = {"text", "index", "logprobs",
                                      "finish_reason", NULL};
  enum { TEXT, INDEX, LOGPROBS, FINISH, N };
  struct json_span v[N];
  struct trip_obj o;
  json_pick(c, names, v);
  trip_obj_init(&o);
  trip_obj_canon(&o, "text", v[TEXT]);
  trip_obj_canon(&o, "index", v[INDEX]);
  trip_choice_end(&o, v[LOGPROBS], v[FINISH]);
  trip_obj_put(out, &o);
}

/* trip_want_fn of this shape: the answer root, normalised (the file
 * comment says how, and why one without a choice is not joined). */
static enum trip_want want_answer(struct json_span root,
                                  const struct replay_opts *o, struct buf *want)
{
  static const char *const names[] = {"id", "created", "model", "choices",
                                      "usage", "system_fingerprint", NULL};
  enum { ID, CREATED, MODEL, CHOICES, USAGE, FP, N };
  struct json_span v[N];
  struct trip_obj t;
  struct buf tmp;
  bool canon;
  buf_init(&tmp);
  canon = trip_canon(&tmp, root);
  buf_free(&tmp);
  json_pick(root, names, v);
  if(!trip_has_elements(v[CHOICES]))
    return TRIP_STREAM;
  if(!canon)
    return TRIP_JOIN;
  trip_obj_init(&t);
  trip_obj_canon(&t, "id", v[ID]);
  trip_obj_lit(&t, "object", "\"text_completion\"");
  trip_obj_canon(&t, "created", v[CREATED]);
  trip_obj_canon(&t, "model", v[MODEL]);
  trip_choices(v[CHOICES], trip_obj_add(&t, "choices"), want_choice);
  if(o->include_usage && v[USAGE].type == JSON_OBJECT)
    trip_obj_canon(&t, "usage", v[USAGE]);
  if(v[FP].type != JSON_NONE)
    trip_obj_canon(&t, "system_fingerprint", v[FP]);
  trip_obj_put(want, &t);
  return TRIP_COMPARE;
}

/* ---- the generator ---- */

/* Append ,"name": and an array of ntok elements written by put (i: the
 * element's place), or null, or nothing (kind 0-2; tokens always). */
static void gen_lp_array(struct buf *b, const char *name, unsigned kind,
                         size_t ntok, const char *const *elems)
{
  if(kind == 0)
    return;
  buf_puts(b, ",\"");
  buf_puts(b, name);
  buf_puts(b, kind == 1 ? "\":null" : "\":[");
  if(kind == 1)
    return;
  for(size_t i = 0; i < ntok; i++) {
    if(i)
      buf_puts(b, ",");
    buf_puts(b, elems[i % 3]);
  }
  buf_puts(b, "]");
}

/* Append one choice with the given index. */
static void gen_choice(struct gen *g, struct buf *b, size_t index)
{
  static const char *const finish[] = {"\"stop\"", "\"length\"", "\"\"",
                                       "null"};
  static const char *const lps[] = {"-0.5", "-1e-7", "0"};
  static const char *const tops[] = {"{\"a\":-0.5}", "null",
                                     "{\"b\": -1, \"c\": -2}"};
  static const char *const offs[] = {"0", "3", "12"};
  unsigned c = gen_byte(g), l = gen_byte(g);
  struct gen_text t;
  gen_text(g, &t);
  buf_puts(b, "{\"text\":");
  gen_put_text(b, &t);
  buf_puts(b, ",\"index\":");
  sse_put_uint(b, index);
  if((c >> 2) & 2) {
    buf_puts(b, ",\"logprobs\":{\"tokens\":[");
    for(size_t k = 0; k < t.ncut; k++) {
      if(k)
        buf_puts(b, ",");
      gen_legacy_token(b, &t, k, gen_byte(g));
    }
    buf_puts(b, "]");
    gen_lp_array(b, "token_logprobs", l % 3, t.ncut, lps);
    gen_lp_array(b, "top_logprobs", (l / 3) % 3, t.ncut, tops);
    gen_lp_array(b, "text_offset", (l / 9) % 3, t.ncut, offs);
    buf_puts(b, "}");
  }
  else if((c >> 2) & 1)
    buf_puts(b, ",\"logprobs\":null");
  buf_puts(b, ",\"finish_reason\":");
  buf_puts(b, finish[c & 3]);
  buf_puts(b, "}");
}

/* The choices: 0-4 of them (none: an answer whose stream only is
 * checked); their indices in order, reversed, with gaps, up to 127, or
 * (refused) 128 or one twice. */
static void gen_choices(struct gen *g, struct buf *b, bool *refuse)
{
  unsigned s = gen_byte(g);
  size_t n = s & 7 ? (s & 3) + 1 : 0, idx[4];
  for(size_t i = 0; i < n; i++)
    idx[i] = (s & 8) ? n - 1 - i : i;
  if(s & 0x10)
    for(size_t i = 0; i < n; i++)
      idx[i] = idx[i] * 3 + 1;
  if(n && (s >> 5) == 5)
    idx[0] = 127;
  if(n && (s >> 5) == 6) {
    idx[0] = 128;
    *refuse = true;
  }
  if(n > 1 && (s >> 5) == 7) {
    idx[n - 1] = idx[0];
    *refuse = true;
  }
  buf_puts(b, "\"choices\":[");
  for(size_t i = 0; i < n; i++) {
    if(i)
      buf_puts(b, ",");
    gen_choice(g, b, idx[i]);
  }
  buf_puts(b, "]");
}

/* A whole answer into b: the top-level members in a rotated order. */
static void gen_answer(struct gen *g, struct buf *b, bool *refuse)
{
  static const char *const ids[] = {"\"cmpl-1\"", "\"\"", "null", "5"};
  static const char *const created[] = {"1", "0", "1e3",
                                        "18446744073709551616"};
  static const char *const usage[] = {
    NULL, "null", "{\"prompt_tokens\":1,\"completion_tokens\":2,"
    "\"total_tokens\":3}", "{ \"a\" : [ 1 , {\"b\": null} ] }"
  };
  unsigned f = gen_byte(g), f2 = gen_byte(g);
  struct buf m[9];
  size_t n = 0;
  for(size_t i = 0; i < 9; i++)
    buf_init(&m[i]);
  buf_puts(&m[n], "\"id\":");
  buf_puts(&m[n++], ids[f & 3]);
  buf_puts(&m[n++], "\"object\":\"text_completion\"");
  buf_puts(&m[n], "\"created\":");
  buf_puts(&m[n++], created[f2 & 3]);
  buf_puts(&m[n++], (f & 4) ? "\"model\":\"\"" : "\"model\":\"m\"");
  if(usage[(f >> 3) & 3]) {
    buf_puts(&m[n], "\"usage\":");
    buf_puts(&m[n++], usage[(f >> 3) & 3]);
  }
  if(f & 0x20)
    buf_puts(&m[n++], (f & 0x80) ? "\"system_fingerprint\":null"
                                 : "\"system_fingerprint\":\"fp_1\"");
  if(f & 0x40)
    buf_puts(&m[n++], "\"service_tier\":\"default\",\"x\":[{}]");
  gen_choices(g, &m[n++], refuse);
  buf_puts(b, "{");
  for(size_t k = 0, r = (f2 >> 2) % n; k < n; k++) {
    if(k)
      buf_puts(b, ",");
    buf_append(b, m[(k + r) % n].ptr, m[(k + r) % n].len);
  }
  buf_puts(b, "}");
  for(size_t i = 0; i < 9; i++)
    buf_free(&m[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const size_t steps[] = {1, 3, 17, 64};
  struct buf syn;
  bool refuse = false;
  struct replay_opts o;
  const char *ans = (const char *)data + 1;
  size_t n = size ? size - 1 : 0;
  if(size < 1)
    return 0;
  o.piece_chars = (size_t)(data[0] & 0x0F) + 1;
  o.include_usage = (data[0] & OPT_USAGE) != 0;
  buf_init(&syn);
  if(data[0] & OPT_SYNTH) {
    struct gen g = {data + 1, data + size};
    gen_answer(&g, &syn, &refuse);
    ans = syn.ptr;
    n = syn.len;
  }
  bool took = trip_check(&sse_completions_encoder, &completions_assembler,
                         ans, n, &o, steps[(data[0] >> 5) & 3], want_answer);
  if(data[0] & OPT_SYNTH) {
    if(took == refuse)
      fprintf(stderr, "answer: %.*s\nrefused: %s\n", (int)n, ans,
              took ? "no" : trip_why);
    fuzz_assert(took != refuse, refuse
                ? "the encoder took an answer it cannot stream exactly"
                : "the encoder refused a valid synthesised answer");
  }
  buf_free(&syn);
  return 0;
}
