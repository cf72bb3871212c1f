/* out.h - the client writer: delivering to the program's own callbacks.
 *
 * It is the last link of a transfer's chain. Body pieces go to the
 * program's write callback (libcurl's fwrite default when none is set) in
 * calls of at most CURL_MAX_WRITE_SIZE; header lines go where libcurl would
 * send them (the header callback, or the write callback with HEADERDATA
 * when only that is set; with CURLOPT_HEADER also the write callback
 * first, as libcurl 7.88's chop_write does). When the program pauses, the refused piece is
 * copied and delivered first when libcurl calls again after unpausing, as
 * libcurl's own cw-out does; a short count fails the transfer. */
#ifndef SS_OUT_H
#define SS_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../hooks/pure/buf.h"
#include "handle.h"
#include "stage.h"

enum ss_out_kind {
  SS_OUT_BODY = 0,
  SS_OUT_HEADER,     /* a header line, wherever libcurl would send it */
  SS_OUT_HEADER_CB   /* internal: the header callback's part only (the
                        write callback already took the line) */
};

struct ss_out {
  struct buf pending;       /* the refused rest of a piece */
  enum ss_out_kind pending_kind;
  bool has_pending;
  bool failed;              /* the program refused bytes */
  size_t fail_value;        /* what its callback returned */
  bool at_end;              /* after libcurl finished: a pause cannot
                               hold (the piece is offered again) */
  bool headers_in_body;     /* CURLOPT_HEADER: header lines go to the write
                               callback too (the shim turned libcurl's off) */
  bool detached;            /* the program let go of the transfer (a reset
                               from a callback): nothing more reaches it */
  /* enum ss_direct bits: what goes from libcurl straight to the program
   * (xfer_body_direct, xfer_header_direct). The one test of the hot path:
   * cleared wherever anything stands in the way (a piece kept by a pause,
   * a stage to resume, a failure, the end, a detach: out_block_direct). */
  unsigned direct;
};

enum ss_direct {
  SS_DIRECT_BODY = 1u << 0,
  SS_DIRECT_HEADER = 1u << 1  /* header lines but those starting 'H' */
};

/* Nothing goes straight to the program any more. */
static inline void out_block_direct(struct ss_out *o)
{
  o->direct = 0;
}

void out_init(struct ss_out *o);
void out_free(struct ss_out *o);
/* Deliver one piece to the program. */

enum ss_flow out_deliver(struct ss_out *o, struct ss_handle *h,
                         enum ss_out_kind kind, const char *p, size_t n);
/* Call the program's write callback, or libcurl's default fwrite. */
static inline size_t out_call_write(const struct ss_app_opts *a,
                                    const char *p, size_t n)
{
  if(a->write_fn)
    return a->write_fn((char *)p, 1, n, a->write_data);
  return fwrite(p, 1, n, (FILE *)a->write_data);
}

/* Call whatever libcurl would call for a header line (sendf.c chop_write):
 * the header callback, else the write callback when HEADERDATA is set,
 * else nothing. */
static inline size_t out_call_header(const struct ss_app_opts *a,
                                     const char *p, size_t n)
{
  if(a->header_fn)
    return a->header_fn((char *)p, 1, n, a->header_data);
  if(!a->header_data)
    return n;
  if(a->write_fn)
    return a->write_fn((char *)p, 1, n, a->header_data);
  return fwrite(p, 1, n, (FILE *)a->header_data);
}

/* Body bytes straight from libcurl to the program's write callback
 * (xfer_body_direct): its answer is returned as it is, for libcurl to
 * judge (a pause keeps the bytes in libcurl, a short count fails). Only
 * the handle is touched after the call: the program may let go of the
 * transfer from inside it (a reset). */
static inline size_t out_write_direct(struct ss_handle *h, char *p, size_t n)
{
  size_t w = out_call_write(&h->app, p, n);
  if(w == n)  /* taken: part of what the program saw */
    view_body(&h->view, n);
  return w;
}

/* The same for a header line (xfer_header_direct). */
static inline size_t out_header_direct(struct ss_handle *h, char *p, size_t n)
{
  size_t w = out_call_header(&h->app, p, n);
  if(w == n)
    view_header(&h->view, p, n);
  return w;
}

/* Deliver the piece refused by a pause, if any. */
enum ss_flow out_flush(struct ss_out *o, struct ss_handle *h);

#endif
