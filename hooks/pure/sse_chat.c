/* sse_chat.c - replay a chat.completion answer as the chat.completion.chunk
 * Server-Sent Events stream the streaming Chat Completions API sends (see
 * sse_chat.h; wire format in the README, "The streams replayed").
 *
 * sse_chat_open() validates the whole answer once and refuses anything it
 * cannot replay exactly; its next() then walks the answer's own bytes
 * with a small cursor, one event per call, copying strings and numbers
 * raw. Per choice, in array order: role chunk, reasoning_content pieces,
 * content pieces, refusal pieces, tool call fragments, function_call
 * fragments, final chunk; then the usage chunk (if asked) and [DONE].
 *
 * Decisions (each checked by tests/unit/test_sse_chat.c):
 * - The first tool call fragment (or function_call head) is merged into
 *   the role chunk when the choice has no text pieces before it, which is
 *   what api.openai.com sends; otherwise it gets its own chunk after the
 *   text pieces. Both accumulate identically (openai-node's ChatCompletionStream).
 * - Role delta: "content" is "" when the message content is a string, else
 *   null; "refusal" is "" when the message refusal is a string, else null
 *   (the observed refusal stream starts with "content":null,"refusal":"").
 * - include_usage with no usage object in the answer (absent or null):
 *   every chunk still carries "usage":null, but no usage chunk is sent (a
 *   server that reports no usage sends none).
 * - Unknown top-level members are ignored and not copied (vendor extras
 *   such as vLLM's prompt_logprobs describe the request, not the stream).
 *   Azure's prompt_filter_results goes first, in a chunk of its own with
 *   blank metadata and no choices, as Azure streams it; a choice's
 *   content_filter_results rides on every chunk of that choice (Azure
 *   sends per-piece severities, which the answer does not keep; the whole
 *   answer's value is what a client accumulates).
 *   Unknown choice, message, tool call and function members are refused.
 * - Copied containers (usage) are compacted: whitespace between tokens is
 *   dropped so that a pretty-printed answer cannot break the one-line
 *   "data:" framing; every string and number inside stays byte-identical.
 * - Null or empty reasoning_content/tool_calls/function_call send nothing;
 *   annotations must be [] (sent nowhere: the stream never carries them).
 * - Logprobs (a choice's "logprobs" object, checked by open: its arrays
 *   must spell the content and refusal exactly, see logprobs.h): the role
 *   chunk carries the object with each array emptied, as the API sends it
 *   ({"content":[],"refusal":null}; {"content":null,"refusal":[]} for a
 *   refusal). openai-node's ChatCompletionStream keeps that first object
 *   as the choice's and appends every later chunk's entries to its arrays
 *   (entries on a choice's first chunk would be counted twice), so the
 *   rebuilt logprobs equal the answer's. A content (refusal) with a
 *   logprobs array is cut at token groups, not piece_chars: one chunk per
 *   run of entries ending on a character boundary, with exactly those
 *   entries, {"content":[...],"refusal":null} ({"content":null,
 *   "refusal":[...]}), as the recorded API streams in openai-node's tests
 *   show. Every other chunk, the final one included, has "logprobs":null.
 *   A member absent from the answer's object is absent from every chunk;
 *   a null member stays null and its text is cut by piece_chars.
 * - No "obfuscation" member: the output is deterministic.
 * - piece_chars 0 is taken as 1. */
#include "sse_chat_int.h"

#include <stdlib.h>
#include <string.h>

#include "logprobs.h"
#include "sse_piece.h"

/* ---- writing events ---- */

void chat_head_put(const struct sse_chat *e, struct buf *b)
{
  buf_puts(b, "data: {\"id\":");
  sse_put_value(b, e->id);
  buf_puts(b, ",\"object\":\"chat.completion.chunk\",\"created\":");
  sse_put_value(b, e->created);
  buf_puts(b, ",\"model\":");
  sse_put_value(b, e->model);
  if(e->tier.type != JSON_NONE) {
    buf_puts(b, ",\"service_tier\":");
    sse_put_value(b, e->tier);
  }
  if(e->fp.type != JSON_NONE) {
    buf_puts(b, ",\"system_fingerprint\":");
    sse_put_value(b, e->fp);
  }
  buf_puts(b, ",\"choices\":[");
}

/* Append the start of a chunk event: the bytes open built once. */
static void chat_chunk_head(const struct sse_chat *e, struct buf *b)
{
  buf_append(b, e->head.ptr, e->head.len);
}

/* Append a chunk head and the current choice's entry up to "delta":{ */
static void chat_delta_open(const struct sse_chat *e, struct buf *b)
{
  chat_chunk_head(e, b);
  buf_puts(b, "{\"index\":");
  sse_put_value(b, e->c.ch.index);
  buf_puts(b, ",\"delta\":{");
}

/* Close the delta; the choice's "logprobs" value comes next. */
static void chat_delta_end(struct buf *b)
{
  buf_puts(b, "},\"logprobs\":");
}

/* After the logprobs value: close the choice entry (finish_reason raw
 * when given, else null) and the chunk, with "usage":null when usage was
 * asked for. */
static void chat_choice_end(const struct sse_chat *e, struct buf *b,
                            const struct json_span *finish)
{
  buf_puts(b, ",\"finish_reason\":");
  if(finish)
    sse_put_value(b, *finish);
  else
    buf_puts(b, "null");
  if(e->c.ch.filter.type == JSON_OBJECT) {
    buf_puts(b, ",\"content_filter_results\":");
    sse_put_value(b, e->c.ch.filter);
  }
  buf_puts(b, e->include_usage ? "}],\"usage\":null}\n\n" : "}]}\n\n");
}

/* Close the delta, "logprobs":null, and the rest as chat_choice_end(). */
static void chat_delta_close(const struct sse_chat *e, struct buf *b,
                             const struct json_span *finish)
{
  chat_delta_end(b);
  buf_puts(b, "null");
  chat_choice_end(e, b, finish);
}

/* Append the role chunk's logprobs: null when the choice has none, else
 * its members with each array emptied ({"content":[],"refusal":null} for
 * a text answer), the object the SDK then appends every entry to. */
static void chat_put_lp_role(const struct chat_choice *ch, struct buf *b)
{
  if(ch->lp.type != JSON_OBJECT) {
    buf_puts(b, "null");
    return;
  }
  buf_puts(b, "{");
  if(ch->lp_content.type != JSON_NONE)
    buf_puts(b, ch->lp_content.type == JSON_ARRAY ? "\"content\":[]"
                                                  : "\"content\":null");
  if(ch->lp_content.type != JSON_NONE && ch->lp_refusal.type != JSON_NONE)
    buf_puts(b, ",");
  if(ch->lp_refusal.type != JSON_NONE)
    buf_puts(b, ch->lp_refusal.type == JSON_ARRAY ? "\"refusal\":[]"
                                                  : "\"refusal\":null");
  buf_puts(b, "}");
}

/* Append the first fragment of the current tool call (stage
 * ST_TOOL_ARGS) or of the legacy function_call (ST_FUNC_ARGS). */
static void chat_put_head(const struct sse_chat *e, struct buf *b)
{
  if(e->c.st == ST_TOOL_ARGS) {
    buf_puts(b, "\"tool_calls\":[{\"index\":");
    sse_put_uint(b, e->c.tool_no);
    buf_puts(b, ",\"id\":");
    sse_put_value(b, e->c.tool.id);
    buf_puts(b, ",\"type\":");
    sse_put_value(b, e->c.tool.type);
    buf_puts(b, ",\"function\":{\"name\":");
  }
  else
    buf_puts(b, "\"function_call\":{\"name\":");
  sse_put_value(b, e->c.tool.name);
  buf_puts(b, e->c.st == ST_TOOL_ARGS ? ",\"arguments\":\"\"}}]"
                                      : ",\"arguments\":\"\"}");
}

/* Point the cursor at the raw text of string s (nothing when not one),
 * cut in pieces of piece_chars. */
static void chat_set_text(struct chat_cursor *c, struct json_span s)
{
  c->lp_on = false;
  if(s.type == JSON_STRING) {
    c->pos = s.ptr + 1;
    c->end = s.ptr + s.len - 1;
  }
  else
    c->pos = c->end = NULL;
}

/* Point the cursor at the raw text of string s, cut at the token groups
 * of logprobs array lp when it is one (checked by open: lp spells s). */
static void chat_set_lp_text(struct chat_cursor *c, struct json_span s,
                             struct json_span lp)
{
  chat_set_text(c, s);
  if(lp.type == JSON_ARRAY) {
    c->lp_on = true;
    json_iter_init(&c->lp_it, lp);
  }
}

/* Is there text (or a logprobs group) left under the cursor? */
static bool chat_text_left(const struct chat_cursor *c)
{
  return c->lp_on ? lp_more(&c->lp_it) : c->pos < c->end;
}

/* Make the next tool call of the current choice current and point the
 * cursor at its arguments; false when there is none left. */
static bool chat_tool_next(struct chat_cursor *c)
{
  struct json_span call;
  const char *ignored;
  if(c->ch.tools.type != JSON_ARRAY || !json_next_element(&c->tool_it, &call))
    return false;
  c->tool_no = c->tools_started++;
  chat_tool_read(call, &c->tool, &ignored);  /* checked by open */
  chat_set_text(c, c->tool.args);
  return true;
}

/* Make the function_call current (cursor on its arguments); false when
 * the choice has none. */
static bool chat_func_start(struct chat_cursor *c)
{
  const char *ignored;
  if(c->ch.fcall.type != JSON_OBJECT)
    return false;
  chat_fn_read(c->ch.fcall, &c->tool, &ignored);  /* checked by open */
  chat_set_text(c, c->tool.args);
  return true;
}

/* Emit the role chunk; merge the first tool call or function_call head
 * into it when no text pieces come first (as the real API does). */
static void chat_emit_role(struct sse_chat *e, struct buf *b)
{
  struct chat_cursor *c = &e->c;
  bool text = chat_has_pieces(&c->ch);
  c->tools_started = 0;
  if(c->ch.tools.type == JSON_ARRAY)
    json_iter_init(&c->tool_it, c->ch.tools);
  if(!text && chat_tool_next(c))
    c->st = ST_TOOL_ARGS;
  else if(!text && chat_func_start(c))
    c->st = ST_FUNC_ARGS;
  else
    c->st = ST_REASON;
  chat_delta_open(e, b);
  buf_puts(b, "\"role\":");
  sse_put_value(b, c->ch.role);
  buf_puts(b, c->ch.content.type == JSON_STRING ? ",\"content\":\"\","
                                                : ",\"content\":null,");
  if(c->st != ST_REASON) {
    chat_put_head(e, b);
    buf_puts(b, ",");
  }
  buf_puts(b, c->ch.refusal.type == JSON_STRING ? "\"refusal\":\"\""
                                                : "\"refusal\":null");
  chat_delta_end(b);
  chat_put_lp_role(&c->ch, b);
  chat_choice_end(e, b, NULL);
  if(c->st == ST_REASON)
    chat_set_text(c, c->ch.reasoning);
}

/* Append what comes before a text piece in its event: the chunk head and
 * the delta member that the current stage names, up to its opening quote. */
static void chat_piece_open(const struct sse_chat *e, struct buf *b)
{
  const struct chat_cursor *c = &e->c;
  chat_delta_open(e, b);
  if(c->st == ST_TOOL_ARGS) {
    buf_puts(b, "\"tool_calls\":[{\"index\":");
    sse_put_uint(b, c->tool_no);
    buf_puts(b, ",\"function\":{\"arguments\":\"");
  }
  else
    buf_puts(b, c->st == ST_FUNC_ARGS ? "\"function_call\":{\"arguments\":\""
                : c->st == ST_REASON  ? "\"reasoning_content\":\""
                : c->st == ST_CONTENT ? "\"content\":\""
                                      : "\"refusal\":\"");
}

/* Append what follows a text piece: its closing quote and the rest of
 * the event. */
static void chat_piece_close(const struct sse_chat *e, struct buf *b)
{
  const struct chat_cursor *c = &e->c;
  buf_puts(b, c->st == ST_TOOL_ARGS ? "\"}}]"
              : c->st == ST_FUNC_ARGS ? "\"}" : "\"");
  chat_delta_close(e, b, NULL);
}

/* Are frame_pre and frame_post those of the string under the cursor?
 * Builds them when not; false when memory ran out doing so (the caller
 * then writes the event the long way). */
static bool chat_frame(struct sse_chat *e)
{
  const struct chat_cursor *c = &e->c;
  if(e->frame_st == c->st && e->frame_choice == c->ch.index.ptr &&
     e->frame_tool == c->tool_no)
    return true;
  buf_reset(&e->frame_pre);
  buf_reset(&e->frame_post);
  chat_piece_open(e, &e->frame_pre);
  chat_piece_close(e, &e->frame_post);
  e->frame_st = ST_END;
  if(e->frame_pre.oom || e->frame_post.oom)
    return false;
  e->frame_st = c->st;
  e->frame_choice = c->ch.index.ptr;
  e->frame_tool = c->tool_no;
  return true;
}

/* Emit one piece of the string under the cursor, in the delta member
 * that the current stage names: the frame built once per string, the
 * piece between. */
static void chat_emit_piece(struct sse_chat *e, struct buf *b)
{
  struct chat_cursor *c = &e->c;
  const char *stop = piece_next_known(c->pos, c->end, e->piece_chars,
                                      &e->plain);
  if(chat_frame(e)) {
    buf_append(b, e->frame_pre.ptr, e->frame_pre.len);
    buf_append(b, c->pos, (size_t)(stop - c->pos));
    buf_append(b, e->frame_post.ptr, e->frame_post.len);
  }
  else {
    chat_piece_open(e, b);
    buf_append(b, c->pos, (size_t)(stop - c->pos));
    chat_piece_close(e, b);
  }
  c->pos = stop;
}

/* Emit the next token group of the content or refusal under the cursor:
 * its text and, in the choice's logprobs, exactly its entries (the other
 * member null, as the API sends it). */
static void chat_emit_group(struct sse_chat *e, struct buf *b)
{
  struct chat_cursor *c = &e->c;
  struct json_iter from = c->lp_it;
  const char *start = c->pos;
  bool content = c->st == ST_CONTENT;
  size_t n = lp_group(&c->lp_it, LP_CHAT, &c->pos, c->end);
  chat_delta_open(e, b);
  buf_puts(b, content ? "\"content\":\"" : "\"refusal\":\"");
  buf_append(b, start, (size_t)(c->pos - start));
  buf_puts(b, "\"");
  chat_delta_end(b);
  if(content)
    buf_puts(b, "{\"content\":[");
  else
    buf_puts(b, c->ch.lp_content.type != JSON_NONE
                  ? "{\"content\":null,\"refusal\":[" : "{\"refusal\":[");
  lp_put_elems(b, &from, n);
  if(content)
    buf_puts(b, c->ch.lp_refusal.type != JSON_NONE ? "],\"refusal\":null}"
                                                   : "]}");
  else
    buf_puts(b, "]}");
  chat_choice_end(e, b, NULL);
}

/* Move to the stage after the string under the cursor is used up. */
static void chat_after_text(struct chat_cursor *c)
{
  switch(c->st) {
  case ST_REASON:
    c->st = ST_CONTENT;
    chat_set_lp_text(c, c->ch.content, c->ch.lp_content);
    break;
  case ST_CONTENT:
    c->st = ST_REFUSAL;
    chat_set_lp_text(c, c->ch.refusal, c->ch.lp_refusal);
    break;
  case ST_REFUSAL:
  case ST_TOOL_ARGS:
    c->st = ST_TOOL_HEAD;
    break;
  default: /* ST_FUNC_ARGS */
    c->st = ST_FINAL;
    break;
  }
}

/* Advance the replay by one stage. Returns true when an event was
 * appended to b, false when only the stage changed. */
static bool chat_step(struct sse_chat *e, struct buf *b)
{
  struct chat_cursor *c = &e->c;
  struct json_span choice;
  const char *ignored;
  switch(c->st) {
  case ST_PROMPT_FILTER:  /* Azure's first chunk: blank metadata */
    c->st = ST_NEXT_CHOICE;
    if(e->prompt_filter.type != JSON_ARRAY)
      return false;
    buf_puts(b, "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\","
                "\"object\":\"\",\"prompt_filter_results\":");
    sse_put_value(b, e->prompt_filter);
    buf_puts(b, "}\n\n");
    return true;
  case ST_NEXT_CHOICE:
    if(!json_next_element(&c->choice_it, &choice)) {
      c->st = ST_USAGE;
      return false;
    }
    if(e->first.index.ptr > choice.ptr &&
       e->first.index.ptr < choice.ptr + choice.len)
      c->ch = e->first;  /* the first choice: read by open */
    else
      chat_choice_read(choice, &c->ch, &ignored);  /* checked by open */
    c->st = ST_ROLE;
    return false;
  case ST_ROLE:
    chat_emit_role(e, b);
    return true;
  case ST_REASON:
  case ST_CONTENT:
  case ST_REFUSAL:
  case ST_TOOL_ARGS:
  case ST_FUNC_ARGS:
    if(chat_text_left(c)) {
      if(c->lp_on)
        chat_emit_group(e, b);
      else
        chat_emit_piece(e, b);
      return true;
    }
    chat_after_text(c);
    return false;
  case ST_TOOL_HEAD:
    if(chat_tool_next(c))
      c->st = ST_TOOL_ARGS;
    else if(chat_func_start(c))
      c->st = ST_FUNC_ARGS;
    else {
      c->st = ST_FINAL;
      return false;
    }
    chat_delta_open(e, b);
    chat_put_head(e, b);
    chat_delta_close(e, b, NULL);
    return true;
  case ST_FINAL:  /* empty delta, the answer's finish_reason */
    chat_delta_open(e, b);
    chat_delta_close(e, b, &c->ch.finish);
    c->st = ST_NEXT_CHOICE;
    return true;
  case ST_USAGE:  /* no choices, the answer's usage object */
    c->st = ST_DONE;
    if(!e->include_usage || e->usage.type != JSON_OBJECT)
      return false;
    chat_chunk_head(e, b);
    buf_puts(b, "],\"usage\":");
    sse_put_value(b, e->usage);
    buf_puts(b, "}\n\n");
    return true;
  case ST_DONE:
    buf_puts(b, "data: [DONE]\n\n");
    c->st = ST_END;
    return true;
  default: /* ST_END */
    return false;
  }
}

/* replay_next_event's view of this encoder. */
static bool chat_done(const void *e)
{
  return ((const struct sse_chat *)e)->c.st == ST_END;
}

static bool chat_step_any(void *e, struct buf *b)
{
  return chat_step(e, b);
}

/* Is the next event a piece of text cut by piece_chars (most events)? */
static bool chat_piece_next(const struct sse_chat *e)
{
  const struct chat_cursor *c = &e->c;
  return c->st >= ST_REASON && c->st <= ST_FUNC_ARGS && c->st != ST_TOOL_HEAD &&
         !c->lp_on && c->pos < c->end;
}

static int chat_next(void *enc, struct buf *out)
{
  struct sse_chat *e = enc;
  struct chat_cursor saved;
  if(chat_piece_next(e)) {  /* only pos moves: only pos is put back */
    const char *pos = e->c.pos;
    size_t start = out->len;
    chat_emit_piece(e, out);
    if(!out->oom)
      return 1;
    e->c.pos = pos;
    out->len = start;
    return -1;
  }
  return replay_next_event(e, &e->c, &saved, sizeof(saved), chat_done,
                           chat_step_any, out);
}

static void chat_close(void *enc)
{
  struct sse_chat *e = enc;
  if(e) {
    buf_free(&e->head);
    buf_free(&e->frame_pre);
    buf_free(&e->frame_post);
  }
  free(enc);
}

const struct replay_encoder sse_chat_encoder = {
  "chat.completion", sse_chat_open, chat_next, chat_close
};
