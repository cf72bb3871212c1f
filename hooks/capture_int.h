/* capture_int.h - internals shared by the capture's files: the record
 * (hooks/pure/capture_record.h) and what the stage keeps beside it. */
#ifndef SS_CAPTURE_INT_H
#define SS_CAPTURE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "pure/buf.h"
#include "pure/capture_record.h"
#include "pure/dechunk.h"

/* What the stage follows of an attempt beside its record. */
struct cap_live {
  bool sent_done;              /* the request block's blank line came */
  bool sent_chunked;           /* its body goes chunked: decode the framing */
  struct dechunk dechunk;
  const char *raw_piece;       /* the server's last body piece (compared
                                  by address only, once it is gone) */
  size_t raw_piece_len, raw_piece_used;
};

/* A transfer's capture: its record, and the stage's state per attempt. */
struct cap_stage {
  struct capture rec;
  struct cap_live live[CAP_ATTEMPTS];
};

/* µs on CLOCK_MONOTONIC. */
int64_t cap_now_us(void);
/* Append the line to the capture file (capture_file.c): one write(2). */
void cap_write(const char *path, const struct buf *line);

#endif
