/* sse_encoder.c - the loop behind every encoder's next() (see
 * sse_encoder.h). */
#include "sse_encoder.h"

#include <string.h>

int replay_next_event(void *enc, void *cur, void *saved, size_t size,
                      bool (*done)(const void *enc),
                      bool (*step)(void *enc, struct buf *out),
                      struct buf *out)
{
  size_t start = out->len;
  memcpy(saved, cur, size);
  for(;;) {
    if(done(enc))
      return 0;
    if(step(enc, out))
      break;
  }
  if(out->oom) {
    memcpy(cur, saved, size);
    out->len = start;
    return -1;
  }
  return 1;
}
