/* assemble_messages_int.h - internals shared by the Anthropic Messages
 * assembler's event reader (assemble_messages.c: the message events, one
 * at a time into the state below; assemble_messages_block.c: the content
 * block events) and its writer (assemble_messages_put.c: the state into
 * the message, once). */
#ifndef SS_ASSEMBLE_MESSAGES_INT_H
#define SS_ASSEMBLE_MESSAGES_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "assemble.h"
#include "json.h"

/* Content blocks by what their deltas do. */
enum am_kind {
  AK_TEXT,        /* text_delta appends to text; citations_delta adds one */
  AK_THINKING,    /* thinking_delta appends to thinking; signature_delta
                     sets signature */
  AK_TOOL,        /* tool_use, server_tool_use, mcp_tool_use:
                     input_json_delta pieces join into input's JSON text */
  AK_COMPACTION,  /* compaction (beta): compaction_delta appends to content
                     and sets encrypted_content */
  AK_WHOLE        /* anything else: whole in content_block_start */
};

/* One content block as the stream built it. */
struct am_block {
  enum am_kind kind;
  struct buf start;   /* content_block_start's content_block, as it came */
  struct buf text;    /* the deltas' joined raw string text (between the
                         quotes); AK_TOOL: a '"' then the partial_json */
  bool grown;         /* a delta appended to text */
  struct buf cites;   /* the citations_delta citations, comma-separated */
  struct buf last;    /* the last signature / encrypted_content value */
  bool has_last;
  struct buf input;   /* AK_TOOL: text decoded, once checked */
  bool input_ok;      /* input is the check of the current text */
};

/* One member of an object as message_delta sets it. */
struct am_member {
  struct buf kv;      /* the key's bytes (with quotes), then the value's */
  size_t klen;
  bool used;          /* written in place of message_start's member */
};

/* Members set by message_delta, in their first order. */
struct am_members {
  struct am_member *v;
  size_t n, cap;
};

enum am_phase { AP_OPEN, AP_STARTED, AP_END, AP_ERROR, AP_BAD, AP_OOM };

struct am_state {
  enum am_phase phase;
  const char *why;           /* AP_BAD: the reason */
  struct buf start;          /* message_start's message, as it came */
  struct am_block *blocks;   /* by index */
  size_t nblocks, cap;
  struct am_members top;     /* the message's members message_delta set */
  struct am_members usage;   /* the usage counters message_delta set */
  struct buf error;          /* AP_ERROR: the error body */
  int status;                /* AP_ERROR: its HTTP status */
};

/* ---- assemble_messages.c ---- */
/* Is string span s one of names (a NULL-terminated list)? */
bool am_in(struct json_span s, const char *const *names);
/* Record a refusal: phase AP_BAD, *why (when given) the static reason;
 * returns ASM_BAD. */
enum asm_result am_bad(struct am_state *s, const char **why,
                       const char *reason);
/* Record that memory ran out (the state is unusable); returns ASM_OOM. */
enum asm_result am_oom(struct am_state *s);
/* Do key (or string) spans a and b decode to the same text? */
bool am_key_eq(struct json_span a, struct json_span b);

/* The member of list whose key is key, or NULL. */
struct am_member *am_members_find(const struct am_members *list,
                                  struct json_span key);

/* ---- assemble_messages_block.c ---- */
/* The content block events: data is the event's parsed data (a JSON
 * object whose type matched the event's name). */
enum asm_result am_on_block_start(struct am_state *s, struct json_span data,
                                  const char **why);
enum asm_result am_on_block_delta(struct am_state *s, struct json_span data,
                                  const char **why);
enum asm_result am_on_block_stop(struct am_state *s, struct json_span data,
                                 const char **why);
/* Decode tool block b's joined partial_json into its input and check it
 * is one JSON value (nothing joined: the start's input stands). */
enum asm_result am_input_check(struct am_state *s, struct am_block *b,
                               const char **why);
/* Release a block's buffers. */
void am_block_free(struct am_block *b);

/* ---- assemble_messages_put.c ---- */
/* Append the answer the state holds (after message_stop) to out: the
 * message in message_start's member order, blocks in index order (see
 * assemble_messages.c for the rules). False when memory ran out. */
bool am_put_answer(struct am_state *s, struct buf *out);

#endif
