/* view.c - the record of what the program was handed (see view.h). */
#include "view.h"

#include <string.h>
#include <strings.h>

#include "../hooks/pure/headers.h"

void view_init(struct ss_view *v)
{
  memset(v, 0, sizeof(*v));
  buf_init(&v->block);
  buf_init(&v->content_type);
  buf_init(&v->scratch);
}

void view_free(struct ss_view *v)
{
  buf_free(&v->block);
  buf_free(&v->content_type);
  buf_free(&v->scratch);
}

void view_reset(struct ss_view *v)
{
  v->replaced = v->body_withheld = v->block_done = false;
  v->body_bytes = 0;
  v->header_bytes = 0;
  buf_reset(&v->block);
  buf_reset(&v->content_type);
}

void view_replaced(struct ss_view *v)
{
  v->replaced = true;
  buf_reset(&v->block);  /* the replacement's block comes next */
  v->block_done = false;
}

static bool blank_line(const char *p, size_t n)
{
  return (n == 2 && p[0] == '\r' && p[1] == '\n') || (n == 1 && p[0] == '\n');
}

void view_header(struct ss_view *v, const char *p, size_t n)
{
  v->header_bytes += (long)n;
  /* Only a replaced answer is answered from the record: until a stage
   * replaces it (view_replaced), libcurl's own record says the same. */
  if(!v->replaced)
    return;
  if(header_status(p, n) >= 0) {  /* a new block */
    buf_reset(&v->block);
    v->block_done = false;
  }
  else if(v->block_done)
    return;  /* a trailer: libcurl's own record has it */
  buf_append(&v->block, p, n);
  if(blank_line(p, n))
    v->block_done = true;
}

/* Walk the fields of the recorded block (its status line skipped):
 * *off is the next line's offset; gives the line. */
static bool next_line(const struct ss_view *v, size_t *off, const char **p,
                      size_t *n)
{
  const struct buf *b = &v->block;
  if(*off == 0 && b->len)  /* skip the status line */
    *off = header_line_len(b->ptr, b->len);
  if(*off >= b->len)
    return false;
  *p = b->ptr + *off;
  *n = header_line_len(*p, b->len - *off);
  *off += *n;
  return !blank_line(*p, *n);
}

/* The name of the field line [p, p+n): its length, 0 when none. */
static size_t name_len(const char *p, size_t n)
{
  const char *colon = memchr(p, ':', n);
  size_t k = colon ? (size_t)(colon - p) : 0;
  while(k && (p[k - 1] == ' ' || p[k - 1] == '\t'))
    k--;
  return k;
}

static bool named(const char *p, size_t n, const char *name)
{
  size_t k = name_len(p, n);
  return k && (!name || (strlen(name) == k && !strncasecmp(p, name, k)));
}

const char *view_field(struct ss_view *v, const char *name, struct buf *out)
{
  size_t off = 0, n, vlen;
  const char *p;
  while(next_line(v, &off, &p, &n)) {
    const char *val = header_value(p, n, name, &vlen);
    if(!val)
      continue;
    buf_reset(out);
    buf_append(out, val, vlen);
    buf_append(out, "", 1);
    return out->oom ? NULL : out->ptr;
  }
  return NULL;
}

size_t view_count(const struct ss_view *v, const char *name)
{
  size_t off = 0, n, count = 0;
  const char *p;
  while(next_line(v, &off, &p, &n))
    count += named(p, n, name);
  return count;
}

/* The index-th field named name (any, for NULL) and its place among all
 * fields (*pos) and among those of its own name (*same). */
static bool find_field(const struct ss_view *v, const char *name,
                       size_t index, const char **lp, size_t *ln, size_t *pos)
{
  size_t off = 0, n, seen = 0;
  const char *p;
  for(*pos = 0; next_line(v, &off, &p, &n); (*pos)++) {
    if(!named(p, n, name) || seen++ != index)
      continue;
    *lp = p;
    *ln = n;
    return true;
  }
  return false;
}

/* How many fields before position pos have the name of [p, p+k). */
static size_t same_before(const struct ss_view *v, const char *p, size_t k,
                          size_t pos)
{
  size_t off = 0, n, count = 0;
  const char *q;
  for(size_t i = 0; i < pos && next_line(v, &off, &q, &n); i++)
    count += name_len(q, n) == k && !strncasecmp(q, p, k);
  return count;
}

struct curl_header *view_entry(struct ss_view *v, const char *name,
                               size_t index)
{
  const char *p;
  size_t n, pos, vlen;
  if(!find_field(v, name, index, &p, &n, &pos))
    return NULL;
  size_t k = name_len(p, n);
  buf_reset(&v->scratch);
  buf_append(&v->scratch, p, k);
  buf_append(&v->scratch, "", 1);
  if(v->scratch.oom)
    return NULL;
  const char *val = header_value(p, n, v->scratch.ptr, &vlen);
  size_t at = v->scratch.len;
  buf_append(&v->scratch, val ? val : "", val ? vlen : 0);
  buf_append(&v->scratch, "", 1);
  if(v->scratch.oom)
    return NULL;
  v->entry.name = v->scratch.ptr;
  v->entry.value = v->scratch.ptr + at;
  v->entry.amount = view_count(v, v->entry.name);
  v->entry.index = same_before(v, p, k, pos);
  v->entry.origin = CURLH_HEADER | SS_CURLH_MARK;
  v->entry.anchor = v;
  v->entry_pos = pos;
  return &v->entry;
}
