/* buf.h - a growable byte buffer.
 *
 * Appends never fail loudly: on allocation failure the buffer sets `oom`
 * and ignores further appends, so a producer can append many pieces and
 * check once at the end. The owner releases memory with buf_free(). */
#ifndef SS_BUF_H
#define SS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct buf {
  char *ptr;    /* bytes, not NUL-terminated unless buf_cstr() was called */
  size_t len;   /* bytes used */
  size_t cap;   /* bytes allocated */
  bool oom;     /* an append failed; contents are incomplete */
};

void buf_init(struct buf *b);
/* Grow so that n more bytes (plus a NUL) fit, exactly when it must grow
 * from nothing (a size known in advance: no doubling overshoot); false
 * (and oom set) when memory runs out. */
bool buf_reserve(struct buf *b, size_t n);
/* The slow path of buf_append: grow, then append. */
bool buf_append_grow(struct buf *b, const void *p, size_t n);

/* Append n bytes; false (and oom set) when memory runs out. Inline: the
 * encoders append many short pieces per event, most of them literals
 * whose length and copy the compiler then resolves. */
static inline bool buf_append(struct buf *b, const void *p, size_t n)
{
  if(b->ptr && !b->oom && n < b->cap - b->len) {
    if(n)
      memcpy(b->ptr + b->len, p, n);
    b->len += n;
    return true;
  }
  return buf_append_grow(b, p, n);
}

/* Append a NUL-terminated string. */
static inline bool buf_puts(struct buf *b, const char *s)
{
  return buf_append(b, s, strlen(s));
}
/* Ensure a NUL after the contents (not counted in len); NULL on OOM. */
const char *buf_cstr(struct buf *b);
/* Forget the contents, keep the memory and clear oom. */
void buf_reset(struct buf *b);
/* Release the memory; the buffer is empty and usable again. */
void buf_free(struct buf *b);

#endif
