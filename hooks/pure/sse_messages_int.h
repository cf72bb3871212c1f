/* sse_messages_int.h - internals shared by the Anthropic Messages
 * encoder's reader (sse_messages_read.c: validate the answer once) and
 * writer (sse_messages.c: one event per call). */
#ifndef SS_SSE_MESSAGES_INT_H
#define SS_SSE_MESSAGES_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "sse_piece.h"
#include "sse_messages.h"

/* Content blocks by the way the stream carries them. */
enum msg_kind {
  MK_TEXT,      /* text:"" at start; citations_delta each; text_delta pieces */
  MK_THINKING,  /* thinking:"",signature:"" at start; thinking_delta
                   pieces; one signature_delta */
  MK_TOOL,      /* tool_use, server_tool_use: input:{} at start;
                   input_json_delta "" then pieces of the input's text */
  MK_WHOLE      /* redacted_thinking, server tool results: whole at start */
};

/* One content block: spans into the answer bytes. */
struct msg_block {
  enum msg_kind kind;
  struct json_span obj;    /* the block object */
  struct json_span text;   /* MK_TEXT text, MK_THINKING thinking (strings),
                              MK_TOOL input (an object) */
  struct json_span cites;  /* MK_TEXT citations: array, null or absent */
  struct json_span sig;    /* MK_THINKING signature (a string) */
};

/* Replay stages, in order; a block runs MS_CITES..MS_STOP as its kind
 * needs. */
enum msg_stage {
  MS_START, MS_BLOCK, MS_PING, MS_CITES, MS_TEXT, MS_INPUT_FIRST, MS_INPUT,
  MS_SIG, MS_STOP, MS_DELTA, MS_MSTOP, MS_END
};

/* Where the replay stands; copied whole so a failed event can be undone. */
struct msg_cursor {
  enum msg_stage st;
  enum msg_stage after_ping;  /* where MS_PING goes on */
  bool pinged;                /* the one ping went out */
  struct json_iter block_it;  /* over "content" */
  struct msg_block b;         /* the current block */
  size_t index;               /* its position in content */
  struct json_iter cite_it;   /* over its citations */
  const char *pos, *end;      /* raw text left of what is being cut */
  bool in_str;                /* MS_INPUT: pos lies inside a string */
};

struct sse_messages {
  struct json_span root;       /* the answer object */
  struct json_span content;    /* its content array */
  struct json_span usage;      /* its usage object */
  struct json_span stop_reason, stop_sequence;
  struct json_span stop_details, container;  /* JSON_NONE when absent */
  size_t piece_chars;
  struct piece_plain plain;  /* piece_next_known's memory */
  struct msg_cursor c;
};

/* Read and check one element of "content"; *why says what is wrong. */
bool msg_block_read(struct json_span blk, struct msg_block *b,
                    const char **why);

/* Is the usage member named by key sent again in message_delta (the
 * counters MessageStream overwrites from there)? */
bool msg_delta_usage_key(struct json_span key);

/* The table's open (the reader): check the whole answer once; NULL with
 * *why set (a static string) when it cannot be replayed exactly, or when
 * memory runs out. The answer bytes must outlive the encoder. */
void *sse_messages_open(const char *p, size_t n, const struct replay_opts *o,
                        const char **why);

#endif
