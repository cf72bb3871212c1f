/* xfercheck - the per-transfer bookkeeping and answer checks shared by the
 * multi-interface test clients (multi_many.c, multi_socket.c).
 *
 * Contract: the client owns the struct xfer (zeroed), sets idx, round, kind,
 * tag, body and h, installs on_write/on_header with the xfer as their
 * userdata, keeps in_multi true exactly while h is in its multi handle, and
 * when a round is done sets result and len_at_done, then calls check() once.
 * Failures go to stderr and are counted in `failures`. The globals are
 * defined in xfercheck.c; the client sets them before the transfers start.
 * The pause fields only act when pause_at is non-zero. */
#ifndef XFERCHECK_H
#define XFERCHECK_H

#include <curl/curl.h>
#include <stddef.h>

enum { K_DESTREAM, K_JSON, K_NATIVE };
extern const char *const kind_name[3];

enum { S_IDLE, S_RUNNING, S_DONE, S_ABORTED };

struct xfer {
  int idx, round, kind, victim, reuse;
  int state, in_multi;
  double t_added, t_sent;
  CURL *h;
  struct curl_slist *hdrs;
  char tag[40];
  char body[512];
  /* what the callbacks saw in the current round */
  char *data;
  size_t len, cap;
  size_t *calls;            /* length of every write call */
  int ncalls, ccap;
  int hdr_calls;
  size_t len_at_done;
  int late_calls;           /* callbacks while not in the multi handle */
  CURLcode result;
  /* pausing: refuse write call pause_at (1-based) once with
     CURL_WRITEFUNC_PAUSE, setting paused and want_unpause; 0: never */
  int pause_at, paused, want_unpause;
};

extern const char *url;        /* the chat completions endpoint */
extern const char *dump_dir;   /* --dump DIR, or NULL */
extern int passthrough_only;   /* --passthrough-only */
extern long failures;          /* FAIL lines so far */

/* Print "FAIL transfer ...: <fmt>" for x on stderr and count a failure. */
void fail(const struct xfer *x, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* CLOCK_MONOTONIC in seconds. */
double now_s(void);

/* CURLOPT_WRITEFUNCTION (userdata: the xfer): appends to data, records the
 * call's length in calls; counts late_calls when not in the multi handle. */
size_t on_write(char *p, size_t size, size_t nmemb, void *ud);

/* CURLOPT_HEADERFUNCTION (userdata: the xfer): counts hdr_calls, or
 * late_calls when not in the multi handle. */
size_t on_header(char *p, size_t size, size_t nmemb, void *ud);

/* Forget what the callbacks saw, for a new round (keeps the buffers). */
void reset_sink(struct xfer *x);

/* Check the finished current round of x (result, status, Content-Type,
 * size, then the SSE stream or JSON object); 1 when it passed. */
int check(struct xfer *x);

#endif
