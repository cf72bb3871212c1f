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

/* Grow so that `need` more bytes (plus a NUL) fit: doubling, except for
 * a first allocation larger than the minimum, which is exact. */
bool buf_reserve(struct buf *b, size_t need)
{
  if(b->oom)
    return false;
  if(need + 1 <= b->cap - b->len && b->ptr)
    return true;
  if(need >= ((size_t)-1) / 2 - b->len) {
    b->oom = true;
    return false;
  }
  size_t cap = b->cap ? b->cap : 64;
  if(!b->cap && need + 1 > cap)
    cap = need + 1;
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

bool buf_append_grow(struct buf *b, const void *p, size_t n)
{
  if(!buf_reserve(b, n))
    return false;
  if(n)
    memcpy(b->ptr + b->len, p, n);
  b->len += n;
  return true;
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
