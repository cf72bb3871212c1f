/* assemble_messages.c - join an Anthropic Messages stream (POST
 * /v1/messages with "stream": true) into the one message the API returns
 * without streaming (see assemble.h; wire format in the spec's section 5;
 * the reverse of sse_messages.c). The rules are MessageStream's
 * (#accumulateMessage, @anthropic-ai/sdk, and BetaMessageStream's for the
 * beta members); assemble_messages_block.c reads the content block
 * events, assemble_messages_put.c writes the result.
 *
 *   message_start        its message, every member kept in its order;
 *                        content must be [] and usage an object
 *   content_block_start  index must be the next block (the SDK appends and
 *                        then addresses blocks by index); the block is
 *                        kept as it came
 *   content_block_delta  text_delta appends to a text block's text,
 *                        citations_delta adds its citation to citations
 *                        (made when absent or null), thinking_delta
 *                        appends to thinking, signature_delta replaces
 *                        signature, input_json_delta appends partial_json
 *                        to the input text of a tool_use, server_tool_use
 *                        or mcp_tool_use block, compaction_delta (beta)
 *                        appends content and replaces encrypted_content
 *   content_block_stop   a tool block's joined input must parse as a JSON
 *                        value; it is written as the joined bytes (not
 *                        re-serialised); nothing joined: the start's input
 *   message_delta        delta members replace (or are added to) the
 *                        message's, except a null container (the SDK keeps
 *                        the old one); a non-null context_management beside
 *                        delta too (beta); usage: output_tokens replaces,
 *                        and input_tokens, cache_creation_input_tokens,
 *                        cache_read_input_tokens, server_tool_use,
 *                        iterations, fallback_credit, output_tokens_details
 *                        replace when not null (cumulative totals); other
 *                        usage members are ignored, as the SDK does
 *   message_stop         the answer is complete (ASM_END)
 *   ping                 ignored; unknown event names too (the SDK drops
 *                        them), unless their data.type is one of the
 *                        names above: refused (name and type disagree)
 *   error                ASM_ERROR; the body is the data as it came (the
 *                        non-streaming error body has that shape), the
 *                        status asm_error_status() of its "error" object
 *                        (500 without one); a data that is not a JSON
 *                        object becomes {"type":"error","error":{"type":
 *                        "api_error","message":<the data as a string>}}.
 *
 * Decisions (each checked by tests/unit/test_assemble_messages.c):
 * - Every event must have an event: line (the SDK drops events without
 *   one, so such a stream is not an Anthropic stream: refused at once),
 *   and data.type must equal it.
 * - Refused: an event before message_start, a second message_start, a
 *   delta for a block not started, a delta type the block's type does not
 *   take or that is unknown (the SDK would silently lose its content),
 *   and a tool input that does not parse. Accepted as the SDK does: deltas
 *   after a block's stop, blocks left open at message_stop (their input
 *   is checked there), no message_delta at all.
 * - Members message_delta leaves out keep message_start's values (the SDK
 *   sets stop_reason, stop_sequence, stop_details and output_tokens even
 *   when absent, which would drop them).
 * - Blocks keep their members in content_block_start's order, members the
 *   deltas add come last (the SDK moves input last; order is not
 *   meaningful in JSON, the start's is the API's).
 * - Blocks of other types (redacted_thinking, server tool results,
 *   unknown ones) are copied as they came; the beta "fallback" block's
 *   relabelling of model is not done. */
#include "assemble_messages_int.h"

#include <stdlib.h>
#include <string.h>

#include "json_write.h"

#define T(t) JSON_T(t)

/* The usage counters message_delta replaces when not null. */
static const char *const am_delta_usage[] = {
  "input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
  "server_tool_use", "iterations", "fallback_credit", "output_tokens_details",
  NULL
};

bool am_in(struct json_span s, const char *const *names)
{
  while(*names && !json_key_is(s, *names))
    names++;
  return *names != NULL;
}

/* Is the event's name exactly the NUL-terminated name? */
static bool am_name_is(const struct sse_event *ev, const char *name)
{
  size_t n = strlen(name);
  return ev->name_len == n && !memcmp(ev->name, name, n);
}

enum asm_result am_bad(struct am_state *s, const char **why,
                       const char *reason)
{
  s->phase = AP_BAD;
  s->why = reason;
  if(why)
    *why = reason;
  return ASM_BAD;
}

enum asm_result am_oom(struct am_state *s)
{
  s->phase = AP_OOM;
  return ASM_OOM;
}

bool am_key_eq(struct json_span a, struct json_span b)
{
  char x[128], y[128];
  size_t nx, ny;
  if(a.len == b.len && !memcmp(a.ptr, b.ptr, a.len))
    return true;
  if(!memchr(a.ptr, '\\', a.len) && !memchr(b.ptr, '\\', b.len))
    return false;
  return json_string_decode(a, x, sizeof(x), &nx) &&
         json_string_decode(b, y, sizeof(y), &ny) && nx == ny &&
         !memcmp(x, y, nx);
}

struct am_member *am_members_find(const struct am_members *list,
                                  struct json_span key)
{
  for(size_t i = 0; i < list->n; i++) {
    struct json_span k = {list->v[i].kv.ptr, list->v[i].klen, JSON_STRING};
    if(am_key_eq(k, key))
      return &list->v[i];
  }
  return NULL;
}

/* Set member key to val in list (replacing an earlier value, keeping its
 * place). False when memory runs out. */
static bool am_members_set(struct am_members *list, struct json_span key,
                           struct json_span val)
{
  struct am_member *m = am_members_find(list, key);
  if(!m) {
    if(list->n == list->cap) {
      size_t cap = list->cap ? list->cap * 2 : 8;
      struct am_member *v = realloc(list->v, cap * sizeof(*v));
      if(!v)
        return false;
      list->v = v;
      list->cap = cap;
    }
    m = &list->v[list->n++];
    buf_init(&m->kv);
  }
  buf_reset(&m->kv);
  buf_append(&m->kv, key.ptr, key.len);
  buf_append(&m->kv, val.ptr, val.len);
  m->klen = key.len;
  return !m->kv.oom;
}

/* Release a member list. */
static void am_members_free(struct am_members *list)
{
  for(size_t i = 0; i < list->n; i++)
    buf_free(&list->v[i].kv);
  free(list->v);
}

/* ---- the message events ---- */

/* message_start: keep its message (content [] and a usage object). */
static enum asm_result am_on_message_start(struct am_state *s,
                                           struct json_span data,
                                           const char **why)
{
  struct json_span msg, content, usage, first;
  struct json_iter it;
  if(s->phase != AP_OPEN)
    return am_bad(s, why, "a second message_start");
  if(!json_get_typed(data, "message", T(JSON_OBJECT), &msg) ||
     !json_get_typed(msg, "content", T(JSON_ARRAY), &content) ||
     !json_get_typed(msg, "usage", T(JSON_OBJECT), &usage))
    return am_bad(s, why, "message_start without a message with content "
                          "and usage");
  json_iter_init(&it, content);
  if(json_next_element(&it, &first))
    return am_bad(s, why, "message_start's content is not empty");
  if(!buf_append(&s->start, msg.ptr, msg.len))
    return am_oom(s);
  s->phase = AP_STARTED;
  return ASM_MORE;
}

/* Apply message_delta's usage counters (see the rules above). */
static bool am_delta_usage_apply(struct am_state *s, struct json_span u)
{
  struct json_iter it;
  struct json_span k, v;
  json_iter_init(&it, u);
  while(json_next_member(&it, &k, &v)) {
    if(json_key_is(k, "output_tokens") ||
       (v.type != JSON_NULL && am_in(k, am_delta_usage)))
      if(!am_members_set(&s->usage, k, v))
        return false;
  }
  return true;
}

/* message_delta: the members and usage counters it sets (see the rules
 * above); a later one replaces an earlier one's values. */
static enum asm_result am_on_message_delta(struct am_state *s,
                                           struct json_span data,
                                           const char **why)
{
  struct json_iter it;
  struct json_span d, u, k, v;
  if(!json_get_typed(data, "delta", T(JSON_OBJECT), &d) ||
     !json_get_typed(data, "usage", T(JSON_OBJECT) | T(JSON_NONE), &u))
    return am_bad(s, why, "message_delta's delta or usage is not an object");
  json_iter_init(&it, d);
  while(json_next_member(&it, &k, &v)) {
    if(json_key_is(k, "content") || json_key_is(k, "usage"))
      return am_bad(s, why, "message_delta's delta sets content or usage");
    if(json_key_is(k, "container") && v.type == JSON_NULL)
      continue;
    if(!am_members_set(&s->top, k, v))
      return am_oom(s);
  }
  if(json_get(data, "context_management", &v) && v.type != JSON_NULL) {
    json_iter_init(&it, data);
    while(json_next_member(&it, &k, &v))
      if(json_key_is(k, "context_management") && !am_members_set(&s->top, k, v))
        return am_oom(s);
  }
  if(u.type == JSON_OBJECT && !am_delta_usage_apply(s, u))
    return am_oom(s);
  return ASM_MORE;
}

/* message_stop: every tool input must join into JSON; the answer is
 * complete. */
static enum asm_result am_on_message_stop(struct am_state *s,
                                          struct json_span data,
                                          const char **why)
{
  (void)data;
  for(size_t i = 0; i < s->nblocks; i++) {
    struct am_block *b = &s->blocks[i];
    if(b->kind == AK_TOOL && !b->input_ok &&
       am_input_check(s, b, why) != ASM_MORE)
      return s->phase == AP_OOM ? ASM_OOM : ASM_BAD;
  }
  s->phase = AP_END;
  return ASM_END;
}

/* The events this assembler reads, by name. */
static const struct {
  const char *name;
  enum asm_result (*fn)(struct am_state *, struct json_span, const char **);
} am_events[] = {
  {"message_start", am_on_message_start},
  {"content_block_start", am_on_block_start},
  {"content_block_delta", am_on_block_delta},
  {"content_block_stop", am_on_block_stop},
  {"message_delta", am_on_message_delta},
  {"message_stop", am_on_message_stop},
};

#define AM_NEVENTS (sizeof(am_events) / sizeof(am_events[0]))

/* An event of a name this assembler does not read: dropped, as the SDK
 * drops it, unless its data.type is a name it reads (the name and type
 * disagree: SDK 1.13 would take it by its type, later ones drop it). */
static enum asm_result am_unknown(struct am_state *s,
                                  const struct sse_event *ev,
                                  const char **why)
{
  struct json_span data, type;
  if(!json_parse(ev->data, ev->data_len, &data) ||
     !json_get(data, "type", &type))
    return ASM_MORE;
  for(size_t i = 0; i < AM_NEVENTS; i++)
    if(json_key_is(type, am_events[i].name))
      return am_bad(s, why, "an event's name is not its data's type");
  return ASM_MORE;
}

/* An error event: keep its body and status (see the rules above). */
static enum asm_result am_on_error(struct am_state *s,
                                   const struct sse_event *ev)
{
  struct json_span data, err;
  buf_reset(&s->error);
  if(json_parse(ev->data, ev->data_len, &data) && data.type == JSON_OBJECT) {
    buf_append(&s->error, data.ptr, data.len);
    if(json_get(data, "error", &err) && err.type == JSON_OBJECT)
      s->status = asm_error_status(err.ptr, err.len);
    else
      s->status = asm_error_status(NULL, 0);
  }
  else {
    buf_puts(&s->error, "{\"type\":\"error\",\"error\":{\"type\":"
                        "\"api_error\",\"message\":");
    json_put_string(&s->error, ev->data ? ev->data : "", ev->data_len);
    buf_puts(&s->error, "}}");
    s->status = asm_error_status(NULL, 0);
  }
  if(s->error.oom)
    return am_oom(s);
  s->phase = AP_ERROR;
  return ASM_ERROR;
}

/* The result an ended state gives for any further event. */
static enum asm_result am_again(const struct am_state *s, const char **why)
{
  if(s->phase == AP_END)
    return ASM_END;
  if(s->phase == AP_ERROR)
    return ASM_ERROR;
  if(s->phase == AP_OOM)
    return ASM_OOM;
  if(why)
    *why = s->why;
  return ASM_BAD;
}

/* The table's event(): dispatch by the event's name (see the rules). */
static enum asm_result am_event(void *st, const struct sse_event *ev,
                                const char **why)
{
  struct am_state *s = st;
  struct json_span data, type;
  size_t i, n = AM_NEVENTS;
  if(s->phase != AP_OPEN && s->phase != AP_STARTED)
    return am_again(s, why);
  if(!ev->name_len)
    return am_bad(s, why, "an event without an event: line");
  if(am_name_is(ev, "ping"))
    return ASM_MORE;
  if(am_name_is(ev, "error"))
    return am_on_error(s, ev);
  for(i = 0; i < n && !am_name_is(ev, am_events[i].name); i++)
    ;
  if(i == n)
    return am_unknown(s, ev, why);
  if(!json_parse(ev->data, ev->data_len, &data) || data.type != JSON_OBJECT)
    return am_bad(s, why, "an event's data is not a JSON object");
  if(!json_get(data, "type", &type) || !json_key_is(type, am_events[i].name))
    return am_bad(s, why, "an event's name is not its data's type");
  if(s->phase == AP_OPEN && i != 0)
    return am_bad(s, why, "an event before message_start");
  return am_events[i].fn(s, data, why);
}

/* The table's finish(): the message, the error body, or 0 with *why. */
static int am_finish(void *st, bool eof, struct buf *out, const char **why)
{
  struct am_state *s = st;
  const char *ignored;
  if(!why)
    why = &ignored;
  switch(s->phase) {
  case AP_END:
    return am_put_answer(s, out) ? 200 : -1;
  case AP_ERROR:
    return buf_append(out, s->error.ptr, s->error.len) ? s->status : -1;
  case AP_OOM:
    return -1;
  case AP_BAD:
    *why = s->why;
    return 0;
  default:
    *why = eof ? "the stream ended before message_stop"
               : "the stream has not ended";
    return 0;
  }
}

static void *am_open(void)
{
  struct am_state *s = calloc(1, sizeof(*s));
  if(!s)
    return NULL;
  buf_init(&s->start);
  buf_init(&s->error);
  return s;
}

static void am_close(void *st)
{
  struct am_state *s = st;
  if(!s)
    return;
  for(size_t i = 0; i < s->nblocks; i++)
    am_block_free(&s->blocks[i]);
  free(s->blocks);
  am_members_free(&s->top);
  am_members_free(&s->usage);
  buf_free(&s->start);
  buf_free(&s->error);
  free(s);
}

const struct assembler messages_assembler = {
  "message", am_open, am_event, am_finish, am_close
};
