/* sse_responses_lp.c - output_text logprobs for the Responses encoder
 * (see sse_responses.c).
 *
 * A part's logprob entries ({token, bytes, logprob, top_logprobs}) say
 * which tokens spelled its text: their "bytes" concatenate to the text's
 * UTF-8. The real stream sends one delta per token, carrying that token's
 * entry; a token may end inside a UTF-8 character, so entries are
 * grouped until they end on a character boundary (the delta text is
 * valid JSON string text, cut only between characters). Open checks that
 * the bytes spell the text exactly; anything else is refused. Events
 * carry entries in the SDK's event shape: {token, logprob, top_logprobs:
 * [{token, logprob}]}, without the bytes members (token and logprob are
 * copied raw). */
#include "sse_responses_int.h"

#include <string.h>

#include "sse_piece.h"

#define T(t) (1u << (t))

static const char *const lp_entry_names[] = {
  "token", "bytes", "logprob", "top_logprobs", NULL
};
static const char *const lp_top_names[] = {"token", "bytes", "logprob", NULL};

/* Value of the 4 hex digits at p (validated JSON: they are hex). */
static unsigned lp_hex4(const char *p)
{
  unsigned v = 0;
  for(int i = 0; i < 4; i++) {
    char c = p[i];
    v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

/* Decode the one character at p (raw JSON string text, p < end) to UTF-8
 * in u; its raw length in *raw. The byte count, 0 for a lone surrogate
 * escape (no UTF-8 spells it). */
static size_t lp_char(const char *p, const char *end, unsigned char u[4],
                      size_t *raw)
{
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  unsigned cp;
  *raw = piece_char_len(p, end);
  if(p[0] != '\\') {
    memcpy(u, p, *raw);
    return *raw;
  }
  if(p[1] != 'u') {
    const char *k = memchr(from, p[1], sizeof(from) - 1);
    u[0] = (unsigned char)(k ? to[k - from] : p[1]);
    return 1;
  }
  cp = lp_hex4(p + 2);
  if(*raw == 12)
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lp_hex4(p + 8) - 0xDC00);
  else if(cp >= 0xD800 && cp <= 0xDFFF)
    return 0;
  if(cp < 0x80) {
    u[0] = (unsigned char)cp;
    return 1;
  }
  if(cp < 0x800) {
    u[0] = (unsigned char)(0xC0 | (cp >> 6));
    u[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if(cp < 0x10000) {
    u[0] = (unsigned char)(0xE0 | (cp >> 12));
    u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  u[0] = (unsigned char)(0xF0 | (cp >> 18));
  u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  u[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

/* The byte value written by number v, or -1 when it is not an integer
 * 0..255 written with digits only. */
static int lp_byte(struct json_span v)
{
  int x = 0;
  if(v.type != JSON_NUMBER || v.len > 3)
    return -1;
  for(size_t i = 0; i < v.len; i++) {
    if(v.ptr[i] < '0' || v.ptr[i] > '9')
      return -1;
    x = x * 10 + (v.ptr[i] - '0');
  }
  return x <= 255 ? x : -1;
}

/* Is o an object with only the names, a string token, a number logprob
 * and (if present) an array of byte values as bytes? */
static bool lp_token_ok(struct json_span o, const char *const *names,
                        bool need_bytes)
{
  struct json_span tok, lp, bytes, v;
  struct json_iter it, k;
  if(o.type != JSON_OBJECT || !json_get(o, "token", &tok) ||
     tok.type != JSON_STRING || !json_get(o, "logprob", &lp) ||
     lp.type != JSON_NUMBER)
    return false;
  json_iter_init(&k, o);
  while(json_next_member(&k, &tok, &v)) {
    const char *const *n = names;
    while(*n && !json_key_is(tok, *n))
      n++;
    if(!*n)
      return false;
  }
  if(!json_get(o, "bytes", &bytes))
    return !need_bytes;
  if(bytes.type != JSON_ARRAY)
    return false;
  json_iter_init(&it, bytes);
  while(json_next_element(&it, &v))
    if(lp_byte(v) < 0)
      return false;
  return true;
}

/* Check one logprob entry of an output_text part. */
static bool lp_entry_ok(struct json_span e)
{
  struct json_span top, v;
  struct json_iter it;
  if(!lp_token_ok(e, lp_entry_names, true))
    return false;
  if(!json_get(e, "top_logprobs", &top))
    return true;
  if(top.type != JSON_ARRAY)
    return false;
  json_iter_init(&it, top);
  while(json_next_element(&it, &v))
    if(!lp_token_ok(v, lp_top_names, false))
      return false;
  return true;
}

/* The bytes of the entries, one at a time. */
struct lp_bytes {
  struct json_iter entries, bytes;
};

/* The next byte of the entries' bytes, or -1 after the last one. */
static int lp_next_byte(struct lp_bytes *s)
{
  struct json_span e, v;
  while(!json_next_element(&s->bytes, &v)) {
    if(!json_next_element(&s->entries, &e))
      return -1;
    json_get(e, "bytes", &v);
    json_iter_init(&s->bytes, v);
  }
  return lp_byte(v);
}

bool resp_lp_check(struct json_span text, struct json_span lps,
                   const char **why)
{
  struct json_iter it;
  struct json_span e;
  struct lp_bytes s;
  const char *p = text.ptr + 1, *end = text.ptr + text.len - 1;
  json_iter_init(&it, lps);
  while(json_next_element(&it, &e))
    if(!lp_entry_ok(e)) {
      *why = "output_text logprob entry is not {token, bytes, logprob, "
             "top_logprobs}";
      return false;
    }
  json_iter_init(&s.entries, lps);
  memset(&s.bytes, 0, sizeof(s.bytes));
  while(p < end) {
    unsigned char u[4];
    size_t raw, n = lp_char(p, end, u, &raw);
    for(size_t i = 0; i < n; i++)
      if(lp_next_byte(&s) != u[i])
        n = 0;
    if(!n) {
      *why = "output_text logprob bytes do not spell the text";
      return false;
    }
    p += raw;
  }
  if(lp_next_byte(&s) >= 0) {
    *why = "output_text logprob bytes do not spell the text";
    return false;
  }
  return true;
}

/* Number of byte values of entry e. */
static size_t lp_nbytes(struct json_span e)
{
  struct json_span bytes, v;
  struct json_iter it;
  size_t n = 0;
  json_get(e, "bytes", &bytes);
  json_iter_init(&it, bytes);
  while(json_next_element(&it, &v))
    n++;
  return n;
}

void resp_lp_cut(struct resp_cursor *c, struct json_iter *first,
                 size_t *count)
{
  size_t need = 0, have = 0;
  struct json_span v;
  *first = c->lp_it;
  *count = 0;
  while(json_next_element(&c->lp_it, &v)) {
    (*count)++;
    need += lp_nbytes(v);
    while(have < need && c->pos < c->end) {
      unsigned char u[4];
      size_t raw;
      have += lp_char(c->pos, c->end, u, &raw);
      c->pos += raw;
    }
    if(have == need && have > 0)
      break;
  }
  if(c->pos >= c->end)
    while(json_next_element(&c->lp_it, &v))
      (*count)++;
}

/* Append {"token":...,"logprob":...} of entry o, and its top_logprobs
 * (when it has them) in the same shape. */
static void lp_put_entry(struct buf *b, struct json_span o, bool top)
{
  struct json_span v;
  struct json_iter it;
  buf_puts(b, "{\"token\":");
  json_get(o, "token", &v);
  sse_put_value(b, v);
  buf_puts(b, ",\"logprob\":");
  json_get(o, "logprob", &v);
  sse_put_value(b, v);
  if(top && json_get(o, "top_logprobs", &v)) {
    bool first = true;
    buf_puts(b, ",\"top_logprobs\":[");
    json_iter_init(&it, v);
    while(json_next_element(&it, &v)) {
      if(!first)
        buf_puts(b, ",");
      first = false;
      lp_put_entry(b, v, false);
    }
    buf_puts(b, "]");
  }
  buf_puts(b, "}");
}

void resp_lp_put(struct buf *b, struct json_iter first, size_t count)
{
  struct json_span v;
  buf_puts(b, "[");
  for(size_t i = 0; i < count && json_next_element(&first, &v); i++) {
    if(i)
      buf_puts(b, ",");
    lp_put_entry(b, v, true);
  }
  buf_puts(b, "]");
}
