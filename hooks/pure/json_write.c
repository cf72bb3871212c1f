/* json_write.c - writing JSON text (see json_write.h). */
#include "json_write.h"

#include <stdio.h>
#include <string.h>

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
    size_t k = utf8_char(u + i, n - i);
    if(!k)
      break;
    i += k;
  }
  return i;
}

void json_put_string(struct buf *b, const char *p, size_t n)
{
  const unsigned char *u = (const unsigned char *)p;
  size_t i = 0, run = 0;  /* bytes copied as they are, from i - run */
  buf_append(b, "\"", 1);
  while(i < n) {
    unsigned c = u[i];
    size_t k = c < 0x80 ? 1 : utf8_char(u + i, n - i);
    if(k && c >= 0x20 && c != '"' && c != '\\') {
      i += k;
      run += k;
      continue;
    }
    buf_append(b, p + i - run, run);
    run = 0;
    if(!k) {
      buf_puts(b, "\\ufffd");
      i++;
      continue;
    }
    char esc[8];
    switch(c) {
    case '"': buf_puts(b, "\\\""); break;
    case '\\': buf_puts(b, "\\\\"); break;
    case '\n': buf_puts(b, "\\n"); break;
    case '\r': buf_puts(b, "\\r"); break;
    case '\t': buf_puts(b, "\\t"); break;
    default:
      snprintf(esc, sizeof(esc), "\\u%04x", c);
      buf_puts(b, esc);
    }
    i++;
  }
  buf_append(b, p + i - run, run);
  buf_append(b, "\"", 1);
}

void json_put_cstring(struct buf *b, const char *s)
{
  if(s)
    json_put_string(b, s, strlen(s));
  else
    buf_puts(b, "null");
}

void json_put_int(struct buf *b, int64_t v)
{
  char num[24];
  snprintf(num, sizeof(num), "%lld", (long long)v);
  buf_puts(b, num);
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
