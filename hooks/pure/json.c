/* json.c - a validating JSON reader that reports byte spans (see json.h).
 *
 * json_parse() is a non-recursive state machine: open containers are kept
 * as one bit each (object or array) in a JSON_MAX_DEPTH-bit stack on the C
 * stack, so hostile nesting costs nothing and fails cleanly. Every read is
 * bounds-checked against the end pointer: any bytes, NULs included, are
 * safe. The iterators and the decoders trust a validated span for meaning
 * but still never read outside it. The end detector is a byte-at-a-time
 * automaton whose whole state lives in struct json_end. */
#include "json.h"

#include <string.h>

#include "byte_scan.h"
#include "json_lex.h"

/* ---- scanning primitives --------------------------------------------- */

/* Read 4 hex digits at p (bounds-checked); -1 when they are not there. */
static long js_hex4(const char *p, const char *end)
{
  static const char digits[] = "0123456789abcdefABCDEF";
  long v = 0;
  if(end - p < 4)
    return -1;
  for(int i = 0; i < 4; i++) {
    const char *h = memchr(digits, p[i], 22);
    if(!h)
      return -1;
    v = v * 16 + (h - digits < 16 ? h - digits : h - digits - 6);
  }
  return v;
}

/* Validate a string whose opening quote is at p; returns the pointer after
 * the closing quote, or NULL (bad UTF-8, control byte, escape, no end). */
static const char *js_string(const char *p, const char *end)
{
  p++;
  while(p < end) {
    p = bs_skip_plain(p, end);  /* long ASCII runs: 8 bytes a step */
    if(p >= end)
      break;
    unsigned char c = (unsigned char)*p;
    if(c == '"')
      return p + 1;
    if(c < 0x20)
      return NULL;
    if(c == '\\') {
      if(!(p = json_lex_escape(p + 1, end)))
        return NULL;
    }
    else if(c < 0x80)
      p++;
    else {
      size_t len = json_lex_utf8_len((const unsigned char *)p,
                               (const unsigned char *)end);
      if(!len)
        return NULL;
      p += len;
    }
  }
  return NULL;
}

/* Match the literal word at p; the pointer after it, or NULL. */
static const char *js_word(const char *p, const char *end, const char *w)
{
  size_t len = strlen(w);
  if((size_t)(end - p) < len || memcmp(p, w, len))
    return NULL;
  return p + len;
}

/* Validate the scalar at p and report its type; the pointer after it or
 * NULL. Containers are not scalars. */
static const char *js_scalar(const char *p, const char *end,
                             enum json_type *type)
{
  switch(*p) {
  case '"': *type = JSON_STRING; return js_string(p, end);
  case 't': *type = JSON_TRUE; return js_word(p, end, "true");
  case 'f': *type = JSON_FALSE; return js_word(p, end, "false");
  case 'n': *type = JSON_NULL; return js_word(p, end, "null");
  default: *type = JSON_NUMBER; return json_lex_number(p, end);
  }
}

/* ---- json_parse: an explicit-stack state machine ---------------------- */

enum js_state { JS_VALUE, JS_AFTER, JS_KEY, JS_DONE, JS_FAIL };

struct js_parser {
  const char *p, *end;
  unsigned depth;
  unsigned char objbits[JSON_MAX_DEPTH / 8]; /* 1 = object at that level */
};

/* Open a container of kind '{' or '['; false when nesting is too deep. */
static bool js_push(struct js_parser *s, bool object)
{
  unsigned i = s->depth, bit = 1u << (i % 8);
  if(i >= JSON_MAX_DEPTH)
    return false;
  s->objbits[i / 8] = (unsigned char)((s->objbits[i / 8] & ~bit) |
                                      (object ? bit : 0));
  s->depth++;
  return true;
}

/* Expect a value at p: a scalar is consumed whole, a container is opened
 * (an empty one is closed at once). */
static enum js_state js_on_value(struct js_parser *s, enum json_type *type)
{
  s->p = json_lex_ws(s->p, s->end);
  if(s->p >= s->end)
    return JS_FAIL;
  char c = *s->p;
  if(c == '{' || c == '[') {
    *type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
    if(!js_push(s, c == '{'))
      return JS_FAIL;
    s->p = json_lex_ws(s->p + 1, s->end);
    if(s->p < s->end && *s->p == (c == '{' ? '}' : ']')) {
      s->p++;
      s->depth--;
      return JS_AFTER;
    }
    return c == '{' ? JS_KEY : JS_VALUE;
  }
  s->p = js_scalar(s->p, s->end, type);
  return s->p ? JS_AFTER : JS_FAIL;
}

/* Expect a member key and its colon; the value comes next. */
static enum js_state js_on_key(struct js_parser *s)
{
  s->p = json_lex_ws(s->p, s->end);
  if(s->p >= s->end || *s->p != '"' || !(s->p = js_string(s->p, s->end)))
    return JS_FAIL;
  s->p = json_lex_ws(s->p, s->end);
  if(s->p >= s->end || *s->p != ':')
    return JS_FAIL;
  s->p++;
  return JS_VALUE;
}

/* After a value: done at depth 0, else a comma or the closing bracket. */
static enum js_state js_on_after(struct js_parser *s)
{
  if(!s->depth)
    return JS_DONE;
  unsigned i = s->depth - 1;
  bool obj = (s->objbits[i / 8] >> (i % 8)) & 1;
  s->p = json_lex_ws(s->p, s->end);
  if(s->p >= s->end)
    return JS_FAIL;
  if(*s->p == ',') {
    s->p++;
    return obj ? JS_KEY : JS_VALUE;
  }
  if(*s->p != (obj ? '}' : ']'))
    return JS_FAIL;
  s->p++;
  s->depth--;
  return JS_AFTER;
}

/* Validate [p, p+n) as one value with optional whitespace around it; on
 * success *out spans the value, on failure *out is {NULL, 0, JSON_NONE}. */
bool json_parse(const char *p, size_t n, struct json_span *out)
{
  struct js_parser s = { p, p, 0, { 0 } };
  enum js_state st = JS_VALUE;
  enum json_type type = JSON_NONE, first = JSON_NONE;
  const char *start;

  out->ptr = NULL;
  out->len = 0;
  out->type = JSON_NONE;
  if(!p)
    return false;
  s.end = p + n;
  start = s.p = json_lex_ws(p, s.end);
  while(st != JS_DONE && st != JS_FAIL) {
    if(st == JS_VALUE) {
      st = js_on_value(&s, &type);
      if(first == JSON_NONE)
        first = type;
    }
    else
      st = st == JS_KEY ? js_on_key(&s) : js_on_after(&s);
  }
  if(st == JS_FAIL || json_lex_ws(s.p, s.end) != s.end)
    return false;
  out->ptr = start;
  out->len = (size_t)(s.p - start);
  out->type = first;
  return true;
}

/* ---- iterators over validated spans ----------------------------------- */

/* Skip a string (opening quote at p) without validating it: the first
 * quote after it preceded by an even run of backslashes closes it. */
static const char *js_skip_string(const char *p, const char *end)
{
  const char *body = p + 1, *q = body;
  while(q < end && (q = memchr(q, '"', (size_t)(end - q)))) {
    const char *b = q;
    while(b > body && b[-1] == '\\')
      b--;
    if(!((q - b) & 1))
      return q + 1;
    q++;
  }
  return end;
}

/* What a byte means to js_skip_value between strings: 1 a quote, 2 an
 * opening bracket, 3 a closing one, 0 nothing. */
static const unsigned char js_skip_class[256] = {
  ['"'] = 1, ['{'] = 2, ['['] = 2, ['}'] = 3, [']'] = 3
};

/* Skip one validated value at p, iteratively: containers by a depth count
 * that ignores brackets inside strings. Never passes end. */
static const char *js_skip_value(const char *p, const char *end,
                                 enum json_type *type)
{
  size_t depth = 0;
  if(p >= end) {
    *type = JSON_NONE;
    return end;
  }
  if(*p == '"') {  /* validated: no need to check it again */
    *type = JSON_STRING;
    return js_skip_string(p, end);
  }
  if(*p != '{' && *p != '[') {
    const char *q = js_scalar(p, end, type);
    return q ? q : end;
  }
  *type = *p == '{' ? JSON_OBJECT : JSON_ARRAY;
  while(p < end) {
    unsigned char k = js_skip_class[(unsigned char)*p];
    if(k == 1) {
      p = js_skip_string(p, end);
      continue;
    }
    p++;
    if(k == 2)
      depth++;
    else if(k == 3 && !--depth)
      break;
  }
  return p;
}

/* Start iterating a validated object or array; any other span (or a
 * JSON_NONE one) iterates nothing. */
void json_iter_init(struct json_iter *it, struct json_span container)
{
  it->cur = it->end = container.ptr;
  if((container.type == JSON_OBJECT || container.type == JSON_ARRAY) &&
     container.ptr && container.len >= 2) {
    it->cur = container.ptr + 1;
    it->end = container.ptr + container.len - 1;
  }
}

/* Position the iterator on the next item (past whitespace and one comma);
 * false at the end. */
static bool js_iter_step(struct json_iter *it)
{
  it->cur = json_lex_ws(it->cur, it->end);
  if(it->cur < it->end && *it->cur == ',')
    it->cur = json_lex_ws(it->cur + 1, it->end);
  return it->cur < it->end;
}

/* Read one value at the iterator into *val and advance past it. */
static bool js_iter_value(struct json_iter *it, struct json_span *val)
{
  const char *start = json_lex_ws(it->cur, it->end);
  if(start >= it->end)
    return false;
  it->cur = js_skip_value(start, it->end, &val->type);
  val->ptr = start;
  val->len = (size_t)(it->cur - start);
  return true;
}

/* Next member of an object: key span (quotes included) and value span;
 * false after the last one. */
bool json_next_member(struct json_iter *it, struct json_span *key,
                      struct json_span *val)
{
  if(!js_iter_step(it) || *it->cur != '"')
    return false;
  key->ptr = it->cur;
  it->cur = js_skip_string(it->cur, it->end);
  key->len = (size_t)(it->cur - key->ptr);
  key->type = JSON_STRING;
  it->cur = json_lex_ws(it->cur, it->end);
  if(it->cur >= it->end || *it->cur != ':')
    return false;
  it->cur++;
  return js_iter_value(it, val);
}

/* Next element of an array; false after the last one. */
bool json_next_element(struct json_iter *it, struct json_span *val)
{
  return js_iter_step(it) && js_iter_value(it, val);
}

/* ---- string decoding --------------------------------------------------- */

/* Encode code point cp as UTF-8 in out; the number of bytes. */
static size_t js_put_utf8(unsigned long cp, unsigned char *out)
{
  static const unsigned char lead[5] = { 0, 0x00, 0xC0, 0xE0, 0xF0 };
  size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  for(size_t i = n - 1; i > 0; i--, cp >>= 6)
    out[i] = (unsigned char)(0x80 | (cp & 0x3F));
  out[0] = (unsigned char)(lead[n] | cp);
  return n;
}

/* Decode a \u escape at *pp (just after the backslash-u), joining a
 * surrogate pair; -1 for a lone surrogate or bad hex. */
static long js_unicode(const char **pp, const char *end)
{
  long hi = js_hex4(*pp, end), lo;
  if(hi < 0)
    return -1;
  *pp += 4;
  if(hi >= 0xDC00 && hi <= 0xDFFF)
    return -1;
  if(hi < 0xD800 || hi > 0xDBFF)
    return hi;
  if(end - *pp < 6 || (*pp)[0] != '\\' || (*pp)[1] != 'u')
    return -1;
  lo = js_hex4(*pp + 2, end);
  if(lo < 0xDC00 || lo > 0xDFFF)
    return -1;
  *pp += 6;
  return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
}

/* Decode the next unit of a string body at *pp into out (up to 4 bytes):
 * the byte count, 0 at the closing quote (or the end), -1 on a lone
 * surrogate or a bad escape. */
static int js_unit(const char **pp, const char *end, unsigned char *out)
{
  static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
  const char *p = *pp, *e;
  long cp;
  if(p >= end || *p == '"')
    return 0;
  if(*p != '\\') {
    out[0] = (unsigned char)*p;
    *pp = p + 1;
    return 1;
  }
  if(end - p < 2)
    return -1;
  *pp = p + 2;
  if(p[1] == 'u') {
    cp = js_unicode(pp, end);
    return cp < 0 ? -1 : (int)js_put_utf8((unsigned long)cp, out);
  }
  e = memchr(from, p[1], 5);
  out[0] = (unsigned char)(e ? to[e - from] : p[1]);
  return 1;
}

/* Is s a span that starts with a quote? Gives the body bounds. */
static bool js_str_body(struct json_span s, const char **p, const char **end)
{
  if(!s.ptr || s.len < 2 || s.ptr[0] != '"')
    return false;
  *p = s.ptr + 1;
  *end = s.ptr + s.len - 1;
  return true;
}

/* Compare the decoded key with name byte for byte. A key with \u0000 or a
 * lone surrogate escape matches no C string. */
bool json_key_is(struct json_span key, const char *name)
{
  const char *p, *end;
  unsigned char u[4];
  int k;
  if(!name || !js_str_body(key, &p, &end))
    return false;
  if(!memchr(p, '\\', (size_t)(end - p))) {  /* no escape: the bytes */
    size_t n = (size_t)(end - p);
    return strlen(name) == n && !memcmp(name, p, n);
  }
  while((k = js_unit(&p, end, u)) > 0) {
    for(int i = 0; i < k; i++, name++)
      if(*name == '\0' || (unsigned char)*name != u[i])
        return false;
  }
  return k == 0 && *name == '\0';
}

/* The value of the last member `name` of obj; false and JSON_NONE when
 * absent or when obj is not an object. */
bool json_get(struct json_span obj, const char *name, struct json_span *val)
{
  struct json_iter it;
  struct json_span k, v;
  bool found = false;
  val->ptr = NULL;
  val->len = 0;
  val->type = JSON_NONE;
  if(obj.type != JSON_OBJECT)
    return false;
  json_iter_init(&it, obj);
  while(json_next_member(&it, &k, &v)) {
    if(json_key_is(k, name)) {
      *val = v;
      found = true;
    }
  }
  return found;
}

/* Decode a string span into buf (cap bytes including the NUL). On false
 * (overflow, \u0000, lone surrogate, not a string) buf is "" if cap > 0
 * and *outlen is 0. */
bool json_string_decode(struct json_span s, char *buf, size_t cap,
                        size_t *outlen)
{
  const char *p, *end;
  unsigned char u[4];
  size_t len = 0;
  int k;
  *outlen = 0;
  if(cap)
    buf[0] = '\0';
  if(!cap || !js_str_body(s, &p, &end))
    return false;
  while((k = js_unit(&p, end, u)) > 0) {
    if((size_t)k >= cap - len || (k == 1 && u[0] == 0)) {
      buf[0] = '\0';
      return false;
    }
    memcpy(buf + len, u, (size_t)k);
    len += (size_t)k;
  }
  buf[k < 0 ? 0 : len] = '\0';
  *outlen = k < 0 ? 0 : len;
  return k == 0;
}
