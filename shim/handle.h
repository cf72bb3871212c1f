/* handle.h - what the shim knows of one program handle.
 *
 * libcurl has no getopt, so the setopt hook records the options the shim
 * needs, as the program set them ("app" options), mirroring libcurl's own
 * rules (defaults, NULL meaning default, the effective method). The shim
 * may change some of them on the real handle for one transfer; it always
 * restores them from this record. */
#ifndef SS_HANDLE_H
#define SS_HANDLE_H

#include <stdbool.h>
#include <curl/curl.h>

#include "../hooks/pure/buf.h"
#include "optval.h"
#include "real.h"
#include "stage.h"  /* enum ss_retry */
#include "view.h"

/* libcurl's HTTPREQ_* as set by POST, POSTFIELDS, UPLOAD, NOBODY, ... */
enum ss_method {
  SS_METHOD_GET = 0,
  SS_METHOD_POST,
  SS_METHOD_POST_FORM,
  SS_METHOD_POST_MIME,
  SS_METHOD_PUT,
  SS_METHOD_HEAD
};

struct ss_app_opts {
  curl_write_callback write_fn;   /* NULL: libcurl's fwrite */
  void *write_data;               /* libcurl's default: stdout */
  curl_write_callback header_fn;  /* NULL: none */
  void *header_data;
  const char *postfields;         /* what libcurl posts (may be postfields_copy) */
  char *postfields_copy;          /* the shim's copy of a COPYPOSTFIELDS body */
  size_t postfields_copy_len;
  curl_off_t postfieldsize;       /* -1: strlen at request time */
  curl_read_callback read_fn;     /* NULL: libcurl's fread */
  void *read_data;                /* libcurl's default: stdin */
  curl_seek_callback seek_fn;
  void *seek_data;
  curl_off_t infilesize;          /* -1: unknown (chunked) */
  char *url;                      /* copy; NULL when unset or given as CURLU */
  char *url_buf;                  /* its storage, kept across sets (a
                                     program sets the URL per transfer) */
  size_t url_cap;
  char *customrequest;
  struct curl_slist *httpheader;  /* the program's list */
  char *accept_encoding;          /* NULL: not set */
  enum ss_method method;
  bool upload, nobody;
  bool include_header;            /* CURLOPT_HEADER: headers in the body */
  bool body_unknown;              /* a copy failed: never rewrite */
  long content_decoding;
  long low_speed_limit, low_speed_time;
  bool failonerror;               /* CURLOPT_FAILONERROR */
  bool has_user;                  /* USERPWD or USERNAME set: libcurl may
                                     authenticate after a 401 */
  bool has_proxy_user;            /* the same for a proxy's 407 */
  char *errorbuffer;              /* CURLOPT_ERRORBUFFER: the program's */
  bool verbose;                   /* CURLOPT_VERBOSE */
  curl_debug_callback debug_fn;   /* NULL: libcurl's own output */
  void *debug_data;
  void *stderr_file;              /* CURLOPT_STDERR; NULL: stderr */
};

struct ss_xfer;

struct ss_handle {
  CURL *easy;
  enum ss_flavour fl;
  struct ss_app_opts app;
  struct ss_xfer *xfer;   /* the transfer the shim takes part in, if any */
  bool in_perform;        /* inside the curl_easy_perform hook */
  CURLM *in_multi;        /* the program's multi handle holding it; written
                             under the registry lock (registry.h) */
  struct ss_view view;    /* what the last transfer showed the program */
  enum ss_retry retry;    /* the transfer starting is a retry, and how the
                             request is to be sent this time */
  int app_paused;         /* the program's last curl_easy_pause bitmask */
  bool has_kept_upload;   /* the refused attempt's upload body, read ahead,
                             kept for the retry (the program's reader is
                             at its end) */
  struct buf kept_upload;
};

/* New state with libcurl's defaults; NULL when memory runs out. */
struct ss_handle *handle_new(CURL *easy, enum ss_flavour fl);
/* A copy of src's options for a handle duplicated from it. */
struct ss_handle *handle_dup(const struct ss_handle *src, CURL *easy);
void handle_free(struct ss_handle *h);
/* Back to libcurl's defaults, as curl_easy_reset does. */
void handle_reset(struct ss_handle *h);
/* Does handle_record keep anything of opt (else the setopt hook need
 * not look the handle up: no transfer owns an option it does not keep)? */
bool handle_option_recorded(CURLoption opt);
/* Record an option libcurl accepted. */
void handle_record(struct ss_handle *h, CURLoption opt,
                   const union ss_optval *v);
/* The body bytes libcurl would post now; false when unknown or not a
 * POSTFIELDS body. */
bool handle_postfields(const struct ss_handle *h, const char **p, size_t *n);
/* Does the request body come from the read callback (an upload, or a POST
 * without POSTFIELDS)? *size gets the size libcurl will announce. */
bool handle_read_body(const struct ss_handle *h, curl_off_t *size);
/* The request method word libcurl will send (as Curl_http_method). */
const char *handle_method_word(const struct ss_handle *h);

#endif
