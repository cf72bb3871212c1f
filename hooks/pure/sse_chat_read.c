/* sse_chat_read.c - reading and validating a chat.completion answer for
 * the encoder (see sse_chat.c for the replay rules): everything the
 * encoder cannot replay exactly is refused here, once, with a reason. */
#include "sse_chat_int.h"

#include <stdlib.h>
#include <string.h>

#include "asm_part.h"
#include "logprobs.h"

/* The members each object may have, read in one walk (json_pick); the
 * enums give their places. */
static const char *const chat_choice_names[] = {
  "index", "message", "logprobs", "finish_reason", "content_filter_results",
  NULL
};
enum { CH_INDEX, CH_MESSAGE, CH_LOGPROBS, CH_FINISH, CH_FILTER, CH_N };
static const char *const chat_msg_names[] = {
  "role", "content", "refusal", "reasoning_content", "tool_calls",
  "function_call", "annotations", NULL
};
enum { MS_ROLE, MS_CONTENT, MS_REFUSAL, MS_REASONING, MS_TOOLS, MS_FCALL,
       MS_ANNOTATIONS, MS_N };
static const char *const chat_tool_names[] = {"id", "type", "function", NULL};
enum { TC_ID, TC_TYPE, TC_FUNCTION, TC_N };
static const char *const chat_fn_names[] = {"name", "arguments", NULL};
enum { FN_NAME, FN_ARGS, FN_N };
static const char *const chat_lp_names[] = {"content", "refusal", NULL};
enum { LP_CONTENT, LP_REFUSAL, LP_N };
static const char *const chat_top_names[] = {
  "object", "prompt_filter_results", "id", "created", "model", "choices",
  "usage", "service_tier", "system_fingerprint", NULL
};
enum { TOP_OBJECT, TOP_PROMPT_FILTER, TOP_ID, TOP_CREATED, TOP_MODEL,
       TOP_CHOICES, TOP_USAGE, TOP_TIER, TOP_FP, TOP_N };

/* ---- reading and validating the answer ---- */

#define T(t) JSON_T(t)
#define T_TEXT (T(JSON_STRING) | T(JSON_NULL) | T(JSON_NONE))

/* Set *why and return false: the shape of every refusal below. */
static bool chat_fail(const char **why, const char *reason)
{
  *why = reason;
  return false;
}

/* Does s hold a string with at least one character (one piece or more)? */
bool chat_has_text(struct json_span s)
{
  return s.type == JSON_STRING && s.len > 2;
}

/* Will the choice send text pieces (reasoning, content or refusal text,
 * or logprobs entries) before its tool calls? */
bool chat_has_pieces(const struct chat_choice *ch)
{
  struct json_iter it;
  struct json_span el;
  if(chat_has_text(ch->reasoning) || chat_has_text(ch->content) ||
     chat_has_text(ch->refusal))
    return true;
  json_iter_init(&it, ch->lp_content);
  if(json_next_element(&it, &el))
    return true;
  json_iter_init(&it, ch->lp_refusal);
  return json_next_element(&it, &el);
}

/* Read the {name, arguments} object of a tool call or of a legacy
 * function_call into t->name and t->args. The name must not be empty: a
 * client joining the stream sets the name from non-empty pieces only and
 * rejects a call without one (openai-node, assemble_chat.c). */
bool chat_fn_read(struct json_span fn, struct chat_tool *t,
                         const char **why)
{
  struct json_span v[FN_N];
  if(json_pick(fn, chat_fn_names, v))
    return chat_fail(why, "function is not a known object");
  t->name = v[FN_NAME];
  t->args = v[FN_ARGS];
  if(!json_is(t->name, T(JSON_STRING)) || !json_is(t->args, T(JSON_STRING)))
    return chat_fail(why, "function name or arguments not a string");
  if(t->name.len == 2)
    return chat_fail(why, "function name is empty");
  return true;
}

/* Read one element of tool_calls: {id, type:"function", function}. */
bool chat_tool_read(struct json_span call, struct chat_tool *t,
                           const char **why)
{
  struct json_span v[TC_N];
  if(json_pick(call, chat_tool_names, v))
    return chat_fail(why, "tool call is not a known object");
  t->id = v[TC_ID];
  t->type = v[TC_TYPE];
  if(!json_is(t->id, T(JSON_STRING)))
    return chat_fail(why, "tool call id is not a string");
  if(!json_is(t->type, T(JSON_STRING)) || !json_key_is(t->type, "function"))
    return chat_fail(why, "tool call type is not \"function\"");
  return chat_fn_read(v[TC_FUNCTION], t, why);
}

/* Read and check the tool_calls and function_call members of a message
 * (v: its members, by json_pick); at most ASM_MAX_INDEX tool calls (the
 * stream numbers them from 0, and a client joins indices below that). */
static bool chat_calls_read(const struct json_span *v, struct chat_choice *ch,
                            const char **why)
{
  struct json_iter it;
  struct json_span call;
  struct chat_tool t;
  size_t n = 0;
  ch->tools = v[MS_TOOLS];
  if(!json_is(ch->tools, T(JSON_ARRAY) | T(JSON_NULL) | T(JSON_NONE)))
    return chat_fail(why, "tool_calls is not an array");
  json_iter_init(&it, ch->tools);
  while(json_next_element(&it, &call))
    if(!chat_tool_read(call, &t, why))
      return false;
    else if(++n > ASM_MAX_INDEX)
      return chat_fail(why, "too many tool calls");
  ch->fcall = v[MS_FCALL];
  if(!json_is(ch->fcall, T(JSON_OBJECT) | T(JSON_NULL) | T(JSON_NONE)))
    return chat_fail(why, "function_call is not an object");
  return ch->fcall.type != JSON_OBJECT || chat_fn_read(ch->fcall, &t, why);
}

/* Read and check a choice's message; annotations must be absent or []. */
static bool chat_msg_read(struct json_span msg, struct chat_choice *ch,
                          const char **why)
{
  struct json_iter it;
  struct json_span a, v[MS_N];
  if(json_pick(msg, chat_msg_names, v))
    return chat_fail(why, "message is not an object or has unknown members");
  ch->role = v[MS_ROLE];
  ch->content = v[MS_CONTENT];
  ch->refusal = v[MS_REFUSAL];
  ch->reasoning = v[MS_REASONING];
  if(!json_is(ch->role, T(JSON_STRING)))
    return chat_fail(why, "message role is not a string");
  if(!json_is(ch->content, T_TEXT) || !json_is(ch->refusal, T_TEXT) ||
     !json_is(ch->reasoning, T_TEXT))
    return chat_fail(why, "message text member is not a string or null");
  if(!json_is(v[MS_ANNOTATIONS], T(JSON_ARRAY) | T(JSON_NONE)))
    return chat_fail(why, "message annotations is not an array");
  json_iter_init(&it, v[MS_ANNOTATIONS]);
  if(json_next_element(&it, &a))
    return chat_fail(why, "message annotations not empty");
  return chat_calls_read(v, ch, why);
}

/* Check the entries of one logprobs array (lp) against the message
 * text they belong to (text): a string they spell exactly, or null with
 * no entries. Null or absent arrays are not checked. */
static bool chat_lp_text(struct json_span lp, struct json_span text,
                         const char **why)
{
  struct json_iter it;
  struct json_span el;
  if(lp.type != JSON_ARRAY)
    return true;
  if(text.type != JSON_STRING) {
    json_iter_init(&it, lp);
    return !json_next_element(&it, &el) ||
           chat_fail(why, "logprobs entries for a null text");
  }
  return lp_check(lp, LP_CHAT, text.ptr + 1, text.ptr + text.len - 1, why);
}

/* Do the choice's logprobs arrays spell its content and refusal? Done
 * once, by open (the replay only reads choices open accepted). */
static bool chat_lp_spelled(const struct chat_choice *ch, const char **why)
{
  return chat_lp_text(ch->lp_content, ch->content, why) &&
         chat_lp_text(ch->lp_refusal, ch->refusal, why);
}

/* Read and check a choice's logprobs (lp): null, absent, or an object
 * with "content" and "refusal" members, each an array (of entries,
 * checked against the text by chat_lp_spelled), null or absent. */
static bool chat_lp_read(struct json_span lp, struct chat_choice *ch,
                         const char **why)
{
  const unsigned arr = T(JSON_ARRAY) | T(JSON_NULL) | T(JSON_NONE);
  struct json_span v[LP_N];
  ch->lp = lp;
  if(!json_is(lp, T(JSON_OBJECT) | T(JSON_NULL) | T(JSON_NONE)))
    return chat_fail(why, "choice logprobs is not an object or null");
  ch->lp_content = ch->lp_refusal = (struct json_span){NULL, 0, JSON_NONE};
  if(ch->lp.type != JSON_OBJECT)
    return true;
  if(json_pick(ch->lp, chat_lp_names, v))
    return chat_fail(why, "choice logprobs has unknown members");
  ch->lp_content = v[LP_CONTENT];
  ch->lp_refusal = v[LP_REFUSAL];
  if(!json_is(ch->lp_content, arr) || !json_is(ch->lp_refusal, arr))
    return chat_fail(why, "logprobs content or refusal is not an array");
  return true;
}

/* Read and check one element of "choices"; its index is one a client
 * joins (asm_index: digits, below ASM_MAX_INDEX). */
bool chat_choice_read(struct json_span c, struct chat_choice *ch,
                             const char **why)
{
  struct json_span v[CH_N];
  if(json_pick(c, chat_choice_names, v))
    return chat_fail(why, "choice is not an object or has unknown members");
  ch->index = v[CH_INDEX];
  ch->finish = v[CH_FINISH];
  ch->filter = v[CH_FILTER];
  size_t i;
  if(!asm_index(ch->index, &i))
    return chat_fail(why, "choice index is not an integer below 128");
  if(!json_is(ch->finish, T(JSON_STRING) | T(JSON_NULL)))
    return chat_fail(why, "choice finish_reason not a string or null");
  if(!json_is(ch->filter, T(JSON_OBJECT) | T(JSON_NONE)))
    return chat_fail(why, "content_filter_results is not an object");
  return chat_msg_read(v[CH_MESSAGE], ch, why) &&
         chat_lp_read(v[CH_LOGPROBS], ch, why);
}

/* Check the top-level members and remember those copied to every chunk.
 * Unknown members are ignored and not copied (see the file comment). */
static bool chat_top_read(struct json_span root, struct sse_chat *e,
                          const char **why)
{
  struct json_span v[TOP_N];
  json_pick(root, chat_top_names, v);
  e->prompt_filter = v[TOP_PROMPT_FILTER];
  e->id = v[TOP_ID];
  e->created = v[TOP_CREATED];
  e->model = v[TOP_MODEL];
  e->choices = v[TOP_CHOICES];
  e->usage = v[TOP_USAGE];
  e->tier = v[TOP_TIER];
  e->fp = v[TOP_FP];
  if(!json_is(v[TOP_OBJECT], T(JSON_STRING)) ||
     !json_key_is(v[TOP_OBJECT], "chat.completion"))
    return chat_fail(why, "not a chat.completion");
  if(!json_is(e->prompt_filter, T(JSON_ARRAY) | T(JSON_NONE)))
    return chat_fail(why, "prompt_filter_results is not an array");
  if(!json_is(e->id, T(JSON_STRING)) || !json_is(e->created, T(JSON_NUMBER)) ||
     !json_is(e->model, T(JSON_STRING)))
    return chat_fail(why, "id, created or model missing or mistyped");
  if(!json_is(e->choices, T(JSON_ARRAY)))
    return chat_fail(why, "choices is not an array");
  if(!json_is(e->usage, T(JSON_OBJECT) | T(JSON_NULL) | T(JSON_NONE)))
    return chat_fail(why, "usage is not an object");
  return true;
}

/* Check every choice: each index once (a client joins the chunks of
 * one index into one choice); keep the first in *first (index.ptr NULL
 * when there is none). */
static bool chat_choices_check(struct json_span choices,
                               struct chat_choice *first, const char **why)
{
  struct json_iter it;
  struct json_span c;
  struct chat_choice ch;
  bool seen[ASM_MAX_INDEX] = {false};
  size_t i;
  json_iter_init(&it, choices);
  first->index.ptr = NULL;
  while(json_next_element(&it, &c)) {
    if(!chat_choice_read(c, &ch, why) || !chat_lp_spelled(&ch, why))
      return false;
    asm_index(ch.index, &i);
    if(seen[i])
      return chat_fail(why, "two choices have one index");
    seen[i] = true;
    if(!first->index.ptr)
      *first = ch;
  }
  return true;
}

void *sse_chat_open(const char *p, size_t n, const struct replay_opts *o,
                    const char **why)
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
  if(!chat_top_read(root, &tmp, why) ||
     !chat_choices_check(tmp.choices, &tmp.first, why))
    return NULL;
  struct sse_chat *e = malloc(sizeof(*e));
  if(!e) {
    *why = "out of memory";
    return NULL;
  }
  *e = tmp;
  buf_init(&e->head);
  buf_init(&e->frame_pre);
  buf_init(&e->frame_post);
  e->frame_st = ST_END;
  chat_head_put(e, &e->head);
  if(e->head.oom) {
    buf_free(&e->head);
    free(e);
    *why = "out of memory";
    return NULL;
  }
  e->piece_chars = (o && o->piece_chars) ? o->piece_chars : 1;
  e->include_usage = o && o->include_usage;
  e->c.st = ST_PROMPT_FILTER;
  json_iter_init(&e->c.choice_it, e->choices);
  return e;
}

