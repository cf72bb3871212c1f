/* swift_demangle_stub.c - preloaded after the ASan runtime by
 * `make check-asan`, for uninstrumented programs such as the curl CLI.
 *
 * Why: with the ASan runtime preloaded, ASan finishes initialising lazily
 * inside the first malloc. In the curl CLI that malloc happens inside
 * libp11-kit's constructor, within newlocale(), which holds glibc's
 * locale lock. ASan's init looks up "swift_demangle" with dlsym; the
 * failure makes dlerror() translate its message with gettext, which takes
 * the same lock again and leaves it corrupted: curl then hangs in its own
 * setlocale() (seen on Debian 12, glibc 2.36, gcc 12 and clang 14 ASan).
 * Defining the symbol makes the lookup succeed. It is never a demangler:
 * returning NULL means "not a Swift name". Test infrastructure only. */
#include <stddef.h>

char *swift_demangle(const char *mangled, size_t len, char *out,
                     size_t *outlen, unsigned flags);

char *swift_demangle(const char *mangled, size_t len, char *out,
                     size_t *outlen, unsigned flags)
{
  (void)mangled;
  (void)len;
  (void)out;
  (void)outlen;
  (void)flags;
  return NULL;
}
