/* body.c - inspecting and editing an LLM request body (see body.h).
 *
 * Both functions read the body through json.h spans and never
 * re-serialise: body_remove_members() copies the input and cuts whole
 * members out of the copy in one pass over its members (a body with
 * thousands of "stream" members costs what one with a single one does),
 * so every byte that is not part of a removed member (or its one adjacent
 * comma and whitespace) is kept exactly. */
#include "body.h"

#include <string.h>

/* Record one top-level member in bi; *so receives the last
 * "stream_options" value. */
static void body_note(struct body_info *bi, struct json_span key,
                      struct json_span val, struct json_span *so)
{
  if(json_key_is(key, "stream")) {
    bi->has_stream = true;
    bi->stream_true = val.type == JSON_TRUE;
  }
  else if(json_key_is(key, "stream_options")) {
    bi->has_stream_options = true;
    *so = val;
  }
  else if(json_key_is(key, "model"))
    bi->model = val;
}

/* Describe the body if it is exactly one JSON object (whitespace around
 * allowed); *bi is zeroed (model JSON_NONE) either way. Last member wins. */
bool body_inspect(const char *p, size_t n, struct body_info *bi)
{
  struct json_span obj, key, val, so = { NULL, 0, JSON_NONE }, iu;
  struct json_iter it;

  memset(bi, 0, sizeof(*bi));
  bi->model.type = JSON_NONE;
  if(!json_parse(p, n, &obj) || obj.type != JSON_OBJECT)
    return false;
  json_iter_init(&it, obj);
  while(json_next_member(&it, &key, &val))
    body_note(bi, key, val, &so);
  bi->include_usage = json_get(so, "include_usage", &iu) &&
                      iu.type == JSON_TRUE;
  return true;
}

/* Is key one of names[0..count-1]? */
static bool body_named(struct json_span key, const char *const *names,
                       size_t count)
{
  for(size_t i = 0; i < count; i++)
    if(json_key_is(key, names[i]))
      return true;
  return false;
}

/* The copy in progress, in place in out: bytes before src are settled and
 * the kept ones among them fill out up to w. rewind (rewind_w in the
 * output) is where a cut that takes the last member starts: just after
 * the last kept value, or the first key when nothing was kept yet. */
struct body_cutter {
  char *w;
  const char *src;
  const char *rewind;
  char *rewind_w;
  struct body_work *work;
};

/* Keep [src, from) and drop [from, to). */
static void body_cut(struct body_cutter *c, const char *from, const char *to)
{
  size_t keep = (size_t)(from - c->src);
  memmove(c->w, c->src, keep);
  c->work->moved += keep;
  c->w += keep;
  c->src = to;
}

/* Everything up to at is kept: a later cut of the last member starts
 * there. at is never before src (cuts end at a key). */
static void body_mark(struct body_cutter *c, const char *at)
{
  c->rewind = at;
  c->rewind_w = c->w + (at - c->src);
}

/* The last member is removed: it takes the comma and whitespace before it
 * (back to rewind), and the named members since the last kept one were
 * already cut with what followed them, so the output just rewinds. */
static void body_cut_last(struct body_cutter *c, const char *to)
{
  if(c->rewind >= c->src)
    body_cut(c, c->rewind, to);
  else {
    c->w = c->rewind_w;
    c->src = to;
  }
}

/* The next member into *key, *val, counting the bytes the iterator
 * passes. */
static bool body_next(struct json_iter *it, struct json_span *key,
                      struct json_span *val, struct body_work *work)
{
  const char *from = it->cur;
  bool ok = json_next_member(it, key, val);
  work->scanned += (size_t)(it->cur - from);
  return ok;
}

/* Cut the named members of obj (inside out) in one pass: a removed member
 * takes what follows it up to the next key; the last one takes what
 * precedes it back to the last kept value (body.h). This is what cutting
 * them one at a time from the first gives, without the restarts. */
static void body_cut_all(struct json_span obj, const char *const *names,
                         size_t count, struct body_cutter *c)
{
  struct json_iter it;
  struct json_span key, val, nkey, nval;
  bool more;

  json_iter_init(&it, obj);
  more = body_next(&it, &key, &val, c->work);
  if(more)
    body_mark(c, key.ptr);
  while(more) {
    bool named = body_named(key, names, count);
    bool next = body_next(&it, &nkey, &nval, c->work);
    if(!named)
      body_mark(c, val.ptr + val.len);
    else if(next)
      body_cut(c, key.ptr, nkey.ptr);
    else
      body_cut_last(c, val.ptr + val.len);
    key = nkey;
    val = nval;
    more = next;
  }
}

size_t body_remove_members_work(const char *p, size_t n,
                                const char *const *names, size_t count,
                                char *out, struct body_work *work)
{
  struct body_work ignored;
  struct json_span obj;
  struct body_cutter c;

  if(!work)
    work = &ignored;
  memset(work, 0, sizeof(*work));
  if(!n)
    return 0;
  memmove(out, p, n);
  work->moved = n;
  work->scanned = n;  /* json_parse reads it once */
  if(!json_parse(out, n, &obj) || obj.type != JSON_OBJECT)
    return n; /* not ours to edit: an unchanged copy */
  c = (struct body_cutter){ out, out, NULL, NULL, work };
  body_cut_all(obj, names, count, &c);
  body_cut(&c, out + n, out + n);  /* keep the rest */
  return (size_t)(c.w - out);
}

size_t body_remove_members(const char *p, size_t n, const char *const *names,
                           size_t count, char *out)
{
  return body_remove_members_work(p, n, names, count, out, NULL);
}
