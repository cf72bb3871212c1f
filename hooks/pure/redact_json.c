/* redact_json.c - redacting JSON documents and whole bodies (see
 * redact.h; the decisions are in redact.c's opening comment). */
#include "redact_int.h"

#include <stdint.h>
#include <string.h>

#include "byte_scan.h"
#include "json.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- JSON ------------------------------------------------------------------ */

/* The end of the string whose quote is at s: just after its closing
 * quote (*closed), else at the raw line end or the end of the text, where
 * a string that is not JSON stops (a valid one has neither). */
static const char *string_end(const char *s, const char *end, bool *closed)
{
  *closed = false;
  for(s++; (s = bs_find4(s, end, '"', '\\', '\n', '\r')) < end; s++) {
    if(*s == '"') {
      *closed = true;
      return s + 1;
    }
    if(*s != '\\')
      return s;  /* a line end */
    if(s + 1 < end && s[1] != '\n' && s[1] != '\r')
      s++;
  }
  return end;
}

/* The end of the value at v: a string, a container (brackets counted
 * outside strings, to its close or the end of the text) or a scalar (to
 * a delimiter); v itself when there is no value there. */
static const char *value_end(const char *v, const char *end)
{
  bool closed;
  if(v >= end)
    return v;
  if(*v == '"')
    return string_end(v, end, &closed);
  if(*v == '{' || *v == '[') {
    size_t depth = 0;
    while(v < end) {
      if(*v == '"') {
        v = string_end(v, end, &closed);
        continue;
      }
      if(*v == '{' || *v == '[')
        depth++;
      else if((*v == '}' || *v == ']') && !--depth)
        return v + 1;
      v++;
    }
    return end;
  }
  while(v < end && !rd_is_space(*v) && !rd_in_set(*v, ",]}\""))
    v++;
  return v;
}

static const char *skip_space(const char *p, const char *end)
{
  while(p < end && rd_is_space(*p))
    p++;
  return p;
}

/* A filter of the listed names by length and first byte, built once
 * per walk: most member names are ruled out without decoding them. */
struct name_filter {
  uint64_t bits[4];
};

static unsigned lower(char c)
{
  unsigned u = (unsigned char)c;
  return u >= 'A' && u <= 'Z' ? u + ('a' - 'A') : u;
}

/* A name's slot: its length, first and last bytes (ASCII case aside). */
static unsigned filter_slot(const char *name, size_t len)
{
  return (unsigned)(len * 37 + lower(name[0]) * 7 + lower(name[len - 1])) &
         255;
}

static void filter_init(struct name_filter *f, const struct redact_names *l)
{
  memset(f, 0, sizeof(*f));
  for(unsigned i = 0; i < l->n; i++) {
    size_t len = strlen(l->v[i]);
    if(!len)
      continue;
    unsigned k = filter_slot(l->v[i], len);
    f->bits[k >> 6] |= UINT64_C(1) << (k & 63);
  }
}

/* Is the closed string [s, q) a listed member name, decoded? A name
 * without an escape (escaped: it has a backslash) decodes to itself (or
 * not at all), so its raw bytes must pass the filter. */
static bool name_listed(const struct redact_names *l,
                        const struct name_filter *f, const char *s,
                        const char *q, bool escaped)
{
  size_t raw = (size_t)(q - s) - 2;
  if(!raw)
    return false;  /* listed names are never empty */
  if(!escaped) {
    unsigned k = filter_slot(s + 1, raw);
    if(!(f->bits[k >> 6] & (UINT64_C(1) << (k & 63))))
      return false;
  }
  struct json_span key = { s, (size_t)(q - s), JSON_STRING };
  char name[REDACT_NAME_MAX + 1];
  size_t len;
  return json_string_decode(key, name, sizeof(name), &len) &&
         rd_listed(l, name, len);
}

/* Append the replacement of the value at v, up to *ve: "[redacted N]"
 * for a string, "[redacted]" for anything else. False, nothing appended,
 * for an empty value ("" or none), which stays. */
static bool put_json_value(const char *v, const char *end, const char **ve,
                           struct buf *out)
{
  bool closed;
  if(v == end || *v != '"') {
    *ve = value_end(v, end);
    if(*ve == v)
      return false;
    buf_puts(out, "\"[redacted]\"");
    return true;
  }
  *ve = string_end(v, end, &closed);
  size_t inner = (size_t)(*ve - v) - 1 - closed;
  if(!inner)
    return false;
  buf_append(out, "\"", 1);
  rd_put_redacted(out, inner);
  buf_append(out, "\"", 1);
  return true;
}

/* The quotes (*q) and the bytes that stop a string otherwise (*x: '\\',
 * LF, CR) among the k bytes at p (k <= 16), one bit each. */
static void block_masks(const char *p, size_t k, unsigned *q, unsigned *x)
{
#ifdef __SSE2__
  if(k == 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i bs = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    __m128i lf = _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'));
    __m128i cr = _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'));
    *q = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    *x = (unsigned)_mm_movemask_epi8(_mm_or_si128(bs, _mm_or_si128(lf, cr)));
    return;
  }
#endif
  *q = *x = 0;
  for(size_t i = 0; i < k; i++) {
    if(p[i] == '"')
      *q |= 1u << i;
    else if(p[i] == '\\' || p[i] == '\n' || p[i] == '\r')
      *x |= 1u << i;
  }
}

/* From s, outside any string, the next listed member name: a closed
 * string followed (after blanks) by ':' whose decoded text is listed.
 * *key: its opening quote; returns the pointer after its closing quote,
 * or end when there is none. The strings are read as string_end() reads
 * them (a line end stops one unclosed), 16 bytes at a time: each block's
 * quotes and stops are found once, as bits, and taken in order. */
static const char *next_listed_name(const struct redact_names *l,
                                    const struct name_filter *f,
                                    const char *s, const char *end,
                                    const char **key)
{
  bool in = false;     /* inside a string, opened at open */
  bool escaped = false;  /* it has a backslash */
  const char *open = s;
  while(s < end) {
    size_t len = (size_t)(end - s) < 16 ? (size_t)(end - s) : 16;
    unsigned q, x, pos = 0;
    block_masks(s, len, &q, &x);
    for(;;) {
      unsigned rel = (in ? q | x : q) & (~0u << pos);
      if(!rel) {
        s += len;
        break;
      }
      unsigned i = (unsigned)__builtin_ctz(rel);
      const char *c = s + i;
      pos = i + 1;
      if(!in) {          /* a string opens */
        in = true;
        escaped = false;
        open = c;
      }
      else if(*c == '"') {  /* it closes: a name when ':' follows */
        in = false;
        const char *colon = skip_space(c + 1, end);
        if(colon < end && *colon == ':' &&
           name_listed(l, f, open, c + 1, escaped)) {
          *key = open;
          return c + 1;
        }
      }
      else if(*c == '\\') {  /* an escape: the next byte is its letter */
        escaped = true;
        if(c + 1 < end && c[1] != '\n' && c[1] != '\r')
          pos = i + 2;
      }
      else
        in = false;      /* a line end: the string stops, unclosed */
      if(pos >= len) {
        s += pos;
        break;
      }
    }
  }
  return end;
}

/* One pass over the text: every string followed by ':' is a member name;
 * a listed member's value is replaced, every other byte copied in runs. */
static void json_walk(const struct redact_names *l, const char *p, size_t n,
                      struct buf *out)
{
  const char *s = p, *end = p + n, *copied = p, *key;
  struct name_filter f;
  filter_init(&f, l);
  while((s = next_listed_name(l, &f, s, end, &key)) < end) {
    const char *colon = skip_space(s, end), *ve;
    const char *v = skip_space(colon + 1, end);
    buf_append(out, copied, (size_t)(v - copied));
    if(put_json_value(v, end, &ve, out))
      copied = ve;
    else
      copied = v;
    s = ve;
  }
  buf_append(out, copied, (size_t)(end - copied));
}

bool redact_json(const struct redact_rules *r, const char *body, size_t n,
                 struct buf *out)
{
  struct json_span doc;
  size_t start = out->len;
  if(r->off)
    return rd_copy_all(body, n, out);
  if(!json_parse(body, n, &doc))
    return false;
  json_walk(&r->lists[REDACT_FIELDS], body, n, out);
  return rd_finish(out, start);
}

/* ---- bodies ---------------------------------------------------------------- */

enum body_kind { BODY_OTHER, BODY_JSON_LIKE, BODY_FORM };

/* Does p[0, n) contain word, ASCII case-insensitively? */
static bool contains_word(const char *p, size_t n, const char *word)
{
  size_t w = strlen(word);
  for(size_t i = 0; i + w <= n; i++)
    if(rd_same_name(p + i, w, word, w))
      return true;
  return false;
}

/* What the media type of a Content-Type value says about its body. */
static enum body_kind body_kind(const char *type)
{
  if(!type)
    return BODY_OTHER;
  size_t a = 0, b = strcspn(type, ";");
  while(a < b && rd_is_blank(type[a]))
    a++;
  while(b > a && rd_is_blank(type[b - 1]))
    b--;
  const char *t = type + a, *slash = memchr(t, '/', b - a);
  if(rd_same_cname(t, b - a, "application/x-www-form-urlencoded"))
    return BODY_FORM;
  if(rd_same_cname(t, b - a, "text/event-stream") ||
     (slash && contains_word(slash, (size_t)(t + (b - a) - slash), "json")))
    return BODY_JSON_LIKE;
  return BODY_OTHER;
}

/* Does the text start (after blanks and a UTF-8 BOM) like JSON's
 * containers? */
static bool looks_like_json(const char *p, size_t n)
{
  const char *end = p + n;
  if(n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
    p += 3;
  p = skip_space(p, end);
  return p < end && (*p == '{' || *p == '[');
}

/* A form body that looks like JSON (a JSON text cut short and sent with
 * curl -d's default type, or a form whose first key starts with '{'):
 * both rules, the JSON pass first. */
static void put_form_and_json(const struct redact_names *l, const char *p,
                              size_t n, struct buf *out)
{
  struct buf tmp;
  buf_init(&tmp);
  json_walk(l, p, n, &tmp);
  if(tmp.oom)
    out->oom = true;
  else
    rd_put_pairs(l, tmp.ptr, tmp.len, false, out);
  buf_free(&tmp);
}

bool redact_body(const struct redact_rules *r, const char *content_type,
                 const char *body, size_t n, struct buf *out)
{
  struct json_span doc;
  const struct redact_names *fields = &r->lists[REDACT_FIELDS];
  size_t start = out->len;
  enum body_kind kind = body_kind(content_type);
  bool json_look;
  if(r->off)
    return rd_copy_all(body, n, out);
  if(!n)
    return !out->oom;
  json_look = looks_like_json(body, n);
  if(json_parse(body, n, &doc))
    json_walk(fields, body, n, out);
  else if(kind == BODY_FORM && json_look)
    put_form_and_json(fields, body, n, out);
  else if(kind == BODY_FORM)
    rd_put_pairs(fields, body, n, false, out);
  else if(kind == BODY_JSON_LIKE || json_look)
    json_walk(fields, body, n, out);
  else
    buf_append(out, body, n);
  return rd_finish(out, start);
}
