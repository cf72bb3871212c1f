/* sse_completions.c - the legacy Completions replay (see
 * sse_completions.h). Members other than text/index/logprobs(null)/
 * finish_reason in a choice are refused (the answer then passes through
 * unchanged); unknown top-level members are not streamed, as for chat. */
#include "sse_completions.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sse_piece.h"

enum text_stage { TS_CHOICE, TS_TEXT, TS_USAGE, TS_DONE, TS_END };

/* Where the replay stands; copied whole so a failed event can be undone. */
struct text_cursor {
  enum text_stage st;
  struct json_iter it;             /* over "choices" */
  struct json_span index, finish;  /* the current choice */
  const char *pos, *end;           /* its text left to send */
};

struct sse_completions {
  struct json_span id, created, model, fp, usage, choices;
  size_t piece_chars;
  bool include_usage;
  struct text_cursor c;
};

static const char *const choice_names[] = {"text", "index", "logprobs",
                                           "finish_reason", NULL};

/* Is every member of object o one of names? */
static bool only_members(struct json_span o, const char *const *names)
{
  struct json_iter it;
  struct json_span k, v;
  json_iter_init(&it, o);
  while(json_next_member(&it, &k, &v)) {
    size_t i = 0;
    while(names[i] && !json_key_is(k, names[i]))
      i++;
    if(!names[i])
      return false;
  }
  return true;
}

/* Check one choice; *why says what is wrong. */
static bool choice_ok(struct json_span c, const char **why)
{
  struct json_span v;
  if(c.type != JSON_OBJECT || !only_members(c, choice_names))
    return (*why = "a choice has members this build does not replay"), false;
  if(!json_get(c, "text", &v) || v.type != JSON_STRING)
    return (*why = "a choice has no text"), false;
  if(!json_get(c, "index", &v) || v.type != JSON_NUMBER || *v.ptr == '-')
    return (*why = "a choice has no index"), false;
  if(json_get(c, "logprobs", &v) && v.type != JSON_NULL)
    return (*why = "logprobs are not replayed yet"), false;
  if(!json_get(c, "finish_reason", &v) ||
     (v.type != JSON_STRING && v.type != JSON_NULL))
    return (*why = "a choice has no finish_reason"), false;
  return true;
}

/* Check the whole answer and note the spans copied to every chunk. */
static bool answer_ok(struct sse_completions *e, struct json_span root,
                      const char **why)
{
  struct json_span obj, c;
  struct json_iter it;
  if(root.type != JSON_OBJECT || !json_get(root, "object", &obj) ||
     !json_key_is(obj, "text_completion"))
    return (*why = "not a text_completion"), false;
  if(!json_get(root, "id", &e->id) || !json_get(root, "created", &e->created) ||
     !json_get(root, "model", &e->model) ||
     !json_get(root, "choices", &e->choices) ||
     e->choices.type != JSON_ARRAY)
    return (*why = "a text_completion without id, created, model or choices"),
           false;
  json_get(root, "system_fingerprint", &e->fp);
  json_get(root, "usage", &e->usage);
  json_iter_init(&it, e->choices);
  while(json_next_element(&it, &c))
    if(!choice_ok(c, why))
      return false;
  return true;
}

struct sse_completions *sse_completions_open(const char *p, size_t n,
                                             const struct replay_opts *o,
                                             const char **why)
{
  struct json_span root;
  struct sse_completions *e = calloc(1, sizeof(*e));
  if(!e)
    return (*why = "out of memory"), NULL;
  if(!json_parse(p, n, &root) || !answer_ok(e, root, why)) {
    if(!root.ptr)
      *why = "the answer is not valid JSON";
    free(e);
    return NULL;
  }
  e->piece_chars = o && o->piece_chars ? o->piece_chars : 1;
  e->include_usage = o && o->include_usage;
  json_iter_init(&e->c.it, e->choices);
  e->c.st = TS_CHOICE;
  return e;
}

/* "data: {"id":..,"object":"text_completion","created":.. */
static void chunk_head(const struct sse_completions *e, struct buf *b)
{
  buf_puts(b, "data: {\"id\":");
  sse_put_value(b, e->id);
  buf_puts(b, ",\"object\":\"text_completion\",\"created\":");
  sse_put_value(b, e->created);
}

/* One text chunk: [pos, cut) of the current choice, with its
 * finish_reason when it is the choice's last. */
static void text_chunk(const struct sse_completions *e, struct buf *b,
                       const char *cut, bool last)
{
  const struct text_cursor *c = &e->c;
  chunk_head(e, b);
  buf_puts(b, ",\"choices\":[{\"text\":\"");
  buf_append(b, c->pos, (size_t)(cut - c->pos));
  buf_puts(b, "\",\"index\":");
  sse_put_value(b, c->index);
  buf_puts(b, ",\"logprobs\":null,\"finish_reason\":");
  if(last)
    sse_put_value(b, c->finish);
  else
    buf_puts(b, "null");
  buf_puts(b, "}],\"model\":");
  sse_put_value(b, e->model);
  if(e->fp.type != JSON_NONE) {
    buf_puts(b, ",\"system_fingerprint\":");
    sse_put_value(b, e->fp);
  }
  buf_puts(b, e->include_usage ? ",\"usage\":null}\n\n" : "}\n\n");
}

/* Advance one step; true when an event was appended. */
static bool step(struct sse_completions *e, struct buf *b)
{
  struct text_cursor *c = &e->c;
  struct json_span ch, text;
  switch(c->st) {
  case TS_CHOICE:
    if(!json_next_element(&c->it, &ch)) {
      c->st = TS_USAGE;
      return false;
    }
    json_get(ch, "index", &c->index);
    json_get(ch, "finish_reason", &c->finish);
    json_get(ch, "text", &text);
    c->pos = text.ptr + 1;
    c->end = text.ptr + text.len - 1;
    c->st = TS_TEXT;
    return false;
  case TS_TEXT: {
    const char *cut = piece_next(c->pos, c->end, e->piece_chars);
    bool last = cut == c->end;
    text_chunk(e, b, cut, last);
    c->pos = cut;
    if(last)
      c->st = TS_CHOICE;
    return true;
  }
  case TS_USAGE:
    c->st = TS_DONE;
    if(!e->include_usage || e->usage.type != JSON_OBJECT)
      return false;
    chunk_head(e, b);
    buf_puts(b, ",\"model\":");
    sse_put_value(b, e->model);
    buf_puts(b, ",\"usage\":");
    sse_put_value(b, e->usage);
    buf_puts(b, ",\"choices\":[]}\n\n");
    return true;
  case TS_DONE:
    c->st = TS_END;
    buf_puts(b, "data: [DONE]\n\n");
    return true;
  default:
    return false;
  }
}

int sse_completions_next(struct sse_completions *e, struct buf *out)
{
  struct text_cursor saved = e->c;
  size_t len = out->len;
  while(e->c.st != TS_END) {
    if(step(e, out)) {
      if(out->oom) {  /* undo: the same event comes again */
        e->c = saved;
        out->len = len;
        return -1;
      }
      return 1;
    }
    saved = e->c;
  }
  return 0;
}

void sse_completions_close(struct sse_completions *e)
{
  free(e);
}
