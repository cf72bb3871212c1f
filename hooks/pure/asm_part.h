/* asm_part.h - the parts the assemblers (assemble.h) share: what an
 * event is (the terminal [DONE], an error, a JSON object to join), and
 * small accumulators that keep the bytes of the events' values. Pure.
 *
 * Every accumulator owns its bytes (the events' do not outlive a call),
 * sets its buffer's oom flag when memory runs out, and is released with
 * its _free function; a zeroed accumulator is empty. The _put functions
 * set the output's oom flag when what they copy is incomplete, so that a
 * writer checks its output once. */
#ifndef SS_ASM_PART_H
#define SS_ASM_PART_H

#include <stdbool.h>
#include <stddef.h>

#include "assemble.h"
#include "buf.h"
#include "json.h"

/* Choices and tool calls have an index below this (openai-node's
 * MAX_STREAM_CHOICES and MAX_STREAM_TOOL_CALLS). */
#define ASM_MAX_INDEX 128

/* Most members an object may keep by name (asm_bag): more unknown
 * members than any answer has make the stream one not joined. */
#define ASM_MAX_MEMBERS 64

/* The reason every "out of memory" failure gives (compare the pointer). */
extern const char asm_oom_why[];

/* Whether a member came, and how. */
enum asm_state { ASM_ABSENT = 0, ASM_NULL, ASM_SET };

/* A text joined from string pieces: the raw bytes between each piece's
 * quotes, concatenated. A null piece adds nothing (the text stays null
 * until a string comes). */
struct asm_text {
  enum asm_state st;
  struct buf b;
};
/* Add piece v (a string, null, or JSON_NONE: nothing); false when v is of
 * another type. */
bool asm_text_add(struct asm_text *t, struct json_span v);
/* Append the text as a JSON string, or null when no string came. */
void asm_text_put(struct buf *out, const struct asm_text *t);
/* Append the text as a JSON string, "" when no string came. */
void asm_text_put_str(struct buf *out, const struct asm_text *t);
void asm_text_free(struct asm_text *t);

/* An array joined from array pieces: the elements of each, in order. */
struct asm_list {
  enum asm_state st;
  struct buf b;   /* the elements, comma-separated */
};
/* Add piece v (an array, null, or JSON_NONE); false when of another type. */
bool asm_list_add(struct asm_list *l, struct json_span v);
/* Append [elements], or null when no array came. */
void asm_list_put(struct buf *out, const struct asm_list *l);
void asm_list_free(struct asm_list *l);

/* Most members of a choice's logprobs object (legacy Completions' four). */
#define ASM_LP_MAX 4

/* A choice's logprobs (Chat and legacy Completions chunks): whether any
 * chunk had the key and as an object, and each member (an array) joined
 * as asm_list does. Its members are named by a NULL-terminated list (at
 * most ASM_LP_MAX) the caller gives every call. */
struct asm_lp {
  bool key;                       /* a chunk had "logprobs" */
  bool obj;                       /* ... as an object */
  struct asm_list m[ASM_LP_MAX];  /* in the order of the names */
};
/* Join logprobs v (an object with only the members named, null, or
 * JSON_NONE). NULL, or why not. */
const char *asm_lp_add(struct asm_lp *lp, struct json_span v,
                       const char *const *names);
/* Append ,"logprobs":... as the chunks carried it: an object with the
 * members that came, null when only null came, nothing when no chunk had
 * the key. */
void asm_lp_put(struct buf *out, const struct asm_lp *lp,
                const char *const *names);
void asm_lp_free(struct asm_lp *lp);

/* One value, copied whole. */
struct asm_val {
  bool set;
  struct buf b;
};
/* Keep v (replacing what was kept); JSON_NONE keeps nothing. */
void asm_val_set(struct asm_val *v, struct json_span s);
/* Keep string v when it is not empty (JavaScript's if(v)); null and
 * JSON_NONE keep nothing. False when v is of another type. */
bool asm_str_set(struct asm_val *v, struct json_span s);
/* Append the value kept (nothing when none). */
void asm_val_put(struct buf *out, const struct asm_val *v);
void asm_val_free(struct asm_val *v);

/* Append "name": with a comma before it unless *first (then cleared). */
void asm_key(struct buf *out, bool *first, const char *name);

/* Is v blank: null, "", a number equal to 0, or {}? (A blank value never
 * replaces one already kept: Azure's first chunk, "{}" filter results.) */
bool asm_blank(struct json_span v);

/* Members kept by name, each the last value that came, in the order the
 * names first came (openai-node's Object.assign). Names compare by their
 * bytes as written. */
struct asm_member {
  struct buf key;   /* the name, with its quotes */
  struct buf val;
};
struct asm_bag {
  struct asm_member *m;
  size_t n, cap;
  bool oom;
};
/* Keep key (a string span) = val; only_new: only when key is not kept
 * yet. NULL, asm_oom_why, or why not (more than ASM_MAX_MEMBERS). */
const char *asm_bag_set(struct asm_bag *g, struct json_span key,
                        struct json_span val, bool only_new);
/* Keep every member of object obj not named in known (a NULL-terminated
 * list) as asm_bag_set() does; its result. */
const char *asm_bag_rest(struct asm_bag *g, struct json_span obj,
                         const char *const *known, bool only_new);
/* Append ,"key":value for every member. */
void asm_bag_put(struct buf *out, const struct asm_bag *g);
/* Did an append of any member fail? */
bool asm_bag_oom(const struct asm_bag *g);
void asm_bag_free(struct asm_bag *g);

/* Keep a top-level value v of a chunk in slot: always when nothing is
 * kept yet; else not from a chunk whose id is blank (blank_chunk), and
 * not a blank value when meta (id, created, model). A blank meta value
 * kept (Azure's first chunk) is replaced by a value that is not, from
 * any chunk: a stream whose ids are all "" gets its model and created
 * from the chunks that carry them, as the SDK's Object.assign does. */
void asm_top_set(struct asm_val *slot, struct json_span v, bool blank_chunk,
                 bool meta);

/* An index member: a non-negative integer below ASM_MAX_INDEX, written
 * with digits only. */
bool asm_index(struct json_span v, size_t *out);

/* What one event is, as openai-node's Stream reads it: "data: [DONE]"
 * (whatever its name) is ASM_END; data that is not JSON, or an event of
 * the Assistants API ("thread.*"), ASM_BAD with *why; an "error" event,
 * or an object with a truthy "error" member, ASM_ERROR, with the answer's
 * body in err (the object as received, or {"error":data} for an "error"
 * event without one) and its HTTP status in *status; any other JSON
 * object ASM_MORE with *root spanning it (other values: ASM_BAD). */
enum asm_result asm_event_read(const struct sse_event *ev,
                               struct json_span *root, struct buf *err,
                               int *status, const char **why);

#endif
