/* sse_encoder.h - the interface every SSE encoder (one per API shape)
 * exports as a table, and the loop behind their next().
 *
 * An encoder checks a complete non-streamed answer once (open), then
 * produces the stream's events one at a time (next), each a whole
 * "data: ...\n\n" (with its "event:" line where the API has one). Pure:
 * bytes in, bytes out; the answer must outlive the encoder. Encoders
 * include this header; it includes none of them. */
#ifndef SS_SSE_ENCODER_H
#define SS_SSE_ENCODER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct replay_opts {
  size_t piece_chars;   /* most characters in one text piece (>= 1) */
  bool include_usage;   /* the request asked stream_options.include_usage */
};

struct replay_encoder {
  const char *name;     /* the answer's shape, for logs */
  /* NULL with *why (a static string) when the answer cannot be replayed
   * exactly, or when memory runs out. */
  void *(*open)(const char *p, size_t n, const struct replay_opts *o,
                const char **why);
  /* 1: an event was appended to out; 0: the stream is complete; -1: out
   * of memory (the same event is produced again by the next call). */
  int (*next)(void *e, struct buf *out);
  void (*close)(void *e);
};

/* The loop behind every encoder's next(): step() advances the cursor
 * (size bytes at cur) and returns true once it appended an event to out;
 * done() says the stream is over. Returns 1 (an event), 0 (done) or -1:
 * out of memory, when the cursor is put back from saved (room for size
 * bytes) and the partial event dropped, so that the next call, after
 * buf_reset(), produces the same event. */
int replay_next_event(void *enc, void *cur, void *saved, size_t size,
                      bool (*done)(const void *enc),
                      bool (*step)(void *enc, struct buf *out),
                      struct buf *out);

#endif
