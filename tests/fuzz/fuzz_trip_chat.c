/* fuzz_trip_chat.c - libFuzzer harness: the round trip of a
 * chat.completion answer through its SSE encoder (hooks/pure/sse_chat*.c)
 * and back through the project's own accumulator of such streams
 * (hooks/pure/assemble_chat*.c, asm_chunks.c).
 *
 * Input: one option byte, then the rest. Option bits: 0x0F piece size
 * - 1, 0x10 include_usage, 0x60 the feed (the stream is also given to
 * the SSE reader in pieces of 1, 3, 17 or 64 bytes), 0x80 "synthesise":
 * the rest drives a generator (gen_chat) of valid answers with several
 * choices in any index order, logprobs whose tokens split characters,
 * tool calls, a legacy function_call, refusal, reasoning_content,
 * Azure's filter results, usage, fingerprint and tier; without it the
 * rest is the answer itself.
 *
 * Property: the encoder refuses the answer with a reason (it then passes
 * through), or its stream is valid SSE ("data: " + one JSON object per
 * event, [DONE] last) that the assembler joins, whole and in pieces
 * alike, into a 200 answer equal to the input answer after exactly these
 * normalisations (fuzz_trip.h: compared in canonical form, so key order
 * is free; an answer with a name twice is not compared):
 * - "object" is "chat.completion" as plain text (the input may escape it);
 * - top-level members other than id, created, model, choices, usage,
 *   service_tier, system_fingerprint and prompt_filter_results are
 *   dropped (the encoder does not stream them); usage is kept only with
 *   include_usage and when it is an object (no usage chunk otherwise);
 * - choices are in index order;
 * - a choice's logprobs, when absent, is null (every chunk carries it);
 *   a finish_reason "" is null (the SDK's if(finish_reason));
 * - a message's role "" is "assistant"; content and refusal, when
 *   absent, are null (the role chunk carries both); reasoning_content is
 *   kept only when a non-empty string, tool_calls only when a non-empty
 *   array, function_call only when an object (nothing is streamed for
 *   the others); annotations (always [], the only value the encoder
 *   takes) are dropped.
 * An answer without a choice is streamed (usage, [DONE]) but is no
 * answer to the assembler ("the stream carried no choice"): only its
 * stream is checked. A synthesised answer must be accepted unless the
 * generator made it one that cannot be streamed exactly (an index over
 * 127 or twice, a tool call without a name: a client refuses those).
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
#include "sse_chat.h"
#include "sse_piece.h"

#define FUZZ_NAME "fuzz_trip_chat"
#include "fuzz_util.h"
#include "fuzz_gen.h"
#include "fuzz_trip.h"

#define OPT_USAGE 0x10
#define OPT_SYNTH 0x80

/* ---- what the answer must become ---- */

/* Is v a string with at least one character? */
static bool want_text(struct json_span v)
{
  return v.type == JSON_STRING && v.len > 2;
}

/* A message, normalised (see the file comment). */
static void want_message(struct json_span m, struct buf *out)
{
  static const char *const names[] = {"role", "content", "refusal",
                                      "reasoning_content", "tool_calls",
                                      "function_call", NULL};
  enum { ROLE, CONTENT, REFUSAL, REASONING, TOOLS, FCALL, N };
  struct json_span v[N];
  struct trip_obj o;
  json_pick(m, names, v);
  trip_obj_init(&o);
  if(want_text(v[ROLE]))
    trip_obj_canon(&o, "role", v[ROLE]);
  else
    trip_obj_lit(&o, "role", "\"assistant\"");
  for(int i = CONTENT; i <= REFUSAL; i++) {
    if(v[i].type == JSON_NONE)
      trip_obj_lit(&o, names[i], "null");
    else
      trip_obj_canon(&o, names[i], v[i]);
  }
  if(want_text(v[REASONING]))
    trip_obj_canon(&o, "reasoning_content", v[REASONING]);
  if(trip_has_elements(v[TOOLS]))
    trip_obj_canon(&o, "tool_calls", v[TOOLS]);
  if(v[FCALL].type == JSON_OBJECT)
    trip_obj_canon(&o, "function_call", v[FCALL]);
  trip_obj_put(out, &o);
}

/* A choice, normalised. */
static void want_choice(struct json_span c, struct buf *out)
{
  static const char *const names[] = {"index", "message", "logprobs",
                                      "finish_reason",
                                      "content_filter_results", NULL};
  enum { INDEX, MESSAGE, LOGPROBS, FINISH, FILTER, N };
  struct json_span v[N];
  struct trip_obj o;
  json_pick(c, names, v);
  trip_obj_init(&o);
  trip_obj_canon(&o, "index", v[INDEX]);
  want_message(v[MESSAGE], trip_obj_add(&o, "message"));
  trip_choice_end(&o, v[LOGPROBS], v[FINISH]);
  if(v[FILTER].type != JSON_NONE)
    trip_obj_canon(&o, "content_filter_results", v[FILTER]);
  trip_obj_put(out, &o);
}

/* trip_want_fn of this shape: the answer root, normalised (the file
 * comment says how, and why one without a choice is not joined). */
static enum trip_want want_chat(struct json_span root,
                                const struct replay_opts *o, struct buf *want)
{
  static const char *const names[] = {"id", "created", "model", "choices",
                                      "usage", "service_tier",
                                      "system_fingerprint",
                                      "prompt_filter_results", NULL};
  enum { ID, CREATED, MODEL, CHOICES, USAGE, TIER, FP, PFR, N };
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
  trip_obj_lit(&t, "object", "\"chat.completion\"");
  trip_obj_canon(&t, "created", v[CREATED]);
  trip_obj_canon(&t, "model", v[MODEL]);
  trip_choices(v[CHOICES], trip_obj_add(&t, "choices"), want_choice);
  if(o->include_usage && v[USAGE].type == JSON_OBJECT)
    trip_obj_canon(&t, "usage", v[USAGE]);
  for(int i = TIER; i <= PFR; i++)
    if(v[i].type != JSON_NONE)
      trip_obj_canon(&t, names[i], v[i]);
  trip_obj_put(want, &t);
  return TRIP_COMPARE;
}

/* ---- the generator ---- */

/* What the generator made. */
struct gen_chat {
  struct buf b;
  bool refuse;   /* an answer the encoder must refuse */
};

/* Append a text member: absent, null, "" or a generated text (how: kind,
 * 0-3); the text in *t (empty unless generated). Returns what was put:
 * 0 absent, 1 null, 2 a string. */
static int gen_member_text(struct gen *g, struct buf *b, const char *name,
                           unsigned kind, struct gen_text *t)
{
  memset(t, 0, sizeof(*t));
  if(kind == 0)
    return 0;
  buf_puts(b, ",\"");
  buf_puts(b, name);
  buf_puts(b, "\":");
  if(kind == 1) {
    buf_puts(b, "null");
    return 1;
  }
  if(kind == 3)
    gen_text(g, t);
  gen_put_text(b, t);
  return 2;
}

/* Append one logprobs array member for a text that is a string (is_str)
 * with tokens t, or null: absent, null, or the entries ([] for null). */
static void gen_lp_member(struct gen *g, struct buf *b, const char *name,
                          bool is_str, const struct gen_text *t, bool *comma)
{
  unsigned k = gen_pick(g, 3);
  if(k == 0)
    return;
  buf_puts(b, *comma ? ",\"" : "\"");
  *comma = true;
  buf_puts(b, name);
  buf_puts(b, "\":");
  if(k == 1) {
    buf_puts(b, "null");
    return;
  }
  buf_puts(b, "[");
  for(size_t i = 0; is_str && i < t->ncut; i++) {
    if(i)
      buf_puts(b, ",");
    gen_chat_entry(b, t, i, gen_byte(g));
  }
  buf_puts(b, "]");
}

/* Append the tool calls: null, [] or 1-3 calls with generated
 * arguments (kind 0-3; kind 0 is absent). */
static void gen_tools(struct gen *g, struct buf *b, unsigned kind,
                      bool nameless, bool *refuse)
{
  struct gen_text t;
  if(kind == 0)
    return;
  buf_puts(b, kind == 1 ? ",\"tool_calls\":null" : ",\"tool_calls\":[");
  if(kind == 1)
    return;
  size_t n = kind == 2 ? 0 : gen_pick(g, 3) + 1;
  for(size_t i = 0; i < n; i++) {
    unsigned s = gen_byte(g);
    gen_text(g, &t);
    buf_puts(b, i ? ",{\"id\":" : "{\"id\":");
    buf_puts(b, (s & 1) ? "\"\"" : "\"call_1\"");
    buf_puts(b, ",\"type\":\"function\",\"function\":{\"name\":");
    buf_puts(b, nameless && i == n - 1 ? "\"\"" : "\"get_weather\"");
    buf_puts(b, ",\"arguments\":");
    gen_put_text(b, &t);
    buf_puts(b, "}}");
    if(nameless && i == n - 1)
      *refuse = true;
  }
  buf_puts(b, "]");
}

/* Append one choice with the given index. */
static void gen_choice(struct gen *g, struct buf *b, size_t index,
                       bool *refuse)
{
  static const char *const finish[] = {"\"stop\"", "\"length\"", "\"\"",
                                       "null"};
  unsigned c = gen_byte(g), m = gen_byte(g), m2 = gen_byte(g);
  struct gen_text content, refusal, reason, fn;
  int has_c, has_r;
  buf_puts(b, "{\"index\":");
  sse_put_uint(b, index);
  buf_puts(b, ",\"message\":{\"role\":");
  buf_puts(b, (m2 & 0x20) ? "\"\"" : "\"assistant\"");
  has_c = gen_member_text(g, b, "content", m & 3, &content);
  has_r = gen_member_text(g, b, "refusal", (m >> 2) & 3, &refusal);
  gen_member_text(g, b, "reasoning_content", (m >> 4) & 3, &reason);
  gen_tools(g, b, m2 & 3, (m2 & 0x40) && (m2 & 3) == 3, refuse);
  if((m2 >> 2) & 2) {
    gen_text(g, &fn);
    buf_puts(b, ",\"function_call\":{\"name\":\"f\",\"arguments\":");
    gen_put_text(b, &fn);
    buf_puts(b, "}");
  }
  else if((m2 >> 2) & 1)
    buf_puts(b, ",\"function_call\":null");
  if(m2 & 0x10)
    buf_puts(b, ",\"annotations\":[]");
  buf_puts(b, "}");
  if((c >> 4) & 2) {
    bool comma = false;
    buf_puts(b, ",\"logprobs\":{");
    gen_lp_member(g, b, "content", has_c == 2, &content, &comma);
    gen_lp_member(g, b, "refusal", has_r == 2, &refusal, &comma);
    buf_puts(b, "}");
  }
  else if((c >> 4) & 1)
    buf_puts(b, ",\"logprobs\":null");
  buf_puts(b, ",\"finish_reason\":");
  buf_puts(b, finish[c & 3]);
  if(c & 4)
    buf_puts(b, (c & 8) ? ",\"content_filter_results\":{}"
                        : ",\"content_filter_results\":{\"hate\":"
                          "{\"filtered\":false,\"severity\":\"safe\"}}");
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
    gen_choice(g, b, idx[i], refuse);
  }
  buf_puts(b, "]");
}

/* A whole answer: the top-level members in a rotated order. */
static void gen_chat(struct gen *g, struct gen_chat *out)
{
  static const char *const created[] = {"1", "0", "1e3",
                                        "18446744073709551616"};
  static const char *const usage[] = {
    NULL, "null", "{\"prompt_tokens\":1,\"completion_tokens\":2,"
    "\"total_tokens\":3}", "{ \"a\" : [ 1 , {\"b\": null} ] }"
  };
  unsigned f = gen_byte(g), f2 = gen_byte(g);
  struct buf m[10];
  size_t n = 0;
  for(size_t i = 0; i < 10; i++)
    buf_init(&m[i]);
  buf_puts(&m[n++], (f & 0x80) ? "\"id\":\"\"" : "\"id\":\"chatcmpl-1\"");
  buf_puts(&m[n++], "\"object\":\"chat.completion\"");
  buf_puts(&m[n], "\"created\":");
  buf_puts(&m[n++], created[f2 & 3]);
  buf_puts(&m[n++], "\"model\":\"m\"");
  if(usage[(f >> 3) & 3]) {
    buf_puts(&m[n], "\"usage\":");
    buf_puts(&m[n++], usage[(f >> 3) & 3]);
  }
  if(f & 4)
    buf_puts(&m[n++], "\"service_tier\":\"default\"");
  if(f & 1)
    buf_puts(&m[n++], (f & 2) ? "\"system_fingerprint\":null"
                              : "\"system_fingerprint\":\"fp_1\"");
  if(f & 0x20)
    buf_puts(&m[n++], "\"prompt_filter_results\":[{\"prompt_index\":0,"
                      "\"content_filter_results\":{}}]");
  if(f & 0x40)
    buf_puts(&m[n++], "\"x_extra\":{\"k\":[1,2]}");
  gen_choices(g, &m[n++], &out->refuse);
  buf_puts(&out->b, "{");
  for(size_t k = 0, r = (f2 >> 2) % n; k < n; k++) {
    if(k)
      buf_puts(&out->b, ",");
    buf_append(&out->b, m[(k + r) % n].ptr, m[(k + r) % n].len);
  }
  buf_puts(&out->b, "}");
  for(size_t i = 0; i < 10; i++)
    buf_free(&m[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const size_t steps[] = {1, 3, 17, 64};
  struct gen_chat syn = {{NULL, 0, 0, false}, false};
  struct replay_opts o;
  const char *ans = (const char *)data + 1;
  size_t n = size ? size - 1 : 0;
  if(size < 1)
    return 0;
  o.piece_chars = (size_t)(data[0] & 0x0F) + 1;
  o.include_usage = (data[0] & OPT_USAGE) != 0;
  if(data[0] & OPT_SYNTH) {
    struct gen g = {data + 1, data + size};
    buf_init(&syn.b);
    gen_chat(&g, &syn);
    ans = syn.b.ptr;
    n = syn.b.len;
  }
  bool took = trip_check(&sse_chat_encoder, &chat_assembler, ans, n, &o,
                         steps[(data[0] >> 5) & 3], want_chat);
  if(data[0] & OPT_SYNTH) {
    if(took == syn.refuse)
      fprintf(stderr, "answer: %.*s\nrefused: %s\n", (int)n, ans,
              took ? "no" : trip_why);
    fuzz_assert(took != syn.refuse, syn.refuse
                ? "the encoder took an answer it cannot stream exactly"
                : "the encoder refused a valid synthesised answer");
  }
  buf_free(&syn.b);
  return 0;
}
