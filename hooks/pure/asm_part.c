/* asm_part.c - the parts the assemblers share (see asm_part.h): reading
 * what an event is, and the accumulators of text, arrays, logprobs
 * objects, whole values and members kept by name. Values are copied as
 * the events wrote them. */
#include "asm_part.h"

#include <stdlib.h>
#include <string.h>

const char asm_oom_why[] = "out of memory";

bool asm_text_add(struct asm_text *t, struct json_span v)
{
  if(v.type == JSON_NONE)
    return true;
  if(v.type == JSON_NULL) {
    if(t->st == ASM_ABSENT)
      t->st = ASM_NULL;
    return true;
  }
  if(v.type != JSON_STRING)
    return false;
  t->st = ASM_SET;
  buf_append(&t->b, v.ptr + 1, v.len - 2);
  return true;
}

void asm_text_put(struct buf *out, const struct asm_text *t)
{
  if(t->st == ASM_SET) {
    asm_text_put_str(out, t);
    return;
  }
  if(t->b.oom)
    out->oom = true;
  buf_puts(out, "null");
}

void asm_text_put_str(struct buf *out, const struct asm_text *t)
{
  if(t->b.oom)
    out->oom = true;
  buf_puts(out, "\"");
  buf_append(out, t->b.ptr, t->b.len);
  buf_puts(out, "\"");
}

void asm_text_free(struct asm_text *t)
{
  buf_free(&t->b);
  t->st = ASM_ABSENT;
}

bool asm_list_add(struct asm_list *l, struct json_span v)
{
  struct json_iter it;
  struct json_span el;
  if(v.type == JSON_NONE)
    return true;
  if(v.type == JSON_NULL) {
    if(l->st == ASM_ABSENT)
      l->st = ASM_NULL;
    return true;
  }
  if(v.type != JSON_ARRAY)
    return false;
  l->st = ASM_SET;
  json_iter_init(&it, v);
  while(json_next_element(&it, &el)) {
    if(l->b.len)
      buf_append(&l->b, ",", 1);
    buf_append(&l->b, el.ptr, el.len);
  }
  return true;
}

void asm_list_put(struct buf *out, const struct asm_list *l)
{
  if(l->b.oom)
    out->oom = true;
  if(l->st != ASM_SET) {
    buf_puts(out, "null");
    return;
  }
  buf_puts(out, "[");
  buf_append(out, l->b.ptr, l->b.len);
  buf_puts(out, "]");
}

void asm_list_free(struct asm_list *l)
{
  buf_free(&l->b);
  l->st = ASM_ABSENT;
}

const char *asm_lp_add(struct asm_lp *lp, struct json_span v,
                       const char *const *names)
{
  struct json_span m;
  if(v.type == JSON_NONE)
    return NULL;
  lp->key = true;
  if(v.type == JSON_NULL)
    return NULL;
  if(v.type != JSON_OBJECT || !json_only_members(v, names))
    return "a choice's logprobs is not a known object";
  lp->obj = true;
  for(size_t i = 0; names[i]; i++) {
    json_get(v, names[i], &m);
    if(!asm_list_add(&lp->m[i], m))
      return "a logprobs member is not an array or null";
  }
  return NULL;
}

void asm_lp_put(struct buf *out, const struct asm_lp *lp,
                const char *const *names)
{
  bool first = true;
  if(!lp->key)
    return;
  buf_puts(out, ",\"logprobs\":");
  if(!lp->obj) {
    buf_puts(out, "null");
    return;
  }
  buf_puts(out, "{");
  for(size_t i = 0; names[i]; i++) {
    if(lp->m[i].st == ASM_ABSENT)
      continue;
    asm_key(out, &first, names[i]);
    asm_list_put(out, &lp->m[i]);
  }
  buf_puts(out, "}");
}

void asm_lp_free(struct asm_lp *lp)
{
  for(size_t i = 0; i < ASM_LP_MAX; i++)
    asm_list_free(&lp->m[i]);
  lp->key = lp->obj = false;
}

void asm_val_set(struct asm_val *v, struct json_span s)
{
  if(s.type == JSON_NONE)
    return;
  buf_reset(&v->b);
  buf_append(&v->b, s.ptr, s.len);
  v->set = true;
}

bool asm_str_set(struct asm_val *v, struct json_span s)
{
  if(s.type == JSON_NONE || s.type == JSON_NULL)
    return true;
  if(s.type != JSON_STRING)
    return false;
  if(s.len > 2)
    asm_val_set(v, s);
  return true;
}

void asm_val_put(struct buf *out, const struct asm_val *v)
{
  if(v->b.oom)
    out->oom = true;
  buf_append(out, v->b.ptr, v->b.len);
}

void asm_val_free(struct asm_val *v)
{
  buf_free(&v->b);
  v->set = false;
}

void asm_key(struct buf *out, bool *first, const char *name)
{
  buf_puts(out, *first ? "\"" : ",\"");
  *first = false;
  buf_puts(out, name);
  buf_puts(out, "\":");
}

/* Is the number span v zero (every digit before its exponent a 0)? */
static bool asm_number_zero(struct json_span v)
{
  for(size_t i = 0; i < v.len; i++) {
    char c = v.ptr[i];
    if(c == 'e' || c == 'E')
      break;
    if(c >= '1' && c <= '9')
      return false;
  }
  return true;
}

bool asm_blank(struct json_span v)
{
  switch(v.type) {
  case JSON_NULL:
    return true;
  case JSON_STRING:
    return v.len == 2;
  case JSON_NUMBER:
    return asm_number_zero(v);
  case JSON_OBJECT: {
    struct json_iter it;
    struct json_span k, val;
    json_iter_init(&it, v);
    return !json_next_member(&it, &k, &val);
  }
  default:
    return false;
  }
}

/* JavaScript's truthiness of a value (openai-node's `data.error`). */
static bool asm_truthy(struct json_span v)
{
  switch(v.type) {
  case JSON_NONE:
  case JSON_NULL:
  case JSON_FALSE:
    return false;
  case JSON_STRING:
    return v.len > 2;
  case JSON_NUMBER:
    return !asm_number_zero(v);
  default:
    return true;
  }
}

/* The member of g named key (bytes as written), or NULL. */
static struct asm_member *asm_bag_find(struct asm_bag *g, struct json_span key)
{
  for(size_t i = 0; i < g->n; i++)
    if(g->m[i].key.len == key.len && !memcmp(g->m[i].key.ptr, key.ptr, key.len))
      return &g->m[i];
  return NULL;
}

const char *asm_bag_set(struct asm_bag *g, struct json_span key,
                        struct json_span val, bool only_new)
{
  struct asm_member *m = asm_bag_find(g, key);
  if(m && only_new)
    return NULL;
  if(!m) {
    if(g->n == ASM_MAX_MEMBERS)
      return "too many unknown members";
    if(g->n == g->cap) {
      size_t cap = g->cap ? g->cap * 2 : 4;
      struct asm_member *nm = realloc(g->m, cap * sizeof(*nm));
      if(!nm) {
        g->oom = true;
        return asm_oom_why;
      }
      g->m = nm;
      g->cap = cap;
    }
    m = &g->m[g->n++];
    buf_init(&m->key);
    buf_init(&m->val);
    buf_append(&m->key, key.ptr, key.len);
  }
  buf_reset(&m->val);
  buf_append(&m->val, val.ptr, val.len);
  return m->val.oom || m->key.oom ? asm_oom_why : NULL;
}

/* Is key one of the NULL-terminated names? */
static bool asm_key_in(struct json_span key, const char *const *names)
{
  return json_name_in(key, names) >= 0;
}

const char *asm_bag_rest(struct asm_bag *g, struct json_span obj,
                         const char *const *known, bool only_new)
{
  struct json_iter it;
  struct json_span key, val;
  const char *why;
  json_iter_init(&it, obj);
  while(json_next_member(&it, &key, &val))
    if(!asm_key_in(key, known) && (why = asm_bag_set(g, key, val, only_new)))
      return why;
  return NULL;
}

/* Is the value kept in v (valid JSON: copied from a parsed span) blank? */
static bool asm_kept_blank(const struct asm_val *v)
{
  struct json_span s;
  return json_parse(v->b.ptr, v->b.len, &s) && asm_blank(s);
}

void asm_top_set(struct asm_val *slot, struct json_span v, bool blank_chunk,
                 bool meta)
{
  if(v.type == JSON_NONE)
    return;
  if(!slot->set)
    asm_val_set(slot, v);
  else if(meta && asm_blank(v))
    return;
  else if(!blank_chunk || (meta && asm_kept_blank(slot)))
    asm_val_set(slot, v);
}

void asm_bag_put(struct buf *out, const struct asm_bag *g)
{
  if(asm_bag_oom(g))
    out->oom = true;
  for(size_t i = 0; i < g->n; i++) {
    buf_puts(out, ",");
    buf_append(out, g->m[i].key.ptr, g->m[i].key.len);
    buf_puts(out, ":");
    buf_append(out, g->m[i].val.ptr, g->m[i].val.len);
  }
}

bool asm_bag_oom(const struct asm_bag *g)
{
  for(size_t i = 0; i < g->n; i++)
    if(g->m[i].key.oom || g->m[i].val.oom)
      return true;
  return g->oom;
}

void asm_bag_free(struct asm_bag *g)
{
  for(size_t i = 0; i < g->n; i++) {
    buf_free(&g->m[i].key);
    buf_free(&g->m[i].val);
  }
  free(g->m);
  memset(g, 0, sizeof(*g));
}

bool asm_index(struct json_span v, size_t *out)
{
  size_t n = 0;
  if(v.type != JSON_NUMBER || v.len > 3)
    return false;
  for(size_t i = 0; i < v.len; i++) {
    if(v.ptr[i] < '0' || v.ptr[i] > '9')
      return false;
    n = n * 10 + (size_t)(v.ptr[i] - '0');
  }
  if(n >= ASM_MAX_INDEX)
    return false;
  *out = n;
  return true;
}

/* Does the event's name equal s? */
static bool asm_name_is(const struct sse_event *ev, const char *s)
{
  size_t n = strlen(s);
  return ev->name_len == n && !memcmp(ev->name, s, n);
}

/* Keep the error answer: body as given, or {"error":body} (wrap); its
 * status from the error object e. */
static enum asm_result asm_error_keep(struct json_span body, bool wrap,
                                      struct json_span e, struct buf *err,
                                      int *status)
{
  buf_reset(err);
  if(wrap)
    buf_puts(err, "{\"error\":");
  buf_append(err, body.ptr, body.len);
  if(wrap)
    buf_puts(err, "}");
  *status = asm_error_status(e.type == JSON_OBJECT ? e.ptr : NULL, e.len);
  return err->oom ? ASM_OOM : ASM_ERROR;
}

enum asm_result asm_event_read(const struct sse_event *ev,
                               struct json_span *root, struct buf *err,
                               int *status, const char **why)
{
  struct json_span e = {NULL, 0, JSON_NONE};
  if(ev->data_len == 6 && !memcmp(ev->data, "[DONE]", 6))
    return ASM_END;
  if(ev->name_len >= 7 && !memcmp(ev->name, "thread.", 7))
    return (*why = "an Assistants thread event"), ASM_BAD;
  if(!json_parse(ev->data, ev->data_len, root))
    return (*why = "event data is not JSON"), ASM_BAD;
  if(root->type == JSON_OBJECT)
    json_get(*root, "error", &e);
  if(asm_name_is(ev, "error")) {  /* openai-node: data.error ?? data */
    if(e.type != JSON_NONE && e.type != JSON_NULL)
      return asm_error_keep(*root, false, e, err, status);
    return asm_error_keep(*root, true, *root, err, status);
  }
  if(asm_truthy(e))
    return asm_error_keep(*root, false, e, err, status);
  if(root->type != JSON_OBJECT)
    return (*why = "event data is not a JSON object"), ASM_BAD;
  return ASM_MORE;
}
