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
#include "registry.h"

#define EXPORT __attribute__((visibility("default")))
#define CALLER __builtin_return_address(0)
/* Each hook first makes sure its flavour is resolved (real.h). */
#define PREP(fl) ss_real_prepare(fl)

/* A hook on the path of every transfer. The calls libcurl makes of its
 * own exported functions (its multi layer under curl_easy_perform), and
 * every call of a process that tracks nothing (off mode), pass straight
 * through first, with a tail call and no stack frame; the rest goes out
 * of line (name_slow, with the caller's address). A flavour not resolved
 * yet has no function: its first call goes the long way and resolves it.
 * params and cparams (params and the caller) are parenthesised lists,
 * args and cargs the matching arguments. */
#define FAST_HOOK(fl, tag, ret, name, params, cparams, args, cargs, call)    \
  __attribute__((noinline)) static ret tag##_##name##_slow cparams           \
  {                                                                          \
    PREP(fl);                                                                \
    return call;                                                             \
  }                                                                          \
  EXPORT ret tag##_##name params;                                            \
  ret tag##_##name params                                                    \
  {                                                                          \
    const struct ss_real *r = ss_real_get(fl);                               \
    if(r->name && (registry_unused() || ss_real_is_libcurl(fl, CALLER)))     \
      return r->name args;                                                   \
    return tag##_##name##_slow cargs;                                        \
  }

#define WAIT_PARAMS CURLM *m, struct curl_waitfd *x, unsigned int n, int t,  \
                    int *num

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
  FAST_HOOK(fl, tag, CURLcode, easy_perform, (CURL *h),                      \
            (CURL *h, const void *c), (h), (h, CALLER),                      \
            ((void)c, ss_easy_perform(fl, h)))                               \
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
  FAST_HOOK(fl, tag, CURLMcode, multi_add_handle, (CURLM *m, CURL *h),       \
            (CURLM *m, CURL *h, const void *c), (m, h), (m, h, CALLER),      \
            ss_multi_add_handle(fl, m, h, c))                                \
  FAST_HOOK(fl, tag, CURLMcode, multi_remove_handle, (CURLM *m, CURL *h),    \
            (CURLM *m, CURL *h, const void *c), (m, h), (m, h, CALLER),      \
            ss_multi_remove_handle(fl, m, h, c))                             \
  EXPORT CURLMcode tag##_multi_cleanup(CURLM *m);                            \
  CURLMcode tag##_multi_cleanup(CURLM *m)                                    \
  { PREP(fl); return ss_multi_cleanup(fl, m, CALLER); }                      \
  FAST_HOOK(fl, tag, CURLMsg *, multi_info_read, (CURLM *m, int *q),         \
            (CURLM *m, int *q, const void *c), (m, q), (m, q, CALLER),       \
            ss_multi_info_read(fl, m, q, c))                                 \
  FAST_HOOK(fl, tag, CURLMcode, multi_perform, (CURLM *m, int *run),         \
            (CURLM *m, int *run, const void *c), (m, run), (m, run, CALLER), \
            ss_multi_perform(fl, m, run, c))                                 \
  FAST_HOOK(fl, tag, CURLMcode, multi_socket_action,                         \
            (CURLM *m, curl_socket_t s, int ev, int *run),                   \
            (CURLM *m, curl_socket_t s, int ev, int *run, const void *c),    \
            (m, s, ev, run), (m, s, ev, run, CALLER),                        \
            ss_multi_socket_action(fl, m, s, ev, run, c))                    \
  FAST_HOOK(fl, tag, CURLMcode, multi_poll, (WAIT_PARAMS),                   \
            (WAIT_PARAMS, const void *c), (m, x, n, t, num),                 \
            (m, x, n, t, num, CALLER),                                       \
            ss_multi_wait(fl, m, x, n, t, num, true, c))                     \
  FAST_HOOK(fl, tag, CURLMcode, multi_wait, (WAIT_PARAMS),                   \
            (WAIT_PARAMS, const void *c), (m, x, n, t, num),                 \
            (m, x, n, t, num, CALLER),                                       \
            ss_multi_wait(fl, m, x, n, t, num, false, c))                    \
  FAST_HOOK(fl, tag, CURLMcode, multi_timeout, (CURLM *m, long *t),          \
            (CURLM *m, long *t, const void *c), (m, t), (m, t, CALLER),      \
            ss_multi_timeout(fl, m, t, c))

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
