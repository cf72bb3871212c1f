/* sse_responses.c - replay a Responses API answer as the response.* event
 * stream that "stream": true sends (see sse_responses.h; wire format in
 * the README, "The streams replayed"; event payloads as openai-node 6.49's
 * ResponseStream types and accumulator read them).
 *
 * sse_responses_open() (sse_responses_read.c) validates the whole answer
 * once and refuses anything it cannot replay exactly; its next()
 * then walks the answer's own bytes with a small cursor, one event per
 * call, copying strings and numbers raw. Every event is
 * "event: T\ndata: {"type":"T","sequence_number":N,...}\n\n", N counting
 * from 0 over all events; no [DONE]. The ladder:
 *   response.created, response.in_progress (the response at its start);
 *   per output item: response.output_item.added (the item in progress),
 *     message: per content part, response.content_part.added (empty
 *       part), then output_text: response.output_text.delta pieces,
 *       response.output_text.annotation.added per annotation,
 *       response.output_text.done; or refusal: response.refusal.delta
 *       pieces, response.refusal.done; then response.content_part.done;
 *     reasoning: per summary part, response.reasoning_summary_part.added,
 *       response.reasoning_summary_text.delta pieces / .done,
 *       response.reasoning_summary_part.done; then per reasoning_text
 *       content part, response.content_part.added,
 *       response.reasoning_text.delta pieces / .done,
 *       response.content_part.done;
 *     function_call: response.function_call_arguments.delta pieces /
 *       .done; custom_tool_call: response.custom_tool_call_input.delta
 *       pieces / .done;
 *     web_search_call: response.web_search_call.in_progress / .searching
 *       / .completed;
 *     response.output_item.done (the item exactly as in the answer);
 *   response.completed, .incomplete or .failed after the answer's status,
 *   with the whole answer as "response".
 *
 * Decisions (each checked by tests/unit/test_sse_responses.c):
 * - In-progress forms copy the answer's members in order and replace the
 *   ones the stream fills in later: the response gets status
 *   "in_progress", output [], usage/error/incomplete_details/completed_at
 *   null (output_text "", for servers that send it); an item gets status
 *   "in_progress" and empty content/summary/arguments/input (a
 *   web_search_call loses its action); a part gets empty text/refusal and
 *   empty annotations/logprobs. A member whose value is null stays null.
 *   Other members, unknown top-level ones included, are copied as they
 *   are: they echo the request (service_tier is copied too, although the
 *   API has been seen to say "auto" at the start and "default" at the
 *   end), and a reasoning item's encrypted_content is the final one (the
 *   API's first one differs, and cannot be known).
 * - Delta and done events of an output_text carry "logprobs" only when
 *   the part has a logprobs member (the API added it in 2025; older
 *   streams have none). Non-empty logprobs are replayed one token group
 *   per delta (sse_responses_lp.c); piece_chars then does not apply.
 * - Annotations are sent after the text's deltas and before its done
 *   event, one response.output_text.annotation.added each (the answer
 *   does not say where in the text stream they arrived).
 * - response.function_call_arguments.done carries the function's name
 *   (openai-node's type has it; the 2025 recordings in the spec did not).
 * - No "obfuscation" member (the request may turn it off; the output is
 *   deterministic).
 * - Refused in open: other item types (file_search_call,
 *   image_generation_call, code_interpreter_call, mcp_*, computer_call,
 *   ...: their in-progress forms and status events are not known well
 *   enough), unknown members of items and parts, web_search_call not
 *   completed, logprob bytes that do not spell the text, and a response
 *   status other than completed, incomplete or failed.
 * - Copied containers are compacted (no whitespace between tokens) so
 *   each "data:" stays one line; strings and numbers stay byte-identical.
 * - piece_chars 0 is taken as 1. */
#include "sse_responses_int.h"

#include <stdlib.h>
#include <string.h>

#include "sse_piece.h"

/* Make part the current one: cursor on its text, annotations and logprob
 * entries at their start. */
static void resp_part_begin(struct resp_cursor *c)
{
  c->pos = c->part.text.ptr + 1;
  c->end = c->part.text.ptr + c->part.text.len - 1;
  json_iter_init(&c->annot_it, c->part.annots);
  c->annot_no = 0;
  json_iter_init(&c->lp_it, c->part.logprobs);
  c->st = ST_PART_ADDED;
  c->part_serial++;
}

/* After output_item.added: the first stage of the current item. */
static void resp_item_begin(struct resp_cursor *c)
{
  switch(c->item.kind) {
  case RK_MESSAGE:
  case RK_REASONING:
    json_iter_init(&c->part_it, c->item.parts);
    c->second = false;
    c->parts_started = 0;
    c->st = ST_NEXT_PART;
    break;
  case RK_FUNCTION:
  case RK_CUSTOM:
    memset(&c->part, 0, sizeof(c->part));
    c->part.tk = c->item.kind == RK_FUNCTION ? &resp_tk_arguments
                                             : &resp_tk_input;
    c->part.text = c->item.text;
    resp_part_begin(c);
    break;
  default: /* RK_WEB_SEARCH */
    c->search_step = 0;
    c->st = ST_SEARCH;
    break;
  }
}

/* Make the next part of the current item current (a reasoning item's
 * content parts follow its summary parts); ST_ITEM_DONE when none is
 * left. */
static void resp_next_part(struct resp_cursor *c)
{
  struct json_span v;
  const char *ignored;
  while(!json_next_element(&c->part_it, &v)) {
    if(c->second || c->item.parts2.type != JSON_ARRAY) {
      c->st = ST_ITEM_DONE;
      return;
    }
    c->second = true;
    c->parts_started = 0;
    json_iter_init(&c->part_it, c->item.parts2);
  }
  resp_part_read(&c->item, c->second, v, &c->part, &ignored); /* checked */
  c->part_no = c->parts_started++;
  resp_part_begin(c);
}

/* The stage after a part stage whose events are all sent. */
static enum resp_stage resp_part_after(const struct resp_cursor *c)
{
  switch(c->st) {
  case ST_PART_ADDED: return ST_DELTA;
  case ST_DELTA: return ST_ANNOT;
  case ST_ANNOT: return ST_TEXT_DONE;
  case ST_TEXT_DONE: return ST_PART_DONE;
  default: /* ST_PART_DONE */
    return c->part.tk->index ? ST_NEXT_PART : ST_ITEM_DONE;
  }
}

/* Append a response.created / in_progress / terminal event. */
static void resp_put_response(struct sse_responses *e, struct buf *b,
                              const char *type, bool start)
{
  resp_event_open(&e->c, b, type);
  buf_puts(b, ",\"response\":");
  if(start)
    resp_put_start(b, e->root);
  else
    sse_put_value(b, e->root);
  resp_event_close(b);
}

/* Append the next status event of a web_search_call. */
static void resp_put_search(struct resp_cursor *c, struct buf *b)
{
  static const char *const types[] = {
    "response.web_search_call.in_progress",
    "response.web_search_call.searching",
    "response.web_search_call.completed"
  };
  resp_event_open(c, b, types[c->search_step++]);
  buf_puts(b, ",\"output_index\":");
  sse_put_uint(b, c->item_no);
  buf_puts(b, ",\"item_id\":");
  sse_put_value(b, c->item.id);
  resp_event_close(b);
}

/* Append output_item.added (in-progress item) or .done (the item). */
static void resp_put_item(struct resp_cursor *c, struct buf *b, bool done)
{
  resp_event_open(c, b, done ? "response.output_item.done"
                             : "response.output_item.added");
  buf_puts(b, ",\"output_index\":");
  sse_put_uint(b, c->item_no);
  buf_puts(b, ",\"item\":");
  if(done)
    sse_put_value(b, c->item.obj);
  else
    resp_put_item_start(b, &c->item);
  resp_event_close(b);
}

/* Advance the replay by one stage. Returns true when an event was
 * appended to b, false when only the stage changed. */
static bool resp_step(struct sse_responses *e, struct buf *b)
{
  struct resp_cursor *c = &e->c;
  struct json_span v;
  const char *ignored;
  bool ev;
  switch(c->st) {
  case ST_CREATED:
  case ST_IN_PROGRESS:
    resp_put_response(e, b, c->st == ST_CREATED ? "response.created"
                                                : "response.in_progress", true);
    c->st = c->st == ST_CREATED ? ST_IN_PROGRESS : ST_NEXT_ITEM;
    return true;
  case ST_NEXT_ITEM:
    if(!json_next_element(&c->item_it, &v)) {
      c->st = ST_TERMINAL;
      return false;
    }
    resp_item_read(v, &c->item, &ignored);  /* checked by open */
    c->st = ST_ADDED;
    return false;
  case ST_ADDED:
    resp_put_item(c, b, false);
    resp_item_begin(c);
    return true;
  case ST_NEXT_PART:
    resp_next_part(c);
    return false;
  case ST_SEARCH:
    if(c->search_step == 3) {
      c->st = ST_ITEM_DONE;
      return false;
    }
    resp_put_search(c, b);
    return true;
  case ST_ITEM_DONE:
    resp_put_item(c, b, true);
    c->item_no++;
    c->st = ST_NEXT_ITEM;
    return true;
  case ST_TERMINAL:
    resp_put_response(e, b, e->terminal, false);
    c->st = ST_END;
    return true;
  case ST_END:
    return false;
  default: /* the stages of one part */
    ev = resp_put_part_event(e, b);
    if(!ev || (c->st != ST_DELTA && c->st != ST_ANNOT))
      c->st = resp_part_after(c);
    return ev;
  }
}

/* replay_next_event's view of this encoder. */
static bool resp_done(const void *e)
{
  return ((const struct sse_responses *)e)->c.st == ST_END;
}

static bool resp_step_any(void *e, struct buf *b)
{
  return resp_step(e, b);
}

static int resp_next(void *enc, struct buf *out)
{
  struct sse_responses *e = enc;
  struct resp_cursor saved;
  if(resp_plain_delta_next(e)) {  /* most events: only pos and seq move */
    const char *pos = e->c.pos;
    size_t seq = e->c.seq, start = out->len;
    resp_put_part_event(e, out);
    if(!out->oom)
      return 1;
    e->c.pos = pos;
    e->c.seq = seq;
    out->len = start;
    return -1;
  }
  return replay_next_event(e, &e->c, &saved, sizeof(saved), resp_done,
                           resp_step_any, out);
}

static void resp_close(void *enc)
{
  struct sse_responses *e = enc;
  if(e)
    buf_free(&e->delta_head);
  free(e);
}

const struct replay_encoder sse_responses_encoder = {
  "response", sse_responses_open, resp_next, resp_close
};
