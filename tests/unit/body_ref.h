/* body_ref.h - the reference for body_remove_members(): the original
 * algorithm, which cuts the first named top-level member and starts over
 * until none is left (quadratic, obviously right). The unit tests and
 * tests/fuzz/fuzz_body.c compare the one-pass version with it, and it
 * counts its work the same way (struct body_work) to show that the bound
 * the tests put on the work tells the two apart. */
#ifndef SS_BODY_REF_H
#define SS_BODY_REF_H

#include <string.h>

#include "body.h"
#include "json.h"

static bool ref_named(struct json_span key, const char *const *names,
                      size_t count)
{
  for(size_t i = 0; i < count; i++)
    if(json_key_is(key, names[i]))
      return true;
  return false;
}

/* The first named member's cut [*from, *to); false when there is none. */
static bool ref_find_cut(struct json_span obj, const char *const *names,
                         size_t count, const char **from, const char **to,
                         struct body_work *w)
{
  struct json_iter it;
  struct json_span key, val, nkey, nval;
  const char *prev_end = NULL;

  json_iter_init(&it, obj);
  for(;;) {
    const char *at = it.cur;
    bool more = json_next_member(&it, &key, &val);
    w->scanned += (size_t)(it.cur - at);
    if(!more)
      return false;
    if(!ref_named(key, names, count)) {
      prev_end = val.ptr + val.len;
      continue;
    }
    at = it.cur;
    more = json_next_member(&it, &nkey, &nval);
    w->scanned += (size_t)(it.cur - at);
    if(more) {
      *from = key.ptr;
      *to = nkey.ptr;
    }
    else {
      *from = prev_end ? prev_end : key.ptr;
      *to = val.ptr + val.len;
    }
    return true;
  }
}

static size_t body_ref_remove(const char *p, size_t n,
                              const char *const *names, size_t count,
                              char *out, struct body_work *w)
{
  struct json_span obj;
  const char *from, *to;
  size_t len = n;

  memset(w, 0, sizeof(*w));
  if(!n)
    return 0;
  memmove(out, p, n);
  w->moved = w->scanned = n;
  if(!json_parse(out, n, &obj) || obj.type != JSON_OBJECT)
    return n;
  while(ref_find_cut(obj, names, count, &from, &to, w)) {
    size_t cut = (size_t)(to - from);
    size_t tail = (size_t)(out + len - to);
    memmove(out + (from - out), to, tail);
    w->moved += tail;
    len -= cut;
    obj.len -= cut;
  }
  return len;
}

#endif
