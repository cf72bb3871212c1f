/* json_write.c - writing JSON text (see json_write.h). */
#include "json_write.h"

#include <string.h>

#include "byte_scan.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The length of the valid UTF-8 character at p (n > 0 bytes left), or 0
 * when the bytes there are not one (bad lead, bad continuation, overlong,
 * surrogate, above U+10FFFF, or cut short). */
static size_t utf8_char(const unsigned char *p, size_t n)
{
  unsigned c = p[0];
  size_t len;
  unsigned min, cp;
  if(c < 0x80)
    return 1;
  if(c >= 0xC2 && c <= 0xDF) { len = 2; min = 0x80; cp = c & 0x1F; }
  else if(c >= 0xE0 && c <= 0xEF) { len = 3; min = 0x800; cp = c & 0x0F; }
  else if(c >= 0xF0 && c <= 0xF4) { len = 4; min = 0x10000; cp = c & 0x07; }
  else
    return 0;
  if(n < len)
    return 0;
  for(size_t i = 1; i < len; i++) {
    if((p[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if(cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

size_t utf8_valid_prefix(const char *p, size_t n)
{
  const unsigned char *u = (const unsigned char *)p;
  size_t i = 0;
  while(i < n) {
    i = (size_t)(bs_find_non_ascii(p + i, p + n) - p);  /* ASCII in runs */
    if(i == n)
      break;
    size_t k = utf8_char(u + i, n - i);
    if(!k)
      break;
    i += k;
  }
  return i;
}

/* The one-letter escapes; the other bytes below 0x20 are "\u00XX". */
static const char escape_letter[0x80] = {
  ['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'
};

/* Write the escape of c (< 0x80), a byte that cannot stand as it is in a
 * JSON string, at w; the end of what was written. */
static inline char *put_escape(char *w, unsigned c)
{
  static const char hex[] = "0123456789abcdef";
  char letter = escape_letter[c & 0x7f];
  *w++ = '\\';
  if(letter) {
    *w++ = letter;
    return w;
  }
  memcpy(w, "u00", 3);
  w[3] = hex[(c >> 4) & 15];
  w[4] = hex[c & 15];
  return w + 5;
}

/* Write the byte at s that stopped a run, the lead of a UTF-8 character
 * (kept when valid, else U+FFFD), at *w; the input bytes it took. */
static size_t put_utf8(char **w, const unsigned char *s,
                       const unsigned char *e)
{
  size_t len = utf8_char(s, (size_t)(e - s));
  if(len)
    memcpy(*w, s, len);
  else
    memcpy(*w, "\\ufffd", 6);
  *w += len ? len : 6;
  return len ? len : 1;
}

/* Input bytes escaped per reservation: the output of each is at most 6
 * bytes ("\u001f", "\ufffd"). */
#define JW_CHUNK 4096
#define JW_SLACK 40  /* 16-byte stores ahead, a character past the chunk */

#ifdef __SSE2__
/* The bytes of the 16 at s that stop a run: '"', '\\', control bytes and
 * (signed: negative) bytes from 0x80 on, one bit each. */
static unsigned stops16(const unsigned char *s)
{
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
  __m128i hit = _mm_or_si128(
    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
    _mm_cmplt_epi8(v, space));
  return (unsigned)_mm_movemask_epi8(hit);
}

static void copy16(char *w, const unsigned char *s)
{
  _mm_storeu_si128((__m128i *)(void *)w,
                   _mm_loadu_si128((const __m128i *)(const void *)s));
}
#endif

/* Escape about k bytes of p (up to 3 more, to end a character that
 * crosses p + k; end is where the string ends) into w, which has room
 * for 6 k + JW_SLACK bytes; *used: the input bytes taken. With SSE2, a
 * block of 16 bytes is tested at once (stops16) while 32 are left: the
 * run before each stop it finds is copied 16 bytes at a time (reading
 * ahead stays inside the 32; the output's excess is written over next). */
static size_t escape_chunk(char *w, const char *p, size_t k, const char *end,
                           size_t *used)
{
  const unsigned char *s = (const unsigned char *)p, *stop = s + k;
  const unsigned char *e = (const unsigned char *)end;
  char *o = w;
#ifdef __SSE2__
  while(stop - s >= 32) {
    unsigned bits = stops16(s), pos = 0;
    while(bits) {
      unsigned i = (unsigned)__builtin_ctz(bits);
      copy16(w, s + pos);  /* the run [pos, i) */
      w += i - pos;
      unsigned c = s[i];
      if(c < 0x80) {
        w = put_escape(w, c);
        pos = i + 1;
      }
      else
        pos = i + (unsigned)put_utf8(&w, s + i, e);
      bits = pos < 16 ? bits & (~0u << pos) : 0;
    }
    if(pos < 16)
      copy16(w, s + pos);  /* the rest of the block */
    w += pos < 16 ? 16 - pos : 0;
    s += pos < 16 ? 16 : pos;
  }
#endif
  while(s < stop) {
    unsigned c = *s;
    if(c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      *w++ = (char)c;
      s++;
    }
    else if(c < 0x80) {
      w = put_escape(w, c);
      s++;
    }
    else
      s += put_utf8(&w, s, e);
  }
  *used = (size_t)(s - (const unsigned char *)p);
  return (size_t)(w - o);
}

void json_put_string(struct buf *b, const char *p, size_t n)
{
  const char *end = p + n;
  buf_append(b, "\"", 1);
  while(p < end) {
    size_t k = (size_t)(end - p) < JW_CHUNK ? (size_t)(end - p) : JW_CHUNK;
    size_t used, room = 6 * k + JW_SLACK;
    if((!b->ptr || room >= b->cap - b->len) && !buf_reserve(b, room))
      return;
    if(b->oom)
      return;
    b->len += escape_chunk(b->ptr + b->len, p, k, end, &used);
    p += used;
  }
  buf_append(b, "\"", 1);
}

void json_put_cstring(struct buf *b, const char *s)
{
  if(s)
    json_put_string(b, s, strlen(s));
  else
    buf_puts(b, "null");
}

/* Written by hand: snprintf costs about ten times as much. */
void json_put_int(struct buf *b, int64_t v)
{
  char num[24], *e = num + sizeof(num), *d = e;
  uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    *--d = (char)('0' + m % 10);
    m /= 10;
  } while(m);
  if(v < 0)
    *--d = '-';
  buf_append(b, d, (size_t)(e - d));
}

void json_put_base64(struct buf *b, const char *p, size_t n)
{
  static const char abc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *u = (const unsigned char *)p;
  char out[4];
  buf_append(b, "\"", 1);
  for(size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)u[i] << 16;
    if(i + 1 < n)
      v |= (unsigned)u[i + 1] << 8;
    if(i + 2 < n)
      v |= u[i + 2];
    out[0] = abc[(v >> 18) & 63];
    out[1] = abc[(v >> 12) & 63];
    out[2] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
    out[3] = i + 2 < n ? abc[v & 63] : '=';
    buf_append(b, out, 4);
  }
  buf_append(b, "\"", 1);
}
