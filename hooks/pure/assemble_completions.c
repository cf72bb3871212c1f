/* assemble_completions.c - joining a legacy Completions stream
 * (text_completion chunks, /v1/completions) into the text_completion
 * answer the API gives without streaming (see assemble.h). The inverse of
 * sse_completions.c; openai-node has no accumulator for this shape, so
 * the rules are chat's (assemble_chat.c) for what the shapes share:
 *
 * - Top level: the last chunk that carries a member wins, but a chunk
 *   with a blank id only fills members not kept yet and a blank id,
 *   created or model never replaces one kept; "usage" is the last object
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
#include "asm_part.h"

#include <stdlib.h>
#include <string.h>

#include "sse_piece.h"

#define ATEXT_LP 4  /* the members of a legacy logprobs object */

static const char *const atext_lp_names[ATEXT_LP + 1] = {
  "tokens", "token_logprobs", "top_logprobs", "text_offset", NULL
};

struct atext_choice {
  struct asm_text text;
  bool lp_key, lp_obj;               /* "logprobs" came; as an object */
  struct asm_list lp[ATEXT_LP];
  struct asm_val finish;             /* the non-null finish_reason */
  struct asm_bag rest;
};

enum atext_state { ATEXT_RUN, ATEXT_END, ATEXT_ERROR, ATEXT_BAD, ATEXT_OOM };

struct atext {
  enum atext_state st;
  struct asm_val id, created, model, fp, usage;
  struct asm_bag rest;
  struct atext_choice *choices[ASM_MAX_INDEX];
  size_t choice_count;
  struct buf err;
  int err_status;
  const char *why;
};

/* Join a choice's logprobs (object, null or absent). */
static const char *atext_lp(struct atext_choice *ch, struct json_span lp)
{
  struct json_span v;
  if(lp.type == JSON_NONE)
    return NULL;
  ch->lp_key = true;
  if(lp.type == JSON_NULL)
    return NULL;
  if(lp.type != JSON_OBJECT || !json_only_members(lp, atext_lp_names))
    return "a choice's logprobs is not a known object";
  ch->lp_obj = true;
  for(int i = 0; i < ATEXT_LP; i++) {
    json_get(lp, atext_lp_names[i], &v);
    if(!asm_list_add(&ch->lp[i], v))
      return "a logprobs member is not an array or null";
  }
  return NULL;
}

/* Join one element of a chunk's "choices". */
static const char *atext_choice(struct atext *a, struct json_span c)
{
  static const char *const known[] = {"text", "index", "logprobs",
                                      "finish_reason", NULL};
  struct json_span v;
  size_t i;
  const char *why;
  if(c.type != JSON_OBJECT || !json_get(c, "index", &v) || !asm_index(v, &i))
    return "a choice has no valid index";
  if(!a->choices[i]) {
    if(!(a->choices[i] = calloc(1, sizeof(*a->choices[i]))))
      return asm_oom_why;
    a->choice_count++;
  }
  struct atext_choice *ch = a->choices[i];
  json_get(c, "text", &v);
  if(!asm_text_add(&ch->text, v))
    return "a choice's text is not a string";
  json_get(c, "finish_reason", &v);
  if(v.type == JSON_STRING && v.len > 2)  /* the SDK: if(finish_reason) */
    asm_val_set(&ch->finish, v);
  else if(v.type != JSON_STRING && v.type != JSON_NULL && v.type != JSON_NONE)
    return "a finish_reason is not a string or null";
  json_get(c, "logprobs", &v);
  if((why = atext_lp(ch, v)))
    return why;
  return asm_bag_rest(&ch->rest, c, known, false);
}

/* Join one chunk (a JSON object). NULL, or why it cannot be joined. */
static const char *atext_chunk(struct atext *a, struct json_span root)
{
  static const char *const known[] = {
    "id", "object", "created", "model", "choices", "usage",
    "system_fingerprint", "obfuscation", NULL
  };
  struct json_span v, choices, c;
  struct json_iter it;
  const char *why;
  if(json_get(root, "object", &v) &&
     !(v.type == JSON_STRING && (v.len == 2 ||
                                 json_key_is(v, "text_completion"))))
    return "not a text_completion chunk";
  if(!json_get(root, "choices", &choices) || choices.type != JSON_ARRAY)
    return "a chunk without a choices array";
  json_get(root, "id", &v);
  bool blank = v.type == JSON_NONE || asm_blank(v);
  asm_top_set(&a->id, v, blank, true);
  json_get(root, "created", &v);
  asm_top_set(&a->created, v, blank, true);
  json_get(root, "model", &v);
  asm_top_set(&a->model, v, blank, true);
  json_get(root, "system_fingerprint", &v);
  asm_top_set(&a->fp, v, blank, false);
  json_get(root, "usage", &v);
  if(v.type == JSON_OBJECT)
    asm_val_set(&a->usage, v);
  if((why = asm_bag_rest(&a->rest, root, known, blank)))
    return why;
  json_iter_init(&it, choices);
  while(json_next_element(&it, &c))
    if((why = atext_choice(a, c)))
      return why;
  return NULL;
}

static enum asm_result atext_event(void *st, const struct sse_event *ev,
                                   const char **why)
{
  static const enum asm_result repeat[] = {ASM_MORE, ASM_END, ASM_ERROR,
                                           ASM_BAD, ASM_OOM};
  struct atext *a = st;
  struct json_span root;
  const char *ignored, *reason = NULL;
  if(!why)
    why = &ignored;
  if(a->st != ATEXT_RUN) {
    if(a->st == ATEXT_BAD)
      *why = a->why;
    return repeat[a->st];
  }
  enum asm_result r = asm_event_read(ev, &root, &a->err, &a->err_status,
                                     &reason);
  if(r == ASM_MORE && (reason = atext_chunk(a, root)))
    r = reason == asm_oom_why ? ASM_OOM : ASM_BAD;
  a->st = r == ASM_END ? ATEXT_END : r == ASM_ERROR ? ATEXT_ERROR
        : r == ASM_BAD ? ATEXT_BAD : r == ASM_OOM ? ATEXT_OOM : ATEXT_RUN;
  a->why = reason;
  if(reason)
    *why = reason;
  return r;
}

/* Append ,"name":value when v was kept (first: no comma). */
static void atext_member(struct buf *out, bool *first, const char *name,
                         const struct asm_val *v)
{
  if(!v->set)
    return;
  buf_puts(out, *first ? "\"" : ",\"");
  *first = false;
  buf_puts(out, name);
  buf_puts(out, "\":");
  asm_val_put(out, v);
}

/* Append ,"logprobs":... as the chunks carried it. */
static void atext_put_lp(struct buf *out, const struct atext_choice *ch)
{
  bool first = true;
  if(!ch->lp_key)
    return;
  buf_puts(out, ",\"logprobs\":");
  if(!ch->lp_obj) {
    buf_puts(out, "null");
    return;
  }
  buf_puts(out, "{");
  for(int i = 0; i < ATEXT_LP; i++) {
    if(ch->lp[i].st == ASM_ABSENT)
      continue;
    buf_puts(out, first ? "\"" : ",\"");
    first = false;
    buf_puts(out, atext_lp_names[i]);
    buf_puts(out, "\":");
    asm_list_put(out, &ch->lp[i]);
  }
  buf_puts(out, "}");
}

/* Append one choice: its text ("" when no piece came). */
static void atext_put_choice(struct buf *out, const struct atext_choice *ch,
                             size_t index)
{
  if(ch->text.b.oom)
    out->oom = true;
  buf_puts(out, "{\"text\":\"");
  buf_append(out, ch->text.b.ptr, ch->text.b.len);
  buf_puts(out, "\",\"index\":");
  sse_put_uint(out, index);
  atext_put_lp(out, ch);
  buf_puts(out, ",\"finish_reason\":");
  if(ch->finish.set)
    asm_val_put(out, &ch->finish);
  else
    buf_puts(out, "null");
  asm_bag_put(out, &ch->rest);
  buf_puts(out, "}");
}

/* Append the whole answer. */
static void atext_put_answer(struct buf *out, const struct atext *a)
{
  bool first = true, first_choice = true;
  buf_puts(out, "{");
  atext_member(out, &first, "id", &a->id);
  buf_puts(out, first ? "\"object\":\"text_completion\""
                      : ",\"object\":\"text_completion\"");
  first = false;
  atext_member(out, &first, "created", &a->created);
  atext_member(out, &first, "model", &a->model);
  atext_member(out, &first, "system_fingerprint", &a->fp);
  buf_puts(out, ",\"choices\":[");
  for(size_t i = 0; i < ASM_MAX_INDEX; i++) {
    if(!a->choices[i])
      continue;
    if(!first_choice)
      buf_puts(out, ",");
    first_choice = false;
    atext_put_choice(out, a->choices[i], i);
  }
  buf_puts(out, "]");
  atext_member(out, &first, "usage", &a->usage);
  asm_bag_put(out, &a->rest);
  buf_puts(out, "}");
}

static int atext_finish(void *st, bool eof, struct buf *out, const char **why)
{
  const struct atext *a = st;
  const char *ignored;
  if(!why)
    why = &ignored;
  if(a->st == ATEXT_OOM)
    return -1;
  if(a->st == ATEXT_BAD)
    return (*why = a->why), 0;
  if(a->st == ATEXT_ERROR) {
    buf_append(out, a->err.ptr, a->err.len);
    return out->oom ? -1 : a->err_status;
  }
  if(a->st == ATEXT_RUN && !eof)
    return (*why = "the stream has not ended"), 0;
  if(!a->choice_count)
    return (*why = "the stream carried no choice"), 0;
  for(size_t i = 0; i < ASM_MAX_INDEX && a->st == ATEXT_RUN; i++)
    if(a->choices[i] && !a->choices[i]->finish.set)
      return (*why = "the stream ended before every choice finished"), 0;
  atext_put_answer(out, a);
  return out->oom ? -1 : 200;
}

static void *atext_open(void)
{
  struct atext *a = calloc(1, sizeof(*a));
  if(a)
    buf_init(&a->err);
  return a;
}

/* Release a choice. */
static void atext_choice_free(struct atext_choice *ch)
{
  asm_text_free(&ch->text);
  for(int i = 0; i < ATEXT_LP; i++)
    asm_list_free(&ch->lp[i]);
  asm_val_free(&ch->finish);
  asm_bag_free(&ch->rest);
  free(ch);
}

static void atext_close(void *st)
{
  struct atext *a = st;
  if(!a)
    return;
  for(size_t i = 0; i < ASM_MAX_INDEX; i++)
    if(a->choices[i])
      atext_choice_free(a->choices[i]);
  asm_val_free(&a->id);
  asm_val_free(&a->created);
  asm_val_free(&a->model);
  asm_val_free(&a->fp);
  asm_val_free(&a->usage);
  asm_bag_free(&a->rest);
  buf_free(&a->err);
  free(a);
}

const struct assembler completions_assembler = {
  "text_completion", atext_open, atext_event, atext_finish, atext_close
};
