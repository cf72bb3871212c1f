/* real.h - finding the real libcurl functions, per flavour.
 *
 * Debian ships libcurl in flavours with versioned symbols: libcurl.so.4
 * (CURL_OPENSSL_4), libcurl-gnutls.so.4 (CURL_GNUTLS_3, pycurl and git use
 * it) and libcurl-nss.so.4 (CURL_NSS_3). The shim exports one hook per
 * flavour and each forwards to the same flavour, so a process holding two
 * flavours never mixes their handles. Each table is resolved on first use
 * and kept once complete:
 *   1. dlvsym(RTLD_NEXT, name, version)
 *   2. for the default flavour, dlsym(RTLD_NEXT, name): unversioned builds
 *   3. the loaded objects themselves (dl_iterate_phdr + RTLD_NOLOAD): a
 *      libcurl loaded RTLD_LOCAL by a plugin (pycurl) or under a renamed
 *      soname (pip wheels) is outside RTLD_NEXT's reach.
 * A function that cannot be found stays NULL; hooks then fail the call with
 * an error code instead of calling through a null pointer. */
#ifndef SS_REAL_H
#define SS_REAL_H

#include <stdbool.h>
#include <curl/curl.h>

enum ss_flavour {
  SS_FL_OPENSSL = 0,  /* also unversioned libcurl builds */
  SS_FL_GNUTLS,
  SS_FL_NSS,
  SS_FL_COUNT
};

struct ss_real {
  CURL *(*easy_init)(void);
  CURL *(*easy_duphandle)(CURL *h);
  void (*easy_reset)(CURL *h);
  void (*easy_cleanup)(CURL *h);
  CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
  CURLcode (*easy_perform)(CURL *h);
  CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
  CURLHcode (*easy_header)(CURL *h, const char *name, size_t index,
                           unsigned int origin, int request,
                           struct curl_header **hout);
  struct curl_header *(*easy_nextheader)(CURL *h, unsigned int origin,
                                         int request,
                                         struct curl_header *prev);
  CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
  CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
  CURLMsg *(*multi_info_read)(CURLM *m, int *queued);
  CURLMcode (*multi_cleanup)(CURLM *m);
  CURLMcode (*multi_perform)(CURLM *m, int *running);
  CURLMcode (*multi_socket_action)(CURLM *m, curl_socket_t s, int ev_bitmask,
                                   int *running);
  CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra_fds[],
                          unsigned int extra_nfds, int timeout_ms,
                          int *numfds);
  CURLMcode (*multi_wait)(CURLM *m, struct curl_waitfd extra_fds[],
                          unsigned int extra_nfds, int timeout_ms,
                          int *numfds);
  CURLMcode (*multi_timeout)(CURLM *m, long *timeout_ms);
  CURLcode (*easy_pause)(CURL *h, int bitmask);
  const char *(*easy_strerror)(CURLcode code);
};

/* The real functions of a flavour; never NULL, members may be. */
const struct ss_real *ss_real(enum ss_flavour fl);
/* Is addr inside the code of a libcurl the shim has resolved? Used to tell
 * libcurl's own calls (internal handles, its multi layer) from the
 * program's. */
bool ss_real_is_libcurl(const void *addr);
/* Has any hook asked for the real functions yet (any libcurl call)? */
bool ss_real_used(void);

#endif
