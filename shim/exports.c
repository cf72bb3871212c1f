/* exports.c - the exported libcurl symbols, one set per flavour.
 *
 * Each set is bound with .symver to the symbol version of one libcurl
 * flavour (CURL_OPENSSL_4 is the default, which also serves unversioned
 * callers), so a caller linked against libcurl-gnutls reaches the GnuTLS
 * hooks and is forwarded to libcurl-gnutls. Everything else in the library
 * is hidden (-fvisibility=hidden + shim/exports.map). errno is preserved
 * across the shim's own work by the hooks that do any. */
#include <stdarg.h>

#include "hooks.h"

#define EXPORT __attribute__((visibility("default")))
#define CALLER __builtin_return_address(0)
/* Each hook first makes sure its flavour is resolved (real.h) */
#define PREP(fl) ss_real_prepare(fl)

#define FLAVOUR_HOOKS(fl, tag)                                               \
  EXPORT CURL *tag##_easy_init(void);                                        \
  CURL *tag##_easy_init(void) { PREP(fl); return ss_easy_init(fl, CALLER); } \
  EXPORT CURL *tag##_easy_duphandle(CURL *h);                                \
  CURL *tag##_easy_duphandle(CURL *h)                                        \
  { PREP(fl); return ss_easy_duphandle(fl, h, CALLER); }                     \
  EXPORT void tag##_easy_reset(CURL *h);                                     \
  void tag##_easy_reset(CURL *h) { PREP(fl); ss_easy_reset(fl, h); }         \
  EXPORT void tag##_easy_cleanup(CURL *h);                                   \
  void tag##_easy_cleanup(CURL *h) { PREP(fl); ss_easy_cleanup(fl, h); }     \
  EXPORT CURLcode tag##_easy_setopt(CURL *h, CURLoption o, ...);             \
  CURLcode tag##_easy_setopt(CURL *h, CURLoption o, ...)                     \
  {                                                                          \
    va_list ap;                                                              \
    PREP(fl);                                                                \
    va_start(ap, o);                                                         \
    union ss_optval v = ss_optval_read(o, ap);                               \
    va_end(ap);                                                              \
    return ss_easy_setopt(fl, h, o, v);                                      \
  }                                                                          \
  EXPORT CURLcode tag##_easy_perform(CURL *h);                               \
  CURLcode tag##_easy_perform(CURL *h)                                       \
  { PREP(fl); return ss_easy_perform(fl, h); }                               \
  EXPORT CURLcode tag##_easy_pause(CURL *h, int b);                          \
  CURLcode tag##_easy_pause(CURL *h, int b)                                  \
  { PREP(fl); return ss_easy_pause(fl, h, b, CALLER); }                      \
  EXPORT CURLcode tag##_easy_getinfo(CURL *h, CURLINFO i, ...);              \
  CURLcode tag##_easy_getinfo(CURL *h, CURLINFO i, ...)                      \
  {                                                                          \
    va_list ap;                                                              \
    PREP(fl);                                                                \
    va_start(ap, i);                                                         \
    void *arg = va_arg(ap, void *);                                          \
    va_end(ap);                                                              \
    return ss_easy_getinfo(fl, h, i, arg);                                   \
  }                                                                          \
  EXPORT CURLHcode tag##_easy_header(CURL *h, const char *n, size_t i,       \
                                     unsigned int o, int r,                  \
                                     struct curl_header **out);              \
  CURLHcode tag##_easy_header(CURL *h, const char *n, size_t i,              \
                              unsigned int o, int r,                         \
                              struct curl_header **out)                      \
  { PREP(fl); return ss_easy_header(fl, h, n, i, o, r, out); }               \
  EXPORT struct curl_header *tag##_easy_nextheader(                          \
    CURL *h, unsigned int o, int r, struct curl_header *p);                  \
  struct curl_header *tag##_easy_nextheader(CURL *h, unsigned int o, int r,  \
                                            struct curl_header *p)           \
  { PREP(fl); return ss_easy_nextheader(fl, h, o, r, p); }                   \
  EXPORT CURLMcode tag##_multi_add_handle(CURLM *m, CURL *h);                \
  CURLMcode tag##_multi_add_handle(CURLM *m, CURL *h)                        \
  { PREP(fl); return ss_multi_add_handle(fl, m, h, CALLER); }                \
  EXPORT CURLMcode tag##_multi_remove_handle(CURLM *m, CURL *h);             \
  CURLMcode tag##_multi_remove_handle(CURLM *m, CURL *h)                     \
  { PREP(fl); return ss_multi_remove_handle(fl, m, h, CALLER); }             \
  EXPORT CURLMcode tag##_multi_cleanup(CURLM *m);                            \
  CURLMcode tag##_multi_cleanup(CURLM *m)                                    \
  { PREP(fl); return ss_multi_cleanup(fl, m, CALLER); }                      \
  EXPORT CURLMsg *tag##_multi_info_read(CURLM *m, int *q);                   \
  CURLMsg *tag##_multi_info_read(CURLM *m, int *q)                           \
  { PREP(fl); return ss_multi_info_read(fl, m, q, CALLER); }                 \
  EXPORT CURLMcode tag##_multi_perform(CURLM *m, int *run);                  \
  CURLMcode tag##_multi_perform(CURLM *m, int *run)                          \
  { PREP(fl); return ss_multi_perform(fl, m, run, CALLER); }                 \
  EXPORT CURLMcode tag##_multi_socket_action(CURLM *m, curl_socket_t s,      \
                                             int ev, int *run);              \
  CURLMcode tag##_multi_socket_action(CURLM *m, curl_socket_t s, int ev,     \
                                      int *run)                              \
  { PREP(fl); return ss_multi_socket_action(fl, m, s, ev, run, CALLER); }    \
  EXPORT CURLMcode tag##_multi_poll(CURLM *m, struct curl_waitfd *x,         \
                                    unsigned int n, int t, int *num);        \
  CURLMcode tag##_multi_poll(CURLM *m, struct curl_waitfd *x, unsigned int n, \
                             int t, int *num)                                \
  { PREP(fl); return ss_multi_wait(fl, m, x, n, t, num, true, CALLER); }     \
  EXPORT CURLMcode tag##_multi_wait(CURLM *m, struct curl_waitfd *x,         \
                                    unsigned int n, int t, int *num);        \
  CURLMcode tag##_multi_wait(CURLM *m, struct curl_waitfd *x, unsigned int n, \
                             int t, int *num)                                \
  { PREP(fl); return ss_multi_wait(fl, m, x, n, t, num, false, CALLER); }    \
  EXPORT CURLMcode tag##_multi_timeout(CURLM *m, long *t);                   \
  CURLMcode tag##_multi_timeout(CURLM *m, long *t)                           \
  { PREP(fl); return ss_multi_timeout(fl, m, t, CALLER); }

FLAVOUR_HOOKS(SS_FL_OPENSSL, ssl)
FLAVOUR_HOOKS(SS_FL_GNUTLS, gnutls)
FLAVOUR_HOOKS(SS_FL_NSS, nss)

#define BIND(tag, fn, ver)                                                   \
  __asm__(".symver " #tag "_" #fn ", curl_" #fn "@" ver);
#define BIND_ALL(tag, ver)                                                   \
  BIND(tag, easy_init, ver)                                                  \
  BIND(tag, easy_duphandle, ver)                                             \
  BIND(tag, easy_reset, ver)                                                 \
  BIND(tag, easy_cleanup, ver)                                               \
  BIND(tag, easy_setopt, ver)                                                \
  BIND(tag, easy_perform, ver)                                               \
  BIND(tag, easy_pause, ver)                                                 \
  BIND(tag, easy_getinfo, ver)                                               \
  BIND(tag, easy_header, ver)                                                \
  BIND(tag, easy_nextheader, ver)                                            \
  BIND(tag, multi_add_handle, ver)                                           \
  BIND(tag, multi_remove_handle, ver)                                        \
  BIND(tag, multi_cleanup, ver)                                              \
  BIND(tag, multi_info_read, ver)                                            \
  BIND(tag, multi_perform, ver)                                              \
  BIND(tag, multi_socket_action, ver)                                        \
  BIND(tag, multi_poll, ver)                                                 \
  BIND(tag, multi_wait, ver)                                                 \
  BIND(tag, multi_timeout, ver)

BIND_ALL(ssl, "@CURL_OPENSSL_4")
BIND_ALL(gnutls, "CURL_GNUTLS_3")
BIND_ALL(nss, "CURL_NSS_3")
