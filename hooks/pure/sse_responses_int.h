/* sse_responses_int.h - internals shared by the Responses encoder's
 * reader (sse_responses_read.c: validate the answer once), its event
 * writers (sse_responses_put.c), its logprob grouping
 * (sse_responses_lp.c) and its stage machine (sse_responses.c). */
#ifndef SS_SSE_RESPONSES_INT_H
#define SS_SSE_RESPONSES_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "sse_piece.h"
#include "sse_responses.h"

/* The output item types this encoder replays. */
enum resp_kind {
  RK_MESSAGE, RK_FUNCTION, RK_CUSTOM, RK_REASONING, RK_WEB_SEARCH
};

/* How one kind of streamed text is sent: the event types around it (NULL
 * when there is no such event), the name of its index member (NULL: the
 * text belongs to the item itself) and the member holding the text, in
 * the answer's part and in the done event. */
struct resp_text_kind {
  const char *added, *delta, *done, *part_done;
  const char *index;
  const char *member;
};

extern const struct resp_text_kind resp_tk_output_text, resp_tk_refusal,
  resp_tk_summary, resp_tk_reasoning_text, resp_tk_arguments, resp_tk_input;

/* One output item: spans into the answer bytes. */
struct resp_item {
  enum resp_kind kind;
  struct json_span obj, id;
  struct json_span parts;   /* message content / reasoning summary */
  struct json_span parts2;  /* reasoning content, if an array */
  struct json_span text;    /* function arguments / custom tool input */
  struct json_span name;    /* function name */
};

/* One part of an item (or the item's own text): spans and how to send. */
struct resp_part {
  const struct resp_text_kind *tk;
  struct json_span obj;       /* the part object (NONE for item text) */
  struct json_span text;      /* its text, a JSON_STRING */
  struct json_span annots;    /* output_text annotations, if an array */
  struct json_span logprobs;  /* output_text logprobs, if present */
};

/* Replay stages, in order; an item runs ST_ADDED..ST_ITEM_DONE. */
enum resp_stage {
  ST_CREATED, ST_IN_PROGRESS, ST_NEXT_ITEM, ST_ADDED, ST_NEXT_PART,
  ST_PART_ADDED, ST_DELTA, ST_ANNOT, ST_TEXT_DONE, ST_PART_DONE,
  ST_SEARCH, ST_ITEM_DONE, ST_TERMINAL, ST_END
};

/* Where the replay stands; copied whole so a failed event can be undone. */
struct resp_cursor {
  enum resp_stage st;
  size_t seq;                  /* the next sequence_number */
  struct json_iter item_it;    /* over "output" */
  size_t item_no;              /* output_index of the current item */
  struct resp_item item;
  struct json_iter part_it;    /* over the current parts array */
  bool second;                 /* walking item.parts2 */
  size_t part_no;              /* content_index / summary_index */
  size_t parts_started;        /* parts begun in the current array */
  struct resp_part part;
  struct json_iter annot_it;   /* over part.annots */
  size_t annot_no;
  struct json_iter lp_it;      /* logprob entries not yet sent */
  int search_step;             /* web_search_call status events sent */
  const char *pos, *end;       /* raw text left of the string being cut */
  unsigned long part_serial;   /* counts parts begun: keys delta_head */
};

struct sse_responses {
  struct json_span root, output;
  const char *terminal;        /* response.completed / incomplete / failed */
  size_t piece_chars;
  struct resp_cursor c;
  /* The current part's delta event start, built once per part: the bytes
   * before the sequence number (head_split of them), then those after it
   * (item reference, index, and "delta":" up to the text), and whether
   * the part has logprob entries. Valid while head_for is c.part_serial
   * (a cursor restored after a failed event has another serial). */
  struct buf delta_head;
  size_t head_split;
  unsigned long head_for;
  bool head_lp;
  struct piece_plain plain;    /* piece_next_known's memory */
};

/* ---- sse_responses_read.c ---- */
/* Read and check one element of "output". */
bool resp_item_read(struct json_span v, struct resp_item *it,
                    const char **why);
/* Read one element of a parts array of an item already checked. */
bool resp_part_read(const struct resp_item *it, bool second,
                    struct json_span v, struct resp_part *pt,
                    const char **why);

/* ---- sse_responses_lp.c ---- */
/* Do the byte values of the output_text logprob entries lps (a non-empty
 * array) spell exactly the UTF-8 of string text? Checks their shape. */
bool resp_lp_check(struct json_span text, struct json_span lps,
                   const char **why);
/* Cut the next delta from the cursor's text: the text of the next
 * logprob entries up to a character boundary (trailing entries without
 * bytes join the last delta). *first and *count say which entries. */
void resp_lp_cut(struct resp_cursor *c, struct json_iter *first,
                 size_t *count);
/* Append entries as the events carry them: [{token, logprob,
 * top_logprobs:[{token, logprob}]}], without the bytes members. */
void resp_lp_put(struct buf *b, struct json_iter first, size_t count);

/* ---- sse_responses_put.c ---- */
/* Append "event: T\ndata: {"type":"T","sequence_number":N and count N. */
void resp_event_open(struct resp_cursor *c, struct buf *b, const char *type);
/* Append "}\n\n", closing the event. */
void resp_event_close(struct buf *b);
/* Append ,"item_id":...,"output_index":N for the current item. */
void resp_put_item_ref(const struct resp_cursor *c, struct buf *b);
/* Append the response object as it is before any output is produced. */
void resp_put_start(struct buf *b, struct json_span root);
/* Append the current item in its in-progress form. */
void resp_put_item_start(struct buf *b, const struct resp_item *it);
/* Append the current part in its empty form. */
void resp_put_part_start(struct buf *b, struct json_span part);
/* Append one event of the current part (stage ST_PART_ADDED, ST_DELTA,
 * ST_ANNOT, ST_TEXT_DONE or ST_PART_DONE) and advance within the part;
 * false when the stage has no event (e.g. no annotation left). */
bool resp_put_part_event(struct sse_responses *e, struct buf *b);
/* Is the next event a delta of the current text cut by piece_chars (no
 * logprob entries)? Then resp_put_part_event changes only c.pos and
 * c.seq. */
bool resp_plain_delta_next(const struct sse_responses *e);

/* The table's open (the reader): check the whole answer once; NULL with
 * *why set (a static string) when it cannot be replayed exactly, or when
 * memory runs out. The answer bytes must outlive the encoder. */
void *sse_responses_open(const char *p, size_t n, const struct replay_opts *o,
                         const char **why);

#endif
