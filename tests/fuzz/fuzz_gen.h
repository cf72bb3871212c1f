/* fuzz_gen.h - building valid answers from fuzz bytes, for the
 * round-trip harnesses (fuzz_trip_chat.c, fuzz_trip_completions.c):
 * a reader of the input's bytes, and texts with the tokens that spell
 * them (logprobs). Include after fuzz_util.h.
 *
 * A text is up to 31 characters drawn from a table that mixes plain
 * ASCII, the escapes JSON has (\n \t \" \\ \/ \u0001), characters of
 * 2, 3 and 4 UTF-8 bytes raw and escaped (a surrogate pair for the 4).
 * Its tokens cut the decoded bytes anywhere, also inside a character
 * (an emoji over two tokens), as the APIs' tokens do. */
#ifndef SS_FUZZ_GEN_H
#define SS_FUZZ_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "sse_piece.h"

/* The input bytes left; past the end every byte is 0. */
struct gen {
  const uint8_t *p, *end;
};

static inline unsigned gen_byte(struct gen *g)
{
  return g->p < g->end ? *g->p++ : 0;
}

/* A number below n (n > 0). */
static inline unsigned gen_pick(struct gen *g, unsigned n)
{
  return gen_byte(g) % n;
}

#define GEN_CHARS 31
#define GEN_BYTES (GEN_CHARS * 4)

struct gen_text {
  char esc[GEN_CHARS * 12 + 1];   /* the text as it stands in JSON */
  size_t nesc;
  unsigned char dec[GEN_BYTES];   /* the text decoded */
  size_t ndec;
  size_t esc_at[GEN_BYTES + 1];   /* offset in esc of each decoded
                                     offset; SIZE_MAX inside a character */
  size_t cut[GEN_BYTES + 1];      /* token ends, increasing; the last is
                                     ndec (none for an empty text) */
  size_t ncut;
};

/* The characters: escaped form, decoded bytes. */
static const char *const gen_chars[16][2] = {
  {"a", "a"}, {"b", "b"}, {" ", " "}, {"x", "x"},
  {"\\n", "\n"}, {"\\t", "\t"}, {"\\\"", "\""}, {"\\\\", "\\"},
  {"\\/", "/"}, {"\\u0001", "\x01"}, {"\xc3\xa9", "\xc3\xa9"},
  {"\\u00e9", "\xc3\xa9"}, {"\xe2\x82\xac", "\xe2\x82\xac"},
  {"\\u20AC", "\xe2\x82\xac"}, {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
  {"\\ud83d\\ude00", "\xf0\x9f\x98\x80"},
};

/* Add a token end at decoded offset at, when it is past the last one. */
static inline void gen_cut(struct gen_text *t, size_t at)
{
  if(at > (t->ncut ? t->cut[t->ncut - 1] : 0))
    t->cut[t->ncut++] = at;
}

/* A text from the input: a length byte, then a byte per character (its
 * low 4 bits the character, the next 2 where a token ends: nowhere, at
 * its end, 1 or 2 bytes before its end). */
static inline void gen_text(struct gen *g, struct gen_text *t)
{
  size_t n = gen_pick(g, GEN_CHARS + 1);
  memset(t, 0, sizeof(*t));
  for(size_t i = 0; i < n; i++) {
    unsigned b = gen_byte(g);
    const char *esc = gen_chars[b & 15][0], *dec = gen_chars[b & 15][1];
    size_t dn = strlen(dec), back = (b >> 4) & 3;
    for(size_t k = 1; k < dn; k++)
      t->esc_at[t->ndec + k] = SIZE_MAX;
    memcpy(t->dec + t->ndec, dec, dn);
    t->ndec += dn;
    memcpy(t->esc + t->nesc, esc, strlen(esc));
    t->nesc += strlen(esc);
    t->esc_at[t->ndec] = t->nesc;
    if(back && back - 1 < t->ndec)
      gen_cut(t, t->ndec - (back - 1));
  }
  gen_cut(t, t->ndec);
}

/* Are decoded offsets a and z both on character boundaries? */
static inline int gen_whole(const struct gen_text *t, size_t a, size_t z)
{
  return t->esc_at[a] != SIZE_MAX && t->esc_at[z] != SIZE_MAX;
}

/* Append the text as a JSON string. */
static inline void gen_put_text(struct buf *b, const struct gen_text *t)
{
  buf_puts(b, "\"");
  buf_append(b, t->esc, t->nesc);
  buf_puts(b, "\"");
}

/* Append the chat logprobs entry of token k (decoded [a, z)): with its
 * escaped text as token when whole and style says so (bytes then null,
 * absent or the array), else a bytes array. */
static inline void gen_chat_entry(struct buf *b, const struct gen_text *t,
                                  size_t k, unsigned style)
{
  size_t a = k ? t->cut[k - 1] : 0, z = t->cut[k];
  bool text = gen_whole(t, a, z) && (style & 3);
  buf_puts(b, "{\"token\":\"");
  if(text)
    buf_append(b, t->esc + t->esc_at[a], t->esc_at[z] - t->esc_at[a]);
  else
    buf_puts(b, "?");
  buf_puts(b, "\",\"logprob\":-0.5");
  if(!text || (style & 3) == 3) {
    buf_puts(b, ",\"bytes\":[");
    for(size_t i = a; i < z; i++) {
      if(i > a)
        buf_puts(b, ",");
      sse_put_uint(b, t->dec[i]);
    }
    buf_puts(b, "]");
  }
  else if((style & 3) == 1)
    buf_puts(b, ",\"bytes\":null");
  buf_puts(b, (style & 4) ? ",\"top_logprobs\":[{\"token\":\"z\","
                            "\"logprob\":-2,\"bytes\":[122]}]}"
                          : ",\"top_logprobs\":[]}");
}

/* Append the legacy token k: its escaped text when whole and style says
 * so, else "bytes:" with \xHH for each byte but lowercase letters. */
static inline void gen_legacy_token(struct buf *b, const struct gen_text *t,
                                    size_t k, unsigned style)
{
  static const char hex[] = "0123456789abcdef";
  size_t a = k ? t->cut[k - 1] : 0, z = t->cut[k];
  buf_puts(b, "\"");
  if(gen_whole(t, a, z) && (style & 1))
    buf_append(b, t->esc + t->esc_at[a], t->esc_at[z] - t->esc_at[a]);
  else {
    buf_puts(b, "bytes:");
    for(size_t i = a; i < z; i++) {
      unsigned v = t->dec[i];
      char x[6] = {'\\', '\\', 'x', hex[v >> 4], hex[v & 15], 0};
      char one[2] = {(char)v, 0};
      buf_puts(b, v >= 'a' && v <= 'z' ? one : x);
    }
  }
  buf_puts(b, "\"");
}

#endif
