/* sse_piece.c - pieces of strings and copies of values for the SSE
 * encoders (see sse_piece.h). Pieces are word-sized, like the tokens a
 * streaming model sends: at most N characters, ending after a space when
 * one is near. */
#include "sse_piece.h"

#include <stdbool.h>
#include <string.h>

#include "byte_scan.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Value of the 4 hex digits at p, or -1 when they are not all hex. */
static long piece_hex4(const char *p)
{
  long v = 0;
  for(int i = 0; i < 4; i++) {
    char c = p[i];
    int d;
    if(c >= '0' && c <= '9')
      d = c - '0';
    else if(c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if(c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* Bytes of the escape at p (p[0] is a backslash): 2, 6 for \uXXXX, or
 * 12 for a high-surrogate escape followed by a low-surrogate escape. */
static size_t piece_escape_len(const char *p, size_t avail)
{
  if(avail < 6 || p[1] != 'u')
    return avail < 2 ? avail : 2;
  long hi = piece_hex4(p + 2);
  if(hi < 0xD800 || hi > 0xDBFF || avail < 12 || p[6] != '\\' ||
     p[7] != 'u')
    return 6;
  long lo = piece_hex4(p + 8);
  return (lo >= 0xDC00 && lo <= 0xDFFF) ? 12 : 6;
}

size_t piece_char_len(const char *p, const char *end)
{
  size_t avail = (size_t)(end - p);
  unsigned char c = (unsigned char)*p;
  size_t n;
  if(c == '\\')
    return piece_escape_len(p, avail);
  if(c < 0x80)
    n = 1;
  else if((c & 0xE0) == 0xC0)
    n = 2;
  else if((c & 0xF0) == 0xE0)
    n = 3;
  else if((c & 0xF8) == 0xF0)
    n = 4;
  else
    n = 1;  /* not a lead byte: cannot happen in validated text */
  return n < avail ? n : avail;
}

/* Is the character [q, q+len) a place to end a piece after? */
static bool piece_is_space(const char *q, size_t len)
{
  return (len == 1 && q[0] == ' ') ||
         (len == 2 && q[0] == '\\' && q[1] == 'n');
}

/* Are the bytes [p, p+n) all one-byte characters (ASCII, no escape)? */
static bool piece_all_ascii(const char *p, size_t n)
{
  const char *q = bs_skip_ascii(p, p + n);
  for(; q < p + n; q++)
    if((unsigned char)*q >= 0x80 || *q == '\\')
      return false;
  return true;
}

const char *piece_next(const char *p, const char *end, size_t max)
{
  const char *q = p;
  const char *cut = NULL;
  size_t n = 0;
  if(max < 1)
    max = 1;
  /* the common case, a window of max one-byte characters: what the loop
   * below finds, without its per-character steps */
  size_t w = (size_t)(end - p) < max ? (size_t)(end - p) : max;
  if(piece_all_ascii(p, w)) {
    if(p + w == end)
      return end;
    /* the last space, from the back: words are short, a libc call is not */
    for(cut = p + w; cut > p; cut--)
      if(cut[-1] == ' ')
        return cut;
    return p + w;
  }
  while(q < end && n < max) {
    unsigned char c = (unsigned char)*q;
    if(c < 0x80 && c != '\\') {  /* the common case: one ASCII byte */
      q++;
      n++;
      if(c == ' ')
        cut = q;
      continue;
    }
    size_t len = piece_char_len(q, end);
    bool space = piece_is_space(q, len);
    q += len;
    n++;
    if(space)
      cut = q;
  }
  return (q == end || !cut) ? q : cut;
}

/* Past the one-byte characters of [p, end) (ASCII other than '\\'): the
 * first other byte, or end. */
static const char *piece_skip_plain(const char *p, const char *end)
{
#ifdef __SSE2__
  const __m128i bslash = _mm_set1_epi8('\\');
  while(end - p >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    unsigned stop = (unsigned)(_mm_movemask_epi8(v) |  /* bytes >= 0x80 */
                    _mm_movemask_epi8(_mm_cmpeq_epi8(v, bslash)));
    if(stop)
      return p + __builtin_ctz(stop);
    p += 16;
  }
#endif
  p = bs_skip_ascii(p, end);
  while(p < end && (unsigned char)*p < 0x80 && *p != '\\')
    p++;
  return p;
}

const char *piece_next_known(const char *p, const char *end, size_t max,
                             struct piece_plain *k)
{
  if(max < 1)
    max = 1;
  size_t w = (size_t)(end - p) < max ? (size_t)(end - p) : max;
  if(p < k->from || p >= k->to) {  /* not inside what is known: look */
    k->from = p;
    k->to = piece_skip_plain(p, end);
  }
  if((size_t)(k->to - p) < w)  /* an escape or a multi-byte character */
    return piece_next(p, end, max);
  if(p + w == end)
    return end;
  for(const char *cut = p + w; cut > p; cut--)
    if(cut[-1] == ' ')
      return cut;
  return p + w;
}

/* Is c JSON whitespace? */
static bool piece_ws(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void sse_put_value(struct buf *b, struct json_span v)
{
  const char *p = v.ptr, *end = v.ptr + v.len, *run = v.ptr;
  bool in_str = false;
  if(v.type != JSON_OBJECT && v.type != JSON_ARRAY) {
    buf_append(b, v.ptr, v.len);
    return;
  }
  for(; p < end; p++) {
    if(in_str) {
      /* a string's plain bytes: 8 at a time, then to the next '"' or '\\' */
      p = bs_skip_unquoted(p, end);
      while(p < end && *p != '"' && *p != '\\')
        p++;
      if(p >= end)
        break;
      if(*p == '\\')
        p++;
      else if(*p == '"')
        in_str = false;
    }
    else if(*p == '"')
      in_str = true;
    else if(piece_ws(*p)) {
      buf_append(b, run, (size_t)(p - run));
      run = p + 1;
    }
  }
  buf_append(b, run, (size_t)(end - run));
}

void sse_put_uint(struct buf *b, size_t v)
{
  char tmp[24];
  size_t i = sizeof(tmp);
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while(v);
  buf_append(b, tmp + i, sizeof(tmp) - i);
}

/* UTF-8 of code point cp (at most 0x10FFFF) into out; the byte count. */
static size_t piece_put_utf8(unsigned long cp, unsigned char *out)
{
  size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  static const unsigned char lead[5] = {0, 0x00, 0xC0, 0xE0, 0xF0};
  for(size_t i = n - 1; i > 0; i--, cp >>= 6)
    out[i] = (unsigned char)(0x80 | (cp & 0x3F));
  out[0] = (unsigned char)(lead[n] | cp);
  return n;
}

/* Decode the escape [p, p+len) (len from piece_escape_len) into out. */
static size_t piece_escape_decode(const char *p, size_t len,
                                  unsigned char *out)
{
  static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
  long hi, lo;
  if(len < 2)
    return 0;
  if(len == 2) {
    const char *f = memchr(from, p[1], 5);
    out[0] = (unsigned char)(f ? to[f - from] : p[1]);
    return 1;
  }
  hi = piece_hex4(p + 2);
  if(hi < 0)
    hi = 0xFFFD;  /* cannot happen in validated text */
  if(len == 12) {
    lo = piece_hex4(p + 8);
    hi = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
  }
  return piece_put_utf8((unsigned long)hi, out);
}

size_t piece_char_decode(const char *p, const char *end, unsigned char *out,
                         size_t *n)
{
  size_t len = piece_char_len(p, end);
  if(*p == '\\') {
    *n = piece_escape_decode(p, len, out);
    return len;
  }
  memcpy(out, p, len);
  *n = len;
  return len;
}
