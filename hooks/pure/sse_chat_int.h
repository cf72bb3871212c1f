/* sse_chat_int.h - internals shared by the chat completions encoder's
 * reader (sse_chat_read.c: validate the answer once) and writer
 * (sse_chat.c: one event per call). */
#ifndef SS_SSE_CHAT_INT_H
#define SS_SSE_CHAT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "sse_chat.h"
#include "sse_piece.h"

/* One choice of the answer: spans into the answer bytes. Text members are
 * JSON_STRING, JSON_NULL or JSON_NONE (absent). */
struct chat_choice {
  struct json_span index, finish, role;
  struct json_span reasoning, content, refusal;
  struct json_span tools;  /* JSON_ARRAY, or not one: no tool calls */
  struct json_span fcall;  /* JSON_OBJECT, or not one: no function_call */
  struct json_span filter; /* Azure's content_filter_results, if an object */
  struct json_span lp;     /* choice logprobs: JSON_OBJECT, or not one */
  struct json_span lp_content, lp_refusal;  /* its members: JSON_ARRAY,
                                                JSON_NULL or JSON_NONE */
};

/* One tool call: string spans. */
struct chat_tool {
  struct json_span id, type, name, args;
};

/* Replay stages, in order; a choice runs ST_ROLE..ST_FINAL. */
enum chat_stage {
  ST_PROMPT_FILTER, ST_NEXT_CHOICE, ST_ROLE, ST_REASON, ST_CONTENT, ST_REFUSAL,
  ST_TOOL_HEAD, ST_TOOL_ARGS, ST_FUNC_ARGS, ST_FINAL,
  ST_USAGE, ST_DONE, ST_END
};

/* Where the replay stands; copied whole so a failed event can be undone. */
struct chat_cursor {
  enum chat_stage st;
  struct json_iter choice_it;  /* over "choices" */
  struct chat_choice ch;       /* the current choice */
  struct json_iter tool_it;    /* over its "tool_calls" */
  struct chat_tool tool;       /* the current tool call */
  size_t tool_no;              /* its position in the array */
  size_t tools_started;        /* tool calls begun in this choice */
  const char *pos, *end;       /* raw text left of the string being cut */
  bool lp_on;                  /* cut at token groups of lp_it (content
                                  or refusal with a logprobs array) */
  struct json_iter lp_it;      /* over the logprobs entries left */
};

struct sse_chat {
  struct json_span id, created, model, tier, fp, usage, choices;
  struct json_span prompt_filter;  /* Azure's prompt_filter_results */
  struct chat_choice first;  /* the first choice, as open read it (the
                                replay does not read it again) */
  struct buf head;  /* every chunk's start, up to "choices":[ (by open:
                       the same bytes for each of the stream's chunks) */
  size_t piece_chars;
  bool include_usage;
  struct chat_cursor c;
  /* The bytes before and after a text piece in its event, for the stage
   * and choice (and tool call) they were built for: the same for every
   * piece of one string, so built once per string (chat_emit_piece). */
  struct buf frame_pre, frame_post;
  struct piece_plain plain;    /* piece_next_known's memory */
  enum chat_stage frame_st;    /* ST_END: nothing built */
  const char *frame_choice;    /* the choice's index span */
  size_t frame_tool;
};

/* Does s hold a string with at least one character (one piece or more)? */
bool chat_has_text(struct json_span s);
/* Will the choice send text pieces (reasoning, content or refusal text,
 * or logprobs entries) before its tool calls? */
bool chat_has_pieces(const struct chat_choice *ch);
/* Read the {name, arguments} object of a tool call or of a legacy
 * function_call. */
bool chat_fn_read(struct json_span fn, struct chat_tool *t, const char **why);
/* Read one element of tool_calls: {id, type:"function", function}. */
bool chat_tool_read(struct json_span call, struct chat_tool *t,
                    const char **why);
/* Read and check one element of "choices". */
bool chat_choice_read(struct json_span c, struct chat_choice *ch,
                      const char **why);

/* Append the start of a chunk event, up to and including "choices":[ */
void chat_head_put(const struct sse_chat *e, struct buf *b);

/* The table's open (the reader): check the whole answer once; NULL with
 * *why set (a static string) when it cannot be replayed exactly, or when
 * memory runs out. The answer bytes must outlive the encoder. */
void *sse_chat_open(const char *p, size_t n, const struct replay_opts *o,
                    const char **why);

#endif
