/* sse_messages.c - replay an Anthropic Messages answer ("type":"message",
 * POST /v1/messages) as the event stream the API sends with
 * "stream": true (see sse_messages.h; wire format in
 * the README, "The streams replayed"; accumulation rules in the
 * @anthropic-ai/sdk 1.13.0 MessageStream, which must rebuild the answer).
 *
 * sse_messages_open() (sse_messages_read.c) validates the whole answer once
 * and refuses anything it cannot replay exactly; its next() then
 * walks the answer's own bytes with a small cursor, one event per call,
 * copying strings and numbers raw. Every event is "event: T\ndata: {...}"
 * with T equal to data.type (the SDK drops events without an event line):
 *   message_start   the answer's members in its order, with content [],
 *                   stop_reason/stop_sequence (and stop_details) null
 *   per block i:    content_block_start, its deltas, content_block_stop
 *   ping            once, after the first content_block_start (after
 *                   message_start when content is empty)
 *   message_delta   delta {stop_reason, stop_sequence[, stop_details]
 *                   [, container]}, usage (see below)
 *   message_stop    and no [DONE].
 * Blocks:
 *   text            start {..,"text":""[,"citations":[]]}; one
 *                   citations_delta per citation; text_delta pieces
 *   thinking        start {..,"thinking":"","signature":""};
 *                   thinking_delta pieces; one signature_delta (whole)
 *   tool_use,       start {..,"input":{}}; input_json_delta "" first (as
 *   server_tool_use the API sends), then pieces of the input's compact
 *                   JSON text, JSON-escaped; they concatenate to it
 *   redacted_thinking and the server tool results (web_search_tool_result,
 *                   web_fetch_tool_result, code execution results,
 *                   tool_search_tool_result, container_upload): whole in
 *                   content_block_start, no delta (the API does that and
 *                   MessageStream has no delta type for them).
 *
 * Decisions (each checked by tests/unit/test_sse_messages.c):
 * - Block members other than the streamed ones (id, name, caller,
 *   toolset_name, and citations null) are copied into content_block_start
 *   in the answer's order; unknown block members and unknown block types
 *   are refused (a client would not know where the stream puts them).
 * - Unknown top-level members are copied into message_start: MessageStream
 *   starts its snapshot from message_start's message, so they come back
 *   exactly. container is copied there too and repeated in message_delta
 *   when the answer has it; stop_details is null in message_start and
 *   given in message_delta (MessageStream takes it, even when absent, from
 *   there).
 * - usage: message_start carries the answer's usage with output_tokens 1
 *   (0 when the answer says 0), as the API reports the first token;
 *   message_delta repeats the counters MessageStream overwrites from there
 *   (input_tokens, cache_creation_input_tokens, cache_read_input_tokens,
 *   output_tokens, server_tool_use, output_tokens_details) in the answer's
 *   order: they are cumulative totals. cache_creation, service_tier and
 *   other members live in message_start only.
 * - The input_json_delta pieces are cut from the input with the whitespace
 *   between tokens dropped (its compact text), at most piece_chars
 *   characters each (an escape or a UTF-8 sequence inside a string counts
 *   as one and is never split), ending after a space inside a string or a
 *   comma outside one when there is one.
 * - Copied containers (citations, whole blocks, usage members) are
 *   compacted like every encoder's: strings and numbers stay
 *   byte-identical.
 * - piece_chars 0 is taken as 1; replay_opts.include_usage does not apply.
 */
#include "sse_messages_int.h"

#include <stdlib.h>

#include "sse_piece.h"

/* ---- writing events ---- */

/* Append "event: T\ndata: {"type":"T"" for the NUL-terminated type T. */
static void msg_event_open(struct buf *b, const char *type)
{
  buf_puts(b, "event: ");
  buf_puts(b, type);
  buf_puts(b, "\ndata: {\"type\":\"");
  buf_puts(b, type);
  buf_puts(b, "\"");
}

/* Append a member key (raw, as the answer spells it) and its colon. */
static void msg_put_key(struct buf *b, struct json_span key, bool *first)
{
  if(!*first)
    buf_puts(b, ",");
  *first = false;
  buf_append(b, key.ptr, key.len);
  buf_puts(b, ":");
}

/* Append the answer's usage object with output_tokens as the API reports
 * it at message_start: 1, or 0 when the final count is 0. */
static void msg_put_start_usage(const struct sse_messages *e, struct buf *b)
{
  struct json_iter it;
  struct json_span k, v;
  bool first = true;
  buf_puts(b, "{");
  json_iter_init(&it, e->usage);
  while(json_next_member(&it, &k, &v)) {
    msg_put_key(b, k, &first);
    if(json_key_is(k, "output_tokens") && v.type == JSON_NUMBER)
      buf_puts(b, v.len == 1 && v.ptr[0] == '0' ? "0" : "1");
    else
      sse_put_value(b, v);
  }
  buf_puts(b, "}");
}

/* message_start: the answer's members, with the streamed ones emptied. */
static void msg_emit_start(const struct sse_messages *e, struct buf *b)
{
  struct json_iter it;
  struct json_span k, v;
  bool first = true;
  msg_event_open(b, "message_start");
  buf_puts(b, ",\"message\":{");
  json_iter_init(&it, e->root);
  while(json_next_member(&it, &k, &v)) {
    msg_put_key(b, k, &first);
    if(json_key_is(k, "content"))
      buf_puts(b, "[]");
    else if(json_key_is(k, "stop_reason") || json_key_is(k, "stop_sequence") ||
            json_key_is(k, "stop_details"))
      buf_puts(b, "null");
    else if(json_key_is(k, "usage"))
      msg_put_start_usage(e, b);
    else
      sse_put_value(b, v);
  }
  buf_puts(b, "}}\n\n");
}

/* content_block_start for the current block: streamed members emptied,
 * the others copied (a whole block is copied as it is). */
static void msg_emit_block_start(const struct msg_cursor *c, struct buf *b)
{
  struct json_iter it;
  struct json_span k, v;
  bool first = true;
  msg_event_open(b, "content_block_start");
  buf_puts(b, ",\"index\":");
  sse_put_uint(b, c->index);
  buf_puts(b, ",\"content_block\":");
  if(c->b.kind == MK_WHOLE) {
    sse_put_value(b, c->b.obj);
    buf_puts(b, "}\n\n");
    return;
  }
  buf_puts(b, "{");
  json_iter_init(&it, c->b.obj);
  while(json_next_member(&it, &k, &v)) {
    msg_put_key(b, k, &first);
    if(c->b.kind == MK_TEXT && json_key_is(k, "text"))
      buf_puts(b, "\"\"");
    else if(c->b.kind == MK_TEXT && json_key_is(k, "citations"))
      buf_puts(b, v.type == JSON_ARRAY ? "[]" : "null");
    else if(c->b.kind == MK_THINKING && (json_key_is(k, "thinking") ||
                                         json_key_is(k, "signature")))
      buf_puts(b, "\"\"");
    else if(c->b.kind == MK_TOOL && json_key_is(k, "input"))
      buf_puts(b, "{}");
    else
      sse_put_value(b, v);
  }
  buf_puts(b, "}}\n\n");
}

/* Append the head of a content_block_delta of the given delta type, up
 * to the delta's type member. */
static void msg_delta_open(const struct msg_cursor *c, struct buf *b,
                           const char *dtype)
{
  msg_event_open(b, "content_block_delta");
  buf_puts(b, ",\"index\":");
  sse_put_uint(b, c->index);
  buf_puts(b, ",\"delta\":{\"type\":\"");
  buf_puts(b, dtype);
  buf_puts(b, "\"");
}

/* content_block_stop or a member-less event such as ping. */
static void msg_emit_simple(const struct msg_cursor *c, struct buf *b,
                            const char *type)
{
  msg_event_open(b, type);
  if(c) {
    buf_puts(b, ",\"index\":");
    sse_put_uint(b, c->index);
  }
  buf_puts(b, "}\n\n");
}

/* message_delta: the stop members and the cumulative usage counters. */
static void msg_emit_delta(const struct sse_messages *e, struct buf *b)
{
  struct json_iter it;
  struct json_span k, v;
  bool first = true;
  msg_event_open(b, "message_delta");
  buf_puts(b, ",\"delta\":{\"stop_reason\":");
  sse_put_value(b, e->stop_reason);
  buf_puts(b, ",\"stop_sequence\":");
  sse_put_value(b, e->stop_sequence);
  if(e->stop_details.type != JSON_NONE) {
    buf_puts(b, ",\"stop_details\":");
    sse_put_value(b, e->stop_details);
  }
  if(e->container.type != JSON_NONE) {
    buf_puts(b, ",\"container\":");
    sse_put_value(b, e->container);
  }
  buf_puts(b, "},\"usage\":{");
  json_iter_init(&it, e->usage);
  while(json_next_member(&it, &k, &v)) {
    if(!msg_delta_usage_key(k))
      continue;
    msg_put_key(b, k, &first);
    sse_put_value(b, v);
  }
  buf_puts(b, "}}\n\n");
}

/* ---- cutting a tool input's JSON text ---- */

/* Is c JSON whitespace? */
static bool msg_ws(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Bytes of the next character of the input text at p, whose string state
 * is in_str (whitespace outside strings is not a character: 0 chars). */
static size_t msg_input_char(const char *p, const char *end, bool in_str)
{
  if(in_str && *p != '"')
    return piece_char_len(p, end);
  return 1;
}

/* End of the next piece of the input text [p, end) starting in string
 * state in_str: at most max characters, ending after a space inside a
 * string or a comma outside one when there is one. *out_str gets the
 * string state at the end. */
static const char *msg_input_next(const char *p, const char *end, bool in_str,
                                  size_t max, bool *out_str)
{
  const char *q = p, *cut = NULL;
  bool cut_str = in_str;
  size_t n = 0;
  while(q < end && n < max) {
    if(!in_str && msg_ws(*q)) {
      q++;
      continue;
    }
    size_t len = msg_input_char(q, end, in_str);
    bool soft = in_str ? (len == 1 && *q == ' ') : *q == ',';
    if(*q == '"')
      in_str = !in_str;
    q += len;
    n++;
    if(soft) {
      cut = q;
      cut_str = in_str;
    }
  }
  while(q < end && !in_str && msg_ws(*q))  /* trailing blanks go along */
    q++;
  if(q == end || !cut) {
    *out_str = in_str;
    return q;
  }
  *out_str = cut_str;
  return cut;
}

/* Append [p, stop) of the input text JSON-escaped, without the whitespace
 * between tokens (in_str: the string state at p). */
static void msg_input_put(struct buf *b, const char *p, const char *stop,
                          bool in_str)
{
  const char *run = p;
  for(; p < stop; p++) {
    char ch = *p;
    if(!in_str && msg_ws(ch)) {
      buf_append(b, run, (size_t)(p - run));
      run = p + 1;
    }
    else if(ch == '"' || ch == '\\') {
      buf_append(b, run, (size_t)(p - run));
      buf_puts(b, ch == '"' ? "\\\"" : "\\\\");
      run = p + 1;
      if(ch == '"')
        in_str = !in_str;
      else if(p + 1 < stop) {  /* the escaped character: copied next */
        p++;
        if(*p == '"' || *p == '\\') {
          buf_puts(b, *p == '"' ? "\\\"" : "\\\\");
          run = p + 1;
        }
      }
    }
  }
  buf_append(b, run, (size_t)(stop - run));
}

/* ---- the cursor ---- */

/* Point the cursor at the raw text of string s (or of an object's JSON
 * text when whole is set). */
static void msg_set_text(struct msg_cursor *c, struct json_span s, bool whole)
{
  c->pos = whole ? s.ptr : s.ptr + 1;
  c->end = whole ? s.ptr + s.len : s.ptr + s.len - 1;
  c->in_str = false;
}

/* Make the next content block current and emit its content_block_start;
 * false (and no event) when the content is used up. */
static bool msg_block_next(struct sse_messages *e, struct buf *b)
{
  struct msg_cursor *c = &e->c;
  struct json_span blk;
  const char *ignored;
  if(!json_next_element(&c->block_it, &blk))
    return false;
  msg_block_read(blk, &c->b, &ignored);  /* checked by open */
  msg_emit_block_start(c, b);
  switch(c->b.kind) {
  case MK_TEXT:
    json_iter_init(&c->cite_it, c->b.cites);
    c->st = MS_CITES;
    break;
  case MK_THINKING:
    msg_set_text(c, c->b.text, false);
    c->st = MS_TEXT;
    break;
  case MK_TOOL:
    c->st = MS_INPUT_FIRST;
    break;
  default:
    c->st = MS_STOP;
    break;
  }
  return true;
}

/* Emit one piece of the text or thinking under the cursor. */
static void msg_emit_piece(struct sse_messages *e, struct buf *b)
{
  struct msg_cursor *c = &e->c;
  const char *stop = piece_next_known(c->pos, c->end, e->piece_chars,
                                      &e->plain);
  bool text = c->b.kind == MK_TEXT;
  msg_delta_open(c, b, text ? "text_delta" : "thinking_delta");
  buf_puts(b, text ? ",\"text\":\"" : ",\"thinking\":\"");
  buf_append(b, c->pos, (size_t)(stop - c->pos));
  buf_puts(b, "\"}}\n\n");
  c->pos = stop;
}

/* Emit one input_json_delta piece of the tool input under the cursor. */
static void msg_emit_input(struct sse_messages *e, struct buf *b)
{
  struct msg_cursor *c = &e->c;
  bool str_after;
  const char *stop = msg_input_next(c->pos, c->end, c->in_str, e->piece_chars,
                                    &str_after);
  msg_delta_open(c, b, "input_json_delta");
  buf_puts(b, ",\"partial_json\":\"");
  msg_input_put(b, c->pos, stop, c->in_str);
  buf_puts(b, "\"}}\n\n");
  c->pos = stop;
  c->in_str = str_after;
}

/* Advance the replay by one stage. Returns true when an event was
 * appended to b, false when only the stage changed. */
static bool msg_step(struct sse_messages *e, struct buf *b)
{
  struct msg_cursor *c = &e->c;
  struct json_span cite;
  switch(c->st) {
  case MS_START:
    msg_emit_start(e, b);
    c->st = MS_BLOCK;
    return true;
  case MS_BLOCK:
    if(!msg_block_next(e, b)) {
      c->after_ping = MS_DELTA;
      c->st = c->pinged ? MS_DELTA : MS_PING;
      return false;
    }
    if(!c->pinged) {  /* the API pings after the first block starts */
      c->after_ping = c->st;
      c->st = MS_PING;
    }
    return true;
  case MS_PING:
    msg_emit_simple(NULL, b, "ping");
    c->pinged = true;
    c->st = c->after_ping;
    return true;
  case MS_CITES:
    if(c->b.cites.type == JSON_ARRAY && json_next_element(&c->cite_it, &cite)) {
      msg_delta_open(c, b, "citations_delta");
      buf_puts(b, ",\"citation\":");
      sse_put_value(b, cite);
      buf_puts(b, "}}\n\n");
      return true;
    }
    msg_set_text(c, c->b.text, false);
    c->st = MS_TEXT;
    return false;
  case MS_TEXT:
    if(c->pos < c->end) {
      msg_emit_piece(e, b);
      return true;
    }
    c->st = c->b.kind == MK_THINKING ? MS_SIG : MS_STOP;
    return false;
  case MS_INPUT_FIRST:  /* the API's first input_json_delta is empty */
    msg_delta_open(c, b, "input_json_delta");
    buf_puts(b, ",\"partial_json\":\"\"}}\n\n");
    msg_set_text(c, c->b.text, true);
    c->st = MS_INPUT;
    return true;
  case MS_INPUT:
    if(c->pos < c->end) {
      msg_emit_input(e, b);
      return true;
    }
    c->st = MS_STOP;
    return false;
  case MS_SIG:  /* the whole signature, just before the block stops */
    msg_delta_open(c, b, "signature_delta");
    buf_puts(b, ",\"signature\":");
    sse_put_value(b, c->b.sig);
    buf_puts(b, "}}\n\n");
    c->st = MS_STOP;
    return true;
  case MS_STOP:
    msg_emit_simple(c, b, "content_block_stop");
    c->index++;
    c->st = MS_BLOCK;
    return true;
  case MS_DELTA:
    msg_emit_delta(e, b);
    c->st = MS_MSTOP;
    return true;
  case MS_MSTOP:
    msg_emit_simple(NULL, b, "message_stop");
    c->st = MS_END;
    return true;
  default: /* MS_END */
    return false;
  }
}

/* replay_next_event's view of this encoder. */
static bool msg_done(const void *e)
{
  return ((const struct sse_messages *)e)->c.st == MS_END;
}

static bool msg_step_any(void *e, struct buf *b)
{
  return msg_step(e, b);
}

static int msg_next(void *enc, struct buf *out)
{
  struct sse_messages *e = enc;
  struct msg_cursor saved;
  return replay_next_event(e, &e->c, &saved, sizeof(saved), msg_done,
                           msg_step_any, out);
}

static void msg_close(void *enc)
{
  free(enc);
}

const struct replay_encoder sse_messages_encoder = {
  "message", sse_messages_open, msg_next, msg_close
};
