/* byte_scan.h - block-at-a-time scans for the JSON readers' hot loops.
 *
 * Pure, header-only. With SSE2 (x86-64's baseline) 16 bytes are compared
 * at once and the first stop found exactly (one bit a byte, a ctz); the
 * rest, or every byte elsewhere, 8 at a time with the classic
 * "has a zero byte" arithmetic: (x - 0x01..01) & ~x & 0x80..80 is nonzero
 * exactly when some byte of x is 0, and (x - n*0x01..01) & ~x & 0x80..80
 * when some byte is below n (n <= 128). Only "is there one in these 8?"
 * is asked; the byte itself is then found by the callers' byte loops.
 * The bs_find* scans below are exact: 16 bytes at a time with SSE2. */
#ifndef SS_BYTE_SCAN_H
#define SS_BYTE_SCAN_H

#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define BS_ONES UINT64_C(0x0101010101010101)
#define BS_HIGH UINT64_C(0x8080808080808080)

static inline uint64_t bs_load8(const char *p)
{
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* Nonzero when some byte of v equals c (8-byte words). */
static inline uint64_t bs_has(uint64_t v, unsigned char c)
{
  uint64_t x = v ^ (BS_ONES * c);
  return (x - BS_ONES) & ~x & BS_HIGH;
}

#ifdef __SSE2__
/* One bit per byte of the 16 at p that is '"' or '\\' (SSE2, x86-64's
 * baseline). */
static inline unsigned bs_quotes16(const char *p)
{
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
  return (unsigned)_mm_movemask_epi8(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                   _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
}

/* The same, and also the bytes below 0x20 or above 0x7f (a signed
 * comparison: those are the negative ones). */
static inline unsigned bs_stops16(const char *p)
{
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
  __m128i q = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                           _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
  return (unsigned)_mm_movemask_epi8(
      _mm_or_si128(q, _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))));
}
#endif

/* Past the bytes of [p, end) that are not '"' nor '\\', 16 bytes a step
 * with SSE2 (to the byte itself), then 8 at a time: a pointer at most 7
 * bytes before the first such byte (or end). */
static inline const char *bs_skip_unquoted(const char *p, const char *end)
{
#ifdef __SSE2__
  while(end - p >= 16) {
    unsigned m = bs_quotes16(p);
    if(m)
      return p + __builtin_ctz(m);
    p += 16;
  }
#endif
  while(end - p >= 8) {
    uint64_t v = bs_load8(p);
    if(bs_has(v, '"') | bs_has(v, '\\'))
      break;
    p += 8;
  }
  return p;
}

/* Past the bytes of [p, end) that need no check inside a JSON string
 * (printable ASCII other than '"' and '\\'), 16 bytes a step with SSE2,
 * then 8 at a time: a pointer at most 7 bytes before the first other byte
 * (or end). */
static inline const char *bs_skip_plain(const char *p, const char *end)
{
#ifdef __SSE2__
  while(end - p >= 16) {
    unsigned m = bs_stops16(p);
    if(m)
      return p + __builtin_ctz(m);
    p += 16;
  }
#endif
  while(end - p >= 8) {
    uint64_t v = bs_load8(p);
    uint64_t low = (v - BS_ONES * 0x20) & ~v & BS_HIGH;
    if((v & BS_HIGH) | low | bs_has(v, '"') | bs_has(v, '\\'))
      break;
    p += 8;
  }
  return p;
}

/* Past the ASCII bytes of [p, end) other than '\\' (bytes that are one
 * character each in a JSON string's text), 8 at a time: a pointer at
 * most 7 bytes before the first other byte (or end). */
static inline const char *bs_skip_ascii(const char *p, const char *end)
{
  while(end - p >= 8) {
    uint64_t v = bs_load8(p);
    if((v & BS_HIGH) | bs_has(v, '\\'))
      break;
    p += 8;
  }
  return p;
}

/* The first byte of [p, end) equal to one of a, b, c, d (repeat one to
 * look for fewer), else end: 16 bytes at a time with SSE2 (x86-64's
 * baseline), 8 at a time without. Exact, unlike the skips above. */
static inline const char *bs_find4(const char *p, const char *end, char a,
                                   char b, char c, char d)
{
#ifdef __SSE2__
  const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
  const __m128i vc = _mm_set1_epi8(c), vd = _mm_set1_epi8(d);
  while(end - p >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i hit = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
      _mm_or_si128(_mm_cmpeq_epi8(v, vc), _mm_cmpeq_epi8(v, vd)));
    unsigned bits = (unsigned)_mm_movemask_epi8(hit);
    if(bits)
      return p + __builtin_ctz(bits);
    p += 16;
  }
#else
  while(end - p >= 8) {
    uint64_t v = bs_load8(p);
    if(bs_has(v, (unsigned char)a) | bs_has(v, (unsigned char)b) |
       bs_has(v, (unsigned char)c) | bs_has(v, (unsigned char)d))
      break;
    p += 8;
  }
#endif
  while(p < end && *p != a && *p != b && *p != c && *p != d)
    p++;
  return p;
}

/* The first byte of [p, end) that a JSON string cannot hold as it is
 * ('"', '\\', a control byte) or that is not ASCII, else end; 16 bytes at
 * a time with SSE2. */
static inline const char *bs_find_unplain(const char *p, const char *end)
{
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
  /* signed: below 0x20 is a control byte or (negative) a non-ASCII one */
  const __m128i space = _mm_set1_epi8(0x20);
  while(end - p >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i hit = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
      _mm_cmplt_epi8(v, space));
    unsigned bits = (unsigned)_mm_movemask_epi8(hit);
    if(bits)
      return p + __builtin_ctz(bits);
    p += 16;
  }
#else
  p = bs_skip_plain(p, end);
#endif
  while(p < end) {
    unsigned char u = (unsigned char)*p;
    if(u < 0x20 || u >= 0x80 || u == '"' || u == '\\')
      break;
    p++;
  }
  return p;
}

/* The first byte of [p, end) that is not ASCII, else end. */
static inline const char *bs_find_non_ascii(const char *p, const char *end)
{
#ifdef __SSE2__
  while(end - p >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    unsigned bits = (unsigned)_mm_movemask_epi8(v);
    if(bits)
      return p + __builtin_ctz(bits);
    p += 16;
  }
#else
  while(end - p >= 8 && !(bs_load8(p) & BS_HIGH))
    p += 8;
#endif
  while(p < end && !((unsigned char)*p & 0x80))
    p++;
  return p;
}

#endif
