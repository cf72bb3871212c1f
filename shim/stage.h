/* stage.h - the per-transfer pipeline, modelled on curl's client writers
 * (lib/sendf.c, docs/internals/CLIENT-WRITERS.md).
 *
 * A stage type is a const table of callbacks. At the start of each transfer
 * every stage type is asked whether it takes part; those that do are
 * chained in order, and the program's own callbacks (the "client", see
 * out.h) sit at the end. A request stage may rewrite the request through
 * the xfer_* calls. On the response path each stage receives header lines
 * and body bytes and passes them on (xfer_pass_*), holds them, or
 * transforms them; a monitoring stage passes everything untouched.
 *
 * Back-pressure: passing something on returns SS_PAUSED when the program
 * paused (CURL_WRITEFUNC_PAUSE). The piece was taken; the stage stops
 * producing and is asked to resume() once libcurl unpauses. Stages never
 * block and never call the program themselves. */
#ifndef SS_STAGE_H
#define SS_STAGE_H

#include <stddef.h>
#include <curl/curl.h>

struct ss_xfer;

enum ss_flow {
  SS_OK = 0,      /* go on */
  SS_PAUSED = 1,  /* the program paused: stop and wait for resume() */
  SS_FAILED = 2   /* the program refused the bytes: the transfer fails */
};

struct ss_stage {
  const char *name;
  /* Take part in this transfer? Return a context (freed by finish), or
   * NULL to stay out. May rewrite the request and ask for the response. */
  void *(*start)(struct ss_xfer *x);
  /* One header line as libcurl delivered it (status line, fields, the
   * empty line ending a block). */
  enum ss_flow (*header)(struct ss_xfer *x, void *ctx, const char *p,
                         size_t n);
  /* Body bytes (already decoded). */
  enum ss_flow (*body)(struct ss_xfer *x, void *ctx, const char *p, size_t n);
  /* Continue producing after a pause; NULL if the stage never pauses. */
  enum ss_flow (*resume)(struct ss_xfer *x, void *ctx);
  /* libcurl finished the transfer with *result: flush what is held; may
   * change *result. Runs outside libcurl's callbacks, so pauses cannot be
   * honoured there (pieces are delivered regardless). */
  void (*end)(struct ss_xfer *x, void *ctx, CURLcode *result);
  /* The transfer is over: free ctx. */
  void (*finish)(struct ss_xfer *x, void *ctx);
};

/* The stage types, in chain order (hooks/stages.c). */
extern const struct ss_stage *const ss_stages[];

/* Called by the core when the program is out of every libcurl callback
 * (after curl_easy_perform returns, after a multi drive call): work the
 * stages keep away from callbacks (auto mode writes what it learned to
 * its cache file). Cheap when there is nothing to do. */
void ss_stages_quiet(void);

#endif
