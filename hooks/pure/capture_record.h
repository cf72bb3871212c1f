/* capture_record.h - a transfer's capture record, from plain bytes and
 * numbers: what the capture stage (hooks/capture.c) gathered, written as
 * one JSON line (the format is the README's "Capture" and
 * streamshim-capture(5)), secrets redacted on the way out (redact.h).
 * Pure: no libcurl, no core; fuzzed alone (tests/fuzz/fuzz_capture.c). */
#ifndef SS_CAPTURE_RECORD_H
#define SS_CAPTURE_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "redact.h"

#define CAP_ATTEMPTS 4

/* libcurl's CURL_HTTP_VERSION_3, as CURLINFO_HTTP_VERSION reports it (the
 * stage checks the two agree). */
#define CAP_HTTP_VERSION_3 30

/* Why an attempt was made (the stages' enum ss_retry, the same values). */
enum cap_retry { CAP_RETRY_NONE = 0, CAP_RETRY_WITHOUT_STREAM,
                 CAP_RETRY_WITH_STREAM };
/* How the transfer ended for the program (enum ss_end, the same values). */
enum cap_end { CAP_END_SEEN = 0, CAP_END_UNSEEN, CAP_END_CANCELLED };

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

/* libcurl's figures for an attempt (CURLINFO_*). */
struct cap_info {
  long response_code;
  long http_version;               /* CURL_HTTP_VERSION_* */
  int64_t total_us, namelookup_us, connect_us, appconnect_us,
          pretransfer_us, starttransfer_us;
  int64_t size_upload, size_download;
};

struct cap_attempt {
  enum cap_retry retry;
  int64_t start_us, first_byte_us, end_us;  /* -1: not yet */
  char method[32];             /* NUL-terminated */
  struct buf url;
  struct buf sent;             /* the last request header block sent */
  struct cap_body req_body;
  struct cap_body app_body;    /* the program's, when a stage replaced it */
  bool has_app_body;
  struct buf lines;            /* the server's header lines, each after
                                  one byte of its kind (S I F T: status,
                                  informational, final block, trailer) */
  struct cap_body resp_body;
  struct cap_events resp_events;
  struct buf handed_lines;     /* header lines the program was handed */
  struct cap_body handed_body;
  struct cap_events handed_events;
  bool handed_differs;         /* the program got other body bytes */
  uint64_t raw_hdr_hash, handed_hdr_hash;  /* of the lines' bytes */
  size_t raw_hdr_len;          /* the server's header bytes, kinds aside */
  bool decodes;                /* libcurl decodes the answer's coding */
  struct cap_info info;
  struct buf effective_url;    /* CURLINFO_EFFECTIVE_URL */
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
  int result;                  /* a CURLcode */
  enum cap_end how;
  int64_t end_us;
  const char *error;           /* libcurl's text for result (or NULL) */
};

/* The transfer as one JSON line, appended to out (its oom flag set when
 * memory ran out: then the line must be dropped). */
void cap_record(const struct capture *c, struct buf *out);

#endif
