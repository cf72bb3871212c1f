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

enum chat_stage {
  ST_NEXT_CHOICE, ST_ROLE, ST_REASON, ST_CONTENT, ST_REFUSAL,
  ST_TOOL_HEAD, ST_TOOL_ARGS, ST_FUNC_HEAD, ST_FUNC_ARGS, ST_FINAL,
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

/* Set *why and return false: the shape of every refusal below. */
static bool chat_fail(const char **why, const char *reason)
{
  *why = reason;
  return false;
}

/* Is key one of the NULL-terminated names? */
static bool chat_key_in(struct json_span key, const char *const *names)
{
  for(; *names; names++)
    if(json_key_is(key, *names))
      return true;
  return false;
}

/* Does every member of object obj have one of the names? */
static bool chat_members_known(struct json_span obj, const char *const *names)
{
  struct json_iter it;
  struct json_span key, val;
  json_iter_init(&it, obj);
  while(json_next_member(&it, &key, &val))
    if(!chat_key_in(key, names))
      return false;
  return true;
}

/* Is s a string, null or absent (a text member the stream can carry)? */
static bool chat_text_ok(struct json_span s)
{
  return s.type == JSON_STRING || s.type == JSON_NULL || s.type == JSON_NONE;
}

/* Does s hold a string with at least one character (one piece or more)? */
static bool chat_has_text(struct json_span s)
{
  return s.type == JSON_STRING && s.len > 2;
}

/* Is s a non-negative integer written with digits only? */
static bool chat_is_index(struct json_span s)
{
  if(s.type != JSON_NUMBER)
    return false;
  for(size_t i = 0; i < s.len; i++)
    if(s.ptr[i] < '0' || s.ptr[i] > '9')
      return false;
  return true;
}

/* Read the function object {name, arguments} of a tool call or of a
 * legacy function_call into t->name and t->args. */
static bool chat_fn_read(struct json_span fn, struct chat_tool *t,
                         const char **why)
{
  if(fn.type != JSON_OBJECT)
    return chat_fail(why, "function is not an object");
  if(!chat_members_known(fn, chat_fn_names))
    return chat_fail(why, "unknown function member");
  json_get(fn, "name", &t->name);
  json_get(fn, "arguments", &t->args);
  if(t->name.type != JSON_STRING || t->args.type != JSON_STRING)
    return chat_fail(why, "function name or arguments not a string");
  return true;
}

/* Read one element of tool_calls: {id, type:"function", function}. */
static bool chat_tool_read(struct json_span call, struct chat_tool *t,
                           const char **why)
{
  struct json_span fn;
  if(call.type != JSON_OBJECT)
    return chat_fail(why, "tool call is not an object");
  if(!chat_members_known(call, chat_tool_names))
    return chat_fail(why, "unknown tool call member");
  json_get(call, "id", &t->id);
  json_get(call, "type", &t->type);
  json_get(call, "function", &fn);
  if(t->id.type != JSON_STRING)
    return chat_fail(why, "tool call id is not a string");
  if(t->type.type != JSON_STRING || !json_key_is(t->type, "function"))
    return chat_fail(why, "tool call type is not \"function\"");
  return chat_fn_read(fn, t, why);
}

/* Check every tool call of a tool_calls array. */
static bool chat_tools_check(struct json_span tools, const char **why)
{
  struct json_iter it;
  struct json_span call;
  struct chat_tool t;
  json_iter_init(&it, tools);
  while(json_next_element(&it, &call))
    if(!chat_tool_read(call, &t, why))
      return false;
  return true;
}

/* Is annotations absent or an empty array? */
static bool chat_annotations_ok(struct json_span msg)
{
  struct json_span a, el;
  struct json_iter it;
  if(!json_get(msg, "annotations", &a))
    return true;
  if(a.type != JSON_ARRAY)
    return false;
  json_iter_init(&it, a);
  return !json_next_element(&it, &el);
}

/* Read and check the tool_calls and function_call members of a message. */
static bool chat_calls_read(struct json_span msg, struct chat_choice *ch,
                            const char **why)
{
  struct chat_tool t;
  json_get(msg, "tool_calls", &ch->tools);
  json_get(msg, "function_call", &ch->fcall);
  if(ch->tools.type == JSON_ARRAY) {
    if(!chat_tools_check(ch->tools, why))
      return false;
  }
  else if(ch->tools.type != JSON_NULL && ch->tools.type != JSON_NONE)
    return chat_fail(why, "tool_calls is not an array");
  if(ch->fcall.type == JSON_OBJECT)
    return chat_fn_read(ch->fcall, &t, why);
  if(ch->fcall.type != JSON_NULL && ch->fcall.type != JSON_NONE)
    return chat_fail(why, "function_call is not an object");
  return true;
}

/* Read and check a choice's message. */
static bool chat_msg_read(struct json_span msg, struct chat_choice *ch,
                          const char **why)
{
  if(msg.type != JSON_OBJECT)
    return chat_fail(why, "message is not an object");
  if(!chat_members_known(msg, chat_msg_names))
    return chat_fail(why, "unknown message member");
  json_get(msg, "role", &ch->role);
  json_get(msg, "content", &ch->content);
  json_get(msg, "refusal", &ch->refusal);
  json_get(msg, "reasoning_content", &ch->reasoning);
  if(ch->role.type != JSON_STRING)
    return chat_fail(why, "message role is not a string");
  if(!chat_text_ok(ch->content) || !chat_text_ok(ch->refusal) ||
     !chat_text_ok(ch->reasoning))
    return chat_fail(why, "message text member is not a string or null");
  if(!chat_annotations_ok(msg))
    return chat_fail(why, "message annotations not empty");
  return chat_calls_read(msg, ch, why);
}

/* Read and check one element of "choices". */
static bool chat_choice_read(struct json_span c, struct chat_choice *ch,
                             const char **why)
{
  struct json_span msg, lp;
  if(c.type != JSON_OBJECT)
    return chat_fail(why, "choice is not an object");
  if(!chat_members_known(c, chat_choice_names))
    return chat_fail(why, "unknown choice member");
  json_get(c, "index", &ch->index);
  json_get(c, "finish_reason", &ch->finish);
  json_get(c, "logprobs", &lp);
  if(!json_get(c, "message", &msg))
    return chat_fail(why, "choice has no message");
  if(!chat_is_index(ch->index))
    return chat_fail(why, "choice index is not an integer");
  if(lp.type != JSON_NONE && lp.type != JSON_NULL)
    return chat_fail(why, "choice logprobs not null");
  if(ch->finish.type != JSON_STRING && ch->finish.type != JSON_NULL)
    return chat_fail(why, "choice finish_reason not a string or null");
  return chat_msg_read(msg, ch, why);
}

/* Check the top-level members and remember those copied to every chunk. */
static bool chat_top_read(struct json_span root, struct sse_chat *e,
                          const char **why)
{
  struct json_iter it;
  struct json_span key, val, obj;
  json_iter_init(&it, root);
  while(json_next_member(&it, &key, &val))
    if(json_key_is(key, "prompt_filter_results"))
      return chat_fail(why, "prompt_filter_results not replayed");
  /* other unknown members: ignored, not copied (see the file comment) */
  if(!json_get(root, "object", &obj) || obj.type != JSON_STRING ||
     !json_key_is(obj, "chat.completion"))
    return chat_fail(why, "not a chat.completion");
  json_get(root, "id", &e->id);
  json_get(root, "created", &e->created);
  json_get(root, "model", &e->model);
  json_get(root, "service_tier", &e->tier);
  json_get(root, "system_fingerprint", &e->fp);
  json_get(root, "usage", &e->usage);
  json_get(root, "choices", &e->choices);
  if(e->id.type != JSON_STRING || e->model.type != JSON_STRING ||
     e->created.type != JSON_NUMBER)
    return chat_fail(why, "id, created or model missing or mistyped");
  if(e->choices.type != JSON_ARRAY)
    return chat_fail(why, "choices is not an array");
  if(e->usage.type != JSON_OBJECT && e->usage.type != JSON_NULL &&
     e->usage.type != JSON_NONE)
    return chat_fail(why, "usage is not an object");
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

static void chat_put(struct buf *b, const char *s)
{
  buf_puts(b, s);
}

/* Append a value copied from the answer. Scalars are copied as they are;
 * containers lose the whitespace between tokens (one-line framing). */
static void chat_put_span(struct buf *b, struct json_span s)
{
  const char *p = s.ptr, *end = s.ptr + s.len, *run = s.ptr;
  bool in_str = false;
  if(s.type != JSON_OBJECT && s.type != JSON_ARRAY) {
    buf_append(b, s.ptr, s.len);
    return;
  }
  for(; p < end; p++) {
    if(in_str) {
      if(*p == '\\')
        p++;
      else if(*p == '"')
        in_str = false;
    }
    else if(*p == '"')
      in_str = true;
    else if(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
      buf_append(b, run, (size_t)(p - run));
      run = p + 1;
    }
  }
  buf_append(b, run, (size_t)(end - run));
}

/* Append v in decimal. */
static void chat_put_uint(struct buf *b, size_t v)
{
  char tmp[24];
  size_t i = sizeof(tmp);
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while(v);
  buf_append(b, tmp + i, sizeof(tmp) - i);
}

/* Append the start of a chunk event, up to and including "choices":[ */
static void chat_chunk_head(const struct sse_chat *e, struct buf *b)
{
  chat_put(b, "data: {\"id\":");
  chat_put_span(b, e->id);
  chat_put(b, ",\"object\":\"chat.completion.chunk\",\"created\":");
  chat_put_span(b, e->created);
  chat_put(b, ",\"model\":");
  chat_put_span(b, e->model);
  if(e->tier.type != JSON_NONE) {
    chat_put(b, ",\"service_tier\":");
    chat_put_span(b, e->tier);
  }
  if(e->fp.type != JSON_NONE) {
    chat_put(b, ",\"system_fingerprint\":");
    chat_put_span(b, e->fp);
  }
  chat_put(b, ",\"choices\":[");
}

/* Append a chunk head and the current choice's entry up to "delta":{ */
static void chat_delta_open(const struct sse_chat *e, struct buf *b)
{
  chat_chunk_head(e, b);
  chat_put(b, "{\"index\":");
  chat_put_span(b, e->c.ch.index);
  chat_put(b, ",\"delta\":{");
}

/* Close the delta, the choice entry (finish_reason raw when given, else
 * null) and the chunk, with "usage":null when usage was asked for. */
static void chat_delta_close(const struct sse_chat *e, struct buf *b,
                             const struct json_span *finish)
{
  chat_put(b, "},\"logprobs\":null,\"finish_reason\":");
  if(finish)
    chat_put_span(b, *finish);
  else
    chat_put(b, "null");
  chat_put(b, e->include_usage ? "}],\"usage\":null}\n\n" : "}]}\n\n");
}

/* Append the first fragment of the current tool call. */
static void chat_put_tool_head(const struct sse_chat *e, struct buf *b)
{
  chat_put(b, "\"tool_calls\":[{\"index\":");
  chat_put_uint(b, e->c.tool_no);
  chat_put(b, ",\"id\":");
  chat_put_span(b, e->c.tool.id);
  chat_put(b, ",\"type\":");
  chat_put_span(b, e->c.tool.type);
  chat_put(b, ",\"function\":{\"name\":");
  chat_put_span(b, e->c.tool.name);
  chat_put(b, ",\"arguments\":\"\"}}]");
}

/* Append the first fragment of the legacy function_call. */
static void chat_put_func_head(const struct sse_chat *e, struct buf *b)
{
  chat_put(b, "\"function_call\":{\"name\":");
  chat_put_span(b, e->c.tool.name);
  chat_put(b, ",\"arguments\":\"\"}");
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
  chat_put(b, "\"role\":");
  chat_put_span(b, c->ch.role);
  chat_put(b, c->ch.content.type == JSON_STRING ? ",\"content\":\"\","
                                                : ",\"content\":null,");
  if(c->st == ST_TOOL_ARGS)
    chat_put_tool_head(e, b);
  else if(c->st == ST_FUNC_ARGS)
    chat_put_func_head(e, b);
  if(c->st != ST_REASON)
    chat_put(b, ",");
  chat_put(b, c->ch.refusal.type == JSON_STRING ? "\"refusal\":\"\""
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
  switch(c->st) {
  case ST_REASON:
    chat_put(b, "\"reasoning_content\":\"");
    break;
  case ST_CONTENT:
    chat_put(b, "\"content\":\"");
    break;
  case ST_REFUSAL:
    chat_put(b, "\"refusal\":\"");
    break;
  case ST_TOOL_ARGS:
    chat_put(b, "\"tool_calls\":[{\"index\":");
    chat_put_uint(b, c->tool_no);
    chat_put(b, ",\"function\":{\"arguments\":\"");
    break;
  default: /* ST_FUNC_ARGS */
    chat_put(b, "\"function_call\":{\"arguments\":\"");
    break;
  }
  buf_append(b, c->pos, (size_t)(stop - c->pos));
  chat_put(b, c->st == ST_TOOL_ARGS ? "\"}}]"
              : c->st == ST_FUNC_ARGS ? "\"}" : "\"");
  chat_delta_close(e, b, NULL);
  c->pos = stop;
}

/* Emit the chunk that starts the current tool call or function_call. */
static void chat_emit_head(struct sse_chat *e, struct buf *b)
{
  chat_delta_open(e, b);
  if(e->c.st == ST_TOOL_ARGS)
    chat_put_tool_head(e, b);
  else
    chat_put_func_head(e, b);
  chat_delta_close(e, b, NULL);
}

/* Emit the last chunk of the current choice: empty delta, finish_reason. */
static void chat_emit_final(struct sse_chat *e, struct buf *b)
{
  chat_delta_open(e, b);
  chat_delta_close(e, b, &e->c.ch.finish);
}

/* Emit the usage chunk: no choices, the answer's usage object. */
static void chat_emit_usage(struct sse_chat *e, struct buf *b)
{
  chat_chunk_head(e, b);
  chat_put(b, "],\"usage\":");
  chat_put_span(b, e->usage);
  chat_put(b, "}\n\n");
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
    chat_emit_head(e, b);
    return true;
  case ST_FINAL:
    chat_emit_final(e, b);
    c->st = ST_NEXT_CHOICE;
    return true;
  case ST_USAGE:
    c->st = ST_DONE;
    if(!e->include_usage || e->usage.type != JSON_OBJECT)
      return false;
    chat_emit_usage(e, b);
    return true;
  case ST_DONE:
    chat_put(b, "data: [DONE]\n\n");
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
