/* deepbind.c - libstreamshim-deepbind.so, an opt-in companion of the shim
 * for hosts that open their libcurl user with RTLD_DEEPBIND.
 *
 * PHP loads its curl extension with RTLD_LAZY | RTLD_GLOBAL |
 * RTLD_DEEPBIND: the extension's calls then bind to libcurl before any
 * preloaded object, and the shim never sees them. This library wraps
 * dlopen() and drops RTLD_DEEPBIND for PHP's curl extension (a file named
 * curl.so) only; everything else is forwarded unchanged. The forwarding
 * is a tail call, so glibc still sees the program's own return address
 * and resolves relative names against the caller's RUNPATH and $ORIGIN,
 * not this library's. It is kept out of libstreamshim.so on purpose: only
 * `streamshim` adds it, and only for PHP (or when asked with --deepbind).
 *
 * No version script: an unversioned definition answers the program's
 * dlopen@GLIBC_2.34 (and @GLIBC_2.2.5) references. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <string.h>

typedef void *(*dlopen_fn)(const char *file, int mode);

static _Atomic(dlopen_fn) real_dlopen;

/* glibc's dlopen, found once (any thread may race to store the same). */
static dlopen_fn find_dlopen(void)
{
  dlopen_fn f = atomic_load_explicit(&real_dlopen, memory_order_acquire);
  if(f)
    return f;
  f = (dlopen_fn)dlvsym(RTLD_NEXT, "dlopen", "GLIBC_2.34");
  if(!f)
    f = (dlopen_fn)dlvsym(RTLD_NEXT, "dlopen", "GLIBC_2.2.5");
  atomic_store_explicit(&real_dlopen, f, memory_order_release);
  return f;
}

/* Is file PHP's curl extension (".../curl.so" or "curl.so")? */
static int is_curl_extension(const char *file)
{
  const char *base = strrchr(file, '/');
  return !strcmp(base ? base + 1 : file, "curl.so");
}

__attribute__((visibility("default"))) void *dlopen(const char *file,
                                                    int mode);

void *dlopen(const char *file, int mode)
{
  dlopen_fn f = find_dlopen();
  if(!f)
    return NULL;
  if((mode & RTLD_DEEPBIND) && file && is_curl_extension(file))
    mode &= ~RTLD_DEEPBIND;
  return f(file, mode);
}
