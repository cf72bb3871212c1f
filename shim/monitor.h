/* monitor.h - the core's calls to the monitoring stages (stage.h): who
 * watches a transfer, and each event of it. Callers test w->n first, so
 * that a transfer nobody watches costs one comparison. x is passed
 * through to the monitors only. */
#ifndef SS_MONITOR_H
#define SS_MONITOR_H

#include <stdbool.h>

#include "stage.h"

#define SS_MAX_MONITORS 4

/* Where the server's header lines are, for typing them (enum
 * ss_header_kind): in a 1xx block, in a response's block, or after it. */
enum ss_hdr_pos { SS_HDR_POS_NONE = 0, SS_HDR_POS_INFO, SS_HDR_POS_FINAL,
                  SS_HDR_POS_AFTER };

/* The monitors watching a transfer; they stay across its attempts. */
struct ss_watchers {
  struct {
    const struct ss_monitor *type;
    void *ctx;
  } m[SS_MAX_MONITORS];
  int n;
  unsigned long serial;         /* the transfer's number (xfer_serial) */
  int attempt;                  /* the attempt running (1 for the first) */
  enum ss_hdr_pos hdr_pos;
  bool result_known;            /* result is libcurl's or the program's */
  bool seen;                    /* the program was told it */
  bool finished;                /* libcurl said nothing runs any more (a
                                   multi handle's count reached 0) */
  CURLcode result;
};

/* Ask the monitors whether they watch x (its first attempt), or carry
 * those of the refused attempt over (carry: a retry). Numbers it. */
void monitor_open(struct ss_watchers *w, struct ss_xfer *x,
                  const struct ss_watchers *carry);
/* An attempt starts: its request is as the stages left it. */
void monitor_request(struct ss_watchers *w, struct ss_xfer *x);
/* A header line from the server, typed by the block it is in. */
void monitor_header(struct ss_watchers *w, struct ss_xfer *x, const char *p,
                    size_t n);
/* Body bytes from the server (SS_EV_BODY) or to the program. */
void monitor_bytes(struct ss_watchers *w, struct ss_xfer *x,
                   enum ss_event_kind kind, const char *p, size_t n);
/* A stage's note (xfer_note). */
void monitor_note(struct ss_watchers *w, struct ss_xfer *x,
                  const char *action, const char *why);
/* The transfer is over: the end event, then the monitors let go. */
void monitor_close(struct ss_watchers *w, struct ss_xfer *x);
/* The retry's monitors let go without an end (memory ran out). */
void monitor_drop(const struct ss_watchers *w);

#endif
