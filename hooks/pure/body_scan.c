/* body_scan.c - one fast pass over a request body (see body_scan.h).
 *
 * The grammar is json.c's, checked byte for byte the same way (the fuzz
 * harness tests/fuzz/fuzz_body_scan.c compares the two); only the reading
 * of string contents differs: 64-byte blocks are read by bit masks (see
 * BS_BLOCKS), and the stops they cannot settle (control bytes, lead bytes
 * of UTF-8 sequences, \u escapes) are handled one at a time. A
 * container's kind at each level is one bit of a JSON_MAX_DEPTH-bit
 * stack, so hostile nesting costs nothing. */
#include "body_scan.h"

#include <stdint.h>
#include <string.h>

#include "cpu_avx2.h"
#include "json_lex.h"

#ifdef __SSE2__
#include <emmintrin.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BS_AVX2 1  /* chosen at run time, when the processor has it */
#include <immintrin.h>
#endif
#endif

/* ---- strings ------------------------------------------------------------ */

/* The bytes that end a run of plain string bytes: '"', '\\', control
 * bytes and non-ASCII bytes (a table: one load a byte). */
#define BS_R8(v) v, v, v, v, v, v, v, v
#define BS_R32(v) BS_R8(v), BS_R8(v), BS_R8(v), BS_R8(v)
static const unsigned char bs_stop_byte[256] = {
  BS_R32(1),                                    /* 0x00-0x1f */
  0, 0, 1, 0, 0, 0, 0, 0, BS_R8(0), BS_R8(0), BS_R8(0),  /* 0x20-0x3f */
  BS_R8(0), BS_R8(0), BS_R8(0), 0, 0, 0, 0, 1, 0, 0, 0,  /* 0x40-0x5f */
  BS_R32(0),                                    /* 0x60-0x7f */
  BS_R32(1), BS_R32(1), BS_R32(1), BS_R32(1)    /* 0x80-0xff */
};

static bool bs_stops(unsigned char c)
{
  return bs_stop_byte[c];
}

/* The escapes that are one letter after the backslash. */
static const unsigned char bs_short_escape[256] = {
  ['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1,
  ['r'] = 1, ['t'] = 1
};

/* The stops among the 64 bytes at p, one bit each, by kind: quotes,
 * backslashes, and the others (control and non-ASCII bytes). With SSE2
 * (x86-64's baseline), and with AVX2 for the processors that have it. */
struct bs_masks {
  uint64_t quote, bslash, other;
  uint64_t n;  /* the letter n: the most common escape, "\n" */
};

#ifdef __SSE2__
/* The three masks of the 16 bytes at p, into bits from shift up. */
static inline void bs_masks16_sse2(const char *p, struct bs_masks *m,
                                   unsigned shift)
{
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
  m->quote |= (uint64_t)(unsigned)_mm_movemask_epi8(
      _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))) << shift;
  m->bslash |= (uint64_t)(unsigned)_mm_movemask_epi8(
      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))) << shift;
  /* signed: below 0x20 is a control byte or (negative) a non-ASCII one */
  m->other |= (uint64_t)(unsigned)_mm_movemask_epi8(
      _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))) << shift;
  m->n |= (uint64_t)(unsigned)_mm_movemask_epi8(
      _mm_cmpeq_epi8(v, _mm_set1_epi8('n'))) << shift;
}

static inline struct bs_masks bs_masks64_sse2(const char *p)
{
  struct bs_masks m = { 0, 0, 0, 0 };
  for(unsigned i = 0; i < 64; i += 16)
    bs_masks16_sse2(p + i, &m, i);
  return m;
}
#endif
#ifdef BS_AVX2
/* The three masks of the 32 bytes at p, into bits from shift up. */
__attribute__((target("avx2"))) static inline void
bs_masks32_avx2(const char *p, struct bs_masks *m, unsigned shift)
{
  __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
  m->quote |= (uint64_t)(unsigned)_mm256_movemask_epi8(
      _mm256_cmpeq_epi8(v, _mm256_set1_epi8('"'))) << shift;
  m->bslash |= (uint64_t)(unsigned)_mm256_movemask_epi8(
      _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'))) << shift;
  m->other |= (uint64_t)(unsigned)_mm256_movemask_epi8(
      _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v)) << shift;
  m->n |= (uint64_t)(unsigned)_mm256_movemask_epi8(
      _mm256_cmpeq_epi8(v, _mm256_set1_epi8('n'))) << shift;
}

__attribute__((target("avx2"))) static inline struct bs_masks
bs_masks64_avx2(const char *p)
{
  struct bs_masks m = { 0, 0, 0, 0 };
  bs_masks32_avx2(p, &m, 0);
  bs_masks32_avx2(p + 32, &m, 32);
  return m;
}
#endif

/* A stop at p that is not a closing quote: the pointer after it, or NULL. */
static const char *bs_stop(const char *p, const char *end, bool *escaped)
{
  unsigned char c = (unsigned char)*p;
  if(c == '\\') {
    *escaped = true;
    return json_lex_escape(p + 1, end);
  }
  if(c < 0x20)
    return NULL;
  size_t len = json_lex_utf8_len((const unsigned char *)p, (const unsigned char *)end);
  return len ? p + len : NULL;
}

#define BS_EVEN UINT64_C(0x5555555555555555)

/* The bytes of a block that a backslash escapes, one bit each, from its
 * backslashes (bslash) and whether its first byte is escaped by a
 * backslash that ends the block before (in, 0 or 1); *out: is the next
 * block's first byte escaped? A run of backslashes escapes the byte
 * after it when it is of odd length: adding a run's first bit carries to
 * the bit after the run, which is odd exactly when run and start have
 * different parities (a run that ends the block: when it starts on an
 * odd bit, the carry out of the block). */
static inline uint64_t bs_escaped(uint64_t bslash, uint64_t in,
                                  uint64_t *out)
{
  uint64_t b = bslash & ~in;  /* an escaped backslash starts no run */
  uint64_t starts = b & ~(b << 1), odd_sum;
  uint64_t from_even = (b + (starts & BS_EVEN)) & ~b & ~BS_EVEN;
  *out = __builtin_add_overflow(b, starts & ~BS_EVEN, &odd_sum);
  return from_even | (odd_sum & ~b & BS_EVEN) | in;
}

/* One block read by its masks, when every stop before its closing quote
 * (if any) is an escape of one letter other than 'u': the pointer after
 * the closing quote (*closed set) or after the block (*in: is the next
 * byte escaped?); *seen gets the backslashes read. NULL when the block
 * needs the byte-by-byte reading. */
static inline const char *bs_block_fast(const char *p, struct bs_masks m,
                                        uint64_t *in, uint64_t *seen,
                                        bool *closed)
{
  uint64_t out, esc = bs_escaped(m.bslash, *in, &out);
  uint64_t close = m.quote & ~esc;
  uint64_t before = close ? (close & -close) - 1 : ~UINT64_C(0);
  /* escaped bytes other than a quote, a backslash or n: letters to check */
  uint64_t letters = esc & ~(m.quote | m.bslash | m.n) & before;
  if(m.other & before)
    return NULL;
  for(; letters; letters &= letters - 1)
    if(!bs_short_escape[(unsigned char)p[__builtin_ctzll(letters)]])
      return NULL;  /* \u, or not an escape */
  *seen |= (m.bslash & before) | *in;
  if(close) {
    *closed = true;
    return p + __builtin_ctzll(close) + 1;
  }
  *in = out;
  return p + 64;
}

/* The whole 64-byte blocks of a string from p (inside it): the pointer
 * after its closing quote (*closed set), NULL when it is not valid, or
 * where fewer than 64 bytes are left. A block whose only stops are
 * one-letter escapes (the usual "\n" and "\"" of a prompt) is read by its
 * masks alone (bs_block_fast), with no branch per escape; any other stop
 * is read byte by byte (bs_stop), from the backslash when the block
 * starts inside an escape. One definition, compiled for each instruction
 * set (the intrinsics of AVX2 inline only into a function for AVX2). */
#define BS_BLOCKS(name, masks64, attr)                                     \
  attr static const char *name(const char *p, const char *end,             \
                               bool *escaped, bool *closed)                \
  {                                                                        \
    uint64_t in = 0, seen = 0;                                             \
    while(end - p >= 64) {                                                 \
      struct bs_masks m = masks64(p);                                      \
      uint64_t bits = m.quote | m.bslash | m.other;                        \
      const char *q;                                                       \
      if(!(bits | in)) {                                                   \
        p += 64;                                                           \
        continue;                                                          \
      }                                                                    \
      if((q = bs_block_fast(p, m, &in, &seen, closed))) {                  \
        p = q;                                                             \
        if(*closed)                                                        \
          break;                                                           \
        continue;                                                          \
      }                                                                    \
      if(in) {  /* the escape begun in the block before */                 \
        in = 0;                                                            \
        p = bs_stop(p - 1, end, escaped);                                  \
      }                                                                    \
      else {                                                               \
        unsigned i = (unsigned)__builtin_ctzll(bits);                      \
        if(p[i] == '"') {                                                  \
          *closed = true;                                                  \
          p += i + 1;                                                      \
          break;                                                           \
        }                                                                  \
        p = bs_stop(p + i, end, escaped);                                  \
      }                                                                    \
      if(!p)                                                               \
        return NULL;                                                       \
    }                                                                      \
    if(seen)                                                               \
      *escaped = true;                                                     \
    return p - in;  /* an escape across the end: from its backslash */     \
  }
#ifdef __SSE2__
BS_BLOCKS(bs_blocks_sse2, bs_masks64_sse2, )
#endif
#ifdef BS_AVX2
BS_BLOCKS(bs_blocks_avx2, bs_masks64_avx2, __attribute__((target("avx2"))))
#endif

/* The block reader for width (body_scan_width): where it stopped, as
 * BS_BLOCKS says; p itself for width 0. */
static const char *bs_blocks(const char *p, const char *end, bool *escaped,
                             bool *closed, int width)
{
#ifdef BS_AVX2
  if(width >= 32)
    return bs_blocks_avx2(p, end, escaped, closed);
#endif
#ifdef __SSE2__
  if(width >= 16)
    return bs_blocks_sse2(p, end, escaped, closed);
#endif
  (void)end;
  (void)escaped;
  (void)closed;
  (void)width;
  return p;
}

/* A string whose opening quote is at p: the pointer after its closing
 * quote, or NULL. *escaped is set when it holds a backslash. Up to 16
 * bytes are read one at a time before the blocks: keys, roles and model
 * names end sooner than a block reader gets going. */
static const char *bs_string(const char *p, const char *end, bool *escaped,
                             int width)
{
  p++;
  for(;;) {
    const char *probe = end - p > 16 ? p + 16 : end;
    while(p < probe && !bs_stops((unsigned char)*p))
      p++;
    if(p == probe) {
      bool closed = false;
      if(p == end)
        return NULL;
      p = bs_blocks(p, end, escaped, &closed, width);
      if(!p || closed)
        return p;
      continue;  /* fewer than 32 bytes left, or width 0 */
    }
    if(*p == '"')
      return p + 1;
    if(!(p = bs_stop(p, end, escaped)))
      return NULL;
  }
}

/* ---- other values ------------------------------------------------------- */

static const char *bs_word(const char *p, const char *end, const char *w,
                           size_t len)
{
  return (size_t)(end - p) >= len && !memcmp(p, w, len) ? p + len : NULL;
}

/* The scalar at p (not a container), its type in *type: the pointer after
 * it, or NULL. */
static const char *bs_scalar(const char *p, const char *end,
                             enum json_type *type, int width)
{
  bool escaped;
  switch(*p) {
  case '"': *type = JSON_STRING; return bs_string(p, end, &escaped, width);
  case 't': *type = JSON_TRUE; return bs_word(p, end, "true", 4);
  case 'f': *type = JSON_FALSE; return bs_word(p, end, "false", 5);
  case 'n': *type = JSON_NULL; return bs_word(p, end, "null", 4);
  default: *type = JSON_NUMBER; return json_lex_number(p, end);
  }
}

/* ---- the object --------------------------------------------------------- */

struct bs_state {
  const char *p, *end;
  unsigned depth;                           /* open containers */
  unsigned char objbits[JSON_MAX_DEPTH / 8];  /* 1: an object at that level */
  struct json_span key;                     /* the top-level member's key */
  bool escaped;                             /* it holds a backslash */
  const char *vstart;                       /* and where its value starts */
  enum json_type vtype;
  int width;                                /* the block reader */
  struct body_members *m;
};

static bool bs_push(struct bs_state *s, bool object)
{
  unsigned i = s->depth, bit = 1u << (i % 8);
  if(i >= JSON_MAX_DEPTH)
    return false;
  s->objbits[i / 8] = (unsigned char)((s->objbits[i / 8] & ~bit) |
                                      (object ? bit : 0));
  s->depth++;
  return true;
}

static bool bs_in_object(const struct bs_state *s)
{
  unsigned i = s->depth - 1;
  return (s->objbits[i / 8] >> (i % 8)) & 1;
}

/* Is the key (quotes included) the name, decoded? */
static bool bs_key_is(const struct bs_state *s, const char *name, size_t len)
{
  if(s->escaped)
    return json_key_is(s->key, name);
  return s->key.len == len + 2 && !memcmp(s->key.ptr + 1, name, len);
}

/* A top-level member's value ended at s->p: note it if it is one of
 * ours. */
static void bs_member(struct bs_state *s)
{
  struct json_span v = { s->vstart, (size_t)(s->p - s->vstart), s->vtype };
  size_t klen = s->key.len - 2;
  if(klen == 5 || s->escaped) {
    if(bs_key_is(s, "model", 5)) {
      s->m->model = v;
      return;
    }
  }
  if(klen == 6 || s->escaped) {
    if(bs_key_is(s, "stream", 6)) {
      s->m->stream = v;
      return;
    }
  }
  if((klen == 14 || s->escaped) && bs_key_is(s, "stream_options", 14))
    s->m->stream_options = v;
}

enum bs_step { BS_VALUE, BS_AFTER, BS_KEY, BS_DONE, BS_FAIL };

/* A value at s->p: a scalar whole, a container opened (an empty one closed
 * at once). */
static enum bs_step bs_value(struct bs_state *s)
{
  enum json_type type;
  s->p = json_lex_ws(s->p, s->end);
  if(s->p >= s->end)
    return BS_FAIL;
  char c = *s->p;
  if(s->depth == 1)
    s->vstart = s->p;
  if(c == '{' || c == '[') {
    type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
    if(s->depth == 1)
      s->vtype = type;
    if(!bs_push(s, c == '{'))
      return BS_FAIL;
    s->p = json_lex_ws(s->p + 1, s->end);
    if(s->p < s->end && *s->p == (c == '{' ? '}' : ']')) {
      s->p++;
      s->depth--;
      return BS_AFTER;
    }
    return c == '{' ? BS_KEY : BS_VALUE;
  }
  s->p = bs_scalar(s->p, s->end, &type, s->width);
  if(s->depth == 1)
    s->vtype = type;
  return s->p ? BS_AFTER : BS_FAIL;
}

/* A member's key and its colon. */
static enum bs_step bs_key(struct bs_state *s)
{
  bool escaped = false;
  const char *k;
  s->p = json_lex_ws(s->p, s->end);
  if(s->p >= s->end || *s->p != '"')
    return BS_FAIL;
  k = s->p;
  if(!(s->p = bs_string(s->p, s->end, &escaped, s->width)))
    return BS_FAIL;
  if(s->depth == 1) {
    s->key.ptr = k;
    s->key.len = (size_t)(s->p - k);
    s->key.type = JSON_STRING;
    s->escaped = escaped;
  }
  s->p = json_lex_ws(s->p, s->end);
  if(s->p >= s->end || *s->p != ':')
    return BS_FAIL;
  s->p++;
  return BS_VALUE;
}

/* After a value: a top-level member's is noted; then a comma or the
 * closing bracket. */
static enum bs_step bs_after(struct bs_state *s)
{
  if(!s->depth)
    return BS_DONE;
  if(s->depth == 1)
    bs_member(s);
  bool obj = bs_in_object(s);
  s->p = json_lex_ws(s->p, s->end);
  if(s->p >= s->end)
    return BS_FAIL;
  if(*s->p == ',') {
    s->p++;
    return obj ? BS_KEY : BS_VALUE;
  }
  if(*s->p != (obj ? '}' : ']'))
    return BS_FAIL;
  s->p++;
  s->depth--;
  return BS_AFTER;
}

int body_scan_width(int most)
{
#ifdef BS_AVX2
  if(most >= 32 && cpu_has_avx2())
    return 32;
#endif
#ifdef __SSE2__
  if(most >= 16)
    return 16;
#endif
  (void)most;
  return 0;
}

bool body_scan(const char *p, size_t n, struct body_members *m)
{
  return body_scan_with(p, n, m, 32);
}

bool body_scan_with(const char *p, size_t n, struct body_members *m,
                    int width)
{
  static const struct json_span none = { NULL, 0, JSON_NONE };
  struct bs_state s;
  enum bs_step st;
  const char *start;

  m->obj = m->model = m->stream = m->stream_options = none;
  if(!p)
    return false;
  s.end = p + n;
  start = json_lex_ws(p, s.end);
  if(start >= s.end || *start != '{')
    return false;  /* not an object, whether valid JSON or not */
  s.m = m;
  s.width = body_scan_width(width);
  memset(s.objbits, 0, sizeof(s.objbits));
  s.depth = 0;
  s.p = start;
  s.escaped = false;
  s.vstart = NULL;
  s.vtype = JSON_NONE;
  s.key = none;
  bs_push(&s, true);
  s.p = json_lex_ws(start + 1, s.end);
  if(s.p < s.end && *s.p == '}') {
    s.p++;
    s.depth = 0;
    st = BS_AFTER;
  }
  else
    st = BS_KEY;
  while(st != BS_DONE && st != BS_FAIL)
    st = st == BS_VALUE ? bs_value(&s) : st == BS_KEY ? bs_key(&s)
                                                      : bs_after(&s);
  if(st == BS_FAIL || json_lex_ws(s.p, s.end) != s.end) {
    m->model = m->stream = m->stream_options = none;
    return false;
  }
  m->obj.ptr = start;
  m->obj.len = (size_t)(s.p - start);
  m->obj.type = JSON_OBJECT;
  return true;
}
