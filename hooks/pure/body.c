/* body.c - inspecting and editing an LLM request body (see body.h).
 *
 * Everything reads the body through json.h spans and never re-serialises.
 * Both editors share one pass over the members (body_walk): it copies the
 * kept runs of input, cuts removed members, splices new values in and
 * appends the absent members at the end, so a body with thousands of
 * edited members costs what one with a single one does, and every byte
 * that is not part of an edited member (or its one adjacent comma and
 * whitespace) is kept exactly. body_remove_members() runs it in place on
 * a copy of the input (the output only shrinks); body_edit_members()
 * reads the input and appends to a buf. */
#include "body.h"

#include <stdlib.h>
#include <string.h>

#include "body_scan.h"
#include "buf.h"

/* Describe the body if it is exactly one JSON object (whitespace around
 * allowed); *bi is zeroed (model JSON_NONE) either way. Last member wins.
 * One fast pass (body_scan.h): a prompt's bytes are not decoded. */
bool body_inspect(const char *p, size_t n, struct body_info *bi)
{
  struct body_members m;
  struct json_span iu;

  memset(bi, 0, sizeof(*bi));
  bi->model.type = JSON_NONE;
  if(!body_scan(p, n, &m))
    return false;
  bi->has_stream = m.stream.type != JSON_NONE;
  bi->stream_true = m.stream.type == JSON_TRUE;
  bi->has_stream_options = m.stream_options.type != JSON_NONE;
  bi->model = m.model;
  bi->include_usage = json_get(m.stream_options, "include_usage", &iu) &&
                      iu.type == JSON_TRUE;
  return true;
}

/* What to do with the members: an edit list, or (body_remove_members)
 * names to remove. last[i] is the key of the last occurrence of the name
 * set by edits[i] (NULL: absent), allocated when the list sets a name. */
struct body_plan {
  const struct body_edit *edits;
  const char *const *names;
  size_t count;
  const char **last;
};

static const char *plan_name(const struct body_plan *pl, size_t i)
{
  return pl->edits ? pl->edits[i].name : pl->names[i];
}

/* Does plan entry i set a value? */
static bool plan_sets(const struct body_plan *pl, size_t i)
{
  return pl->edits && pl->edits[i].value;
}

/* The entry that decides key's fate: the last one naming it (two names
 * never both match one key); count when none does. */
static size_t plan_find(const struct body_plan *pl, struct json_span key)
{
  for(size_t i = pl->count; i-- > 0;)
    if(json_key_is(key, plan_name(pl, i)))
      return i;
  return pl->count;
}

/* The output in progress. Input bytes before src are settled: the kept
 * ones among them, and new text, fill the output up to olen (in b after
 * start, or in place at base). rewind (rewind_olen in the output) is where
 * a cut that takes the last member starts: just after the last kept
 * value, or the first key when nothing was kept yet; appended members go
 * there too. kept: the output holds a member. */
struct body_cutter {
  struct buf *b;
  char *base;
  size_t start;
  size_t olen;
  const char *src;
  const char *rewind;
  size_t rewind_olen;
  bool kept;
  struct body_work *work;
};

/* Write [p, p+len) at the end of the output. In place, the output never
 * passes src, so this moves bytes down. */
static void body_put(struct body_cutter *c, const char *p, size_t len)
{
  if(c->b)
    buf_append(c->b, p, len);
  else
    memmove(c->base + c->olen, p, len);
  c->olen += len;
}

/* Write new text (not a kept run). */
static void body_insert(struct body_cutter *c, const char *p, size_t len)
{
  body_put(c, p, len);
  c->work->inserted += len;
}

/* Keep [src, from) and drop [from, to). */
static void body_cut(struct body_cutter *c, const char *from, const char *to)
{
  size_t keep = (size_t)(from - c->src);
  body_put(c, c->src, keep);
  c->work->moved += keep;
  c->src = to;
}

/* Everything up to at is kept: a later cut of the last member starts
 * there. at is never before src (cuts end at a key or a value). */
static void body_mark(struct body_cutter *c, const char *at)
{
  c->rewind = at;
  c->rewind_olen = c->olen + (size_t)(at - c->src);
}

/* The last member is removed: it takes the comma and whitespace before it
 * (back to rewind), and the removed members since the last kept one were
 * already cut with what followed them, so the output just rewinds. */
static void body_cut_last(struct body_cutter *c, const char *to)
{
  if(c->rewind >= c->src)
    body_cut(c, c->rewind, to);
  else {
    c->olen = c->rewind_olen;
    if(c->b && !c->b->oom)
      c->b->len = c->start + c->olen;
    c->src = to;
  }
}

/* The member with value val stays with e's value instead. */
static void body_replace(struct body_cutter *c, struct json_span val,
                         const struct body_edit *e)
{
  body_cut(c, val.ptr, val.ptr + val.len);
  body_insert(c, e->value, e->value_len);
  body_mark(c, c->src);
  c->kept = true;
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

/* How the body writes its last member, for the appended ones: lead is
 * what precedes its key back to the previous value (a comma and
 * whitespace; only whitespace when first), colon what joins key and
 * value. An object without members gives "name":value. */
struct body_style {
  const char *lead;
  size_t lead_len;
  bool first;
  const char *colon;
  size_t colon_len;
};

static void body_style_note(struct body_style *st, const char *prev,
                            bool first, struct json_span key,
                            struct json_span val)
{
  st->lead = prev;
  st->lead_len = (size_t)(key.ptr - prev);
  st->first = first;
  st->colon = key.ptr + key.len;
  st->colon_len = (size_t)(val.ptr - st->colon);
}

/* Settle one member: keep it, give it its new value, or cut it (a cut
 * takes what follows it up to the next key; the last one what precedes
 * it back to the last kept value, body.h). */
static void body_member(struct body_cutter *c, const struct body_plan *pl,
                        struct json_span key, struct json_span val,
                        const struct json_span *nkey)
{
  size_t i = plan_find(pl, key);
  if(i == pl->count) {
    body_mark(c, val.ptr + val.len);
    c->kept = true;
  }
  else if(plan_sets(pl, i) && pl->last && pl->last[i] == key.ptr)
    body_replace(c, val, &pl->edits[i]);
  else if(nkey)
    body_cut(c, key.ptr, nkey->ptr);
  else
    body_cut_last(c, val.ptr + val.len);
}

/* Settle every member of obj in one pass and note the style of the last
 * one. This is what cutting the removed members one at a time from the
 * first gives (tests/unit/body_ref.h), without the restarts. */
static void body_walk(struct json_span obj, const struct body_plan *pl,
                      struct body_cutter *c, struct body_style *st)
{
  struct json_iter it;
  struct json_span key, val, nkey, nval;
  const char *open = obj.ptr + 1, *prev = open;
  bool more;

  json_iter_init(&it, obj);
  body_mark(c, open);  /* no members: append right after '{' */
  more = body_next(&it, &key, &val, c->work);
  if(more)
    body_mark(c, key.ptr);
  while(more) {
    bool next = body_next(&it, &nkey, &nval, c->work);
    body_style_note(st, prev, prev == open, key, val);
    body_member(c, pl, key, val, next ? &nkey : NULL);
    prev = val.ptr + val.len;
    key = nkey;
    val = nval;
    more = next;
  }
}

/* Should plan entry i be appended: it sets a name the body lacks, and no
 * later entry names it? */
static bool body_appends(const struct body_plan *pl, size_t i)
{
  if(!plan_sets(pl, i) || pl->last[i])
    return false;
  for(size_t j = i + 1; j < pl->count; j++)
    if(!strcmp(pl->edits[j].name, pl->edits[i].name))
      return false;
  return true;
}

/* Append e as the body's last member is written (struct body_style). */
static void body_put_member(struct body_cutter *c,
                            const struct body_style *st,
                            const struct body_edit *e)
{
  if(c->kept) {
    if(st->first)
      body_insert(c, ",", 1);
    body_insert(c, st->lead, st->lead_len);
  }
  body_insert(c, "\"", 1);
  body_insert(c, e->name, strlen(e->name));
  body_insert(c, "\"", 1);
  body_insert(c, st->colon, st->colon_len);
  body_insert(c, e->value, e->value_len);
  c->kept = true;
}

/* Append the absent members at rewind: after the last kept value (or in
 * the first member's place), before what preceded '}'. */
static void body_append_all(struct body_cutter *c, const struct body_plan *pl,
                            const struct body_style *st)
{
  if(!pl->last)
    return;
  if(c->rewind >= c->src)
    body_cut(c, c->rewind, c->rewind);
  /* else the last member was cut: the output already ends at rewind */
  for(size_t i = 0; i < pl->count; i++)
    if(body_appends(pl, i))
      body_put_member(c, st, &pl->edits[i]);
}

size_t body_remove_members_work(const char *p, size_t n,
                                const char *const *names, size_t count,
                                char *out, struct body_work *work)
{
  struct body_work ignored;
  struct body_plan pl = { NULL, names, count, NULL };
  struct body_style st;
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
  c = (struct body_cutter){ NULL, out, 0, 0, out, NULL, 0, false, work };
  body_walk(obj, &pl, &c, &st);
  body_cut(&c, out + n, out + n);  /* keep the rest */
  return c.olen;
}

size_t body_remove_members(const char *p, size_t n, const char *const *names,
                           size_t count, char *out)
{
  return body_remove_members_work(p, n, names, count, out, NULL);
}

/* Is name plain enough to write as a key unescaped? */
static bool body_plain(const char *name)
{
  for(const unsigned char *s = (const unsigned char *)name; *s; s++)
    if(*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
      return false;
  return true;
}

/* Does every edit name a key and, when it sets, a plain one and one JSON
 * value? */
static bool body_edits_ok(const struct body_edit *e, size_t count,
                          struct body_work *work)
{
  struct json_span v;
  for(size_t i = 0; i < count; i++) {
    if(!e[i].name)
      return false;
    if(!e[i].value)
      continue;
    work->scanned += e[i].value_len;
    if(!body_plain(e[i].name) || !json_parse(e[i].value, e[i].value_len, &v))
      return false;
  }
  return true;
}

/* Find the last occurrence of every name the plan sets (one more walk of
 * the members); pl->last stays NULL when it sets none. False on OOM. */
static bool body_find_last(struct body_plan *pl, struct json_span obj,
                           struct body_work *work)
{
  struct json_iter it;
  struct json_span key, val;
  size_t i = 0;

  while(i < pl->count && !plan_sets(pl, i))
    i++;
  if(i == pl->count)
    return true;
  pl->last = calloc(pl->count, sizeof(*pl->last));
  if(!pl->last)
    return false;
  json_iter_init(&it, obj);
  while(body_next(&it, &key, &val, work)) {
    i = plan_find(pl, key);
    if(i < pl->count && plan_sets(pl, i))
      pl->last[i] = key.ptr;
  }
  return true;
}

bool body_edit_members_work(const char *p, size_t n, const struct body_edit *e,
                            size_t count, struct buf *out,
                            struct body_work *work)
{
  struct body_work ignored;
  struct body_plan pl = { e, NULL, count, NULL };
  struct body_style st = { "", 0, true, ":", 1 };
  struct json_span obj;
  struct body_cutter c;
  size_t start = out->len;

  if(!work)
    work = &ignored;
  memset(work, 0, sizeof(*work));
  if(!n || !body_edits_ok(e, count, work))
    return false;
  work->scanned += n;  /* json_parse reads it once */
  if(!json_parse(p, n, &obj) || obj.type != JSON_OBJECT)
    return false;
  if(!body_find_last(&pl, obj, work)) {
    out->oom = true;
    return false;
  }
  c = (struct body_cutter){ out, NULL, start, 0, p, NULL, 0, false, work };
  body_walk(obj, &pl, &c, &st);
  body_append_all(&c, &pl, &st);
  body_cut(&c, p + n, p + n);  /* keep the rest */
  free(pl.last);
  if(out->oom)
    out->len = start;
  return !out->oom;
}

bool body_edit_members(const char *p, size_t n, const struct body_edit *e,
                       size_t count, struct buf *out)
{
  return body_edit_members_work(p, n, e, count, out, NULL);
}
