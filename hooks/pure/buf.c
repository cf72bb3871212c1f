/* buf.c - a growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
  b->ptr = NULL;
  b->len = b->cap = 0;
  b->oom = false;
}

/* Grow so that `need` more bytes (plus a NUL) fit. */
static bool buf_reserve(struct buf *b, size_t need)
{
  if(b->oom)
    return false;
  if(need + 1 <= b->cap - b->len && b->ptr)
    return true;
  size_t cap = b->cap ? b->cap : 64;
  while(cap - b->len < need + 1) {
    if(cap > ((size_t)-1) / 2) {
      b->oom = true;
      return false;
    }
    cap *= 2;
  }
  char *p = realloc(b->ptr, cap);
  if(!p) {
    b->oom = true;
    return false;
  }
  b->ptr = p;
  b->cap = cap;
  return true;
}

bool buf_room(struct buf *b, size_t n)
{
  return buf_reserve(b, n);
}

bool buf_append(struct buf *b, const void *p, size_t n)
{
  if(!buf_reserve(b, n))
    return false;
  if(n)
    memcpy(b->ptr + b->len, p, n);
  b->len += n;
  return true;
}

bool buf_puts(struct buf *b, const char *s)
{
  return buf_append(b, s, strlen(s));
}

const char *buf_cstr(struct buf *b)
{
  if(!buf_reserve(b, 0))
    return NULL;
  b->ptr[b->len] = '\0';
  return b->ptr;
}

void buf_reset(struct buf *b)
{
  b->len = 0;
  b->oom = false;
}

void buf_free(struct buf *b)
{
  free(b->ptr);
  buf_init(b);
}
