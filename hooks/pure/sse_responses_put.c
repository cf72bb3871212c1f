/* sse_responses_put.c - the event writers of the Responses encoder (see
 * sse_responses.c for the replay rules): event framing, the in-progress
 * forms of the response, its items and their parts, and the events of
 * one streamed text (part added, deltas, annotations, done, part done). */
#include "sse_responses_int.h"

#include <string.h>

#include "sse_piece.h"

const struct resp_text_kind resp_tk_output_text = {
  "response.content_part.added", "response.output_text.delta",
  "response.output_text.done", "response.content_part.done",
  "content_index", "text"
};
const struct resp_text_kind resp_tk_refusal = {
  "response.content_part.added", "response.refusal.delta",
  "response.refusal.done", "response.content_part.done",
  "content_index", "refusal"
};
const struct resp_text_kind resp_tk_summary = {
  "response.reasoning_summary_part.added",
  "response.reasoning_summary_text.delta",
  "response.reasoning_summary_text.done",
  "response.reasoning_summary_part.done", "summary_index", "text"
};
const struct resp_text_kind resp_tk_reasoning_text = {
  "response.content_part.added", "response.reasoning_text.delta",
  "response.reasoning_text.done", "response.content_part.done",
  "content_index", "text"
};
const struct resp_text_kind resp_tk_arguments = {
  NULL, "response.function_call_arguments.delta",
  "response.function_call_arguments.done", NULL, NULL, "arguments"
};
const struct resp_text_kind resp_tk_input = {
  NULL, "response.custom_tool_call_input.delta",
  "response.custom_tool_call_input.done", NULL, NULL, "input"
};

/* The members replaced in an in-progress form (names, NULL-terminated)
 * and each one's new value at the same index, NULL to leave it out. */
struct resp_subst {
  const char *const *names;
  const char *const *values;
};

static const char *const resp_start_names[] = {
  "status", "output", "usage", "error", "incomplete_details",
  "completed_at", "output_text", NULL
};
static const char *const resp_start_values[] = {
  "\"in_progress\"", "[]", "null", "null", "null", "null", "\"\""
};
static const char *const resp_item_names[] = {
  "status", "content", "summary", "arguments", "input", NULL
};
static const char *const resp_item_values[] = {
  "\"in_progress\"", "[]", "[]", "\"\"", "\"\""
};
static const char *const resp_search_names[] = {"status", "action", NULL};
static const char *const resp_search_values[] = {"\"in_progress\"", NULL};
static const char *const resp_part_names[] = {
  "text", "refusal", "annotations", "logprobs", NULL
};
static const char *const resp_part_values[] = {"\"\"", "\"\"", "[]", "[]"};

static const struct resp_subst resp_start_subst = {
  resp_start_names, resp_start_values
};
static const struct resp_subst resp_item_subst = {
  resp_item_names, resp_item_values
};
static const struct resp_subst resp_search_subst = {
  resp_search_names, resp_search_values
};
static const struct resp_subst resp_part_subst = {
  resp_part_names, resp_part_values
};

void resp_event_open(struct resp_cursor *c, struct buf *b, const char *type)
{
  buf_puts(b, "event: ");
  buf_puts(b, type);
  buf_puts(b, "\ndata: {\"type\":\"");
  buf_puts(b, type);
  buf_puts(b, "\",\"sequence_number\":");
  sse_put_uint(b, c->seq++);
}

void resp_event_close(struct buf *b)
{
  buf_puts(b, "}\n\n");
}

void resp_put_item_ref(const struct resp_cursor *c, struct buf *b)
{
  buf_puts(b, ",\"item_id\":");
  sse_put_value(b, c->item.id);
  buf_puts(b, ",\"output_index\":");
  sse_put_uint(b, c->item_no);
}

/* Append object obj with the members named in s replaced (a member whose
 * value is null keeps it) or left out; the others are copied, in order.
 * Keys are matched as bytes (json_name_in), the first name that fits. */
static void resp_put_subst(struct buf *b, struct json_span obj,
                           const struct resp_subst *s)
{
  struct json_iter it;
  struct json_span key, val;
  bool first = true;
  buf_puts(b, "{");
  json_iter_init(&it, obj);
  while(json_next_member(&it, &key, &val)) {
    int i = json_name_in(key, s->names);
    if(i >= 0 && !s->values[i])
      continue;
    if(!first)
      buf_puts(b, ",");
    first = false;
    buf_append(b, key.ptr, key.len);
    buf_puts(b, ":");
    if(i >= 0 && val.type != JSON_NULL)
      buf_puts(b, s->values[i]);
    else
      sse_put_value(b, val);
  }
  buf_puts(b, "}");
}

void resp_put_start(struct buf *b, struct json_span root)
{
  resp_put_subst(b, root, &resp_start_subst);
}

void resp_put_item_start(struct buf *b, const struct resp_item *it)
{
  resp_put_subst(b, it->obj, it->kind == RK_WEB_SEARCH ? &resp_search_subst
                                                       : &resp_item_subst);
}

void resp_put_part_start(struct buf *b, struct json_span part)
{
  resp_put_subst(b, part, &resp_part_subst);
}

/* Append the current part's reference: item reference and index. */
static void resp_put_part_ref(const struct resp_cursor *c, struct buf *b)
{
  resp_put_item_ref(c, b);
  if(c->part.tk->index) {
    buf_puts(b, ",\"");
    buf_puts(b, c->part.tk->index);
    buf_puts(b, "\":");
    sse_put_uint(b, c->part_no);
  }
}

/* Open an event of the current part: type, item reference and index. */
static void resp_part_open(struct resp_cursor *c, struct buf *b,
                           const char *type)
{
  resp_event_open(c, b, type);
  resp_put_part_ref(c, b);
}

/* Does the current part carry logprob entries (then deltas follow
 * them)? */
static bool resp_has_lp(const struct resp_part *pt)
{
  struct json_iter it;
  struct json_span v;
  json_iter_init(&it, pt->logprobs);
  return pt->logprobs.type == JSON_ARRAY && json_next_element(&it, &v);
}

/* Build the current part's delta event start once (see struct
 * sse_responses): false when memory ran out. */
static bool resp_delta_head(struct sse_responses *e)
{
  struct resp_cursor *c = &e->c;
  struct buf *h = &e->delta_head;
  if(e->head_for == c->part_serial)
    return true;
  buf_reset(h);
  buf_puts(h, "event: ");
  buf_puts(h, c->part.tk->delta);
  buf_puts(h, "\ndata: {\"type\":\"");
  buf_puts(h, c->part.tk->delta);
  buf_puts(h, "\",\"sequence_number\":");
  e->head_split = h->len;
  resp_put_part_ref(c, h);
  buf_puts(h, ",\"delta\":\"");
  e->head_lp = resp_has_lp(&c->part);
  e->head_for = h->oom ? 0 : c->part_serial;
  return !h->oom;
}

/* Open a delta event of the current part up to its delta text's opening
 * quote, from the start built once per part (the deltas are most of the
 * events). */
static void resp_delta_open(struct sse_responses *e, struct buf *b)
{
  struct resp_cursor *c = &e->c;
  struct buf *h = &e->delta_head;
  if(!resp_delta_head(e)) {  /* no memory for it: directly */
    resp_part_open(c, b, c->part.tk->delta);
    buf_puts(b, ",\"delta\":\"");
    return;
  }
  buf_append(b, h->ptr, e->head_split);
  sse_put_uint(b, c->seq++);
  buf_append(b, h->ptr + e->head_split, h->len - e->head_split);
}

/* Append the next delta of the current text: a word-sized piece, or the
 * text of the next logprob entries with those entries. */
static void resp_put_delta(struct sse_responses *e, struct buf *b)
{
  struct resp_cursor *c = &e->c;
  const char *from = c->pos;
  struct json_iter first = {NULL, NULL};
  size_t count = 0;
  bool lp = resp_delta_head(e) ? e->head_lp : resp_has_lp(&c->part);
  if(lp)
    resp_lp_cut(c, &first, &count);
  else
    c->pos = piece_next_known(c->pos, c->end, e->piece_chars, &e->plain);
  resp_delta_open(e, b);
  buf_append(b, from, (size_t)(c->pos - from));
  if(c->part.logprobs.type != JSON_ARRAY) {
    buf_puts(b, "\"}\n\n");
    return;
  }
  if(!count) {  /* an empty array: what resp_lp_put writes for none */
    buf_puts(b, "\",\"logprobs\":[]}\n\n");
    return;
  }
  buf_puts(b, "\",\"logprobs\":");
  resp_lp_put(b, first, count);
  resp_event_close(b);
}

/* Append the done event of the current text: the whole text (and for
 * output_text its logprobs, for a function call its name). */
static void resp_put_done(struct resp_cursor *c, struct buf *b)
{
  const struct resp_part *pt = &c->part;
  resp_part_open(c, b, pt->tk->done);
  buf_puts(b, ",\"");
  buf_puts(b, pt->tk->member);
  buf_puts(b, "\":");
  sse_put_value(b, pt->text);
  if(pt->logprobs.type == JSON_ARRAY) {
    struct json_iter all;
    size_t n = 0;
    struct json_span v;
    json_iter_init(&all, pt->logprobs);
    for(struct json_iter k = all; json_next_element(&k, &v);)
      n++;
    buf_puts(b, ",\"logprobs\":");
    resp_lp_put(b, all, n);
  }
  if(pt->tk == &resp_tk_arguments) {
    buf_puts(b, ",\"name\":");
    sse_put_value(b, c->item.name);
  }
  resp_event_close(b);
}

bool resp_put_part_event(struct sse_responses *e, struct buf *b)
{
  struct resp_cursor *c = &e->c;
  const struct resp_text_kind *tk = c->part.tk;
  struct json_span a;
  switch(c->st) {
  case ST_PART_ADDED:
  case ST_PART_DONE:
    if(!(c->st == ST_PART_ADDED ? tk->added : tk->part_done))
      return false;
    resp_part_open(c, b, c->st == ST_PART_ADDED ? tk->added : tk->part_done);
    buf_puts(b, ",\"part\":");
    if(c->st == ST_PART_ADDED)
      resp_put_part_start(b, c->part.obj);
    else
      sse_put_value(b, c->part.obj);
    resp_event_close(b);
    return true;
  case ST_DELTA:
    if(c->pos >= c->end)
      return false;
    resp_put_delta(e, b);
    return true;
  case ST_ANNOT:
    if(c->part.annots.type != JSON_ARRAY ||
       !json_next_element(&c->annot_it, &a))
      return false;
    resp_part_open(c, b, "response.output_text.annotation.added");
    buf_puts(b, ",\"annotation_index\":");
    sse_put_uint(b, c->annot_no++);
    buf_puts(b, ",\"annotation\":");
    sse_put_value(b, a);
    resp_event_close(b);
    return true;
  default: /* ST_TEXT_DONE */
    resp_put_done(c, b);
    return true;
  }
}

bool resp_plain_delta_next(const struct sse_responses *e)
{
  if(e->c.st != ST_DELTA || e->c.pos >= e->c.end)
    return false;
  return e->head_for == e->c.part_serial ? !e->head_lp
                                         : !resp_has_lp(&e->c.part);
}
