/* logprobs.c - token log probabilities against the text they spell (see
 * logprobs.h): a small byte reader over a token (its bytes array, its
 * string, or a legacy "bytes:" string) and over the escaped text, the
 * check done once when an encoder opens, and the grouping done per event.
 *
 * Entries are never re-serialised: an encoder copies each one whole with
 * sse_put_value, so members this file does not read (logprob,
 * top_logprobs, vendor extras) reach the client exactly as the answer
 * has them; only what decides the spelling is checked. */
#include "logprobs.h"

#include <string.h>

#include "sse_piece.h"

#define LP_END (-1)  /* no byte left */
#define LP_BAD (-2)  /* a bytes element is not an integer 0-255 */

enum lp_mode { LM_ARRAY, LM_TEXT, LM_HEX };

/* Reads the bytes of one token, or of a text, one at a time. */
struct lp_src {
  enum lp_mode mode;
  struct json_iter arr;  /* LM_ARRAY: the "bytes" elements left */
  const char *p, *end;   /* LM_TEXT, LM_HEX: escaped text left */
  unsigned char ch[4];   /* the character being read */
  size_t n, i;           /* its byte count, and the bytes already given */
};

/* A reader over the escaped text [p, end) (both NULL: no text). */
static void lp_src_text(struct lp_src *s, const char *p, const char *end)
{
  memset(s, 0, sizeof(*s));
  s->mode = LM_TEXT;
  s->p = p;
  s->end = end;
}

/* Next decoded byte of the text, or LP_END. */
static int lp_text_byte(struct lp_src *s)
{
  while(s->i == s->n) {
    if(s->p == s->end)
      return LP_END;
    s->p += piece_char_decode(s->p, s->end, s->ch, &s->n);
    s->i = 0;
  }
  return s->ch[s->i++];
}

/* Next element of the bytes array as a byte, LP_END or LP_BAD. */
static int lp_array_byte(struct lp_src *s)
{
  struct json_span v;
  unsigned x = 0;
  if(!json_next_element(&s->arr, &v))
    return LP_END;
  if(v.type != JSON_NUMBER || v.len > 3)
    return LP_BAD;
  for(size_t k = 0; k < v.len; k++) {
    if(v.ptr[k] < '0' || v.ptr[k] > '9')
      return LP_BAD;
    x = x * 10 + (unsigned)(v.ptr[k] - '0');
  }
  return x > 255 ? LP_BAD : (int)x;
}

/* Next byte of a legacy "bytes:" token: \xHH is one byte, anything else
 * is its own UTF-8. */
static int lp_hex_byte(struct lp_src *s)
{
  int c = lp_text_byte(s);
  if(c == '\\') {
    struct lp_src look = *s;
    int x = lp_text_byte(&look);
    int hi = json_hex_digit(lp_text_byte(&look));
    int lo = json_hex_digit(lp_text_byte(&look));
    if(x == 'x' && hi >= 0 && lo >= 0) {
      *s = look;
      return hi * 16 + lo;
    }
  }
  return c;
}

/* Next byte of whatever s reads. */
static int lp_byte(struct lp_src *s)
{
  switch(s->mode) {
  case LM_ARRAY: return lp_array_byte(s);
  case LM_HEX: return lp_hex_byte(s);
  default: return lp_text_byte(s);
  }
}

/* If the text under s starts with the bytes of prefix, move past them
 * and return true; else leave s as it was. */
static bool lp_skip_prefix(struct lp_src *s, const char *prefix)
{
  struct lp_src look = *s;
  for(; *prefix; prefix++)
    if(lp_text_byte(&look) != (unsigned char)*prefix)
      return false;
  *s = look;
  return true;
}

/* Is el a well-formed element of kind: a string (legacy), or an object
 * with a string "token" and a "bytes" array, null or absent (chat)? */
static bool lp_elem_ok(struct json_span el, enum lp_kind kind)
{
  struct json_span v;
  if(kind == LP_LEGACY)
    return el.type == JSON_STRING;
  if(el.type != JSON_OBJECT || !json_get(el, "token", &v) ||
     v.type != JSON_STRING)
    return false;
  json_get(el, "bytes", &v);
  return v.type == JSON_ARRAY || v.type == JSON_NULL || v.type == JSON_NONE;
}

/* A reader over the bytes of element el (checked by lp_elem_ok). */
static void lp_src_elem(struct lp_src *s, struct json_span el,
                        enum lp_kind kind)
{
  struct json_span tok = el, bytes;
  if(kind == LP_CHAT) {
    json_get(el, "token", &tok);
    json_get(el, "bytes", &bytes);
    if(bytes.type == JSON_ARRAY) {
      memset(s, 0, sizeof(*s));
      s->mode = LM_ARRAY;
      json_iter_init(&s->arr, bytes);
      return;
    }
  }
  lp_src_text(s, tok.ptr + 1, tok.ptr + tok.len - 1);
  if(kind == LP_LEGACY && lp_skip_prefix(s, "bytes:"))
    s->mode = LM_HEX;
}

/* How many bytes element el stands for. */
static size_t lp_len(struct json_span el, enum lp_kind kind)
{
  struct lp_src s;
  size_t n = 0;
  lp_src_elem(&s, el, kind);
  while(lp_byte(&s) >= 0)
    n++;
  return n;
}

bool lp_check(struct json_span arr, enum lp_kind kind, const char *p,
              const char *end, const char **why)
{
  struct json_iter it;
  struct json_span el;
  struct lp_src text, tok;
  int b;
  if(arr.type != JSON_ARRAY)
    return (*why = "logprobs tokens are not an array"), false;
  lp_src_text(&text, p, end);
  json_iter_init(&it, arr);
  while(json_next_element(&it, &el)) {
    if(!lp_elem_ok(el, kind))
      return (*why = kind == LP_CHAT
                       ? "a logprobs entry has no string token or bad bytes"
                       : "a logprobs token is not a string"), false;
    lp_src_elem(&tok, el, kind);
    while((b = lp_byte(&tok)) >= 0)
      if(lp_text_byte(&text) != b)
        return (*why = "logprobs tokens do not spell the text"), false;
    if(b == LP_BAD)
      return (*why = "a logprobs entry's bytes are not integers 0-255"),
             false;
  }
  if(lp_text_byte(&text) != LP_END)
    return (*why = "logprobs tokens spell less than the text"), false;
  return true;
}

size_t lp_group(struct json_iter *it, enum lp_kind kind, const char **pos,
                const char *end)
{
  struct json_span el;
  unsigned char tmp[4];
  size_t want = 0, got = 0, taken = 0, n, len;
  const char *q = *pos;
  while(json_next_element(it, &el)) {
    taken++;
    want += lp_len(el, kind);
    while(q != end) {  /* whole characters while they fit in the bytes */
      len = piece_char_decode(q, end, tmp, &n);
      if(got + n > want)
        break;
      got += n;
      q += len;
    }
    if(got == want)
      break;
  }
  *pos = q;
  return taken;
}

bool lp_more(const struct json_iter *it)
{
  struct json_iter look = *it;
  struct json_span el;
  return json_next_element(&look, &el);
}

void lp_put_elems(struct buf *b, struct json_iter *it, size_t n)
{
  struct json_span el;
  for(size_t k = 0; k < n && json_next_element(it, &el); k++) {
    if(k)
      buf_puts(b, ",");
    sse_put_value(b, el);
  }
}
