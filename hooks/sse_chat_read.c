/* sse_chat_read.c - reading and validating a chat.completion answer for
 * the encoder (see sse_chat.c for the replay rules): everything the
 * encoder cannot replay exactly is refused here, once, with a reason. */
#include "sse_chat_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const chat_choice_names[] = {
  "index", "message", "logprobs", "finish_reason", "content_filter_results",
  NULL
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
bool chat_has_text(struct json_span s)
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
bool chat_fn_read(struct json_span fn, struct chat_tool *t,
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
bool chat_tool_read(struct json_span call, struct chat_tool *t,
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
bool chat_choice_read(struct json_span c, struct chat_choice *ch,
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
  if(!chat_get(c, "content_filter_results", T(JSON_OBJECT) | T(JSON_NONE),
               &ch->filter))
    return chat_fail(why, "content_filter_results is not an object");
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
  if(!chat_get(root, "prompt_filter_results", T(JSON_ARRAY) | T(JSON_NONE),
               &e->prompt_filter))
    return chat_fail(why, "prompt_filter_results is not an array");
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
  e->c.st = ST_PROMPT_FILTER;
  json_iter_init(&e->c.choice_it, e->choices);
  return e;
}

