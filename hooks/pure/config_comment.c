/* config_comment.c - where a line of the configuration file ends before
 * its trailing comment (see config_int.h).
 *
 * A '#' after a blank starts a comment. Double quotes count only where
 * they open a value: a value that starts with '"' runs to its closing
 * quote, and a '#' inside it is the value's; a section header's quoted
 * name likewise. Anywhere else a quote is a byte like any other: a glob
 * such as *"code":"x* holds any number of them, and the comment after it
 * is still a comment (tracking quotes from the line's start would take an
 * odd count for an open quote and keep the comment in the value). */
#include "config_int.h"

#include <string.h>

static bool blank(char c)
{
  return c == ' ' || c == '\t';
}

/* The first '#' in [p, b) that follows a blank (the line starts at a),
 * else b. */
static const char *hash_after_blank(const char *a, const char *p,
                                    const char *b)
{
  for(; p < b; p++)
    if(*p == '#' && p > a && blank(p[-1]))
      return p;
  return b;
}

/* A section header: its name's quotes (a name holds no '"') keep a '#'. */
static const char *header_end(const char *a, const char *b)
{
  bool quoted = false;
  for(const char *p = a; p < b; p++) {
    if(*p == '"')
      quoted = !quoted;
    else if(*p == '#' && !quoted && p > a && blank(p[-1]))
      return p;
  }
  return b;
}

/* The value opened by the quote at v: the closing quote is the first '"'
 * after it that ends the line or is followed by blanks and a '#' (then
 * the comment's start is returned). NULL when none closes it: the value
 * is read unquoted. */
static const char *quoted_end(const char *v, const char *b)
{
  for(const char *q = v + 1; q < b; q++) {
    if(*q != '"')
      continue;
    const char *r = q + 1;
    while(r < b && blank(*r))
      r++;
    if(r == b || (r > q + 1 && *r == '#'))
      return r;
  }
  return NULL;
}

const char *config_strip_comment(const char *a, const char *b)
{
  if(a >= b)
    return b;
  if(*a == '[')
    return header_end(a, b);
  const char *eq = memchr(a, '=', (size_t)(b - a));
  if(!eq)
    return hash_after_blank(a, a, b);
  const char *v = eq + 1;
  while(v < b && blank(*v))
    v++;
  const char *in_key = hash_after_blank(a, a, v);
  if(in_key < v)
    return in_key;
  const char *end = v < b && *v == '"' ? quoted_end(v, b) : NULL;
  return end ? end : hash_after_blank(a, v, b);
}
