/* fuzz_trip.h - what the round-trip harnesses share (fuzz_trip_chat.c,
 * fuzz_trip_completions.c): an answer replayed by an SSE encoder, read
 * back by the SSE reader and joined by the matching assembler, then
 * compared with what the harness says the answer must become.
 * Include after fuzz_util.h.
 *
 * The comparison is by canonical form (trip_canon): no whitespace, the
 * members of every object sorted by their decoded names, names written
 * by json_put_string(); strings, numbers and literals keep their bytes
 * (escapes as written), arrays their order. So key order is the one
 * normalisation every round trip applies (the assemblers write the
 * non-streamed API's order); each harness states the others. An answer
 * with a name twice in one object has no one meaning (parsers keep the
 * last) and no canonical form: it is not compared.
 *
 * trip_obj builds the expected answer member by member (values already
 * canonical), written in the same sorted form. */
#ifndef SS_FUZZ_TRIP_H
#define SS_FUZZ_TRIP_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "asm_part.h"
#include "assemble.h"
#include "json.h"
#include "json_write.h"
#include "sse_encoder.h"
#include "sse_read.h"

/* ---- the canonical form ---- */

#define TRIP_KEY_MAX 1024   /* longer names (decoded) are not compared */

struct trip_member {
  char *key;        /* decoded name */
  size_t klen;
  struct json_span val;
};

/* Order of decoded names: bytes, a prefix first. */
static inline int trip_key_cmp(const char *a, size_t an, const char *b,
                               size_t bn)
{
  int c = memcmp(a, b, an < bn ? an : bn);
  return c ? c : (an > bn) - (an < bn);
}

static inline int trip_member_cmp(const void *x, const void *y)
{
  const struct trip_member *a = x, *b = y;
  return trip_key_cmp(a->key, a->klen, b->key, b->klen);
}

static inline bool trip_canon(struct buf *out, struct json_span v);

/* The members of object v, sorted, in *ms (n of them; free each key and
 * the array). False when a name does not decode or comes twice. */
static inline bool trip_members(struct json_span v, struct trip_member **ms,
                                size_t *n)
{
  struct json_iter it;
  struct json_span k, e;
  size_t cap = 0;
  bool ok = true;
  *ms = NULL;
  *n = 0;
  json_iter_init(&it, v);
  while(ok && json_next_member(&it, &k, &e)) {
    if(*n == cap) {
      cap = cap ? cap * 2 : 8;
      *ms = realloc(*ms, cap * sizeof(**ms));
      fuzz_assert(*ms != NULL, "out of memory");
    }
    struct trip_member *m = &(*ms)[(*n)++];
    char key[TRIP_KEY_MAX + 1];
    ok = json_string_decode(k, key, sizeof(key), &m->klen);
    m->key = malloc(m->klen + 1);
    fuzz_assert(m->key != NULL, "out of memory");
    memcpy(m->key, key, m->klen + 1);
    m->val = e;
  }
  if(ok && *n)
    qsort(*ms, *n, sizeof(**ms), trip_member_cmp);
  for(size_t i = 1; ok && i < *n; i++)
    ok = trip_member_cmp(&(*ms)[i - 1], &(*ms)[i]) != 0;
  return ok;
}

/* Append value v (from a json_parse() that accepted it) in canonical
 * form; false when it has none (see the file comment). */
static inline bool trip_canon(struct buf *out, struct json_span v)
{
  struct json_iter it;
  struct json_span e;
  struct trip_member *ms;
  size_t n;
  bool ok = true, first = true;
  switch(v.type) {
  case JSON_ARRAY:
    buf_puts(out, "[");
    json_iter_init(&it, v);
    while(ok && json_next_element(&it, &e)) {
      if(!first)
        buf_puts(out, ",");
      first = false;
      ok = trip_canon(out, e);
    }
    buf_puts(out, "]");
    return ok;
  case JSON_OBJECT:
    ok = trip_members(v, &ms, &n);
    buf_puts(out, "{");
    for(size_t i = 0; ok && i < n; i++) {
      if(i)
        buf_puts(out, ",");
      json_put_string(out, ms[i].key, ms[i].klen);
      buf_puts(out, ":");
      ok = trip_canon(out, ms[i].val);
    }
    buf_puts(out, "}");
    for(size_t i = 0; i < n; i++)
      free(ms[i].key);
    free(ms);
    return ok;
  default:
    buf_append(out, v.ptr, v.len);
    return true;
  }
}

/* Is v an array with at least one element? */
static inline bool trip_has_elements(struct json_span v)
{
  struct json_iter it;
  struct json_span e;
  json_iter_init(&it, v);
  return v.type == JSON_ARRAY && json_next_element(&it, &e);
}

/* ---- the expected answer, member by member ---- */

#define TRIP_OBJ_MAX 16

/* An object being built: names (static, plain ASCII) and canonical
 * values. */
struct trip_obj {
  size_t n;
  const char *key[TRIP_OBJ_MAX];
  struct buf val[TRIP_OBJ_MAX];
};

static inline void trip_obj_init(struct trip_obj *o)
{
  o->n = 0;
}

/* A new member named key; its value is appended to the buffer returned. */
static inline struct buf *trip_obj_add(struct trip_obj *o, const char *key)
{
  fuzz_assert(o->n < TRIP_OBJ_MAX, "trip_obj is full");
  o->key[o->n] = key;
  buf_init(&o->val[o->n]);
  return &o->val[o->n++];
}

/* A new member key = the canonical form of v (which has one: the
 * caller checked the whole answer). */
static inline void trip_obj_canon(struct trip_obj *o, const char *key,
                                  struct json_span v)
{
  fuzz_assert(trip_canon(trip_obj_add(o, key), v), "no canonical form");
}

/* A new member key = the literal text s. */
static inline void trip_obj_lit(struct trip_obj *o, const char *key,
                                const char *s)
{
  buf_puts(trip_obj_add(o, key), s);
}

/* Append the object, its members sorted as trip_canon sorts them, and
 * release it. */
static inline void trip_obj_put(struct buf *out, struct trip_obj *o)
{
  bool used[TRIP_OBJ_MAX] = {false};
  buf_puts(out, "{");
  for(size_t k = 0; k < o->n; k++) {
    size_t best = o->n;
    for(size_t i = 0; i < o->n; i++)
      if(!used[i] && (best == o->n || strcmp(o->key[i], o->key[best]) < 0))
        best = i;
    used[best] = true;
    if(k)
      buf_puts(out, ",");
    json_put_string(out, o->key[best], strlen(o->key[best]));
    buf_puts(out, ":");
    buf_append(out, o->val[best].ptr, o->val[best].len);
  }
  buf_puts(out, "}");
  for(size_t i = 0; i < o->n; i++)
    buf_free(&o->val[i]);
  o->n = 0;
}

/* ---- the round trip ---- */

/* The answer and stream being checked, shown when a check fails. */
static const char *trip_answer;
static size_t trip_answer_len;
static const struct buf *trip_stream;
static const char *trip_why;   /* why the encoder refused the last one */

/* fuzz_assert, showing the answer and its stream first on failure. */
static inline void trip_assert(int ok, const char *what)
{
  if(!ok && trip_answer)
    fprintf(stderr, "answer: %.*s\n", (int)trip_answer_len, trip_answer);
  if(!ok && trip_stream)
    fprintf(stderr, "stream:\n%.*s\n", (int)trip_stream->len,
            trip_stream->ptr);
  fuzz_assert(ok, what);
}

/* The members both chat shapes' choices end with, as a client's join
 * gives them: an absent logprobs as null, a finish_reason "" as null. */
static inline void trip_choice_end(struct trip_obj *o, struct json_span lp,
                                   struct json_span finish)
{
  if(lp.type == JSON_NONE)
    trip_obj_lit(o, "logprobs", "null");
  else
    trip_obj_canon(o, "logprobs", lp);
  if(finish.type == JSON_STRING && finish.len == 2)
    trip_obj_lit(o, "finish_reason", "null");
  else
    trip_obj_canon(o, "finish_reason", finish);
}

/* The choices array in index order, each through want_choice (the
 * encoders take only indices of digits below 128, each once). */
static inline void trip_choices(struct json_span choices, struct buf *out,
                                void (*want_choice)(struct json_span,
                                                    struct buf *))
{
  struct json_span at[ASM_MAX_INDEX], c, idx;
  struct json_iter it;
  bool first = true;
  memset(at, 0, sizeof(at));
  json_iter_init(&it, choices);
  while(json_next_element(&it, &c)) {
    size_t i;
    json_get(c, "index", &idx);
    trip_assert(asm_index(idx, &i) && !at[i].ptr,
                "the encoder took an index the stream cannot carry");
    at[i] = c;
  }
  buf_puts(out, "[");
  for(size_t i = 0; i < ASM_MAX_INDEX; i++) {
    if(!at[i].ptr)
      continue;
    if(!first)
      buf_puts(out, ",");
    first = false;
    want_choice(at[i], out);
  }
  buf_puts(out, "]");
}

/* Replay answer [p, p+n) with enc and o into stream, checking that each
 * event is one "data: " line (its JSON one object, or [DONE] last) and a
 * blank line. False when the encoder refuses the answer (with a reason). */
static inline bool trip_encode(const struct replay_encoder *enc,
                               const char *p, size_t n,
                               const struct replay_opts *o,
                               struct buf *stream)
{
  const char *why = NULL;
  struct buf ev;
  struct json_span v;
  int r, done = 0;
  void *e = enc->open(p, n, o, &why);
  trip_why = why;
  if(!e) {
    trip_assert(why && *why, "refused without a reason");
    return false;
  }
  buf_init(&ev);
  while((r = enc->next(e, &ev)) == 1) {
    trip_assert(!done, "an event after [DONE]");
    trip_assert(ev.len >= 8 && !memcmp(ev.ptr, "data: ", 6) &&
                !memcmp(ev.ptr + ev.len - 2, "\n\n", 2) &&
                !memchr(ev.ptr, '\n', ev.len - 2) &&
                !memchr(ev.ptr, '\r', ev.len), "event framing");
    done = ev.len == 14 && !memcmp(ev.ptr + 6, "[DONE]", 6);
    trip_assert(done || (json_parse(ev.ptr + 6, ev.len - 8, &v) &&
                         v.type == JSON_OBJECT), "event data not an object");
    buf_append(stream, ev.ptr, ev.len);
    buf_reset(&ev);
  }
  trip_assert(r == 0 && done, "the stream did not end with [DONE]");
  enc->close(e);
  buf_free(&ev);
  return true;
}

struct trip_feed {
  const struct assembler *a;
  void *st;
  enum asm_result last;
  const char *why;
};

/* sse_read's callback: the event to the assembler, which must take it. */
static inline bool trip_event(void *arg, const struct sse_event *ev)
{
  struct trip_feed *f = arg;
  trip_assert(f->last == ASM_MORE, "an event after the end");
  f->last = f->a->event(f->st, ev, &f->why);
  if(f->last == ASM_BAD)
    fprintf(stderr, "assembler: %s\n", f->why ? f->why : "?");
  trip_assert(f->last == ASM_MORE || f->last == ASM_END,
              "the assembler refused an event of the encoder");
  return true;
}

/* Join stream s, fed to the SSE reader in pieces of step bytes, with a
 * into out: it must end at [DONE] (ASM_END) and give 200. */
static inline void trip_join(const struct assembler *a, const struct buf *s,
                             size_t step, struct buf *out)
{
  struct trip_feed f = {a, a->open(), ASM_MORE, NULL};
  struct sse_reader r;
  size_t used;
  trip_assert(f.st != NULL, "out of memory");
  sse_read_init(&r, 0);
  for(size_t i = 0; i < s->len; i += step) {
    size_t len = s->len - i < step ? s->len - i : step;
    trip_assert(sse_read_feed(&r, s->ptr + i, len, trip_event, &f, &used) ==
                SSE_READ_OK, "the SSE reader failed");
  }
  trip_assert(!sse_read_pending(&r), "an unfinished event at the end");
  trip_assert(f.last == ASM_END, "the stream did not end the answer");
  int status = a->finish(f.st, true, out, &f.why);
  if(status != 200)
    fprintf(stderr, "finish: %d %s\n", status, f.why ? f.why : "");
  trip_assert(status == 200, "the joined stream is not a 200 answer");
  a->close(f.st);
  sse_read_free(&r);
}

/* What an answer accepted by the encoder must become: TRIP_COMPARE with
 * its canonical form, normalised as the harness states, appended to
 * want; TRIP_JOIN when the answer has no canonical form (the joining is
 * checked, not the answer); TRIP_STREAM when its stream is not one the
 * assembler takes as an answer (only the stream is checked). */
enum trip_want { TRIP_STREAM, TRIP_JOIN, TRIP_COMPARE };
typedef enum trip_want (*trip_want_fn)(struct json_span answer,
                                       const struct replay_opts *o,
                                       struct buf *want);

/* The whole check: replay answer [p, p+n) with enc and o, join it with a
 * (whole, and in pieces of step bytes, or more for a long stream: at
 * most 1024 pieces; the same answer), and compare its canonical form
 * with what want_fn says. False when the encoder refused the answer. */
static inline bool trip_check(const struct replay_encoder *enc,
                              const struct assembler *a, const char *p,
                              size_t n, const struct replay_opts *o,
                              size_t step, trip_want_fn want_fn)
{
  struct buf stream, x, y, got, want;
  struct json_span v, root;
  buf_init(&stream);
  trip_answer = p;
  trip_answer_len = n;
  trip_stream = NULL;
  if(!trip_encode(enc, p, n, o, &stream)) {
    buf_free(&stream);
    return false;
  }
  trip_stream = &stream;
  buf_init(&x);
  buf_init(&y);
  buf_init(&got);
  buf_init(&want);
  trip_assert(json_parse(p, n, &root), "the encoder took a non-JSON answer");
  enum trip_want w = want_fn(root, o, &want);
  if(w == TRIP_STREAM)
    goto done;
  trip_join(a, &stream, stream.len ? stream.len : 1, &x);
  if(step < stream.len / 1024)
    step = stream.len / 1024;
  trip_join(a, &stream, step, &y);
  trip_assert(fuzz_same_buf(&x, &y), "the answer depends on the feed");
  trip_assert(json_parse(x.ptr, x.len, &v) && v.type == JSON_OBJECT,
              "the joined answer is not a JSON object");
  if(w == TRIP_COMPARE && (!trip_canon(&got, v) ||
                           !fuzz_same_buf(&got, &want))) {
    fprintf(stderr, "want: %.*s\ngot:  %.*s\n", (int)want.len, want.ptr,
            (int)got.len, got.ptr);
    trip_assert(0, "the round trip changed the answer");
  }
done:
  trip_answer = NULL;
  trip_stream = NULL;
  buf_free(&stream);
  buf_free(&x);
  buf_free(&y);
  buf_free(&got);
  buf_free(&want);
  return true;
}

#endif
