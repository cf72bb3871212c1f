/* capture_json.c - the pieces of a capture record: members, header
 * fields and bodies, redacted on the way out (see capture_record_int.h). */
#include "capture_record_int.h"

#include <string.h>
#include <strings.h>

#include "headers.h"
#include "json_write.h"

/* A part built apart (a list, a header line) ran out of memory: so does
 * the record, which cap_write then drops instead of writing it broken. */
void cap_lost(struct buf *o, const struct buf *part)
{
  if(part->oom)
    o->oom = true;
}

/* Drop the comma a member list ends with, then close it. */
void cap_close(struct buf *o, char c)
{
  if(o->len && o->ptr[o->len - 1] == ',')
    o->len--;
  buf_append(o, &c, 1);
}

/* The line [p, p+n) without its line end. */
size_t cap_trim_eol(const char *p, size_t n)
{
  while(n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
    n--;
  return n;
}

/* A URL, redacted. */
void cap_url(struct buf *o, const struct capture *c, const char *p,
                    size_t n)
{
  struct buf r;
  buf_init(&r);
  if(redact_url(c->rules, p, n, &r) && !r.oom)
    json_put_string(o, r.ptr ? r.ptr : "", r.len);
  else
    json_put_cstring(o, "[redacted]");
  buf_free(&r);
}

/* One "Name: value" line as ["Name", "value"], the value redacted (a
 * Location's URL too) through r, the caller's scratch buffer. */
void cap_field(struct buf *o, const struct capture *c, const char *p,
               size_t n, struct buf *r)
{
  n = cap_trim_eol(p, n);
  const char *colon = memchr(p, ':', n);
  size_t k = colon ? (size_t)(colon - p) : n;
  const char *v = colon ? colon + 1 : p + n;
  while(k && (p[k - 1] == ' ' || p[k - 1] == '\t'))
    k--;  /* "Name : value" names Name */
  const char *end = p + n;
  while(v < end && (*v == ' ' || *v == '\t'))
    v++;
  while(end > v && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  buf_reset(r);
  buf_append(o, "[", 1);
  json_put_string(o, p, k);
  buf_append(o, ",", 1);
  if(redact_header_value(c->rules, p, k, v, (size_t)(end - v), r) && !r->oom)
    json_put_string(o, r->ptr ? r->ptr : "", r->len);
  else
    json_put_cstring(o, "[redacted]");
  buf_append(o, "]", 1);
}

size_t cap_next_field(const char *blk, size_t n, size_t *at,
                      struct buf *line)
{
  buf_reset(line);
  while(*at < n) {
    const char *p = blk + *at;
    size_t len = header_line_len(p, n - *at);
    size_t text = cap_trim_eol(p, len);
    bool folded = text && (p[0] == ' ' || p[0] == '\t');
    if(line->len && !folded)
      break;  /* the next field starts here */
    *at += len;
    if(!text)
      break;  /* the blank line: the block ends */
    if(folded && line->len) {  /* obs-fold: one value, one space */
      size_t k = 0;
      while(k < text && (p[k] == ' ' || p[k] == '\t'))
        k++;
      buf_append(line, " ", 1);
      buf_append(line, p + k, text - k);
    }
    else
      buf_append(line, p, text);
  }
  return line->oom ? 0 : line->len;
}

/* The value of field name among the lines of a block, or NULL. */
const char *cap_field_value(const char *block, size_t n, const char *name,
                         size_t *vlen)
{
  return block ? headers_field(block, n, name, vlen) : NULL;
}

/* A body's bytes, redacted by its content type (redact_body: JSON, also
 * cut short or one per event-stream line, and form fields). False: out of
 * memory; the bytes are then withheld. */
static bool redact_bytes(const struct capture *c, const char *type,
                         size_t tlen, const char *p, size_t n,
                         struct buf *out)
{
  char ctype[256];
  size_t k = tlen < sizeof(ctype) - 1 ? tlen : sizeof(ctype) - 1;
  if(type)
    memcpy(ctype, type, k);
  ctype[type ? k : 0] = '\0';
  buf_reserve(out, n + 64);  /* the body, a few "[redacted N]" longer */
  return redact_body(c->rules, type ? ctype : NULL, p, n, out) && !out->oom;
}

/* Why a body's bytes cannot be redacted: a multipart body (its parts are
 * not parsed), or one in a content coding libcurl did not decode (the
 * secrets are inside the compressed bytes). NULL: they can. */
static const char *unredactable(const struct capture *c, const char *block,
                                size_t n, const char *type, size_t tlen,
                                bool decoded)
{
  size_t vlen;
  if(c->rules->off)
    return NULL;
  if(type && tlen >= 10 && !strncasecmp(type, "multipart/", 10))
    return "a multipart body is not redacted";
  const char *coding = cap_field_value(block, n, "Content-Encoding", &vlen);
  if(coding && !decoded && !(vlen == 8 && !strncasecmp(coding, "identity", 8)))
    return "an encoded body is not redacted";
  return NULL;
}

/* BODY: {"size": N, "text"|"base64": ..., "truncated": true}. */
void cap_body(struct buf *o, const struct capture *c, const char *name,
              const struct cap_body *b, const char *block, size_t blen,
              bool decoded)
{
  struct buf r;
  buf_init(&r);
  bool cut = b->size > b->data.len;
  size_t n = b->data.len, tlen = 0;
  const char *type = cap_field_value(block, blen, "Content-Type", &tlen);
  const char *why = unredactable(c, block, blen, type, tlen, decoded);
  cap_key(o, name);
  buf_append(o, "{", 1);
  cap_int(o, "size", (int64_t)b->size);
  if(why || !redact_bytes(c, type, tlen, b->data.ptr ? b->data.ptr : "", n,
                          &r)) {
    cap_str(o, "text", "", 0);
    cap_str(o, "withheld", why ? why : "out of memory",
            strlen(why ? why : "out of memory"));
  }
  else {
    size_t ok = utf8_valid_prefix(r.ptr ? r.ptr : "", r.len);
    /* A cut inside the last character is the cap's, not the body's. A NUL
     * goes as base64: JSON readers (cJSON) cut strings at \u0000. */
    bool text = ok == r.len || (cut && r.len - ok < 4 && r.len == n);
    if(text && (!r.len || !memchr(r.ptr, '\0', r.len))) {
      cap_key(o, "text");
      json_put_string(o, r.ptr ? r.ptr : "", ok);
    }
    else {
      cap_key(o, "base64");
      json_put_base64(o, r.ptr ? r.ptr : "", r.len);
    }
    buf_append(o, ",", 1);
  }
  if(cut)
    buf_puts(o, "\"truncated\":true,");
  cap_close(o, '}');
  buf_append(o, ",", 1);
  buf_free(&r);
}

void cap_events(struct buf *o, const char *name,
                       const struct cap_events *e)
{
  if(!e->stream)
    return;
  cap_key(o, name);
  buf_append(o, "[", 1);
  const int64_t *us = (const int64_t *)(const void *)e->us.ptr;
  size_t n = e->us.len / sizeof(int64_t);
  for(size_t i = 0; i < n; i++) {
    int64_t v;
    memcpy(&v, us + i, sizeof(v));
    if(i)
      buf_append(o, ",", 1);
    json_put_int(o, v);
  }
  buf_puts(o, "],");
}

