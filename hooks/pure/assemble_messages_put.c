/* assemble_messages_put.c - write the message an Anthropic Messages
 * stream built (see assemble_messages.c for the rules): message_start's
 * members in its order with content, usage and the members message_delta
 * set filled in, then the members message_delta added. Keys and values
 * are the events' own bytes; the separators are compact. */
#include "assemble_messages_int.h"

#include <string.h>

/* What the stream does to a member of a block. */
enum amp_role {
  AR_NONE,
  AR_STR,     /* a string the deltas append to */
  AR_CITES,   /* an array the deltas append to */
  AR_LAST,    /* a value the last delta replaces */
  AR_INPUT    /* a tool input the deltas' JSON text replaces */
};

/* The members each kind of block has streamed, by name. */
static const struct {
  const char *name;
  enum amp_role role;
} amp_streamed[][2] = {
  [AK_TEXT] = {{"text", AR_STR}, {"citations", AR_CITES}},
  [AK_THINKING] = {{"thinking", AR_STR}, {"signature", AR_LAST}},
  [AK_TOOL] = {{"input", AR_INPUT}, {NULL, AR_NONE}},
  [AK_COMPACTION] = {{"content", AR_STR}, {"encrypted_content", AR_LAST}},
  [AK_WHOLE] = {{NULL, AR_NONE}, {NULL, AR_NONE}},
};

/* Append a key (raw bytes, quotes included) and a colon, with a comma
 * before all but the first member. */
static void amp_key(struct buf *b, const char *k, size_t n, bool *first)
{
  if(!*first)
    buf_append(b, ",", 1);
  *first = false;
  buf_append(b, k, n);
  buf_append(b, ":", 1);
}

/* Has the stream changed (or made) a member of this role in block b? */
static bool amp_changed(const struct am_block *b, enum amp_role r)
{
  switch(r) {
  case AR_STR:
    return b->grown;
  case AR_CITES:
    return b->cites.len > 0;
  case AR_LAST:
    return b->has_last;
  case AR_INPUT:
    return b->text.len > 1;
  default:
    return false;
  }
}

/* Append the value of a member of role r of block b; v is the start's
 * value (JSON_NONE when the start has no such member). */
static void amp_value(struct buf *out, const struct am_block *b,
                      enum amp_role r, struct json_span v)
{
  struct json_iter it;
  struct json_span e;
  bool first = true;
  if(!amp_changed(b, r)) {
    buf_append(out, v.ptr, v.len);
    return;
  }
  switch(r) {
  case AR_STR:
    buf_append(out, "\"", 1);
    if(v.type == JSON_STRING)
      buf_append(out, v.ptr + 1, v.len - 2);
    buf_append(out, b->text.ptr, b->text.len);
    buf_append(out, "\"", 1);
    break;
  case AR_CITES:
    buf_append(out, "[", 1);
    json_iter_init(&it, v);
    while(v.type == JSON_ARRAY && json_next_element(&it, &e)) {
      if(!first)
        buf_append(out, ",", 1);
      first = false;
      buf_append(out, e.ptr, e.len);
    }
    if(!first)
      buf_append(out, ",", 1);
    buf_append(out, b->cites.ptr, b->cites.len);
    buf_append(out, "]", 1);
    break;
  case AR_LAST:
    buf_append(out, b->last.ptr, b->last.len);
    break;
  default: /* AR_INPUT */
    buf_append(out, b->input.ptr, b->input.len);
    break;
  }
}

/* Append one content block: as it came, or with its streamed members. */
static void amp_block(struct buf *out, const struct am_block *b)
{
  struct json_iter it;
  struct json_span obj, k, v;
  const struct json_span none = {NULL, 0, JSON_NONE};
  bool first = true, seen[2] = {false, false};
  if(b->kind == AK_WHOLE || !json_parse(b->start.ptr, b->start.len, &obj)) {
    buf_append(out, b->start.ptr, b->start.len);
    return;
  }
  buf_append(out, "{", 1);
  json_iter_init(&it, obj);
  while(json_next_member(&it, &k, &v)) {
    enum amp_role r = AR_NONE;
    for(int i = 0; i < 2; i++) {
      const char *name = amp_streamed[b->kind][i].name;
      if(name && json_key_is(k, name)) {
        r = amp_streamed[b->kind][i].role;
        seen[i] = true;
      }
    }
    amp_key(out, k.ptr, k.len, &first);
    if(r == AR_NONE)
      buf_append(out, v.ptr, v.len);
    else
      amp_value(out, b, r, v);
  }
  for(int i = 0; i < 2; i++) {  /* streamed members the start lacked */
    const char *name = amp_streamed[b->kind][i].name;
    enum amp_role r = amp_streamed[b->kind][i].role;
    if(!name || seen[i] || !amp_changed(b, r))
      continue;
    if(!first)
      buf_append(out, ",", 1);
    first = false;
    buf_append(out, "\"", 1);
    buf_puts(out, name);
    buf_append(out, "\":", 2);
    amp_value(out, b, r, none);
  }
  buf_append(out, "}", 1);
}

/* Append the content array: every block in index order. */
static void amp_blocks(struct buf *out, const struct am_state *s)
{
  buf_append(out, "[", 1);
  for(size_t i = 0; i < s->nblocks; i++) {
    if(i)
      buf_append(out, ",", 1);
    amp_block(out, &s->blocks[i]);
  }
  buf_append(out, "]", 1);
}

/* Append the members of list not written yet (those obj lacked). */
static void amp_rest(struct buf *out, const struct am_members *list,
                     bool *first)
{
  for(size_t i = 0; i < list->n; i++) {
    const struct am_member *m = &list->v[i];
    if(m->used)
      continue;
    amp_key(out, m->kv.ptr, m->klen, first);
    buf_append(out, m->kv.ptr + m->klen, m->kv.len - m->klen);
  }
}

/* Append object obj with the members of list replacing its own, and
 * those it lacks after them. content (at the top) is the blocks. */
static void amp_object(struct buf *out, struct am_state *s,
                       struct json_span obj, struct am_members *list,
                       bool top)
{
  struct json_iter it;
  struct json_span k, v;
  bool first = true;
  for(size_t i = 0; i < list->n; i++)
    list->v[i].used = false;
  buf_append(out, "{", 1);
  json_iter_init(&it, obj);
  while(json_next_member(&it, &k, &v)) {
    struct am_member *m = am_members_find(list, k);
    amp_key(out, k.ptr, k.len, &first);
    if(top && json_key_is(k, "content"))
      amp_blocks(out, s);
    else if(top && json_key_is(k, "usage") && v.type == JSON_OBJECT)
      amp_object(out, s, v, &s->usage, false);
    else if(m) {
      buf_append(out, m->kv.ptr + m->klen, m->kv.len - m->klen);
      m->used = true;
    }
    else
      buf_append(out, v.ptr, v.len);
  }
  amp_rest(out, list, &first);
  buf_append(out, "}", 1);
}

bool am_put_answer(struct am_state *s, struct buf *out)
{
  struct json_span msg;
  if(!json_parse(s->start.ptr, s->start.len, &msg))
    return false;  /* cannot be: message_start's message was parsed */
  amp_object(out, s, msg, &s->top, true);
  return !out->oom;
}
