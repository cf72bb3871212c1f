/* assemble_completions.c - joining a legacy Completions stream
 * (text_completion chunks, /v1/completions) into the text_completion
 * answer the API gives without streaming (see assemble.h). The inverse of
 * sse_completions.c; openai-node has no accumulator for this shape, so
 * the rules are chat's (assemble_chat.c) for what the shapes share. The
 * chunk-stream core (asm_chunks.c) does that part; this file joins and
 * writes what a choice of this shape carries: text and legacy logprobs.
 *
 * - Top level: the last chunk that carries a member wins, but a chunk
 *   with a blank id only fills members not kept yet and a blank id,
 *   created or model never replaces one kept (but replaces a blank one
 *   kept, from any chunk); "usage" is the last object
 *   that came (the include_usage chunk, "choices":[]).
 * - Choices by "index" (0..127), any order: "text" joined from all the
 *   pieces; finish_reason the last non-empty one (the API sets it on the last
 *   text chunk); logprobs {tokens, token_logprobs, top_logprobs,
 *   text_offset}: each member's arrays concatenated in order (a member
 *   that came only as null is null, one that never came is absent; the
 *   object is null when the chunks carried only null, absent when they
 *   never had the key); other choice members: the last value.
 * - Key order as the API's answer: id, object, created, model,
 *   system_fingerprint, choices, usage, then the others; a choice: text,
 *   index, logprobs, finish_reason, others.
 * - [DONE] ends the stream; errors as asm_event_read() says; the end of
 *   the transfer without [DONE] is a whole answer only when every choice
 *   has its finish_reason. */
#include "asm_chunks.h"

#include "sse_piece.h"

static const char *const atext_lp_names[ASM_LP_MAX + 1] = {
  "tokens", "token_logprobs", "top_logprobs", "text_offset", NULL
};

/* One choice, by its "index" (finish_reason and others: the core's). */
struct atext_choice {
  struct asm_choice base;            /* first: the core's part */
  struct asm_text text;
  struct asm_lp lp;                  /* by atext_lp_names */
};

/* The shape's choice_add: join one element of a chunk's "choices" into
 * the choice at its index. */
static const char *atext_choice_add(struct asm_choice *base,
                                    struct json_span c)
{
  struct atext_choice *ch = (struct atext_choice *)base;
  struct json_span v;
  const char *why;
  json_get(c, "text", &v);
  if(!asm_text_add(&ch->text, v))
    return "a choice's text is not a string";
  if((why = asm_finish_add(base, c)))
    return why;
  json_get(c, "logprobs", &v);
  return asm_lp_add(&ch->lp, v, atext_lp_names);
}

/* The shape's choice_put: text ("" when no piece came), index, logprobs,
 * finish_reason. */
static void atext_choice_put(struct buf *out, const struct asm_choice *base,
                             size_t index)
{
  const struct atext_choice *ch = (const struct atext_choice *)base;
  buf_puts(out, "\"text\":");
  asm_text_put_str(out, &ch->text);
  buf_puts(out, ",\"index\":");
  sse_put_uint(out, index);
  asm_lp_put(out, &ch->lp, atext_lp_names);
  asm_finish_put(out, base);
}

/* The shape's choice_free: release the text and logprobs. */
static void atext_choice_free(struct asm_choice *base)
{
  struct atext_choice *ch = (struct atext_choice *)base;
  asm_text_free(&ch->text);
  asm_lp_free(&ch->lp);
}

/* The choice members read above (not kept among the others). */
static const char *const atext_choice_known[] = {
  "text", "index", "logprobs", "finish_reason", NULL
};

static const struct asm_chunks_shape atext_shape = {
  .chunk_object = "text_completion",
  .other_why = "not a text_completion chunk",
  .answer_object = "\"text_completion\"",
  .tier = false,             /* service_tier is one of the others */
  .fp_first = true,          /* model, system_fingerprint, choices */
  .choice_size = sizeof(struct atext_choice),
  .choice_known = atext_choice_known,
  .choice_add = atext_choice_add,
  .choice_whole = NULL,      /* a choice is whole with its finish_reason */
  .choice_put = atext_choice_put,
  .choice_free = atext_choice_free,
};

/* The table's open: an empty state of this shape. */
static void *atext_open(void)
{
  return asm_chunks_open(&atext_shape);
}

const struct assembler completions_assembler = {
  "text_completion", atext_open, asm_chunks_event, asm_chunks_finish,
  asm_chunks_close
};
