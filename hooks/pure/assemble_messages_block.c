/* assemble_messages_block.c - the content block events of the Anthropic
 * Messages assembler (see assemble_messages.c for the rules):
 * content_block_start, content_block_delta and content_block_stop, and the
 * check of a tool block's joined input. */
#include "assemble_messages_int.h"

#include <stdlib.h>
#include <string.h>

#define T(t) JSON_T(t)

/* The blocks whose input input_json_delta streams (mcp_tool_use: beta,
 * as BetaMessageStream tracks it). */
static const char *const am_tool_types[] = {
  "tool_use", "server_tool_use", "mcp_tool_use", NULL
};

/* The "index" of data: a plain non-negative integer below 10^9. */
static bool am_index(struct json_span data, size_t *out)
{
  struct json_span v;
  size_t n = 0;
  if(!json_get(data, "index", &v) || v.type != JSON_NUMBER || v.len > 9 ||
     (v.len > 1 && v.ptr[0] == '0'))
    return false;
  for(size_t i = 0; i < v.len; i++) {
    if(v.ptr[i] < '0' || v.ptr[i] > '9')
      return false;
    n = n * 10 + (size_t)(v.ptr[i] - '0');
  }
  *out = n;
  return true;
}

/* The kind of content block blk, checking the types of the members its
 * deltas extend; false when they are wrong or blk has no string type. */
static bool am_block_kind(struct json_span blk, enum am_kind *kind)
{
  struct json_span t, v, w;
  const unsigned str = T(JSON_STRING) | T(JSON_NONE);
  if(!json_get_typed(blk, "type", T(JSON_STRING), &t))
    return false;
  *kind = AK_WHOLE;
  if(json_key_is(t, "text")) {
    *kind = AK_TEXT;
    return json_get_typed(blk, "text", str, &v) &&
           json_get_typed(blk, "citations",
                          T(JSON_ARRAY) | T(JSON_NULL) | T(JSON_NONE), &w);
  }
  if(json_key_is(t, "thinking")) {
    *kind = AK_THINKING;
    return json_get_typed(blk, "thinking", str, &v) &&
           json_get_typed(blk, "signature", str, &w);
  }
  if(json_key_is(t, "compaction")) {
    *kind = AK_COMPACTION;
    return json_get_typed(blk, "content", str | T(JSON_NULL), &v);
  }
  if(am_in(t, am_tool_types))
    *kind = AK_TOOL;
  return true;
}

/* content_block_start: the next block, kept as it came. */
enum asm_result am_on_block_start(struct am_state *s, struct json_span data,
                                  const char **why)
{
  struct json_span blk;
  struct am_block *b;
  enum am_kind kind;
  size_t index;
  if(!am_index(data, &index) || index != s->nblocks)
    return am_bad(s, why, "content_block_start's index is not the next");
  if(!json_get_typed(data, "content_block", T(JSON_OBJECT), &blk) ||
     !am_block_kind(blk, &kind))
    return am_bad(s, why, "content_block_start's block is mistyped");
  if(s->nblocks == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 4;
    b = realloc(s->blocks, cap * sizeof(*b));
    if(!b)
      return am_oom(s);
    s->blocks = b;
    s->cap = cap;
  }
  b = &s->blocks[s->nblocks++];
  memset(b, 0, sizeof(*b));
  buf_init(&b->start);
  buf_init(&b->text);
  buf_init(&b->cites);
  buf_init(&b->last);
  buf_init(&b->input);
  b->kind = kind;
  buf_append(&b->start, blk.ptr, blk.len);
  if(kind == AK_TOOL)
    buf_append(&b->text, "\"", 1);
  return b->start.oom || b->text.oom ? am_oom(s) : ASM_MORE;
}

/* Append the raw text of string member m of delta d to the block's text. */
static enum asm_result am_append(struct am_state *s, struct am_block *b,
                                 struct json_span d, const char *m,
                                 const char **why)
{
  struct json_span v;
  if(!json_get_typed(d, m, T(JSON_STRING), &v))
    return am_bad(s, why, "a delta's text member is not a string");
  b->grown = true;
  b->input_ok = false;
  return buf_append(&b->text, v.ptr + 1, v.len - 2) ? ASM_MORE : am_oom(s);
}

/* Keep value v as the block's last signature / encrypted_content. */
static enum asm_result am_set_last(struct am_state *s, struct am_block *b,
                                   struct json_span v)
{
  buf_reset(&b->last);
  b->has_last = true;
  return buf_append(&b->last, v.ptr, v.len) ? ASM_MORE : am_oom(s);
}

/* The delta handlers (the am_deltas table below): each applies one delta
 * type to a block of the kind it fits. */
static enum asm_result am_d_text(struct am_state *s, struct am_block *b,
                                 struct json_span d, const char **why)
{
  return am_append(s, b, d, "text", why);
}

static enum asm_result am_d_thinking(struct am_state *s, struct am_block *b,
                                     struct json_span d, const char **why)
{
  return am_append(s, b, d, "thinking", why);
}

static enum asm_result am_d_input(struct am_state *s, struct am_block *b,
                                  struct json_span d, const char **why)
{
  return am_append(s, b, d, "partial_json", why);
}

static enum asm_result am_d_citation(struct am_state *s, struct am_block *b,
                                     struct json_span d, const char **why)
{
  struct json_span c;
  if(!json_get(d, "citation", &c))
    return am_bad(s, why, "a citations_delta without a citation");
  if(b->cites.len)
    buf_append(&b->cites, ",", 1);
  return buf_append(&b->cites, c.ptr, c.len) ? ASM_MORE : am_oom(s);
}

static enum asm_result am_d_signature(struct am_state *s, struct am_block *b,
                                      struct json_span d, const char **why)
{
  struct json_span v;
  if(!json_get_typed(d, "signature", T(JSON_STRING), &v))
    return am_bad(s, why, "a signature_delta's signature is not a string");
  return am_set_last(s, b, v);
}

static enum asm_result am_d_compaction(struct am_state *s, struct am_block *b,
                                       struct json_span d, const char **why)
{
  struct json_span v;
  if(!json_get_typed(d, "content",
                     T(JSON_STRING) | T(JSON_NULL) | T(JSON_NONE), &v))
    return am_bad(s, why, "a compaction_delta's content is not a string");
  if(v.type == JSON_STRING && am_append(s, b, d, "content", why) != ASM_MORE)
    return s->phase == AP_OOM ? ASM_OOM : ASM_BAD;
  if(json_get(d, "encrypted_content", &v))
    return am_set_last(s, b, v);
  return ASM_MORE;
}

/* The delta types, the block kind each applies to, and what it does. */
static const struct {
  const char *type;
  enum am_kind kind;
  enum asm_result (*fn)(struct am_state *, struct am_block *,
                        struct json_span, const char **);
} am_deltas[] = {
  {"text_delta", AK_TEXT, am_d_text},
  {"citations_delta", AK_TEXT, am_d_citation},
  {"thinking_delta", AK_THINKING, am_d_thinking},
  {"signature_delta", AK_THINKING, am_d_signature},
  {"input_json_delta", AK_TOOL, am_d_input},
  {"compaction_delta", AK_COMPACTION, am_d_compaction},
};

/* content_block_delta: the delta applied to its block, when it fits. */
enum asm_result am_on_block_delta(struct am_state *s, struct json_span data,
                                  const char **why)
{
  struct json_span d, t;
  size_t index;
  if(!am_index(data, &index) || index >= s->nblocks)
    return am_bad(s, why, "a content_block_delta for no started block");
  if(!json_get_typed(data, "delta", T(JSON_OBJECT), &d) ||
     !json_get_typed(d, "type", T(JSON_STRING), &t))
    return am_bad(s, why, "a content_block_delta without a typed delta");
  struct am_block *b = &s->blocks[index];
  for(size_t i = 0; i < sizeof(am_deltas) / sizeof(am_deltas[0]); i++) {
    if(!json_key_is(t, am_deltas[i].type))
      continue;
    if(b->kind != am_deltas[i].kind)
      return am_bad(s, why, "a delta its block's type does not take");
    return am_deltas[i].fn(s, b, d, why);
  }
  return am_bad(s, why, "an unknown delta type");
}

enum asm_result am_input_check(struct am_state *s, struct am_block *b,
                               const char **why)
{
  struct json_span v;
  size_t n = 0;
  bool ok;
  buf_reset(&b->input);
  if(b->text.len > 1) {
    if(!buf_append(&b->text, "\"", 1) ||
       !buf_append(&b->input, b->text.ptr, b->text.len) ||
       !buf_cstr(&b->input))
      return am_oom(s);
    struct json_span raw = {b->text.ptr, b->text.len, JSON_STRING};
    ok = json_string_decode(raw, b->input.ptr, b->input.len + 1, &n);
    b->text.len--;
    b->input.len = n;
    if(!ok || !json_parse(b->input.ptr, b->input.len, &v))
      return am_bad(s, why, "a tool input's pieces do not join into JSON");
  }
  b->input_ok = true;
  return ASM_MORE;
}

/* content_block_stop: a tool block's input is checked. */
enum asm_result am_on_block_stop(struct am_state *s, struct json_span data,
                                 const char **why)
{
  size_t index;
  if(!am_index(data, &index) || index >= s->nblocks)
    return am_bad(s, why, "a content_block_stop for no started block");
  struct am_block *b = &s->blocks[index];
  if(b->kind == AK_TOOL && !b->input_ok)
    return am_input_check(s, b, why);
  return ASM_MORE;
}

void am_block_free(struct am_block *b)
{
  buf_free(&b->start);
  buf_free(&b->text);
  buf_free(&b->cites);
  buf_free(&b->last);
  buf_free(&b->input);
}
