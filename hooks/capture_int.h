/* capture_int.h - internals shared by the capture's files. */
#ifndef SS_CAPTURE_INT_H
#define SS_CAPTURE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "capture.h"
#include "pure/buf.h"
#include "pure/dechunk.h"
#include "pure/redact.h"

#define CAP_ATTEMPTS 4

/* A body: its first bytes (up to the cap) and its whole size. */
struct cap_body {
  struct buf data;
  size_t size;
};

/* When each event of an event stream ended (a blank line), in µs. */
struct cap_events {
  struct buf us;     /* int64_t offsets */
  bool stream;       /* the body is text/event-stream */
  bool at_line_end;  /* the last byte seen ended a line */
  bool in_event;     /* a line of an event came since the last end */
};

struct cap_attempt {
  enum ss_retry retry;
  int64_t start_us, first_byte_us, end_us;  /* -1: not yet */
  char method[32];
  struct buf url;
  struct buf sent;             /* the last request header block sent */
  bool sent_done;              /* its blank line came */
  bool sent_chunked;           /* its body goes chunked: decode the framing */
  struct dechunk dechunk;
  struct cap_body req_body;
  struct cap_body app_body;    /* the program's, when a stage replaced it */
  bool has_app_body;
  struct buf lines;            /* the server's header lines, each after
                                  one byte of its kind (S I F T) */
  struct cap_body resp_body;
  struct cap_events resp_events;
  struct buf handed_lines;     /* header lines the program was handed */
  struct cap_body handed_body;
  struct cap_events handed_events;
  bool handed_differs;         /* the program got other body bytes */
  const char *raw_piece;       /* the server's last body piece (compared
                                  by address only, once it is gone) */
  size_t raw_piece_len, raw_piece_used;
  uint64_t raw_hdr_hash, handed_hdr_hash;
  size_t raw_hdr_len;          /* the server's header bytes, kinds aside */
  bool decodes;                /* libcurl decodes the answer's coding */
  struct ss_xfer_info info;
  struct buf effective_url;    /* info.effective_url, kept */
};

struct capture {
  unsigned long serial;
  int pid;
  struct timespec start_real;
  int64_t start_us;            /* CLOCK_MONOTONIC at the start */
  int nattempts;
  struct cap_attempt a[CAP_ATTEMPTS];
  struct buf notes;            /* "attempt\taction\twhy\n" lines */
  size_t max_body;
  const struct redact_rules *rules;
  CURLcode result;
  enum ss_end how;
  int64_t end_us;
  const char *error;           /* libcurl's text for result */
};

/* The pieces of a record (capture_json.c). Members end in a comma;
 * cap_close drops the last one and closes the object or array. */
void cap_key(struct buf *o, const char *name);
void cap_str(struct buf *o, const char *name, const char *p, size_t n);
void cap_int(struct buf *o, const char *name, int64_t v);
void cap_close(struct buf *o, char c);
/* Marks o out of memory when part is (a part built apart, then copied in). */
void cap_lost(struct buf *o, const struct buf *part);
/* The length of a line without its line end. */
size_t cap_trim_eol(const char *p, size_t n);
/* A URL, redacted, as a JSON string. */
void cap_url(struct buf *o, const struct capture *c, const char *p, size_t n);
/* A "Name: value" line as ["Name", "value"], the value redacted. */
void cap_field(struct buf *o, const struct capture *c, const char *p,
               size_t n);
/* The next field of a block from *at, continuation lines (obs-fold)
 * joined to it, into line (without its line end); 0 at the block's end. */
size_t cap_next_field(const char *blk, size_t n, size_t *at,
                      struct buf *line);
/* The value of field name among the lines of a block (NULL: none). */
const char *cap_field_value(const char *block, size_t n, const char *name,
                            size_t *vlen);
/* BODY member name: {"size", "text" | "base64", "truncated"}, redacted by
 * the content type its header block [block, block+blen) names; withheld
 * when it cannot be redacted (multipart, or a content coding not decoded:
 * decoded says libcurl decodes it). */
void cap_body(struct buf *o, const struct capture *c, const char *name,
              const struct cap_body *b, const char *block, size_t blen,
              bool decoded);
/* The events' arrival times, for an event stream. */
void cap_events(struct buf *o, const char *name, const struct cap_events *e);

/* µs on CLOCK_MONOTONIC. */
int64_t cap_now_us(void);
/* The transfer as one JSON line (capture_record.c), appended to out. */
void cap_record(const struct capture *c, struct buf *out);
/* Append the line to the capture file (capture_file.c): one write(2). */
void cap_write(const char *path, const struct buf *line);

#endif
