/* debug.c - libcurl's debug callback, chained for the monitors (see
 * xfer.h): the request header block and body exactly as libcurl sends
 * them. VERBOSE goes on for the transfer; what the program gets stays
 * what it would have got without the shim: its own debug callback when it
 * set VERBOSE and one, libcurl's own output (lib/curl_trc.c Curl_debug:
 * "* ", "< ", "> " and the text, for TEXT and HEADER_IN/OUT, to
 * CURLOPT_STDERR) when it set VERBOSE alone, nothing otherwise. */
#include "xfer.h"

#include <stdio.h>

#include "std_streams.h"

static int ss_debug_cb(CURL *e, curl_infotype type, char *p, size_t n,
                       void *ud)
{
  struct ss_xfer *x = ud;
  const struct ss_app_opts *a = &x->h->app;
  if(x->watch.n && !x->out.detached) {
    if(type == CURLINFO_HEADER_OUT)
      monitor_bytes(&x->watch, x, SS_EV_SENT_HEADER, p, n);
    else if(type == CURLINFO_DATA_OUT)
      monitor_bytes(&x->watch, x, SS_EV_SENT_BODY, p, n);
  }
  if(!a->verbose)
    return 0;
  if(a->debug_fn)
    return a->debug_fn(e, type, p, n, a->debug_data);
  static const char prefix[3][3] = {"* ", "< ", "> "};
  if(type == CURLINFO_TEXT || type == CURLINFO_HEADER_IN ||
     type == CURLINFO_HEADER_OUT) {
    FILE *err = a->stderr_file ? (FILE *)a->stderr_file
                               : ss_std_stream(SS_STDERR);
    if(err) {
      fwrite(prefix[type], 2, 1, err);
      fwrite(p, n, 1, err);
    }
  }
  return 0;
}

bool xfer_watch_debug(struct ss_xfer *x)
{
  CURL *e = x->h->easy;
  CURLcode (*set)(CURL *, CURLoption, ...) = x->real->easy_setopt;
  x->swapped |= SS_SWAP_DEBUG;
  return !set(e, CURLOPT_DEBUGFUNCTION, ss_debug_cb) &&
         !set(e, CURLOPT_DEBUGDATA, x) && !set(e, CURLOPT_VERBOSE, 1L);
}
