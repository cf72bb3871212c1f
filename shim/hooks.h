/* hooks.h - the interposed libcurl entry points, flavour-independent.
 *
 * exports.c defines the exported symbols, one set per libcurl flavour
 * (each bound to that flavour's symbol version), and forwards here with the
 * flavour and the caller's return address: a call from inside libcurl is
 * libcurl's own (internal handles, its multi layer under
 * curl_easy_perform) and passes straight through. */
#ifndef SS_HOOKS_H
#define SS_HOOKS_H

#include <stdarg.h>
#include <stdbool.h>
#include <curl/curl.h>

#include "optval.h"
#include "real.h"
#include "registry.h"

CURL *ss_easy_init(enum ss_flavour fl, const void *caller);
CURL *ss_easy_duphandle(enum ss_flavour fl, CURL *src, const void *caller);
void ss_easy_reset(enum ss_flavour fl, CURL *easy);
void ss_easy_cleanup(enum ss_flavour fl, CURL *easy);
/* curl_easy_setopt on a handle that may be tracked: recorded once
 * libcurl took the option (hooks_easy.c). */
CURLcode ss_easy_setopt_tracked(const struct ss_real *r, CURL *easy,
                                CURLoption opt, union ss_optval v);
/* The exported hook has read the argument (optval.h). Inline: a process
 * that tracks nothing (off mode) forwards at once. */
static inline CURLcode ss_easy_setopt(enum ss_flavour fl, CURL *easy,
                                      CURLoption opt, union ss_optval v)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->easy_setopt)
    return CURLE_FAILED_INIT;
  if(!registry_unused() && easy)
    return ss_easy_setopt_tracked(r, easy, opt, v);
  return ss_optval_pass(r->easy_setopt, easy, opt, v);
}
CURLcode ss_easy_perform(enum ss_flavour fl, CURL *easy);
CURLcode ss_easy_pause(enum ss_flavour fl, CURL *easy, int bitmask,
                       const void *caller);
/* curl_easy_getinfo on a handle that may be tracked (hooks_info.c). */
CURLcode ss_easy_getinfo_tracked(const struct ss_real *r, CURL *easy,
                                 CURLINFO info, void *arg);
/* The exported hook has read the argument (each CURLINFO takes a
 * pointer). Inline, as ss_easy_setopt. */
static inline CURLcode ss_easy_getinfo(enum ss_flavour fl, CURL *easy,
                                       CURLINFO info, void *arg)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->easy_getinfo)
    return CURLE_FAILED_INIT;
  if(registry_unused())  /* nothing tracked (off mode) */
    return r->easy_getinfo(easy, info, arg);
  return ss_easy_getinfo_tracked(r, easy, info, arg);
}
CURLHcode ss_easy_header(enum ss_flavour fl, CURL *easy, const char *name,
                         size_t index, unsigned int origin, int request,
                         struct curl_header **hout);
struct curl_header *ss_easy_nextheader(enum ss_flavour fl, CURL *easy,
                                       unsigned int origin, int request,
                                       struct curl_header *prev);
/* The multi hooks below are reached only for a program's own call in a
 * process that tracks handles: the exports (FAST_HOOK, exports.c) pass
 * libcurl's own calls and every call of an untracked process straight
 * through first. */
CURLMcode ss_multi_add_handle(enum ss_flavour fl, CURLM *m, CURL *easy,
                              const void *caller);
CURLMcode ss_multi_remove_handle(enum ss_flavour fl, CURLM *m, CURL *easy,
                                 const void *caller);
CURLMcode ss_multi_cleanup(enum ss_flavour fl, CURLM *m, const void *caller);
CURLMsg *ss_multi_info_read(enum ss_flavour fl, CURLM *m, int *queued,
                            const void *caller);
/* The calls that drive transfers (hooks_drive.c): they run the work the
 * shim deferred to them (defer.h). */
CURLMcode ss_multi_perform(enum ss_flavour fl, CURLM *m, int *running,
                           const void *caller);
CURLMcode ss_multi_socket_action(enum ss_flavour fl, CURLM *m,
                                 curl_socket_t s, int ev_bitmask,
                                 int *running, const void *caller);
/* curl_multi_poll (poll true) and curl_multi_wait. */
CURLMcode ss_multi_wait(enum ss_flavour fl, CURLM *m,
                        struct curl_waitfd *extra, unsigned int n,
                        int timeout_ms, int *numfds, bool poll,
                        const void *caller);
CURLMcode ss_multi_timeout(enum ss_flavour fl, CURLM *m, long *timeout_ms,
                           const void *caller);


#endif
