/* asm_chunks.h - the core of the two assemblers of OpenAI chunk streams
 * (assemble.h): Chat Completions (assemble_chat.c) and legacy Completions
 * (assemble_completions.c). Pure.
 *
 * The core keeps what the two shapes share: the top-level members and
 * their rules, the table of choices by "index" (0..127), a choice's
 * finish_reason and unknown members, the error and [DONE] rules
 * (asm_event_read), finish's completeness check and the answer's
 * top-level writer. A shape is a const table (struct asm_chunks_shape)
 * of what differs: the chunks' "object", where service_tier and
 * system_fingerprint go, and the callbacks of its choices; its
 * assembler table is asm_chunks_open(&shape) and the functions below. */
#ifndef SS_ASM_CHUNKS_H
#define SS_ASM_CHUNKS_H

#include <stdbool.h>
#include <stddef.h>

#include "asm_part.h"

/* What every shape's choice has, kept by the core: the first member of
 * each shape's choice struct (the core allocates choice_size bytes,
 * zeroed, and hands the callbacks this part; they cast it back). */
struct asm_choice {
  struct asm_val finish;   /* the last non-empty finish_reason */
  struct asm_bag rest;     /* the choice members the shape does not read */
};

/* A shape: what differs between the chunk streams. */
struct asm_chunks_shape {
  const char *chunk_object;   /* a chunk's "object" (or "", or absent) */
  const char *other_why;      /* why a chunk with another object is refused */
  const char *answer_object;  /* the answer's "object", as a JSON string */
  bool tier;                  /* service_tier is read, and written after
                                 usage; else it is one of the others */
  bool fp_first;              /* system_fingerprint right after model;
                                 else after usage (and service_tier) */
  size_t choice_size;         /* sizeof the shape's choice */
  const char *const *choice_known;  /* the choice members the shape reads,
                                       "index" among them (NULL-ended) */
  /* Join choice element c (an object with a valid index) into ch; the
   * core then keeps c's other members in ch->rest. NULL, asm_oom_why, or
   * why the stream cannot be joined. */
  const char *(*choice_add)(struct asm_choice *ch, struct json_span c);
  /* Why ch is not a whole choice of an answer, or NULL (may be NULL:
   * every choice is). The core checks the finish_reason itself. */
  const char *(*choice_whole)(const struct asm_choice *ch);
  /* Append the choice's members up to its unknown ones, the first without
   * a comma (the core writes the braces and ch->rest). */
  void (*choice_put)(struct buf *out, const struct asm_choice *ch,
                     size_t index);
  /* Release what the shape keeps in ch (not ch itself, nor its base). */
  void (*choice_free)(struct asm_choice *ch);
};

/* A new, empty state of shape (static); NULL when memory runs out. */
void *asm_chunks_open(const struct asm_chunks_shape *shape);
/* The assembler table's event, finish and close (assemble.h). */
enum asm_result asm_chunks_event(void *st, const struct sse_event *ev,
                                 const char **why);
int asm_chunks_finish(void *st, bool eof, struct buf *out, const char **why);
void asm_chunks_close(void *st);

/* Keep choice c's "finish_reason" in ch when it is a non-empty string
 * (the SDK's if(finish_reason)); null and absence keep nothing. NULL, or
 * why not (another type). */
const char *asm_finish_add(struct asm_choice *ch, struct json_span c);
/* The same from the finish_reason value itself (v, JSON_NONE when
 * absent), for a shape that has read the choice's members already. */
const char *asm_finish_set(struct asm_choice *ch, struct json_span v);
/* Append ,"finish_reason": and the one kept, or null. */
void asm_finish_put(struct buf *out, const struct asm_choice *ch);

#endif
