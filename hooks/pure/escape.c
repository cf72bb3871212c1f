/* escape.c - text shown on a terminal or in a log line (see escape.h). */
#include "escape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 when the
 * bytes there are not one (bad lead, truncated, overlong, surrogate, above
 * U+10FFFF) or encode a C1 control (U+0080..U+009F, which some terminals
 * obey as they do ESC sequences). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
  size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
  if(p[0] < 0xc2 || p[0] > 0xf4 || n < len)
    return 0;
  for(size_t i = 1; i < len; i++)
    if((p[i] & 0xc0) != 0x80)
      return 0;
  if((p[0] == 0xc2 && p[1] < 0xa0) ||         /* C1 controls */
     (p[0] == 0xe0 && p[1] < 0xa0) ||         /* overlong */
     (p[0] == 0xed && p[1] >= 0xa0) ||        /* surrogates */
     (p[0] == 0xf0 && p[1] < 0x90) ||         /* overlong */
     (p[0] == 0xf4 && p[1] >= 0x90))          /* above U+10FFFF */
    return 0;
  return len;
}

void escape_shown(char *out, size_t *o, size_t cap, const char *src,
                  size_t n)
{
  const unsigned char *p = (const unsigned char *)src;
  for(size_t i = 0; i < n;) {
    char esc[5];
    const char *s = esc;
    size_t len = 1, step = 1;
    if(p[i] == '\\' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
      esc[0] = '\\';
      esc[1] = p[i] == '\\' ? '\\' : p[i] == '\t' ? 't' : p[i] == '\n' ? 'n'
               : 'r';
      len = 2;
    }
    else if(p[i] < 0x20 || p[i] == 0x7f) {
      snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
      len = 4;
    }
    else if(p[i] < 0x80)
      s = src + i;
    else if((step = len = utf8_len(p + i, n - i)) > 0)
      s = src + i;
    else {
      snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
      len = 4;
      step = 1;
    }
    if(*o + len > cap)
      return;
    memcpy(out + *o, s, len);
    *o += len;
    i += step;
  }
}

bool escape_shown_buf(struct buf *b, const char *src)
{
  size_t n = strlen(src), o = 0, cap = 4 * n + 1;
  char *tmp = malloc(cap);
  if(!tmp)
    return false;
  escape_shown(tmp, &o, cap, src, n);
  bool ok = buf_append(b, tmp, o);
  free(tmp);
  return ok;
}
