/* xfer.h - the core's side of a transfer that a stage or a monitor takes
 * part in (stages see only stage.h).
 *
 * Life cycle, run exactly once per transfer whichever interface drives it:
 *   xfer_begin  when the program starts the transfer (curl_easy_perform,
 *               curl_multi_add_handle): stages decide and may rewrite;
 *   callbacks   libcurl calls the shim's write/header callbacks, which run
 *               the stage chain (stage.h) and end in the client (out.h);
 *   xfer_end    libcurl has finished (perform returned, or
 *               curl_multi_info_read reported DONE);
 *   xfer_finish the handle leaves the transfer (perform returns,
 *               curl_multi_remove_handle): every option the shim changed on
 *               the real handle is restored from the program's record.
 * A retry is a new attempt of the same transfer (xfer_restart): the
 * monitors carry over. A transfer no stage and no monitor takes part in
 * has no ss_xfer at all and costs nothing on the response path. */
#ifndef SS_XFER_H
#define SS_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

#include "handle.h"
#include "monitor.h"
#include "out.h"
#include "real.h"
#include "stage.h"

#define SS_MAX_STAGES 4

/* Options the shim changed on the real handle (restored at finish). */
enum ss_swap {
  SS_SWAP_WRITE = 1u << 0,      /* WRITEFUNCTION/WRITEDATA */
  SS_SWAP_HEADER = 1u << 1,     /* HEADERFUNCTION/HEADERDATA */
  SS_SWAP_BODY = 1u << 2,       /* POSTFIELDS + size */
  SS_SWAP_HTTPHEADER = 1u << 3, /* HTTPHEADER (Content-Length fixed) */
  SS_SWAP_ENCODING = 1u << 4,   /* ACCEPT_ENCODING */
  SS_SWAP_LOWSPEED = 1u << 5,   /* LOW_SPEED_LIMIT, lifted until the
                                   first body byte arrives */
  SS_SWAP_READ = 1u << 6,       /* READ/SEEK FUNCTION/DATA: the upload
                                   read ahead is served from memory */
  SS_SWAP_UPSIZE = 1u << 7,     /* INFILESIZE or POSTFIELDSIZE of an
                                   upload body */
  SS_SWAP_INCLUDE = 1u << 8,    /* HEADER off: the client writer puts the
                                   header lines in the body itself */
  SS_SWAP_FAILONERROR = 1u << 9, /* FAILONERROR off while an error answer
                                   may be a refusal to stream */
  SS_SWAP_DEBUG = 1u << 10      /* VERBOSE on, DEBUGFUNCTION/DATA the
                                   shim's, for the monitors: the request
                                   as sent (debug.c) */
};

struct ss_xfer {
  struct ss_handle *h;
  const struct ss_real *real;
  struct {
    const struct ss_stage *type;
    void *ctx;
  } stage[SS_MAX_STAGES];
  int nstages;
  int cur;                      /* the stage running now (-1: libcurl) */
  unsigned resume_mask;         /* stages to resume after a pause */
  unsigned swapped;             /* enum ss_swap bits */
  char *body;                   /* the shim's request body */
  size_t body_len;
  struct curl_slist *headers;   /* the shim's header list */
  struct buf up;                /* an upload body read ahead */
  struct buf up_app;            /* the program's, when a stage replaced it */
  size_t up_off;                /* next byte of it libcurl reads */
  bool up_complete;             /* all of it; else forward after it */
  struct ss_out out;
  size_t absorbed;              /* prefix of libcurl's next input handled */
  enum ss_out_kind absorbed_kind;
  size_t got_header, got_body;  /* bytes libcurl gave: the debug log */
  bool ended;
  int busy;                     /* calls of the shim's running on it: a
                                   callback, or xfer_end; when the handle
                                   lets go of it meanwhile (a reset from a
                                   callback), out.detached is set and the
                                   last call frees it */
  enum ss_retry retry;          /* this attempt is a retry, this way */
  enum ss_retry retry_wanted;   /* send again, this way (defer.h) */
  CURLcode fail_code;           /* a stage failed the transfer as libcurl
                                   would have, with fail_text */
  CURLMsg msg;                  /* info_read answer when a result changed */
  struct ss_watchers watch;     /* the monitors (none: watch.n == 0) */
  bool starting;                /* the stages are deciding (xfer_start) */
  struct buf early_notes;       /* their notes meanwhile, "action\0why\0"
                                   each: told after the request event */
  bool judged;                  /* judgment holds the attempt's */
  /* Not zeroed for a new record (xfer_record_new): */
  char fail_text[CURL_ERROR_SIZE];  /* set with fail_code */
  max_align_t judgment[];       /* ss_judgment_size bytes: xfer_judgment */
};

/* The memory of a transfer record (xfer_record.c): zeroed up to
 * fail_text; NULL when memory runs out. */
struct ss_xfer *xfer_record_new(void);
void xfer_record_free(struct ss_xfer *x);

/* The program starts a transfer of h: finish one left open, forget the
 * last transfer's view, and start (errno preserved). */
void xfer_begin(struct ss_handle *h);
/* The same for a retry: carry holds the refused attempt's monitors. */
void xfer_begin_attempt(struct ss_handle *h, const struct ss_watchers *carry);
/* libcurl finished with result: what the shim holds goes out (the last
 * resort: pauses are not honoured there); returns the result the program
 * sees. Once ended, only the result is mapped again. The caller must
 * check h->xfer afterwards: a callback may have let go of the transfer. */
CURLcode xfer_end(struct ss_xfer *x, CURLcode result);
/* The same before libcurl reports the end (its result is not known yet:
 * the drive hooks hand over what the shim holds when nothing runs). */
void xfer_hand_over(struct ss_xfer *x);
/* The result the program sees for libcurl's result: a stage's failure
 * (FAILONERROR emulated) or the program's refusal of bytes. */
CURLcode xfer_result(const struct ss_xfer *x, CURLcode result);
/* The program stopped the transfer (removed it before it ended, or
 * aborted it): it ends with nothing more delivered. */
void xfer_cancel(struct ss_xfer *x);
/* How many transfers, in all threads, have started and not ended. */
size_t xfer_open_count(void);
/* Restore the handle and free h's transfer. */
void xfer_finish(struct ss_handle *h);
/* Free h's transfer without touching the handle (it is gone, or libcurl
 * reset it). */
void xfer_discard(struct ss_handle *h);
/* Would curl_easy_setopt(opt) touch an option this transfer changed? Then
 * the hook records it for the program and leaves the real handle alone. */
bool xfer_owns_option(const struct ss_xfer *x, CURLoption opt);

/* Start the retry of h's refused attempt: the attempt is restored and
 * freed (its upload body, read ahead, is kept for the retry; the monitors
 * go on watching) and the transfer starts again with h->retry set to the
 * attempt's intent. */
void xfer_restart(struct ss_handle *h);
/* The notes the stages made while starting, after the request event. */
void xfer_tell_early_notes(struct ss_xfer *x);
/* The program was told the transfer's result (perform returned it,
 * info_read reported it): the monitors' end carries it. */
void xfer_result_seen(struct ss_xfer *x, CURLcode result);

/* Internal to the core (swap.c): set the program's own values of the
 * options named by mask on handle e (the transfer's, or a copy of it);
 * free what the shim owns for them; both, on the transfer's handle. */
void xfer_put_back(const struct ss_xfer *x, CURL *e, unsigned mask);
void xfer_release(struct ss_xfer *x, unsigned mask);
void xfer_restore(struct ss_xfer *x, unsigned mask);
/* The callbacks libcurl calls for a watched transfer (xfer.c). */
size_t ss_write_cb(char *p, size_t size, size_t nmemb, void *ud);
size_t ss_header_cb(char *p, size_t size, size_t nmemb, void *ud);
bool xfer_fix_content_length(struct ss_xfer *x, size_t len);
/* Chain the debug callback, so that the monitors see what libcurl sends
 * while the program's own debug output stays as it was (debug.c). */
bool xfer_watch_debug(struct ss_xfer *x);
/* Send body in place of the upload read ahead (upload.c). */
bool xfer_set_upload(struct ss_xfer *x, char *body, size_t len);
/* Read the upload ahead (upload.c); true when all of it was read. */
bool xfer_read_upload(struct ss_xfer *x, size_t max, const char **p,
                      size_t *n);

#endif
