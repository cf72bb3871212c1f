/* assemble_chat_int.h - internals shared by the Chat Completions
 * assembler's reader (assemble_chat.c: each chunk joined into the state)
 * and writer (assemble_chat_put.c: the chat.completion answer). */
#ifndef SS_ASSEMBLE_CHAT_INT_H
#define SS_ASSEMBLE_CHAT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "asm_part.h"

/* One tool call of a message, by its delta entries' "index". */
struct achat_tool {
  struct asm_val id, type;     /* the last non-empty one */
  bool fn, custom;             /* a "function" / "custom" object came */
  struct asm_val name;         /* function.name (custom.name), non-empty */
  struct asm_text args;        /* function.arguments (custom.input) joined */
  struct asm_bag rest;         /* other members, the last value of each */
};

/* One choice, by its "index". A text member's state says whether any
 * delta carried the key (ASM_ABSENT: it is not in the answer). */
struct achat_choice {
  struct asm_val role;                 /* the last non-empty role */
  struct asm_text content, reasoning_content, reasoning, refusal;
  struct achat_tool *tools[ASM_MAX_INDEX];
  size_t tool_count;                   /* entries used in tools */
  bool fcall;                          /* a function_call object came */
  struct asm_val fc_name;
  struct asm_text fc_args;
  struct asm_list annotations;
  struct asm_bag msg_rest;             /* other delta members */
  bool lp_key;                         /* a chunk had "logprobs" */
  bool lp_obj;                         /* ... as an object */
  struct asm_list lp_content, lp_refusal;
  struct asm_val finish;               /* the non-null finish_reason */
  struct asm_val filter;               /* content_filter_results */
  struct asm_bag rest;                 /* other choice members */
};

enum achat_state { ACHAT_RUN, ACHAT_END, ACHAT_ERROR, ACHAT_BAD, ACHAT_OOM };

struct achat {
  enum achat_state st;
  bool chunk_seen;                     /* a chunk came */
  struct asm_val id, created, model, tier, fp, usage;
  struct asm_bag rest;                 /* other top-level members */
  struct achat_choice *choices[ASM_MAX_INDEX];
  size_t choice_count;
  struct buf err;                      /* the error answer (ACHAT_ERROR) */
  int err_status;
  const char *why;                     /* why ACHAT_BAD */
};

/* The table's finish (the writer): see assemble.h. */
int achat_finish(void *st, bool eof, struct buf *out, const char **why);

#endif
