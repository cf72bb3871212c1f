/* sse_chat.c - replay a chat.completion answer as the chat.completion.chunk
 * Server-Sent Events stream the streaming Chat Completions API sends (see
 * sse_chat.h; wire format in specs/sse-formats.md sections 1 and 10).
 *
 * sse_chat_open() validates the whole answer once and refuses anything it
 * cannot replay exactly; sse_chat_next() then walks the answer's own bytes
 * with a small cursor, one event per call, copying strings and numbers
 * raw. Per choice, in array order: role chunk, reasoning_content pieces,
 * content pieces, refusal pieces, tool call fragments, function_call
 * fragments, final chunk; then the usage chunk (if asked) and [DONE].
 *
 * Decisions (each checked by tests/unit/test_sse_chat.c):
 * - The first tool call fragment (or function_call head) is merged into
 *   the role chunk when the choice has no text pieces before it, which is
 *   what api.openai.com sends; otherwise it gets its own chunk after the
 *   text pieces. Both accumulate identically (openai-node, sse-formats 1.3).
 * - Role delta: "content" is "" when the message content is a string, else
 *   null; "refusal" is "" when the message refusal is a string, else null
 *   (the observed refusal stream starts with "content":null,"refusal":"").
 * - include_usage with no usage object in the answer (absent or null):
 *   every chunk still carries "usage":null, but no usage chunk is sent (a
 *   server that reports no usage sends none).
 * - Unknown top-level members are ignored and not copied (vendor extras
 *   such as vLLM's prompt_logprobs describe the request, not the stream);
 *   prompt_filter_results is refused (Azure streams it as its own chunk).
 *   Unknown choice, message, tool call and function members are refused.
 * - Copied containers (usage) are compacted: whitespace between tokens is
 *   dropped so that a pretty-printed answer cannot break the one-line
 *   "data:" framing; every string and number inside stays byte-identical.
 * - Null or empty reasoning_content/tool_calls/function_call send nothing;
 *   annotations must be [] (sent nowhere: the stream never carries them).
 * - No "obfuscation" member: the output is deterministic.
 * - piece_chars 0 is taken as 1. */
#include "sse_chat.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sse_piece.h"

/* One choice of the answer: spans into the answer bytes. Text members are
 * JSON_STRING, JSON_NULL or JSON_NONE (absent). */
struct chat_choice {
  struct json_span index, finish, role;
  struct json_span reasoning, content, refusal;
  struct json_span tools;  /* JSON_ARRAY, or not one: no tool calls */
  struct json_span fcall;  /* JSON_OBJECT, or not one: no function_call */
};

/* One tool call: string spans. */
struct chat_tool {
  struct json_span id, type, name, args;
};

/* Replay stages, in order; a choice runs ST_ROLE..ST_FINAL. */
enum chat_stage {
  ST_NEXT_CHOICE, ST_ROLE, ST_REASON, ST_CONTENT, ST_REFUSAL,
  ST_TOOL_HEAD, ST_TOOL_ARGS, ST_FUNC_ARGS, ST_FINAL,
  ST_USAGE, ST_DONE, ST_END
};

/* Where the replay stands; copied whole so a failed event can be undone. */
struct chat_cursor {
  enum chat_stage st;
  struct json_iter choice_it;  /* over "choices" */
  struct chat_choice ch;       /* the current choice */
  struct json_iter tool_it;    /* over its "tool_calls" */
  struct chat_tool tool;       /* the current tool call */
  size_t tool_no;              /* its position in the array */
  size_t tools_started;        /* tool calls begun in this choice */
  const char *pos, *end;       /* raw text left of the string being cut */
};

struct sse_chat {
  struct json_span id, created, model, tier, fp, usage, choices;
  size_t piece_chars;
  bool include_usage;
  struct chat_cursor c;
};

static const char *const chat_choice_names[] = {
  "index", "message", "logprobs", "finish_reason", NULL
};
static const char *const chat_msg_names[] = {
  "role", "content", "refusal", "reasoning_content", "tool_calls",
  "function_call", "annotations", NULL
};
static const char *const chat_tool_names[] = {"id", "type", "function", NULL};
static const char *const chat_fn_names[] = {"name", "arguments", NULL};

/* ---- reading and validating the answer ---- */

#define T(t) (1u << (t))
#define T_TEXT (T(JSON_STRING) | T(JSON_NULL) | T(JSON_NONE))

/* Set *why and return false: the shape of every refusal below. */
static bool chat_fail(const char **why, const char *reason)
{
  *why = reason;
  return false;
}

/* Member `name` of obj into *v (JSON_NONE when absent); true when its
 * type is in mask, a set of T(type) bits. */
static bool chat_get(struct json_span obj, const char *name, unsigned mask,
                     struct json_span *v)
{
  json_get(obj, name, v);
  return (mask >> v->type) & 1u;
}

/* Is obj an object whose members all have one of the names (a
 * NULL-terminated list)? */
static bool chat_shape(struct json_span obj, const char *const *names)
{
  struct json_iter it;
  struct json_span key, val;
  if(obj.type != JSON_OBJECT)
    return false;
  json_iter_init(&it, obj);
  while(json_next_member(&it, &key, &val)) {
    const char *const *n = names;
    while(*n && !json_key_is(key, *n))
      n++;
    if(!*n)
      return false;
  }
  return true;
}

/* Does s hold a string with at least one character (one piece or more)? */
static bool chat_has_text(struct json_span s)
{
  return s.type == JSON_STRING && s.len > 2;
}

/* Is s a non-negative integer written with digits only? */
static bool chat_is_index(struct json_span s)
{
  for(size_t i = 0; i < s.len; i++)
    if(s.ptr[i] < '0' || s.ptr[i] > '9')
      return false;
  return s.type == JSON_NUMBER;
}

/* Read the {name, arguments} object of a tool call or of a legacy
 * function_call into t->name and t->args. */
static bool chat_fn_read(struct json_span fn, struct chat_tool *t,
                         const char **why)
{
  if(!chat_shape(fn, chat_fn_names))
    return chat_fail(why, "function is not a known object");
  if(!chat_get(fn, "name", T(JSON_STRING), &t->name) ||
     !chat_get(fn, "arguments", T(JSON_STRING), &t->args))
    return chat_fail(why, "function name or arguments not a string");
  return true;
}

/* Read one element of tool_calls: {id, type:"function", function}. */
static bool chat_tool_read(struct json_span call, struct chat_tool *t,
                           const char **why)
{
  struct json_span fn;
  if(!chat_shape(call, chat_tool_names))
    return chat_fail(why, "tool call is not a known object");
  if(!chat_get(call, "id", T(JSON_STRING), &t->id))
    return chat_fail(why, "tool call id is not a string");
  if(!chat_get(call, "type", T(JSON_STRING), &t->type) ||
     !json_key_is(t->type, "function"))
    return chat_fail(why, "tool call type is not \"function\"");
  json_get(call, "function", &fn);
  return chat_fn_read(fn, t, why);
}

/* Read and check the tool_calls and function_call members of a message. */
static bool chat_calls_read(struct json_span msg, struct chat_choice *ch,
                            const char **why)
{
  struct json_iter it;
  struct json_span call;
  struct chat_tool t;
  if(!chat_get(msg, "tool_calls", T(JSON_ARRAY) | T(JSON_NULL) | T(JSON_NONE),
               &ch->tools))
    return chat_fail(why, "tool_calls is not an array");
  json_iter_init(&it, ch->tools);
  while(json_next_element(&it, &call))
    if(!chat_tool_read(call, &t, why))
      return false;
  if(!chat_get(msg, "function_call",
               T(JSON_OBJECT) | T(JSON_NULL) | T(JSON_NONE), &ch->fcall))
    return chat_fail(why, "function_call is not an object");
  return ch->fcall.type != JSON_OBJECT || chat_fn_read(ch->fcall, &t, why);
}

/* Read and check a choice's message; annotations must be absent or []. */
static bool chat_msg_read(struct json_span msg, struct chat_choice *ch,
                          const char **why)
{
  struct json_iter it;
  struct json_span a;
  if(!chat_shape(msg, chat_msg_names))
    return chat_fail(why, "message is not an object or has unknown members");
  if(!chat_get(msg, "role", T(JSON_STRING), &ch->role))
    return chat_fail(why, "message role is not a string");
  if(!chat_get(msg, "content", T_TEXT, &ch->content) ||
     !chat_get(msg, "refusal", T_TEXT, &ch->refusal) ||
     !chat_get(msg, "reasoning_content", T_TEXT, &ch->reasoning))
    return chat_fail(why, "message text member is not a string or null");
  if(!chat_get(msg, "annotations", T(JSON_ARRAY) | T(JSON_NONE), &a))
    return chat_fail(why, "message annotations is not an array");
  json_iter_init(&it, a);
  if(json_next_element(&it, &a))
    return chat_fail(why, "message annotations not empty");
  return chat_calls_read(msg, ch, why);
}

/* Read and check one element of "choices". */
static bool chat_choice_read(struct json_span c, struct chat_choice *ch,
                             const char **why)
{
  struct json_span msg, lp;
  if(!chat_shape(c, chat_choice_names))
    return chat_fail(why, "choice is not an object or has unknown members");
  if(!chat_get(c, "index", T(JSON_NUMBER), &ch->index) ||
     !chat_is_index(ch->index))
    return chat_fail(why, "choice index is not an integer");
  if(!chat_get(c, "logprobs", T(JSON_NULL) | T(JSON_NONE), &lp))
    return chat_fail(why, "choice logprobs not null");
  if(!chat_get(c, "finish_reason", T(JSON_STRING) | T(JSON_NULL),
               &ch->finish))
    return chat_fail(why, "choice finish_reason not a string or null");
  json_get(c, "message", &msg);
  return chat_msg_read(msg, ch, why);
}

/* Check the top-level members and remember those copied to every chunk.
 * Unknown members are ignored and not copied (see the file comment). */
static bool chat_top_read(struct json_span root, struct sse_chat *e,
                          const char **why)
{
  struct json_span obj;
  if(!chat_get(root, "object", T(JSON_STRING), &obj) ||
     !json_key_is(obj, "chat.completion"))
    return chat_fail(why, "not a chat.completion");
  if(json_get(root, "prompt_filter_results", &obj))
    return chat_fail(why, "prompt_filter_results not replayed");
  if(!chat_get(root, "id", T(JSON_STRING), &e->id) ||
     !chat_get(root, "created", T(JSON_NUMBER), &e->created) ||
     !chat_get(root, "model", T(JSON_STRING), &e->model))
    return chat_fail(why, "id, created or model missing or mistyped");
  if(!chat_get(root, "choices", T(JSON_ARRAY), &e->choices))
    return chat_fail(why, "choices is not an array");
  if(!chat_get(root, "usage", T(JSON_OBJECT) | T(JSON_NULL) | T(JSON_NONE),
               &e->usage))
    return chat_fail(why, "usage is not an object");
  json_get(root, "service_tier", &e->tier);
  json_get(root, "system_fingerprint", &e->fp);
  return true;
}

/* Check every choice. */
static bool chat_choices_check(struct json_span choices, const char **why)
{
  struct json_iter it;
  struct json_span c;
  struct chat_choice ch;
  json_iter_init(&it, choices);
  while(json_next_element(&it, &c))
    if(!chat_choice_read(c, &ch, why))
      return false;
  return true;
}

struct sse_chat *sse_chat_open(const char *p, size_t n,
                               const struct replay_opts *o, const char **why)
{
  const char *ignored;
  struct json_span root;
  struct sse_chat tmp;
  if(!why)
    why = &ignored;
  memset(&tmp, 0, sizeof(tmp));
  if(!p || !json_parse(p, n, &root) || root.type != JSON_OBJECT) {
    *why = "answer is not a JSON object";
    return NULL;
  }
  if(!chat_top_read(root, &tmp, why) || !chat_choices_check(tmp.choices, why))
    return NULL;
  struct sse_chat *e = malloc(sizeof(*e));
  if(!e) {
    *why = "out of memory";
    return NULL;
  }
  *e = tmp;
  e->piece_chars = (o && o->piece_chars) ? o->piece_chars : 1;
  e->include_usage = o && o->include_usage;
  e->c.st = ST_NEXT_CHOICE;
  json_iter_init(&e->c.choice_it, e->choices);
  return e;
}

/* ---- writing events ---- */

/* Append the start of a chunk event, up to and including "choices":[ */
static void chat_chunk_head(const struct sse_chat *e, struct buf *b)
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

/* Append a chunk head and the current choice's entry up to "delta":{ */
static void chat_delta_open(const struct sse_chat *e, struct buf *b)
{
  chat_chunk_head(e, b);
  buf_puts(b, "{\"index\":");
  sse_put_value(b, e->c.ch.index);
  buf_puts(b, ",\"delta\":{");
}

/* Close the delta, the choice entry (finish_reason raw when given, else
 * null) and the chunk, with "usage":null when usage was asked for. */
static void chat_delta_close(const struct sse_chat *e, struct buf *b,
                             const struct json_span *finish)
{
  buf_puts(b, "},\"logprobs\":null,\"finish_reason\":");
  if(finish)
    sse_put_value(b, *finish);
  else
    buf_puts(b, "null");
  buf_puts(b, e->include_usage ? "}],\"usage\":null}\n\n" : "}]}\n\n");
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

/* Point the cursor at the raw text of string s (nothing when not one). */
static void chat_set_text(struct chat_cursor *c, struct json_span s)
{
  if(s.type == JSON_STRING) {
    c->pos = s.ptr + 1;
    c->end = s.ptr + s.len - 1;
  }
  else
    c->pos = c->end = NULL;
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
  bool text = chat_has_text(c->ch.reasoning) ||
              chat_has_text(c->ch.content) || chat_has_text(c->ch.refusal);
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
  chat_delta_close(e, b, NULL);
  if(c->st == ST_REASON)
    chat_set_text(c, c->ch.reasoning);
}

/* Emit one piece of the string under the cursor, in the delta member
 * that the current stage names. */
static void chat_emit_piece(struct sse_chat *e, struct buf *b)
{
  struct chat_cursor *c = &e->c;
  const char *stop = piece_next(c->pos, c->end, e->piece_chars);
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
  buf_append(b, c->pos, (size_t)(stop - c->pos));
  buf_puts(b, c->st == ST_TOOL_ARGS ? "\"}}]"
              : c->st == ST_FUNC_ARGS ? "\"}" : "\"");
  chat_delta_close(e, b, NULL);
  c->pos = stop;
}

/* Move to the stage after the string under the cursor is used up. */
static void chat_after_text(struct chat_cursor *c)
{
  switch(c->st) {
  case ST_REASON:
    c->st = ST_CONTENT;
    chat_set_text(c, c->ch.content);
    break;
  case ST_CONTENT:
    c->st = ST_REFUSAL;
    chat_set_text(c, c->ch.refusal);
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
  case ST_NEXT_CHOICE:
    if(!json_next_element(&c->choice_it, &choice)) {
      c->st = ST_USAGE;
      return false;
    }
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
    if(c->pos < c->end) {
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

int sse_chat_next(struct sse_chat *e, struct buf *out)
{
  size_t start = out->len;
  struct chat_cursor saved = e->c;
  for(;;) {
    if(e->c.st == ST_END)
      return 0;
    if(chat_step(e, out))
      break;
  }
  if(out->oom) {
    e->c = saved;  /* undo: after buf_reset() a call redoes this event */
    out->len = start;
    return -1;
  }
  return 1;
}

void sse_chat_close(struct sse_chat *e)
{
  free(e);
}
