/* headers.c - header line helpers (see headers.h). */
#include "headers.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "json_write.h"

int header_status(const char *p, size_t n)
{
  if(n < 5 || memcmp(p, "HTTP/", 5))
    return -1;
  size_t i = 5;
  while(i < n && p[i] != ' ')
    i++;
  while(i < n && p[i] == ' ')
    i++;
  if(i + 3 > n)
    return -1;
  int code = 0;
  for(size_t k = 0; k < 3; k++) {
    if(p[i + k] < '0' || p[i + k] > '9')
      return -1;
    code = code * 10 + (p[i + k] - '0');
  }
  i += 3;
  if(i < n && p[i] >= '0' && p[i] <= '9')
    return -1;  /* a code has exactly three digits */
  return code;
}

const char *header_value(const char *p, size_t n, const char *name,
                         size_t *vlen)
{
  size_t m = strlen(name);
  if(n <= m || strncasecmp(p, name, m))
    return NULL;
  size_t i = m;
  while(i < n && (p[i] == ' ' || p[i] == '\t'))
    i++;
  if(i == n || p[i] != ':')
    return NULL;
  const char *v = p + i + 1, *e = p + n;
  while(v < e && (*v == ' ' || *v == '\t'))
    v++;
  /* A trailing tab stays: "Content-Length: 5\t" is not a length. */
  while(e > v && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
    e--;
  if(vlen)
    *vlen = (size_t)(e - v);
  return v;
}

bool header_is(const char *p, size_t n, const char *name)
{
  return header_value(p, n, name, NULL) != NULL;
}

size_t header_line_len(const char *p, size_t left)
{
  const char *nl = memchr(p, '\n', left);
  return nl ? (size_t)(nl - p) + 1 : left;
}

const char *headers_field(const char *block, size_t n, const char *name,
                          size_t *vlen)
{
  size_t off = 0;
  while(off < n) {
    size_t len = header_line_len(block + off, n - off);
    const char *v = header_value(block + off, len, name, vlen);
    if(v)
      return v;
    off += len;
  }
  return NULL;
}

/* The line ending of a line: "\r\n" or "\n". */
static const char *line_end(const char *p, size_t n)
{
  return n >= 2 && p[n - 2] == '\r' ? "\r\n" : "\n";
}

/* Append "Name: value<eol>" keeping the line's own name spelling, or the
 * block's style when adding one (HTTP/2 and /3 names are lowercase). */
static void put_content_type(struct buf *out, const char *p, size_t n,
                             const char *name_src, bool lower,
                             const char *value)
{
  if(name_src)
    buf_append(out, name_src, strcspn(name_src, ":"));
  else
    buf_puts(out, lower ? "content-type" : "Content-Type");
  buf_puts(out, ": ");
  buf_puts(out, value);
  buf_puts(out, line_end(p, n));
}

/* Call fn for each line of the block; stop early when fn returns true. */
static bool each_line(const char *block, size_t n,
                      bool (*fn)(const char *p, size_t len, void *arg),
                      void *arg)
{
  size_t off = 0;
  while(off < n) {
    size_t len = header_line_len(block + off, n - off);
    if(fn(block + off, len, arg))
      return true;
    off += len;
  }
  return false;
}

bool headers_has(const char *block, size_t n, const char *name)
{
  return headers_field(block, n, name, NULL) != NULL;
}

/* Copy a line unless it is an encoding or length field. */
static bool copy_unless_encoding(const char *p, size_t len, void *out)
{
  if(!header_is(p, len, "Content-Length") &&
     !header_is(p, len, "Content-Encoding"))
    buf_append(out, p, len);
  return false;
}

bool headers_drop_encoding(const char *block, size_t n, struct buf *out)
{
  each_line(block, n, copy_unless_encoding, out);
  return !out->oom;
}

bool headers_rewrite_for_sse(const char *block, size_t n,
                             const char *content_type, struct buf *out)
{
  const char *p = block, *end = block + n;
  bool have_type = false;
  bool lower = n >= 6 && (!memcmp(block, "HTTP/2", 6) || !memcmp(block, "HTTP/3", 6));
  /* the block, the new type and its name: one allocation */
  buf_reserve(out, n + strlen(content_type) + sizeof("Content-Type: \r\n"));
  while(p < end) {
    size_t len = header_line_len(p, (size_t)(end - p));
    bool blank = len <= 2 && (len == 1 || p[0] == '\r');
    if(blank && !have_type)
      put_content_type(out, p, len, NULL, lower, content_type);
    if((p[0] | 0x20) != 'c')  /* not one of the three Content- fields */
      buf_append(out, p, len);
    else if(header_is(p, len, "Content-Type")) {
      put_content_type(out, p, len, p, lower, content_type);
      have_type = true;
    }
    else if(!header_is(p, len, "Content-Length") &&
            !header_is(p, len, "Content-Encoding"))
      buf_append(out, p, len);
    p += len;
  }
  return !out->oom;
}

/* The reason phrase HTTP/1 servers send with a status ("" for others). */
static const char *reason_phrase(int status)
{
  /* phrases in arrays, not pointers: no relocation at load */
  static const struct { int status; char reason[24]; } phrases[] = {
    {200, "OK"}, {400, "Bad Request"}, {401, "Unauthorized"},
    {403, "Forbidden"}, {404, "Not Found"}, {413, "Payload Too Large"},
    {429, "Too Many Requests"}, {500, "Internal Server Error"},
    {502, "Bad Gateway"}, {503, "Service Unavailable"},
  };
  for(size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
    if(phrases[i].status == status)
      return phrases[i].reason;
  return "";
}

/* Append the status line [p, p+n) with status instead of its own: the
 * version as it was; HTTP/2 and /3 lines carry no reason phrase. */
static void put_status_line(struct buf *out, const char *p, size_t n,
                            int status, bool lower)
{
  const char *sp = memchr(p, ' ', n);
  if(header_status(p, n) == status || !sp || status < 100 || status > 999) {
    buf_append(out, p, n);
    return;
  }
  buf_append(out, p, (size_t)(sp + 1 - p));
  json_put_int(out, status);
  buf_puts(out, " ");
  if(!lower)
    buf_puts(out, reason_phrase(status));
  buf_puts(out, line_end(p, n));
}

/* Append "Content-Length: len<eol>" in the block's style. */
static void put_length(struct buf *out, const char *p, size_t n, bool lower,
                       size_t len)
{
  buf_puts(out, lower ? "content-length: " : "Content-Length: ");
  json_put_int(out, (int64_t)len);
  buf_puts(out, line_end(p, n));
}

bool headers_rewrite_for_json(const char *block, size_t n, int status,
                              size_t body_len, struct buf *out)
{
  const char *p = block, *end = block + n;
  bool have_type = false, first = true;
  bool lower = n >= 6 && (!memcmp(block, "HTTP/2", 6) || !memcmp(block, "HTTP/3", 6));
  while(p < end) {
    size_t len = header_line_len(p, (size_t)(end - p));
    bool blank = len <= 2 && (len == 1 || p[0] == '\r');
    if(first)
      put_status_line(out, p, len, status, lower);
    else if(blank) {
      if(!have_type)
        put_content_type(out, p, len, NULL, lower, "application/json");
      put_length(out, p, len, lower, body_len);
      buf_append(out, p, len);
    }
    else if(header_is(p, len, "Content-Type")) {
      put_content_type(out, p, len, p, lower, "application/json");
      have_type = true;
    }
    else if(!header_is(p, len, "Content-Length") &&
            !header_is(p, len, "Content-Encoding") &&
            !header_is(p, len, "Transfer-Encoding"))
      buf_append(out, p, len);
    first = false;
    p += len;
  }
  return !out->oom;
}
