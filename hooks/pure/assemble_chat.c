/* assemble_chat.c - joining a Chat Completions stream (chat.completion.chunk
 * events) into the chat.completion answer the API gives without streaming
 * (see assemble.h; the writer is assemble_chat_put.c). The inverse of
 * sse_chat.c. The rules are openai-node's ChatCompletionStream
 * (#accumulateChatCompletion, finalizeChatCompletion), except where the
 * SDK loses what the non-streamed answer has:
 *
 * - Top level: the last chunk that carries a member wins (Object.assign),
 *   but a chunk whose id is blank ("" or absent: Azure's first chunk, its
 *   late filter chunks) only fills members not kept yet (the SDK assigns
 *   nothing from such chunks after the first), and a blank id, created or
 *   model ("", 0, null) never replaces one kept. "usage" is the last
 *   object that came (the include_usage chunk); "object", "choices" and
 *   "obfuscation" are not kept.
 * - Choices and tool calls by "index" (0..127 as the SDK allows), any
 *   order, interleaved. content, refusal, reasoning_content and reasoning
 *   (vLLM, OpenRouter) are joined from all their pieces (the SDK keeps
 *   the last reasoning piece only); a null piece adds nothing; a member is
 *   in the answer iff a delta carried its key (but content is always
 *   there, null when no delta had it, and role, "assistant" when none
 *   came, as the non-streamed answer always has both). Tool call id, type and
 *   function.name (custom.name) are set by non-empty values, arguments
 *   (input) joined; the legacy function_call alike. annotations: the
 *   elements of every delta's array, in order. Other delta, choice and
 *   tool call members: the last value (the SDK's assign); "audio" is not
 *   joined (refused). Unknown function members are dropped, as the SDK
 *   drops them.
 * - logprobs: every object's "content" ("refusal") entries appended in
 *   order, once (the SDK counts a choice's first chunk twice); null when
 *   the chunks carried only null, absent when they never had the key.
 * - content_filter_results (Azure): the last non-empty object.
 * - finish_reason: the last non-empty string (the SDK's if(finish_reason));
 *   a choice without one after [DONE] has null (the SDK throws; the
 *   non-streamed API answers null too, fixture finish-content-filter-null).
 * - More than ASM_MAX_MEMBERS unknown members in one object, or an index
 *   over 127, is refused (ASM_BAD) rather than kept. */
#include "assemble_chat_int.h"

#include <stdlib.h>
#include <string.h>

/* Keep string v in slot when it is not empty; null and absence keep
 * nothing. False when v is of another type. */
static bool achat_set_name(struct asm_val *slot, struct json_span v)
{
  if(v.type == JSON_NONE || v.type == JSON_NULL)
    return true;
  if(v.type != JSON_STRING)
    return false;
  if(v.len > 2)
    asm_val_set(slot, v);
  return true;
}

/* Join a tool call's "function" (or "custom") object fn into t: its
 * "name" set when not empty, its member text_name ("arguments", "input")
 * joined. Other members are dropped, as the SDK drops them. */
static const char *achat_fn_add(struct achat_tool *t, struct json_span fn,
                                const char *text_name)
{
  struct json_span name, text;
  if(fn.type != JSON_OBJECT)
    return "a tool call function is not an object";
  json_get(fn, "name", &name);
  json_get(fn, text_name, &text);
  if(!achat_set_name(&t->name, name) || !asm_text_add(&t->args, text))
    return "a tool call name or arguments is not a string";
  return NULL;
}

/* The tool call of ch at index i, made when new; NULL when memory runs
 * out. */
static struct achat_tool *achat_tool_at(struct achat_choice *ch, size_t i)
{
  if(!ch->tools[i]) {
    ch->tools[i] = calloc(1, sizeof(*ch->tools[i]));
    if(ch->tools[i])
      ch->tool_count++;
  }
  return ch->tools[i];
}

/* Join one entry of a delta's tool_calls into choice ch. */
static const char *achat_tool_add(struct achat_choice *ch, struct json_span e)
{
  static const char *const known[] = {"index", "id", "type", "function",
                                      "custom", NULL};
  struct json_span v, fn, custom;
  size_t i;
  const char *why = NULL;
  if(e.type != JSON_OBJECT || !json_get(e, "index", &v) || !asm_index(v, &i))
    return "a tool call delta has no valid index";
  struct achat_tool *t = achat_tool_at(ch, i);
  if(!t)
    return asm_oom_why;
  json_get(e, "id", &v);
  if(!achat_set_name(&t->id, v))
    return "a tool call id is not a string";
  json_get(e, "type", &v);
  if(!achat_set_name(&t->type, v))
    return "a tool call type is not a string";
  json_get(e, "function", &fn);
  json_get(e, "custom", &custom);
  if(fn.type != JSON_NONE && fn.type != JSON_NULL) {
    t->fn = true;
    why = achat_fn_add(t, fn, "arguments");
  }
  if(!why && custom.type != JSON_NONE && custom.type != JSON_NULL) {
    t->custom = true;
    why = achat_fn_add(t, custom, "input");
  }
  if(why)
    return why;
  return asm_bag_rest(&t->rest, e, known, false);
}

/* Join a delta's tool_calls (an array, null or absent). */
static const char *achat_tools_add(struct achat_choice *ch, struct json_span a)
{
  struct json_iter it;
  struct json_span e;
  const char *why;
  if(a.type == JSON_NONE || a.type == JSON_NULL)
    return NULL;
  if(a.type != JSON_ARRAY)
    return "a delta's tool_calls is not an array";
  json_iter_init(&it, a);
  while(json_next_element(&it, &e))
    if((why = achat_tool_add(ch, e)))
      return why;
  return NULL;
}

/* Join a delta's legacy function_call (an object, null or absent). */
static const char *achat_fcall_add(struct achat_choice *ch, struct json_span f)
{
  struct json_span name, args;
  if(f.type == JSON_NONE || f.type == JSON_NULL)
    return NULL;
  if(f.type != JSON_OBJECT)
    return "a delta's function_call is not an object";
  ch->fcall = true;
  json_get(f, "name", &name);
  json_get(f, "arguments", &args);
  if(!achat_set_name(&ch->fc_name, name) || !asm_text_add(&ch->fc_args, args))
    return "a function_call name or arguments is not a string";
  return NULL;
}

/* Join the text member name of delta d into t. */
static bool achat_text(struct asm_text *t, struct json_span d, const char *name)
{
  struct json_span v;
  json_get(d, name, &v);
  return asm_text_add(t, v);
}

/* Join one delta object into choice ch. */
static const char *achat_delta(struct achat_choice *ch, struct json_span d)
{
  static const char *const known[] = {
    "role", "content", "refusal", "reasoning_content", "reasoning",
    "tool_calls", "function_call", "annotations", "audio", NULL
  };
  struct json_span v;
  const char *why;
  json_get(d, "role", &v);
  if(!achat_set_name(&ch->role, v))
    return "a delta's role is not a string";
  if(!achat_text(&ch->content, d, "content") ||
     !achat_text(&ch->refusal, d, "refusal") ||
     !achat_text(&ch->reasoning_content, d, "reasoning_content") ||
     !achat_text(&ch->reasoning, d, "reasoning"))
    return "a delta's text is not a string or null";
  json_get(d, "audio", &v);
  if(v.type != JSON_NONE && v.type != JSON_NULL)
    return "audio deltas are not joined";
  json_get(d, "annotations", &v);
  if(!asm_list_add(&ch->annotations, v))
    return "a delta's annotations is not an array";
  json_get(d, "tool_calls", &v);
  if((why = achat_tools_add(ch, v)))
    return why;
  json_get(d, "function_call", &v);
  if((why = achat_fcall_add(ch, v)))
    return why;
  return asm_bag_rest(&ch->msg_rest, d, known, false);
}

/* Join a choice's logprobs (object, null or absent): the entries of its
 * "content" and "refusal" arrays are appended. */
static const char *achat_lp(struct achat_choice *ch, struct json_span lp)
{
  static const char *const names[] = {"content", "refusal", NULL};
  struct json_span c, r;
  if(lp.type == JSON_NONE)
    return NULL;
  ch->lp_key = true;
  if(lp.type == JSON_NULL)
    return NULL;
  if(lp.type != JSON_OBJECT || !json_only_members(lp, names))
    return "a choice's logprobs is not a known object";
  ch->lp_obj = true;
  json_get(lp, "content", &c);
  json_get(lp, "refusal", &r);
  if(!asm_list_add(&ch->lp_content, c) || !asm_list_add(&ch->lp_refusal, r))
    return "a logprobs member is not an array or null";
  return NULL;
}

/* The choice of a at index i, made when new; NULL when memory runs out. */
static struct achat_choice *achat_choice_at(struct achat *a, size_t i)
{
  if(!a->choices[i]) {
    a->choices[i] = calloc(1, sizeof(*a->choices[i]));
    if(a->choices[i])
      a->choice_count++;
  }
  return a->choices[i];
}

/* Join one element of a chunk's "choices". */
static const char *achat_choice(struct achat *a, struct json_span c)
{
  static const char *const known[] = {"index", "delta", "logprobs",
                                      "finish_reason",
                                      "content_filter_results", NULL};
  struct json_span v;
  size_t i;
  const char *why;
  if(c.type != JSON_OBJECT || !json_get(c, "index", &v) || !asm_index(v, &i))
    return "a choice has no valid index";
  struct achat_choice *ch = achat_choice_at(a, i);
  if(!ch)
    return asm_oom_why;
  json_get(c, "finish_reason", &v);
  if(v.type == JSON_STRING && v.len > 2)  /* the SDK: if(finish_reason) */
    asm_val_set(&ch->finish, v);
  else if(v.type != JSON_STRING && v.type != JSON_NULL && v.type != JSON_NONE)
    return "a finish_reason is not a string or null";
  json_get(c, "content_filter_results", &v);
  if(v.type != JSON_NONE && (!ch->filter.set || !asm_blank(v)))
    asm_val_set(&ch->filter, v);
  json_get(c, "logprobs", &v);
  if((why = achat_lp(ch, v)))
    return why;
  json_get(c, "delta", &v);
  if(v.type == JSON_OBJECT && (why = achat_delta(ch, v)))
    return why;
  if(v.type != JSON_OBJECT && v.type != JSON_NULL && v.type != JSON_NONE)
    return "a choice's delta is not an object";
  return asm_bag_rest(&ch->rest, c, known, false);
}

/* Keep the chunk's top-level members. */
static const char *achat_top(struct achat *a, struct json_span root)
{
  static const char *const known[] = {
    "id", "object", "created", "model", "choices", "usage", "service_tier",
    "system_fingerprint", "obfuscation", NULL
  };
  struct json_span v;
  json_get(root, "id", &v);
  bool blank = v.type == JSON_NONE || asm_blank(v);
  asm_top_set(&a->id, v, blank, true);
  json_get(root, "created", &v);
  asm_top_set(&a->created, v, blank, true);
  json_get(root, "model", &v);
  asm_top_set(&a->model, v, blank, true);
  json_get(root, "service_tier", &v);
  asm_top_set(&a->tier, v, blank, false);
  json_get(root, "system_fingerprint", &v);
  asm_top_set(&a->fp, v, blank, false);
  json_get(root, "usage", &v);
  if(v.type == JSON_OBJECT)
    asm_val_set(&a->usage, v);
  return asm_bag_rest(&a->rest, root, known, blank);
}

/* Join one chunk (a JSON object). NULL, or why it cannot be joined. */
static const char *achat_chunk(struct achat *a, struct json_span root)
{
  struct json_span v, choices, c;
  struct json_iter it;
  const char *why;
  if(json_get(root, "object", &v) &&
     !(v.type == JSON_STRING && (v.len == 2 ||
                                 json_key_is(v, "chat.completion.chunk"))))
    return "not a chat.completion.chunk";
  if(!json_get(root, "choices", &choices) || choices.type != JSON_ARRAY)
    return "a chunk without a choices array";
  a->chunk_seen = true;
  if((why = achat_top(a, root)))
    return why;
  json_iter_init(&it, choices);
  while(json_next_element(&it, &c))
    if((why = achat_choice(a, c)))
      return why;
  return NULL;
}

/* The result an ended state repeats. */
static enum asm_result achat_ended(const struct achat *a, const char **why)
{
  switch(a->st) {
  case ACHAT_END:
    return ASM_END;
  case ACHAT_ERROR:
    return ASM_ERROR;
  case ACHAT_OOM:
    return ASM_OOM;
  default:
    *why = a->why;
    return ASM_BAD;
  }
}

static enum asm_result achat_event(void *st, const struct sse_event *ev,
                                   const char **why)
{
  struct achat *a = st;
  struct json_span root;
  const char *ignored, *reason = NULL;
  if(!why)
    why = &ignored;
  if(a->st != ACHAT_RUN)
    return achat_ended(a, why);
  enum asm_result r = asm_event_read(ev, &root, &a->err, &a->err_status,
                                     &reason);
  if(r == ASM_MORE && (reason = achat_chunk(a, root)))
    r = reason == asm_oom_why ? ASM_OOM : ASM_BAD;
  a->st = r == ASM_END ? ACHAT_END : r == ASM_ERROR ? ACHAT_ERROR
        : r == ASM_BAD ? ACHAT_BAD : r == ASM_OOM ? ACHAT_OOM : ACHAT_RUN;
  a->why = reason;
  if(reason)
    *why = reason;
  return r;
}

static void *achat_open(void)
{
  struct achat *a = calloc(1, sizeof(*a));
  if(a)
    buf_init(&a->err);
  return a;
}

/* Release a tool call. */
static void achat_tool_free(struct achat_tool *t)
{
  asm_val_free(&t->id);
  asm_val_free(&t->type);
  asm_val_free(&t->name);
  asm_text_free(&t->args);
  asm_bag_free(&t->rest);
  free(t);
}

/* Release a choice and its tool calls. */
static void achat_choice_free(struct achat_choice *ch)
{
  for(size_t i = 0; i < ASM_MAX_INDEX; i++)
    if(ch->tools[i])
      achat_tool_free(ch->tools[i]);
  asm_val_free(&ch->role);
  asm_text_free(&ch->content);
  asm_text_free(&ch->reasoning_content);
  asm_text_free(&ch->reasoning);
  asm_text_free(&ch->refusal);
  asm_val_free(&ch->fc_name);
  asm_text_free(&ch->fc_args);
  asm_list_free(&ch->annotations);
  asm_bag_free(&ch->msg_rest);
  asm_list_free(&ch->lp_content);
  asm_list_free(&ch->lp_refusal);
  asm_val_free(&ch->finish);
  asm_val_free(&ch->filter);
  asm_bag_free(&ch->rest);
  free(ch);
}

static void achat_close(void *st)
{
  struct achat *a = st;
  if(!a)
    return;
  for(size_t i = 0; i < ASM_MAX_INDEX; i++)
    if(a->choices[i])
      achat_choice_free(a->choices[i]);
  asm_val_free(&a->id);
  asm_val_free(&a->created);
  asm_val_free(&a->model);
  asm_val_free(&a->tier);
  asm_val_free(&a->fp);
  asm_val_free(&a->usage);
  asm_bag_free(&a->rest);
  buf_free(&a->err);
  free(a);
}

const struct assembler chat_assembler = {
  "chat.completion", achat_open, achat_event, achat_finish, achat_close
};
