/* body.c - inspecting and editing an LLM request body (see body.h).
 *
 * Both functions read the body through json.h spans and never
 * re-serialise: body_remove_members() copies the input and cuts whole
 * members out of the copy, one at a time, so every byte that is not part
 * of a removed member (or its one adjacent comma and whitespace) is kept
 * exactly. */
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

/* Find the first top-level member of obj to remove and the byte range
 * [*from, *to) that cutting it takes (see body.h for the rule); false
 * when no member is named. */
static bool body_find_cut(struct json_span obj, const char *const *names,
                          size_t count, const char **from, const char **to)
{
  struct json_iter it;
  struct json_span key, val, nkey, nval;
  const char *prev_end = NULL;

  json_iter_init(&it, obj);
  while(json_next_member(&it, &key, &val)) {
    if(!body_named(key, names, count)) {
      prev_end = val.ptr + val.len;
      continue;
    }
    if(json_next_member(&it, &nkey, &nval)) {
      *from = key.ptr;           /* not last: up to the next key */
      *to = nkey.ptr;
    }
    else {
      *from = prev_end ? prev_end : key.ptr; /* last, or only */
      *to = val.ptr + val.len;
    }
    return true;
  }
  return false;
}

/* Copy [p, p+n) to out (n bytes; may be p itself) and cut the named
 * top-level members, first one first, until none is left. Input that is
 * not a valid object is copied unchanged. Returns the new length. */
size_t body_remove_members(const char *p, size_t n, const char *const *names,
                           size_t count, char *out)
{
  struct json_span obj;
  const char *from, *to;
  size_t len = n;

  if(!n)
    return 0;
  memmove(out, p, n);
  if(!json_parse(out, n, &obj) || obj.type != JSON_OBJECT)
    return n; /* not ours to edit: an unchanged copy */
  while(body_find_cut(obj, names, count, &from, &to)) {
    size_t cut = (size_t)(to - from);
    size_t tail = (size_t)(out + len - to);
    memmove(out + (from - out), to, tail);
    len -= cut;
    obj.len -= cut;
  }
  return len;
}
