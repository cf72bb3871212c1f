/* dechunk.h - the payload of an HTTP/1.1 chunked body, incrementally.
 * Pure.
 *
 * libcurl's debug stream shows a chunked upload as it goes on the wire,
 * framing included ("e\r\n...\r\n0\r\n\r\n"); the capture records the
 * body the program sent, so it feeds those bytes through here. Tolerant:
 * a malformed frame stops the decoding (dechunk_feed then passes nothing
 * more and says so). */
#ifndef SS_DECHUNK_H
#define SS_DECHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dechunk {
  int state;
  uint64_t left;   /* payload bytes left in the chunk */
  bool bad;        /* the framing broke: nothing more is decoded */
};

void dechunk_init(struct dechunk *d);
/* Feed n framed bytes; out(arg, p, len) gets each run of payload. */
void dechunk_feed(struct dechunk *d, const char *p, size_t n,
                  void (*out)(void *arg, const char *p, size_t len),
                  void *arg);

#endif
