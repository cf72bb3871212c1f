/* assemble_chat.c - joining a Chat Completions stream (chat.completion.chunk
 * events) into the chat.completion answer the API gives without streaming
 * (see assemble.h). The inverse of sse_chat.c. The top level, the table
 * of choices, finish_reason, errors and [DONE] are the chunk-stream
 * core's (asm_chunks.c); this file joins what a choice of this shape
 * carries (delta, tool calls, logprobs, filter results) and
 * assemble_chat_put.c writes it. The rules are openai-node's
 * ChatCompletionStream (#accumulateChatCompletion,
 * finalizeChatCompletion), except where the SDK loses what the
 * non-streamed answer has:
 *
 * - Top level: the last chunk that carries a member wins (Object.assign),
 *   but a chunk whose id is blank ("" or absent: Azure's first chunk, its
 *   late filter chunks) only fills members not kept yet (the SDK assigns
 *   nothing from such chunks after the first), and a blank id, created or
 *   model ("", 0, null) never replaces one kept; one that is not blank
 *   replaces a blank one kept, from any chunk (a stream whose ids are all
 *   "" after Azure's blank first chunk still has its model). "usage" is
 *   the last object that came (the include_usage chunk); "object",
 *   "choices" and "obfuscation" are not kept.
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
  if(!asm_str_set(&t->name, name) || !asm_text_add(&t->args, text))
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
  if(!asm_str_set(&t->id, v))
    return "a tool call id is not a string";
  json_get(e, "type", &v);
  if(!asm_str_set(&t->type, v))
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
  if(!asm_str_set(&ch->fc_name, name) || !asm_text_add(&ch->fc_args, args))
    return "a function_call name or arguments is not a string";
  return NULL;
}

/* Join one delta object into choice ch. */
static const char *achat_delta(struct achat_choice *ch, struct json_span d)
{
  static const char *const known[] = {  /* read in one walk */
    "role", "content", "refusal", "reasoning_content", "reasoning",
    "tool_calls", "function_call", "annotations", "audio", NULL
  };
  enum { D_ROLE, D_CONTENT, D_REFUSAL, D_RCONTENT, D_REASONING, D_TOOLS,
         D_FCALL, D_ANNOTATIONS, D_AUDIO, D_N };
  struct json_span m[D_N];
  const char *why;
  json_pick(d, known, m);
  if(!asm_str_set(&ch->role, m[D_ROLE]))
    return "a delta's role is not a string";
  if(!asm_text_add(&ch->content, m[D_CONTENT]) ||
     !asm_text_add(&ch->refusal, m[D_REFUSAL]) ||
     !asm_text_add(&ch->reasoning_content, m[D_RCONTENT]) ||
     !asm_text_add(&ch->reasoning, m[D_REASONING]))
    return "a delta's text is not a string or null";
  if(m[D_AUDIO].type != JSON_NONE && m[D_AUDIO].type != JSON_NULL)
    return "audio deltas are not joined";
  if(!asm_list_add(&ch->annotations, m[D_ANNOTATIONS]))
    return "a delta's annotations is not an array";
  if((why = achat_tools_add(ch, m[D_TOOLS])))
    return why;
  if((why = achat_fcall_add(ch, m[D_FCALL])))
    return why;
  return asm_bag_rest(&ch->msg_rest, d, known, false);
}

const char *const achat_lp_names[] = {"content", "refusal", NULL};

/* The shape's choice_add: join one element of a chunk's "choices" into
 * the choice at its index. */
static const char *achat_choice_add(struct asm_choice *base,
                                    struct json_span c)
{
  static const char *const read[] = {  /* in one walk */
    "finish_reason", "content_filter_results", "logprobs", "delta", NULL
  };
  enum { C_FINISH, C_FILTER, C_LOGPROBS, C_DELTA, C_N };
  struct achat_choice *ch = (struct achat_choice *)base;
  struct json_span m[C_N], v;
  const char *why;
  json_pick(c, read, m);
  if((why = asm_finish_set(base, m[C_FINISH])))
    return why;
  v = m[C_FILTER];
  if(v.type != JSON_NONE && (!ch->filter.set || !asm_blank(v)))
    asm_val_set(&ch->filter, v);
  if((why = asm_lp_add(&ch->lp, m[C_LOGPROBS], achat_lp_names)))
    return why;
  v = m[C_DELTA];
  if(v.type == JSON_OBJECT && (why = achat_delta(ch, v)))
    return why;
  if(v.type != JSON_OBJECT && v.type != JSON_NULL && v.type != JSON_NONE)
    return "a choice's delta is not an object";
  return NULL;
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

/* The shape's choice_free: release a choice's message, tool calls,
 * logprobs and filter results. */
static void achat_choice_free(struct asm_choice *base)
{
  struct achat_choice *ch = (struct achat_choice *)base;
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
  asm_lp_free(&ch->lp);
  asm_val_free(&ch->filter);
}

/* The choice members read above (not kept among the others), and
 * "message", which the answer's choice gets from the deltas: a chunk's
 * own would be written twice. */
static const char *const achat_choice_known[] = {
  "index", "delta", "logprobs", "finish_reason", "content_filter_results",
  "message", NULL
};

static const struct asm_chunks_shape achat_shape = {
  .chunk_object = "chat.completion.chunk",
  .other_why = "not a chat.completion.chunk",
  .answer_object = "\"chat.completion\"",
  .tier = true,              /* choices, usage, service_tier, */
  .fp_first = false,         /* system_fingerprint, then the others */
  .choice_size = sizeof(struct achat_choice),
  .choice_known = achat_choice_known,
  .choice_add = achat_choice_add,
  .choice_whole = achat_choice_whole,
  .choice_put = achat_choice_put,
  .choice_free = achat_choice_free,
};

/* The table's open: an empty state of this shape. */
static void *achat_open(void)
{
  return asm_chunks_open(&achat_shape);
}

const struct assembler chat_assembler = {
  "chat.completion", achat_open, asm_chunks_event, asm_chunks_finish,
  asm_chunks_close
};
