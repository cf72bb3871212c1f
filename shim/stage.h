/* stage.h - the stage API: everything a stage may use of the core.
 *
 * Modelled on curl's client writers (lib/sendf.h, lib/cw-out.c): a stage
 * type is a const table of callbacks; at the start of each transfer every
 * type is asked whether it takes part, and those that do are chained in
 * order, with the program's own callbacks (the "client", out.h) at the end.
 * There are three kinds:
 *
 * - request stages rewrite the request at start (xfer_set_body, ...);
 * - transforming stages see each header line and body byte libcurl
 *   delivers and pass it on (xfer_pass_*), hold it or replace it; a stage
 *   may be both (de-streaming rewrites the request, then the answer);
 * - monitoring stages (struct ss_monitor) are told every event of every
 *   transfer they watch, in every attempt, and the end with the result the
 *   program saw. They get const bytes and return nothing: the core passes
 *   the bytes on, so a monitor cannot alter a transfer by construction.
 *
 * A transfer stays opaque: stages ask the core for the request view
 * (xfer_request) and transfer info (xfer_info) and never call libcurl.
 * Back-pressure: passing something on returns SS_PAUSED when the program
 * paused (CURL_WRITEFUNC_PAUSE). The piece was taken; the stage stops
 * producing and is asked to resume() once libcurl unpauses. Stages never
 * block and never call the program themselves. */
#ifndef SS_STAGE_H
#define SS_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

struct ss_xfer;

enum ss_flow {
  SS_OK = 0,      /* go on */
  SS_PAUSED = 1,  /* the program paused: stop and wait for resume() */
  SS_FAILED = 2   /* the program refused the bytes: the transfer fails */
};

/* What a retry of a refused attempt means for the request. */
enum ss_retry {
  SS_RETRY_NONE = 0,       /* not a retry */
  SS_RETRY_WITHOUT_STREAM, /* the server refused to stream */
  SS_RETRY_WITH_STREAM     /* the server answers streaming only */
};

/* Request and transforming stages. */
struct ss_stage {
  const char *name;
  /* Take part in this transfer? Return a context (freed by finish), or
   * NULL to stay out. May rewrite the request and ask for the response. */
  void *(*start)(struct ss_xfer *x);
  /* One header line as libcurl delivered it (status line, fields, the
   * empty line ending a block). NULL: passed on. */
  enum ss_flow (*header)(struct ss_xfer *x, void *ctx, const char *p,
                         size_t n);
  /* Body bytes (already decoded). NULL: passed on. */
  enum ss_flow (*body)(struct ss_xfer *x, void *ctx, const char *p, size_t n);
  /* Continue producing after a pause; NULL if the stage never pauses. */
  enum ss_flow (*resume)(struct ss_xfer *x, void *ctx);
  /* libcurl finished the attempt with *result: flush what is held; may
   * change *result. Runs outside libcurl's callbacks, so pauses cannot be
   * honoured there (pieces are delivered regardless). */
  void (*end)(struct ss_xfer *x, void *ctx, CURLcode *result);
  /* The attempt is over: free ctx. */
  void (*finish)(struct ss_xfer *x, void *ctx);
};

/* Monitoring stages. */
enum ss_event_kind {
  SS_EV_REQUEST,        /* an attempt starts (ev->attempt): the request as
                           the stages left it, see xfer_request */
  SS_EV_HEADER,         /* a header line from the server (ev->header) */
  SS_EV_BODY,           /* body bytes from the server, as libcurl decoded
                           them */
  SS_EV_HANDED_HEADER,  /* a header line handed to the program */
  SS_EV_HANDED_BODY,    /* body bytes handed to the program */
  SS_EV_SENT_HEADER,    /* the request's header block as libcurl sent it
                           (its debug callback's CURLINFO_HEADER_OUT) */
  SS_EV_SENT_BODY,      /* request body bytes as libcurl sent them */
  SS_EV_NOTE,           /* a stage says what it did: ev->p the action
                           (NUL-terminated), ev->why why */
  SS_EV_END             /* the transfer is over (once, after its last
                           attempt): ev->result, ev->seen */
};

/* What a header line from the server is. */
enum ss_header_kind {
  SS_HDR_STATUS,         /* a status line, starting a block */
  SS_HDR_INFORMATIONAL,  /* a field or the end of a 1xx block */
  SS_HDR_FINAL,          /* a field or the end of a response's block
                            (each of a redirect chain) */
  SS_HDR_TRAILER         /* a line after that block ended */
};

/* How a transfer ended, for SS_EV_END. */
enum ss_end {
  SS_END_SEEN,      /* the program was told result (perform returned it,
                       curl_multi_info_read reported it) */
  SS_END_UNSEEN,    /* libcurl finished with result, but the program let
                       go of the transfer before reading it */
  SS_END_CANCELLED  /* the program stopped it before libcurl finished
                       (removed, reset or cleaned up the handle); result
                       is CURLE_OK and means nothing */
};

struct ss_event {
  enum ss_event_kind kind;
  int attempt;                 /* 1, then 2 for a retry, ... */
  enum ss_header_kind header;  /* SS_EV_HEADER */
  const char *p;               /* the bytes, for headers and bodies */
  size_t n;
  const char *why;             /* SS_EV_NOTE */
  CURLcode result;             /* SS_EV_END: the result (see how) */
  enum ss_end how;             /* SS_EV_END */
};

struct ss_monitor {
  const char *name;
  /* Watch this transfer? Called once per transfer, before its first
   * attempt; return a context, or NULL. Must be cheap when the monitor
   * is off: it runs for every transfer of the process. */
  void *(*start)(struct ss_xfer *x);
  /* One event. May call xfer_request and xfer_info; must not keep p. */
  void (*event)(struct ss_xfer *x, void *ctx, const struct ss_event *ev);
  /* After SS_EV_END: free ctx. */
  void (*finish)(void *ctx);
};

/* The stage and monitor types, in chain order (hooks/stages.c). */
extern const struct ss_stage *const ss_stages[];
extern const struct ss_monitor *const ss_monitors[];

/* Could no stage, and no monitor, take part in any transfer, the
 * process's settings being what they are (mode off, capture off)? Then
 * the core sets nothing up for a transfer at all. Settings are loaded
 * once, so the answer never changes. */
bool ss_stages_idle(void);
bool ss_monitors_idle(void);
/* Judge x's request, once per attempt and before any stage starts: could
 * a stage take part? False: the core starts none (and, when no monitor
 * watches either, sets nothing up for it). The judgment is kept in the
 * attempt's room (xfer_judgment), of ss_judgment_size bytes, where every
 * stage's start reads it. */
bool ss_stages_judge(struct ss_xfer *x);
extern const size_t ss_judgment_size;
/* Could a stage take part in a transfer whose request has this method
 * (the word libcurl sends)? Asked before anything is set up: false lets
 * the core skip a transfer no monitor watches without judging it. */
bool ss_stages_may_take(const char *method);
/* Called by the core when the program is out of every libcurl callback
 * (after curl_easy_perform returns, after a multi drive call): work the
 * stages keep away from callbacks (auto mode writes what it learned to
 * its cache file). Cheap when there is nothing to do. */
void ss_stages_quiet(void);

/* ---- What the core tells a stage ---- */

/* The request of the current attempt. Pointers stay valid for the
 * attempt, unless the stage changes what they point at. */
struct ss_request {
  const char *method;              /* the method word libcurl sends */
  const char *url;                 /* as set; NULL when given as CURLU */
  const struct curl_slist *headers;  /* the program's header list */
  const char *body;                /* the body as sent, when it is in
                                      memory (POSTFIELDS, or an upload read
                                      ahead); else NULL */
  size_t body_len;
  const char *app_body;            /* the program's own body when a stage
                                      replaced it; else NULL */
  size_t app_body_len;
  bool reads_body;                 /* the body comes from a read callback */
  bool content_decoding;           /* libcurl may decode answers */
  bool decodes_answer;             /* and will (Accept-Encoding is set, by
                                      the program or the shim) */
  enum ss_retry retry;             /* this attempt is a retry, this way */
  int attempt;                     /* 1 for the first */
};
void xfer_request(const struct ss_xfer *x, struct ss_request *r);

/* A number unique to this transfer in the process (kept by its retry). */
unsigned long xfer_serial(const struct ss_xfer *x);
/* The attempt running: 1 for the first, 2 for a retry. */
int xfer_attempt(const struct ss_xfer *x);

/* What libcurl reports of the attempt so far. */
struct ss_xfer_info {
  long response_code;
  long http_version;               /* CURL_HTTP_VERSION_* */
  const char *effective_url;       /* libcurl's; NULL if unknown */
  /* durations from the attempt's start, in µs, as libcurl measures them */
  curl_off_t total_us, namelookup_us, connect_us, appconnect_us,
             pretransfer_us, starttransfer_us;
  curl_off_t size_upload, size_download;
};
void xfer_info(const struct ss_xfer *x, struct ss_xfer_info *i);
/* libcurl's text for a result code (curl_easy_strerror). */
const char *xfer_result_text(const struct ss_xfer *x, CURLcode code);

/* The room where the judgment of x's attempt is kept (ss_stages_judge):
 * ss_judgment_size bytes, aligned for any type, valid until the attempt
 * is over. *first is true on the attempt's first call: the room holds
 * nothing yet (the caller judges into it). */
void *xfer_judgment(struct ss_xfer *x, bool *first);

/* ---- Request stages, at start ---- */

/* The request body: POSTFIELDS, or the program's upload read now in full
 * (up to max bytes) and served to libcurl from memory. NULL on success,
 * else why not (a static string). Once read ahead, the upload is served
 * from memory for the whole transfer, whether the stage takes part or
 * not: what was read is sent first, unchanged, then reading continues
 * from the program. */
const char *xfer_request_body(struct ss_xfer *x, size_t max,
                              const char **p, size_t *n);
/* Send body (malloc'd; the core owns it from now on, even on failure)
 * instead of the program's, with the Content-Length it sends fixed.
 * False on failure (the core then restores anything already changed). */
bool xfer_set_body(struct ss_xfer *x, char *body, size_t len);
/* Make libcurl decode the answer (Accept-Encoding) when the program sent
 * its own Accept-Encoding header and would get the encoded bytes. */
bool xfer_decode_answer(struct ss_xfer *x);
/* Did the shim make libcurl decode (header fields about the encoding no
 * longer describe the bytes)? */
bool xfer_shim_decodes(const struct ss_xfer *x);
/* Lift the program's CURLOPT_LOW_SPEED_LIMIT while the answer is awaited
 * (a de-streamed answer is silent until it is whole); the core puts it
 * back at the first body byte, so a trickling answer still times out. */
bool xfer_lift_low_speed(struct ss_xfer *x);
/* Route the response through the stage chain (a stage with header or
 * body callbacks asks for it; the core does it for monitors). */
bool xfer_watch_response(struct ss_xfer *x);

/* ---- FAILONERROR: libcurl's error semantics, kept by the core ---- */

/* Let libcurl apply the program's CURLOPT_FAILONERROR (on) or not (off:
 * an error answer's body must be seen). Nothing to do (true) when the
 * program did not ask for it. */
bool xfer_fail_on_error(struct ss_xfer *x, bool on);
/* Would libcurl fail an answer of this status right after its header
 * block for the program's FAILONERROR (http.c http_should_fail: not
 * while it may authenticate after a 401 or 407)? */
bool xfer_fails_on_status(const struct ss_xfer *x, int status);
/* Fail the transfer as libcurl fails it for FAILONERROR: result
 * CURLE_HTTP_RETURNED_ERROR, "The requested URL returned error: N" in the
 * error buffer, no body. Returns SS_FAILED. */
enum ss_flow xfer_fail_status(struct ss_xfer *x, int status);
/* Fail the transfer as libcurl itself would have: the program sees code
 * and, in its CURLOPT_ERRORBUFFER, text. Returns SS_FAILED. */
enum ss_flow xfer_fail(struct ss_xfer *x, CURLcode code, const char *text);

/* Tell the monitors what the stage did and why (action: a short word
 * such as "destreamed"; both NUL-terminated, copied). Notes made in
 * start() reach them after the attempt's SS_EV_REQUEST. */
void xfer_note(struct ss_xfer *x, const char *action, const char *why);
/* Does any monitor take notes of x (else xfer_note does nothing, and a
 * stage need not compose one)? */
bool xfer_notes_wanted(const struct ss_xfer *x);

/* ---- Transforming stages, inside callbacks ---- */

/* Pass to the next stage (or the client). */
enum ss_flow xfer_pass_header(struct ss_xfer *x, const char *p, size_t n);
enum ss_flow xfer_pass_body(struct ss_xfer *x, const char *p, size_t n);
/* The calling stage (from its body callback) passes every further body
 * byte on unchanged: when no other stage takes body bytes and no monitor
 * watches, the core then hands libcurl's body bytes straight to the
 * program's write callback, its pauses and short writes returned to
 * libcurl as they are, as without the shim. */
void xfer_body_direct(struct ss_xfer *x);
/* The same for header lines (from the stage's header or body callback):
 * every further line passes on unchanged, except a line that may start a
 * block (one starting with 'H', as "HTTP/" does), which still reaches the
 * stage and stops the direct way until the stage asks again. */
void xfer_header_direct(struct ss_xfer *x);
/* Nothing more of this attempt reaches the program; once libcurl is out
 * of its callbacks the core sends the request again as a retry, as how
 * says (the retry's stages read it in xfer_request). False when that
 * cannot be arranged (out of memory, or too late: a multi handle's
 * transfer already ended). */
bool xfer_want_retry(struct ss_xfer *x, enum ss_retry how);
/* The program is handed an answer of the stage's own (a transform stage
 * calls it before the first byte): getinfo and curl_easy_header then
 * answer from the header block the program was handed (its content type,
 * no length or encoding it does not have). */
void xfer_answer_replaced(struct ss_xfer *x);
/* Wait ms between two replayed events without stalling other transfers:
 * sleeps under curl_easy_perform (one transfer), pauses the transfer under
 * curl_multi_perform (SS_PAUSED: resumed by the drive hooks when due), and
 * does not wait at all elsewhere (a curl_multi_socket_action loop's timers
 * belong to the program). */
enum ss_flow xfer_pace(struct ss_xfer *x, unsigned ms);

#endif
