/* asm_chunks.c - the core of the chunk-stream assemblers (see
 * asm_chunks.h); the rules of openai-node's ChatCompletionStream for what
 * Chat Completions and legacy Completions chunks share (assemble_chat.c
 * states them in full):
 *
 * - A chunk is a JSON object whose "object" is the shape's (or "", or
 *   absent) with a "choices" array; [DONE] ends the stream and errors are
 *   the answer, as asm_event_read() says.
 * - Top level: the last chunk that carries a member wins, but a chunk
 *   whose id is blank only fills members not kept yet, and a blank id,
 *   created or model never replaces one kept (but replaces a blank one
 *   kept, from any chunk); "usage" is the last object that came;
 *   "object", "choices" and "obfuscation" are not kept.
 * - Choices by "index" (0..127), any order; finish_reason the last
 *   non-empty string; other choice members the last value.
 * - The answer: id, object, created, model, [system_fingerprint], choices,
 *   usage, [service_tier, system_fingerprint], then the other members in
 *   the order they first came. The end of the transfer without [DONE] is
 *   an answer only when every choice has its finish_reason. */
#include "asm_chunks.h"

#include <stdlib.h>

enum asmc_state { ASMC_RUN, ASMC_END, ASMC_ERROR, ASMC_BAD, ASMC_OOM };

struct asmc {
  const struct asm_chunks_shape *shape;
  enum asmc_state st;
  struct asm_val id, created, model, tier, fp, usage;
  struct asm_bag rest;                 /* other top-level members */
  struct asm_choice *choices[ASM_MAX_INDEX];
  size_t choice_count;
  struct buf err;                      /* the error answer (ASMC_ERROR) */
  int err_status;
  const char *why;                     /* why ASMC_BAD */
};

/* The top-level members the core reads, with and without service_tier. */
static const char *const asmc_known_tier[] = {
  "id", "object", "created", "model", "choices", "usage", "service_tier",
  "system_fingerprint", "obfuscation", NULL
};
static const char *const asmc_known[] = {
  "id", "object", "created", "model", "choices", "usage",
  "system_fingerprint", "obfuscation", NULL
};

const char *asm_finish_set(struct asm_choice *ch, struct json_span v)
{
  if(!asm_str_set(&ch->finish, v))  /* the SDK: if(finish_reason) */
    return "a finish_reason is not a string or null";
  return NULL;
}

const char *asm_finish_add(struct asm_choice *ch, struct json_span c)
{
  struct json_span v;
  json_get(c, "finish_reason", &v);
  return asm_finish_set(ch, v);
}

void asm_finish_put(struct buf *out, const struct asm_choice *ch)
{
  buf_puts(out, ",\"finish_reason\":");
  if(ch->finish.set)
    asm_val_put(out, &ch->finish);
  else
    buf_puts(out, "null");
}

/* Join one element of a chunk's "choices": the choice at its index (made
 * when new, zeroed), the shape's members, then the others. */
static const char *asmc_choice(struct asmc *a, struct json_span c)
{
  struct json_span v;
  size_t i;
  const char *why;
  if(c.type != JSON_OBJECT || !json_get(c, "index", &v) || !asm_index(v, &i))
    return "a choice has no valid index";
  if(!a->choices[i]) {
    if(!(a->choices[i] = calloc(1, a->shape->choice_size)))
      return asm_oom_why;
    a->choice_count++;
  }
  struct asm_choice *ch = a->choices[i];
  if((why = a->shape->choice_add(ch, c)))
    return why;
  return asm_bag_rest(&ch->rest, c, a->shape->choice_known, false);
}

/* The chunk members read, in one walk (json_pick). */
static const char *const asmc_read[] = {
  "object", "choices", "id", "created", "model", "service_tier",
  "system_fingerprint", "usage", NULL
};
enum { RD_OBJECT, RD_CHOICES, RD_ID, RD_CREATED, RD_MODEL, RD_TIER, RD_FP,
       RD_USAGE, RD_N };

/* Keep the chunk's top-level members (m: them, by asmc_read). */
static const char *asmc_top(struct asmc *a, struct json_span root,
                            const struct json_span *m)
{
  struct json_span v = m[RD_ID];
  bool blank = v.type == JSON_NONE || asm_blank(v);
  asm_top_set(&a->id, v, blank, true);
  asm_top_set(&a->created, m[RD_CREATED], blank, true);
  asm_top_set(&a->model, m[RD_MODEL], blank, true);
  if(a->shape->tier)
    asm_top_set(&a->tier, m[RD_TIER], blank, false);
  asm_top_set(&a->fp, m[RD_FP], blank, false);
  if(m[RD_USAGE].type == JSON_OBJECT)
    asm_val_set(&a->usage, m[RD_USAGE]);
  return asm_bag_rest(&a->rest, root,
                      a->shape->tier ? asmc_known_tier : asmc_known, blank);
}

/* Join one chunk (a JSON object). NULL, or why it cannot be joined. */
static const char *asmc_chunk(struct asmc *a, struct json_span root)
{
  struct json_span m[RD_N], v, choices, c;
  struct json_iter it;
  const char *why;
  json_pick(root, asmc_read, m);
  v = m[RD_OBJECT];
  choices = m[RD_CHOICES];
  if(v.type != JSON_NONE &&
     !(v.type == JSON_STRING && (v.len == 2 ||
                                 json_key_is(v, a->shape->chunk_object))))
    return a->shape->other_why;
  if(choices.type != JSON_ARRAY)
    return "a chunk without a choices array";
  if((why = asmc_top(a, root, m)))
    return why;
  json_iter_init(&it, choices);
  while(json_next_element(&it, &c))
    if((why = asmc_choice(a, c)))
      return why;
  return NULL;
}

/* The result an ended state repeats. */
static enum asm_result asmc_ended(const struct asmc *a, const char **why)
{
  switch(a->st) {
  case ASMC_END:
    return ASM_END;
  case ASMC_ERROR:
    return ASM_ERROR;
  case ASMC_OOM:
    return ASM_OOM;
  default:
    *why = a->why;
    return ASM_BAD;
  }
}

enum asm_result asm_chunks_event(void *st, const struct sse_event *ev,
                                 const char **why)
{
  struct asmc *a = st;
  struct json_span root;
  const char *ignored, *reason = NULL;
  if(!why)
    why = &ignored;
  if(a->st != ASMC_RUN)
    return asmc_ended(a, why);
  enum asm_result r = asm_event_read(ev, &root, &a->err, &a->err_status,
                                     &reason);
  if(r == ASM_MORE && (reason = asmc_chunk(a, root)))
    r = reason == asm_oom_why ? ASM_OOM : ASM_BAD;
  a->st = r == ASM_END ? ASMC_END : r == ASM_ERROR ? ASMC_ERROR
        : r == ASM_BAD ? ASMC_BAD : r == ASM_OOM ? ASMC_OOM : ASMC_RUN;
  a->why = reason;
  if(reason)
    *why = reason;
  return r;
}

/* Append ,"name":value when v was kept (*first: no comma). */
static void asmc_member(struct buf *out, bool *first, const char *name,
                        const struct asm_val *v)
{
  if(!v->set)
    return;
  asm_key(out, first, name);
  asm_val_put(out, v);
}

/* Append the choices array, in index order. */
static void asmc_put_choices(struct buf *out, const struct asmc *a)
{
  bool first = true;
  buf_puts(out, ",\"choices\":[");
  for(size_t i = 0; i < ASM_MAX_INDEX; i++) {
    if(!a->choices[i])
      continue;
    buf_puts(out, first ? "{" : ",{");
    first = false;
    a->shape->choice_put(out, a->choices[i], i);
    asm_bag_put(out, &a->choices[i]->rest);
    buf_puts(out, "}");
  }
  buf_puts(out, "]");
}

/* Append the whole answer. */
static void asmc_put_answer(struct buf *out, const struct asmc *a)
{
  bool first = true;
  buf_puts(out, "{");
  asmc_member(out, &first, "id", &a->id);
  asm_key(out, &first, "object");
  buf_puts(out, a->shape->answer_object);
  asmc_member(out, &first, "created", &a->created);
  asmc_member(out, &first, "model", &a->model);
  if(a->shape->fp_first)
    asmc_member(out, &first, "system_fingerprint", &a->fp);
  asmc_put_choices(out, a);
  asmc_member(out, &first, "usage", &a->usage);
  asmc_member(out, &first, "service_tier", &a->tier);
  if(!a->shape->fp_first)
    asmc_member(out, &first, "system_fingerprint", &a->fp);
  asm_bag_put(out, &a->rest);
  buf_puts(out, "}");
}

/* Is the joined state a whole answer? NULL, or why not: no choice; with
 * finished false (the transfer ended without [DONE]) a choice without its
 * finish_reason; what the shape's choice_whole says. */
static const char *asmc_whole(const struct asmc *a, bool finished)
{
  const char *why;
  if(!a->choice_count)
    return "the stream carried no choice";
  for(size_t i = 0; i < ASM_MAX_INDEX; i++) {
    const struct asm_choice *ch = a->choices[i];
    if(!ch)
      continue;
    if(!finished && !ch->finish.set)
      return "the stream ended before every choice finished";
    if(a->shape->choice_whole && (why = a->shape->choice_whole(ch)))
      return why;
  }
  return NULL;
}

int asm_chunks_finish(void *st, bool eof, struct buf *out, const char **why)
{
  const struct asmc *a = st;
  const char *ignored, *reason;
  if(!why)
    why = &ignored;
  switch(a->st) {
  case ASMC_OOM:
    return -1;
  case ASMC_BAD:
    *why = a->why;
    return 0;
  case ASMC_ERROR:
    buf_append(out, a->err.ptr, a->err.len);
    return out->oom ? -1 : a->err_status;
  case ASMC_RUN:
    if(!eof) {
      *why = "the stream has not ended";
      return 0;
    }
    break;
  default:
    break;
  }
  if((reason = asmc_whole(a, a->st == ASMC_END))) {
    *why = reason;
    return 0;
  }
  asmc_put_answer(out, a);
  return out->oom ? -1 : 200;
}

void *asm_chunks_open(const struct asm_chunks_shape *shape)
{
  struct asmc *a = calloc(1, sizeof(*a));
  if(!a)
    return NULL;
  a->shape = shape;
  buf_init(&a->err);
  return a;
}

void asm_chunks_close(void *st)
{
  struct asmc *a = st;
  if(!a)
    return;
  for(size_t i = 0; i < ASM_MAX_INDEX; i++) {
    struct asm_choice *ch = a->choices[i];
    if(!ch)
      continue;
    a->shape->choice_free(ch);
    asm_val_free(&ch->finish);
    asm_bag_free(&ch->rest);
    free(ch);
  }
  asm_val_free(&a->id);
  asm_val_free(&a->created);
  asm_val_free(&a->model);
  asm_val_free(&a->tier);
  asm_val_free(&a->fp);
  asm_val_free(&a->usage);
  asm_bag_free(&a->rest);
  buf_free(&a->err);
  free(a);
}
