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

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
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

/* A flavour's state (real.c), read by the inline functions below: every
 * hook asks for it, libcurl's own calls included, so the common case is
 * one load in the hook itself. */
struct ss_real_state {
  struct ss_real fn;   /* written once, before ready is set */
  atomic_int ready;
  uintptr_t code_lo, code_hi;  /* executable range of that libcurl */
};
extern struct ss_real_state ss_real_states[SS_FL_COUNT]
  __attribute__((visibility("hidden")));

/* The first call of a flavour: resolves it (real.c). */
const struct ss_real *ss_real_resolve(enum ss_flavour fl);
/* All members NULL: a flavour not (yet) found. */
extern const struct ss_real ss_real_none __attribute__((visibility("hidden")));

/* The real functions of a flavour, resolved on first use; never NULL,
 * members may be. */
static inline const struct ss_real *ss_real(enum ss_flavour fl)
{
  struct ss_real_state *s = &ss_real_states[fl];
  if(__builtin_expect(atomic_load_explicit(&s->ready, memory_order_acquire), 1))
    return &s->fn;
  return ss_real_resolve(fl);
}

/* The exported hooks resolve their flavour before anything else
 * (exports.c), in their own few instructions: the hooks' bodies then ask
 * ss_real_get, which calls nothing, so that their pass-through paths
 * need no stack frame. */
static inline void ss_real_prepare(enum ss_flavour fl)
{
  if(__builtin_expect(!atomic_load_explicit(&ss_real_states[fl].ready,
                                            memory_order_acquire), 0))
    ss_real_resolve(fl);
}

/* The real functions of a flavour as resolved so far (ss_real_none
 * before). */
static inline const struct ss_real *ss_real_get(enum ss_flavour fl)
{
  struct ss_real_state *s = &ss_real_states[fl];
  return atomic_load_explicit(&s->ready, memory_order_acquire) ? &s->fn
                                                               : &ss_real_none;
}

/* Is addr inside the code of flavour fl's libcurl? Tells libcurl's own
 * calls (internal handles, its multi layer) from the program's. Only the
 * hook's own flavour can be the caller: a libcurl's calls of its exported
 * functions carry its own symbol version, so they reach that flavour's
 * hooks (an unversioned libcurl reaches the default one, which is where
 * it was resolved). */
static inline bool ss_real_is_libcurl(enum ss_flavour fl, const void *addr)
{
  const struct ss_real_state *s = &ss_real_states[fl];
  uintptr_t a = (uintptr_t)addr;
  return atomic_load_explicit(&s->ready, memory_order_acquire) &&
         a >= s->code_lo && a < s->code_hi;
}

/* Has any hook asked for the real functions yet (any libcurl call)? */
bool ss_real_used(void);

#endif
