/* json_end.c - the incremental end detector of json.h: where a top-level
 * object or array closes in a byte stream fed in pieces. */
#include "json.h"

#include <string.h>

#include "byte_scan.h"

/* JSON whitespace. */
static bool je_ws(unsigned char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The bytes that change a detector's state between strings. */
static const unsigned char je_token[256] = {
  ['"'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1
};

enum je_state { JE_INIT = 0, JE_BOM, JE_WS, JE_IN, JE_STR, JE_ESC,
                JE_DONE, JE_BAD };

/* Reset a detector; an all-zero struct json_end is also a fresh one. */
void json_end_init(struct json_end *d)
{
  memset(d, 0, sizeof(*d));
}

/* Before the value: a BOM only as the very first bytes, then whitespace,
 * then '{' or '[' (anything else is BAD). */
static void je_lead(struct json_end *d, unsigned char c)
{
  static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };
  if(d->state != JE_WS && d->bom < 3 && c == bom[d->bom]) {
    d->bom++;
    d->state = d->bom == 3 ? JE_WS : JE_BOM;
  }
  else if(d->state == JE_BOM)
    d->state = JE_BAD;
  else if(je_ws(c))
    d->state = JE_WS;
  else if(c == '{' || c == '[') {
    d->depth = 1;
    d->state = JE_IN;
  }
  else
    d->state = JE_BAD;
}

/* Inside the value: follow strings (and escapes) and the nesting depth.
 * A depth that would wrap (4 G open brackets) is BAD. */
static void je_body(struct json_end *d, unsigned char c)
{
  if(d->state == JE_ESC)
    d->state = JE_STR;
  else if(d->state == JE_STR) {
    if(c == '\\')
      d->state = JE_ESC;
    else if(c == '"')
      d->state = JE_IN;
  }
  else if(c == '"')
    d->state = JE_STR;
  else if(c == '{' || c == '[') {
    if(++d->depth == 0)
      d->state = JE_BAD;
  }
  else if((c == '}' || c == ']') && --d->depth == 0)
    d->state = JE_DONE;
}

/* Feed n bytes. *at (may be NULL): DONE - offset just after the value;
 * BAD - offset of the offending byte; MORE - n. Once DONE or BAD, every
 * later call returns the same with *at = 0. */
enum json_end_result json_end_feed(struct json_end *d, const char *p,
                                   size_t n, size_t *at)
{
  size_t ignored;
  if(!at)
    at = &ignored;
  *at = 0;
  if(d->state == JE_DONE)
    return JSON_END_DONE;
  if(d->state == JE_BAD)
    return JSON_END_BAD;
  for(size_t i = 0; i < n; i++) {
    if(d->state == JE_STR) {  /* inside a string: 16 bytes a step */
      i = (size_t)(bs_skip_unquoted(p + i, p + n) - p);
      if(i >= n)
        break;
    }
    else if(d->state == JE_IN) {  /* between tokens: to the next that counts */
      while(i < n && !je_token[(unsigned char)p[i]])
        i++;
      if(i >= n)
        break;
    }
    unsigned char c = (unsigned char)p[i];
    if(d->state < JE_IN)
      je_lead(d, c);
    else
      je_body(d, c);
    if(d->state == JE_DONE) {
      *at = i + 1;
      return JSON_END_DONE;
    }
    if(d->state == JE_BAD) {
      *at = i;
      return JSON_END_BAD;
    }
  }
  *at = n;
  return JSON_END_MORE;
}
