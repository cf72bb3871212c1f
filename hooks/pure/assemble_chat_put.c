/* assemble_chat_put.c - writing a choice of the chat.completion answer a
 * Chat Completions stream joined into (see assemble_chat.c for the
 * rules), and what makes it whole; the rest of the answer is the core's
 * (asm_chunks.c).
 *
 * Key order as api.openai.com's non-streamed answer: id, object, created,
 * model, choices, usage, service_tier, system_fingerprint, then the other
 * members in the order they first came (Azure's prompt_filter_results;
 * the core writes these, where the shape's table asks).
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

/* Append member name = the text t when a delta carried its key. */
static void achat_put_text(struct buf *out, const char *name,
                           const struct asm_text *t)
{
  bool first = false;
  if(t->st == ASM_ABSENT)
    return;
  asm_key(out, &first, name);
  asm_text_put(out, t);
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
  asm_text_put_str(out, &t->args);
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
    asm_text_put_str(out, &ch->fc_args);
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

/* The shape's choice_put: index, message, logprobs, finish_reason and
 * content_filter_results (the core adds the others and the braces). */
void achat_choice_put(struct buf *out, const struct asm_choice *base,
                      size_t index)
{
  const struct achat_choice *ch = (const struct achat_choice *)base;
  buf_puts(out, "\"index\":");
  sse_put_uint(out, index);
  buf_puts(out, ",\"message\":");
  achat_put_message(out, ch);
  asm_lp_put(out, &ch->lp, achat_lp_names);
  asm_finish_put(out, base);
  if(ch->filter.set) {
    buf_puts(out, ",\"content_filter_results\":");
    asm_val_put(out, &ch->filter);
  }
}

/* The shape's choice_whole: a choice is whole when its function_call and every tool call have a
 * name. */
const char *achat_choice_whole(const struct asm_choice *base)
{
  const struct achat_choice *ch = (const struct achat_choice *)base;
  if(ch->fcall && !ch->fc_name.set)
    return "a function_call without a name";
  for(size_t t = 0; t < ASM_MAX_INDEX; t++)
    if(ch->tools[t] && !ch->tools[t]->name.set)
      return "a tool call without a name";
  return NULL;
}
