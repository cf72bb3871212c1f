/* buf.h - a growable byte buffer.
 *
 * Appends never fail loudly: on allocation failure the buffer sets `oom`
 * and ignores further appends, so a producer can append many pieces and
 * check once at the end. The owner releases memory with buf_free(). */
#ifndef SS_BUF_H
#define SS_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
  char *ptr;    /* bytes, not NUL-terminated unless buf_cstr() was called */
  size_t len;   /* bytes used */
  size_t cap;   /* bytes allocated */
  bool oom;     /* an append failed; contents are incomplete */
};

void buf_init(struct buf *b);
/* Append n bytes; false (and oom set) when memory runs out. */
bool buf_append(struct buf *b, const void *p, size_t n);
/* Make room for n more bytes at once (one allocation instead of the
 * doublings from 64 bytes); false (and oom set) when memory runs out. */
bool buf_room(struct buf *b, size_t n);
/* Append a NUL-terminated string. */
bool buf_puts(struct buf *b, const char *s);
/* Ensure a NUL after the contents (not counted in len); NULL on OOM. */
const char *buf_cstr(struct buf *b);
/* Forget the contents, keep the memory and clear oom. */
void buf_reset(struct buf *b);
/* Release the memory; the buffer is empty and usable again. */
void buf_free(struct buf *b);

#endif
