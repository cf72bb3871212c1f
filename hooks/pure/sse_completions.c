/* sse_completions.c - the legacy Completions replay (see
 * sse_completions.h). Members other than text/index/logprobs/
 * finish_reason in a choice are refused (the answer then passes through
 * unchanged); unknown top-level members are not streamed, as for chat.
 *
 * Logprobs (a choice's {tokens, token_logprobs, top_logprobs,
 * text_offset}): each text chunk carries the logprobs of its own tokens
 * in the same shape, slices of the four arrays, so that a client joining
 * the arrays per choice gets the answer's. The text is then cut at token
 * groups instead of piece_chars: tokens until the text they spell ends on
 * a character boundary (partial characters are written "bytes:\xe2\x80",
 * see logprobs.h). The tokens must spell the text exactly and the other
 * arrays must have as many elements; a member that is null is null on
 * every chunk, an absent one absent; unknown members are refused. */
#include "sse_completions.h"

#include <stdlib.h>
#include <string.h>

#include "asm_part.h"
#include "json.h"
#include "logprobs.h"
#include "sse_piece.h"

enum text_stage { TS_CHOICE, TS_TEXT, TS_USAGE, TS_DONE, TS_END };

#define LP_MEMBERS 4  /* the arrays of a legacy logprobs object */

static const char *const lp_names[LP_MEMBERS + 1] = {
  "tokens", "token_logprobs", "top_logprobs", "text_offset", NULL
};

/* Where the replay stands; copied whole so a failed event can be undone. */
struct text_cursor {
  enum text_stage st;
  struct json_iter it;             /* over "choices" */
  struct json_span index, finish;  /* the current choice */
  const char *pos, *end;           /* its text left to send */
  bool lp_on;                      /* the choice has a logprobs object */
  struct json_span lp[LP_MEMBERS]; /* its members (array, null or none) */
  struct json_iter lpi[LP_MEMBERS];/* the elements of each left to send */
};

struct sse_completions {
  struct json_span id, created, model, fp, usage, choices;
  size_t piece_chars;
  bool include_usage;
  struct text_cursor c;
  struct piece_plain plain;  /* piece_next_known's memory */
};

static const char *const choice_names[] = {"text", "index", "logprobs",
                                           "finish_reason", NULL};

/* How many elements the array a has. */
static size_t count_elements(struct json_span a)
{
  struct json_iter it;
  struct json_span v;
  size_t n = 0;
  json_iter_init(&it, a);
  while(json_next_element(&it, &v))
    n++;
  return n;
}

/* Check a choice's logprobs object lp against its text: known members
 * only, each an array (as long as tokens) or null, tokens an array that
 * spells the text. */
static bool logprobs_ok(struct json_span lp, struct json_span text,
                        const char **why)
{
  struct json_span v, tokens;
  if(lp.type != JSON_OBJECT || !json_only_members(lp, lp_names))
    return (*why = "logprobs is not a known object"), false;
  if(!json_get(lp, "tokens", &tokens) || tokens.type != JSON_ARRAY)
    return (*why = "logprobs tokens is not an array"), false;
  size_t n = count_elements(tokens);
  for(int i = 1; i < LP_MEMBERS; i++) {
    json_get(lp, lp_names[i], &v);
    if(v.type != JSON_ARRAY && v.type != JSON_NULL && v.type != JSON_NONE)
      return (*why = "a logprobs member is not an array"), false;
    if(v.type == JSON_ARRAY && count_elements(v) != n)
      return (*why = "logprobs arrays differ in length"), false;
  }
  return lp_check(tokens, LP_LEGACY, text.ptr + 1, text.ptr + text.len - 1,
                  why);
}

/* Check one choice, its index in *index; *why says what is wrong. The
 * index is one a client joins (asm_index: digits, below ASM_MAX_INDEX). */
static bool choice_ok(struct json_span c, size_t *index, const char **why)
{
  struct json_span v, text;
  if(c.type != JSON_OBJECT || !json_only_members(c, choice_names))
    return (*why = "a choice has members this build does not replay"), false;
  if(!json_get(c, "text", &text) || text.type != JSON_STRING)
    return (*why = "a choice has no text"), false;
  if(!json_get(c, "index", &v) || !asm_index(v, index))
    return (*why = "a choice has no index below 128"), false;
  if(json_get(c, "logprobs", &v) && v.type != JSON_NULL &&
     !logprobs_ok(v, text, why))
    return false;
  if(!json_get(c, "finish_reason", &v) ||
     (v.type != JSON_STRING && v.type != JSON_NULL))
    return (*why = "a choice has no finish_reason"), false;
  return true;
}

/* Check the whole answer and note the spans copied to every chunk; each
 * choice index once (a client joins the chunks of one index into one
 * choice). */
static bool answer_ok(struct sse_completions *e, struct json_span root,
                      const char **why)
{
  struct json_span obj, c;
  struct json_iter it;
  bool seen[ASM_MAX_INDEX] = {false};
  size_t i;
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
  while(json_next_element(&it, &c)) {
    if(!choice_ok(c, &i, why))
      return false;
    if(seen[i])
      return (*why = "two choices have one index"), false;
    seen[i] = true;
  }
  return true;
}

static void *text_open(const char *p, size_t n, const struct replay_opts *o,
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

/* Append the logprobs of the next n tokens: the same members as the
 * answer's (tokens always), each array sliced (its iterator advanced),
 * null as null. */
static void put_logprobs(struct text_cursor *c, struct buf *b, size_t n)
{
  for(int i = 0; i < LP_MEMBERS; i++) {
    if(c->lp[i].type == JSON_NONE)
      continue;
    buf_puts(b, i ? ",\"" : "{\"");
    buf_puts(b, lp_names[i]);
    buf_puts(b, "\":");
    if(c->lp[i].type == JSON_ARRAY) {
      buf_puts(b, "[");
      lp_put_elems(b, &c->lpi[i], n);
      buf_puts(b, "]");
    }
    else
      buf_puts(b, "null");
  }
  buf_puts(b, "}");
}

/* One text chunk: [pos, cut) of the current choice (with the logprobs of
 * its n tokens when the choice has logprobs), with its finish_reason when
 * it is the choice's last. */
static void text_chunk(struct sse_completions *e, struct buf *b,
                       const char *cut, size_t n, bool last)
{
  struct text_cursor *c = &e->c;
  chunk_head(e, b);
  buf_puts(b, ",\"choices\":[{\"text\":\"");
  buf_append(b, c->pos, (size_t)(cut - c->pos));
  buf_puts(b, "\",\"index\":");
  sse_put_value(b, c->index);
  buf_puts(b, ",\"logprobs\":");
  if(c->lp_on)
    put_logprobs(c, b, n);
  else
    buf_puts(b, "null");
  buf_puts(b, ",\"finish_reason\":");
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

/* Note the logprobs of choice ch (checked by open) in the cursor. */
static void choice_logprobs(struct text_cursor *c, struct json_span ch)
{
  struct json_span lp;
  json_get(ch, "logprobs", &lp);
  c->lp_on = lp.type == JSON_OBJECT;
  for(int i = 0; i < LP_MEMBERS; i++) {
    json_get(lp, lp_names[i], &c->lp[i]);
    json_iter_init(&c->lpi[i], c->lp[i]);
  }
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
    choice_logprobs(c, ch);
    c->st = TS_TEXT;
    return false;
  case TS_TEXT: {
    const char *cut = c->pos;
    size_t n = 0;
    bool last;
    if(c->lp_on) {  /* one token group; a text without tokens is "" */
      struct json_iter tok = c->lpi[0];
      n = lp_group(&tok, LP_LEGACY, &cut, c->end);
      last = !lp_more(&tok);
    }
    else {
      cut = piece_next_known(c->pos, c->end, e->piece_chars, &e->plain);
      last = cut == c->end;
    }
    text_chunk(e, b, cut, n, last);
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

/* replay_next_event's view of this encoder. */
static bool text_done(const void *e)
{
  return ((const struct sse_completions *)e)->c.st == TS_END;
}

static bool text_step_any(void *e, struct buf *b)
{
  return step(e, b);
}

static int text_next(void *enc, struct buf *out)
{
  struct sse_completions *e = enc;
  struct text_cursor saved;
  return replay_next_event(e, &e->c, &saved, sizeof(saved), text_done,
                           text_step_any, out);
}

static void text_close(void *enc)
{
  free(enc);
}

const struct replay_encoder sse_completions_encoder = {
  "text_completion", text_open, text_next, text_close
};
