/* assemble_chat_int.h - internals shared by the Chat Completions
 * assembler's reader (assemble_chat.c: each choice of a chunk joined into
 * its state) and writer (assemble_chat_put.c: a choice of the
 * chat.completion answer). The rest is the core's (asm_chunks.h). */
#ifndef SS_ASSEMBLE_CHAT_INT_H
#define SS_ASSEMBLE_CHAT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "asm_chunks.h"

/* One tool call of a message, by its delta entries' "index". */
struct achat_tool {
  struct asm_val id, type;     /* the last non-empty one */
  bool fn, custom;             /* a "function" / "custom" object came */
  struct asm_val name;         /* function.name (custom.name), non-empty */
  struct asm_text args;        /* function.arguments (custom.input) joined */
  struct asm_bag rest;         /* other members, the last value of each */
};

/* One choice, by its "index" (its finish_reason and other members are
 * the core's, in base). A text member's state says whether any delta
 * carried the key (ASM_ABSENT: it is not in the answer). */
struct achat_choice {
  struct asm_choice base;              /* first: the core's part */
  struct asm_val role;                 /* the last non-empty role */
  struct asm_text content, reasoning_content, reasoning, refusal;
  struct achat_tool *tools[ASM_MAX_INDEX];
  size_t tool_count;                   /* entries used in tools */
  bool fcall;                          /* a function_call object came */
  struct asm_val fc_name;
  struct asm_text fc_args;
  struct asm_list annotations;
  struct asm_bag msg_rest;             /* other delta members */
  struct asm_lp lp;                    /* by achat_lp_names */
  struct asm_val filter;               /* content_filter_results */
};

/* The members of a choice's logprobs: "content", "refusal". */
extern const char *const achat_lp_names[];

/* The shape's choice_put and choice_whole (asm_chunks.h), the writer's. */
void achat_choice_put(struct buf *out, const struct asm_choice *base,
                      size_t index);
const char *achat_choice_whole(const struct asm_choice *base);

#endif
