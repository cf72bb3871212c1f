/* assemble_chat_put.c - writing the chat.completion answer a Chat
 * Completions stream joined into (see assemble_chat.c for the rules).
 *
 * Key order as api.openai.com's non-streamed answer: id, object, created,
 * model, choices, usage, service_tier, system_fingerprint, then the other
 * members in the order they first came (Azure's prompt_filter_results).
 * A choice: index, message, logprobs, finish_reason,
 * content_filter_results, others. A message: role, content,
 * reasoning_content, reasoning, tool_calls, function_call, refusal,
 * annotations, others (the fixtures' orders: OpenAI's role, content,
 * tool_calls, refusal, annotations; DeepSeek's role, content,
 * reasoning_content, tool_calls). role is "assistant" and content null
 * when no delta carried them (the non-streamed answer always has both);
 * a tool call's id is "" and its type "function" ("custom") when none
 * came, its arguments "" when no piece came. */
#include "assemble_chat_int.h"

#include "sse_piece.h"

/* Append ,"name": (no comma for the first member: *first). */
static void achat_key(struct buf *out, bool *first, const char *name)
{
  if(!*first)
    buf_puts(out, ",");
  *first = false;
  buf_puts(out, "\"");
  buf_puts(out, name);
  buf_puts(out, "\":");
}

/* Append member name = the text t when a delta carried its key. */
static void achat_put_text(struct buf *out, const char *name,
                           const struct asm_text *t)
{
  bool first = false;
  if(t->st == ASM_ABSENT)
    return;
  achat_key(out, &first, name);
  asm_text_put(out, t);
}

/* Append t as a string: "" when no piece came. */
static void achat_put_string(struct buf *out, const struct asm_text *t)
{
  if(t->b.oom)
    out->oom = true;
  buf_puts(out, "\"");
  buf_append(out, t->b.ptr, t->b.len);
  buf_puts(out, "\"");
}

/* Append v, or dflt when nothing was kept. */
static void achat_put_or(struct buf *out, const struct asm_val *v,
                         const char *dflt)
{
  if(v->set)
    asm_val_put(out, v);
  else
    buf_puts(out, dflt);
}

/* Append one tool call: {"id","type","function":{"name","arguments"}}
 * (a custom tool: "custom":{"name","input"}), then its other members. */
static void achat_put_tool(struct buf *out, const struct achat_tool *t)
{
  bool custom = t->custom && !t->fn;
  buf_puts(out, "{\"id\":");
  achat_put_or(out, &t->id, "\"\"");
  buf_puts(out, ",\"type\":");
  achat_put_or(out, &t->type, custom ? "\"custom\"" : "\"function\"");
  buf_puts(out, custom ? ",\"custom\":{\"name\":" : ",\"function\":{\"name\":");
  asm_val_put(out, &t->name);
  buf_puts(out, custom ? ",\"input\":" : ",\"arguments\":");
  achat_put_string(out, &t->args);
  buf_puts(out, "}");
  asm_bag_put(out, &t->rest);
  buf_puts(out, "}");
}

/* Append ,"tool_calls":[...] in index order, when any entry came. */
static void achat_put_tools(struct buf *out, const struct achat_choice *ch)
{
  bool first = true;
  if(!ch->tool_count)
    return;
  buf_puts(out, ",\"tool_calls\":[");
  for(size_t i = 0; i < ASM_MAX_INDEX; i++) {
    if(!ch->tools[i])
      continue;
    if(!first)
      buf_puts(out, ",");
    first = false;
    achat_put_tool(out, ch->tools[i]);
  }
  buf_puts(out, "]");
}

/* Append the message of a choice. */
static void achat_put_message(struct buf *out, const struct achat_choice *ch)
{
  buf_puts(out, "{\"role\":");
  achat_put_or(out, &ch->role, "\"assistant\"");
  buf_puts(out, ",\"content\":");
  asm_text_put(out, &ch->content);
  achat_put_text(out, "reasoning_content", &ch->reasoning_content);
  achat_put_text(out, "reasoning", &ch->reasoning);
  achat_put_tools(out, ch);
  if(ch->fcall) {
    buf_puts(out, ",\"function_call\":{\"name\":");
    asm_val_put(out, &ch->fc_name);
    buf_puts(out, ",\"arguments\":");
    achat_put_string(out, &ch->fc_args);
    buf_puts(out, "}");
  }
  achat_put_text(out, "refusal", &ch->refusal);
  if(ch->annotations.st != ASM_ABSENT) {
    buf_puts(out, ",\"annotations\":");
    asm_list_put(out, &ch->annotations);
  }
  asm_bag_put(out, &ch->msg_rest);
  buf_puts(out, "}");
}

/* Append ,"logprobs":... as the chunks carried it: an object with the
 * members that came, null, or nothing when no chunk had the key. */
static void achat_put_lp(struct buf *out, const struct achat_choice *ch)
{
  bool first = true;
  if(!ch->lp_key)
    return;
  buf_puts(out, ",\"logprobs\":");
  if(!ch->lp_obj) {
    buf_puts(out, "null");
    return;
  }
  buf_puts(out, "{");
  if(ch->lp_content.st != ASM_ABSENT) {
    achat_key(out, &first, "content");
    asm_list_put(out, &ch->lp_content);
  }
  if(ch->lp_refusal.st != ASM_ABSENT) {
    achat_key(out, &first, "refusal");
    asm_list_put(out, &ch->lp_refusal);
  }
  buf_puts(out, "}");
}

/* Append one choice. */
static void achat_put_choice(struct buf *out, const struct achat_choice *ch,
                             size_t index)
{
  buf_puts(out, "{\"index\":");
  sse_put_uint(out, index);
  buf_puts(out, ",\"message\":");
  achat_put_message(out, ch);
  achat_put_lp(out, ch);
  buf_puts(out, ",\"finish_reason\":");
  achat_put_or(out, &ch->finish, "null");
  if(ch->filter.set) {
    buf_puts(out, ",\"content_filter_results\":");
    asm_val_put(out, &ch->filter);
  }
  asm_bag_put(out, &ch->rest);
  buf_puts(out, "}");
}

/* Append ,"name":value when v was kept (first: no comma). */
static void achat_put_member(struct buf *out, bool *first, const char *name,
                             const struct asm_val *v)
{
  if(!v->set)
    return;
  achat_key(out, first, name);
  asm_val_put(out, v);
}

/* Append the whole answer. */
static void achat_put_answer(struct buf *out, const struct achat *a)
{
  bool first = true, first_choice = true;
  buf_puts(out, "{");
  achat_put_member(out, &first, "id", &a->id);
  achat_key(out, &first, "object");
  buf_puts(out, "\"chat.completion\"");
  achat_put_member(out, &first, "created", &a->created);
  achat_put_member(out, &first, "model", &a->model);
  buf_puts(out, ",\"choices\":[");
  for(size_t i = 0; i < ASM_MAX_INDEX; i++) {
    if(!a->choices[i])
      continue;
    if(!first_choice)
      buf_puts(out, ",");
    first_choice = false;
    achat_put_choice(out, a->choices[i], i);
  }
  buf_puts(out, "]");
  achat_put_member(out, &first, "usage", &a->usage);
  achat_put_member(out, &first, "service_tier", &a->tier);
  achat_put_member(out, &first, "system_fingerprint", &a->fp);
  asm_bag_put(out, &a->rest);
  buf_puts(out, "}");
}

/* Is the joined state a whole answer? NULL, or why not: no choice; with
 * finished false (the transfer ended without [DONE]) a choice without its
 * finish_reason; a tool call or function_call without a name. */
static const char *achat_whole(const struct achat *a, bool finished)
{
  if(!a->choice_count)
    return "the stream carried no choice";
  for(size_t i = 0; i < ASM_MAX_INDEX; i++) {
    const struct achat_choice *ch = a->choices[i];
    if(!ch)
      continue;
    if(!finished && !ch->finish.set)
      return "the stream ended before every choice finished";
    if(ch->fcall && !ch->fc_name.set)
      return "a function_call without a name";
    for(size_t t = 0; t < ASM_MAX_INDEX; t++)
      if(ch->tools[t] && !ch->tools[t]->name.set)
        return "a tool call without a name";
  }
  return NULL;
}

int achat_finish(void *st, bool eof, struct buf *out, const char **why)
{
  const struct achat *a = st;
  const char *ignored, *reason;
  if(!why)
    why = &ignored;
  switch(a->st) {
  case ACHAT_OOM:
    return -1;
  case ACHAT_BAD:
    *why = a->why;
    return 0;
  case ACHAT_ERROR:
    buf_append(out, a->err.ptr, a->err.len);
    return out->oom ? -1 : a->err_status;
  case ACHAT_RUN:
    if(!eof) {
      *why = "the stream has not ended";
      return 0;
    }
    break;
  default:
    break;
  }
  if((reason = achat_whole(a, a->st == ACHAT_END))) {
    *why = reason;
    return 0;
  }
  achat_put_answer(out, a);
  return out->oom ? -1 : 200;
}
