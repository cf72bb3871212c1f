/* json_lex.h - the lexical rules of JSON (RFC 8259) that json.c's parser
 * and body_scan.c's fast scanner share, so that both accept exactly the
 * same bytes. Pure; header-only (the scanners call these per token). */
#ifndef SS_JSON_LEX_H
#define SS_JSON_LEX_H

#include <stddef.h>
#include <string.h>

/* p advanced past whitespace, never beyond end. */
static inline const char *json_lex_ws(const char *p, const char *end)
{
  while(p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* The value of hex digit c, or -1. */
static inline int json_lex_hex(unsigned char c)
{
  if(c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One escape at p (just after the backslash): the pointer after it, or
 * NULL. Lone surrogate escapes are valid JSON. */
static inline const char *json_lex_escape(const char *p, const char *end)
{
  if(p >= end)
    return NULL;
  if(*p == 'u') {
    if(end - p < 5)
      return NULL;
    for(int i = 1; i <= 4; i++)
      if(json_lex_hex((unsigned char)p[i]) < 0)
        return NULL;
    return p + 5;
  }
  return memchr("\"\\/bfnrt", *p, 8) ? p + 1 : NULL;
}

/* Length of the valid UTF-8 multi-byte sequence at p (lead byte >= 0x80),
 * or 0: overlongs, UTF-8-encoded surrogates and code points over U+10FFFF
 * are refused. */
static inline size_t json_lex_utf8_len(const unsigned char *p,
                                       const unsigned char *end)
{
  unsigned char c = p[0];
  unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
  unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
  size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  if(c < 0xC2 || c > 0xF4 || (size_t)(end - p) < len || p[1] < lo ||
     p[1] > hi)
    return 0;
  for(size_t i = 2; i < len; i++)
    if(p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return len;
}

/* One or more digits at p: the pointer after them, or NULL. */
static inline const char *json_lex_digits(const char *p, const char *end)
{
  if(p >= end || *p < '0' || *p > '9')
    return NULL;
  while(p < end && *p >= '0' && *p <= '9')
    p++;
  return p;
}

/* -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? at p: the pointer after it, or
 * NULL. What follows is the caller's business. */
static inline const char *json_lex_number(const char *p, const char *end)
{
  if(p < end && *p == '-')
    p++;
  if(p < end && *p == '0')
    p++;
  else if(!(p = json_lex_digits(p, end)))
    return NULL;
  if(p < end && *p == '.' && !(p = json_lex_digits(p + 1, end)))
    return NULL;
  if(p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if(p < end && (*p == '+' || *p == '-'))
      p++;
    if(!(p = json_lex_digits(p, end)))
      return NULL;
  }
  return p;
}

#endif
