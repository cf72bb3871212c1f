/* body_ref.h - the references for hooks/pure/body.c's editors.
 *
 * body_ref_remove() is the original algorithm for body_remove_members(),
 * which cuts the first named top-level member and starts over until none
 * is left (quadratic, obviously right). The unit tests and
 * tests/fuzz/fuzz_body.c compare the one-pass version with it, and it
 * counts its work the same way (struct body_work) to show that the bound
 * the tests put on the work tells the two apart.
 *
 * body_ref_check_edit() judges a body_edit_members() result against
 * body.h's rules, worked out member by member the slow, obvious way. */
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


/* ---- body_edit_members(): the rules, checked on a result ------------------ */

/* The edit deciding key's fate: the last one whose name it is; NULL when
 * none is. */
static const struct body_edit *ref_edit_for(struct json_span key,
                                            const struct body_edit *e,
                                            size_t count)
{
  const struct body_edit *found = NULL;
  for(size_t i = 0; i < count; i++)
    if(json_key_is(key, e[i].name))
      found = &e[i];
  return found;
}

/* A member of obj with its bytes: lead (back to the previous value, or
 * '{'), key, colon, value. */
struct ref_member {
  const char *lead, *key, *colon, *val, *end;
};

/* The members of a parsed object into m (cap entries); their number. */
static size_t ref_members(struct json_span obj, struct ref_member *m,
                          size_t cap)
{
  struct json_iter it;
  struct json_span k, v;
  const char *prev = obj.ptr + 1;
  size_t n = 0;
  json_iter_init(&it, obj);
  while(n < cap && json_next_member(&it, &k, &v)) {
    m[n] = (struct ref_member){ prev, k.ptr, k.ptr + k.len, v.ptr,
                                v.ptr + v.len };
    prev = v.ptr + v.len;
    n++;
  }
  return n;
}

static bool ref_same(const char *a, const char *aend, const char *b,
                     size_t blen)
{
  return (size_t)(aend - a) == blen && !memcmp(a, b, blen);
}

/* What becomes of input member i: 0 kept, 1 removed, 2 given e's value. */
static int ref_fate(const struct ref_member *m, size_t n, size_t i,
                    const struct body_edit *e, size_t count,
                    const struct body_edit **by)
{
  struct json_span k = { m[i].key, (size_t)(m[i].colon - m[i].key),
                         JSON_STRING };
  *by = ref_edit_for(k, e, count);
  if(!*by)
    return 0;
  if(!(*by)->value)
    return 1;
  for(size_t j = i + 1; j < n; j++) {
    struct json_span kj = { m[j].key, (size_t)(m[j].colon - m[j].key),
                            JSON_STRING };
    if(ref_edit_for(kj, e, count) == *by)
      return 1;  /* a later occurrence is the one set */
  }
  return 2;
}

/* Is edit i appended: it sets, no later edit names it, no member has it? */
static bool ref_appended(const struct ref_member *m, size_t n, size_t i,
                         const struct body_edit *e, size_t count)
{
  if(!e[i].value)
    return false;
  for(size_t j = i + 1; j < count; j++)
    if(!strcmp(e[j].name, e[i].name))
      return false;
  for(size_t j = 0; j < n; j++) {
    struct json_span k = { m[j].key, (size_t)(m[j].colon - m[j].key),
                           JSON_STRING };
    if(json_key_is(k, e[i].name))
      return false;
  }
  return true;
}

/* Is the value at v, with what leads to it from join (the colon and
 * whitespace), join[0, jlen) followed by the edit's text, whitespace
 * around it included? */
static bool ref_value_is(const char *join, const char *v, const char *jsrc,
                         size_t jlen, const struct body_edit *e)
{
  struct json_span s;
  size_t lead;
  if(!json_parse(e->value, e->value_len, &s))
    return false;
  lead = (size_t)(s.ptr - e->value);
  return (size_t)(v - join) == jlen + lead && !memcmp(join, jsrc, jlen) &&
         !memcmp(join + jlen, e->value, e->value_len);
}

#define REF_MAX 4096

/* NULL when out[0, len) is what body_edit_members() must make of [p, p+n)
 * with the edits (valid ones, on a valid object), else what is wrong:
 * it parses; its members are the input's, in order, with the edits
 * applied (untouched ones byte for byte, key to value; set ones keep key
 * and colon; appended ones follow in list order, written in the style of
 * the input's last member); the bytes before the first edited member and
 * after the last member are the input's. */
static const char *body_ref_check_edit(const char *p, size_t n,
                                       const struct body_edit *e,
                                       size_t count, const char *out,
                                       size_t len)
{
  static struct ref_member im[REF_MAX], om[REF_MAX];
  struct json_span in, res;
  const struct body_edit *by;
  size_t ni, no, o = 0;
  const char *head;  /* the input is unchanged up to here */
  bool edited = false;

  if(!json_parse(p, n, &in) || in.type != JSON_OBJECT)
    return "the input is not an object";
  if(!json_parse(out, len, &res) || res.type != JSON_OBJECT)
    return "the result is not one JSON object";
  ni = ref_members(in, im, REF_MAX);
  no = ref_members(res, om, REF_MAX);
  if(ni == REF_MAX || no == REF_MAX)
    return NULL;  /* too big to judge */
  head = in.ptr + 1;
  for(size_t i = 0; i < ni; i++) {
    int fate = ref_fate(im, ni, i, e, count, &by);
    if(fate && !edited) {
      edited = true;  /* the head ends at the previous kept value */
      head = i ? im[i - 1].end : in.ptr + 1;
    }
    if(fate == 1)
      continue;
    if(o >= no)
      return "a member is missing";
    if(!fate && !ref_same(om[o].key, om[o].end, im[i].key,
                          (size_t)(im[i].end - im[i].key)))
      return "an untouched member changed";
    if(fate == 2 &&
       !ref_value_is(om[o].key, om[o].val, im[i].key,
                     (size_t)(im[i].val - im[i].key), by))
      return "a set member is wrong";
    o++;
  }
  for(size_t i = 0; i < count; i++) {
    if(!ref_appended(im, ni, i, e, count))
      continue;
    if(!edited) {
      edited = true;
      head = ni ? im[ni - 1].end : in.ptr + 1;
    }
    if(o >= no)
      return "an appended member is missing";
    const char *ocolon = om[o].colon;
    size_t nl = strlen(e[i].name);
    if((size_t)(ocolon - om[o].key) != nl + 2 || om[o].key[0] != '"' ||
       memcmp(om[o].key + 1, e[i].name, nl) || om[o].key[nl + 1] != '"')
      return "an appended key is wrong";
    /* the style: joined like the input's last member, after its lead */
    if(ni ? !ref_value_is(ocolon, om[o].val, im[ni - 1].colon,
                          (size_t)(im[ni - 1].val - im[ni - 1].colon), &e[i])
          : !ref_value_is(ocolon, om[o].val, ":", 1, &e[i]))
      return "an appended member is not joined in the body's style";
    if(o) {
      const struct ref_member *last = ni ? &im[ni - 1] : NULL;
      bool first = !last || last->lead == in.ptr + 1;
      size_t ll = last ? (size_t)(last->key - last->lead) : 0;
      size_t sl = (size_t)(om[o].key - om[o].lead);
      /* what an edit's value had after it comes first */
      size_t pre = sl - ll - first;
      if(sl < ll + first || (first && om[o].key[-(long)ll - 1] != ',') ||
         (ll && memcmp(om[o].key - ll, last->lead, ll)) ||
         strspn(om[o].lead, " \t\r\n") < pre)
        return "an appended member is not separated in the body's style";
    }
    o++;
  }
  if(o != no)
    return "the result has a member too many";
  if(!edited)
    return len == n && !memcmp(out, p, n) ? NULL : "an unedited body changed";
  if(len < (size_t)(head - p) || memcmp(out, p, (size_t)(head - p)))
    return "the bytes before the first edited member changed";
  const char *tail = ni ? im[ni - 1].end : in.ptr + 1;
  size_t tl = (size_t)(p + n - tail);
  if(len < tl || memcmp(out + len - tl, tail, tl))
    return "the bytes after the last member changed";
  return NULL;
}

#endif
