/* failalloc.c - the counting allocator of the torture build (see
 * failalloc.h; tests/torture/torture.py drives it).
 *
 *   SS_FAILALLOC=N          fail the Nth allocation of the process (1 is
 *                           the first); 0 or unset: count only
 *   SS_FAILALLOC_REPORT=F   at exit, append "COUNT FAILED OFFSET..." to F:
 *                           the allocations made, 1 if one was failed, and
 *                           the failed call's stack (return addresses as
 *                           offsets in the library, for addr2line; 0 when
 *                           none was failed)
 *
 * Both are read once, at the first allocation. The counter is atomic: the
 * shim allocates from any thread the program runs transfers in.
 */
#undef malloc
#undef calloc
#undef realloc
#undef strdup
#undef strndup

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "failalloc.h"

static atomic_ulong count;
static atomic_int configured;
static unsigned long fail_at;
static const char *report;
static atomic_uintptr_t failed_caller;
static void *stack[12];
static int depth;

static void configure(void)
{
  int expected = 0;
  if(!atomic_compare_exchange_strong(&configured, &expected, 1)) {
    while(atomic_load(&configured) != 2)
      ;  /* another thread is reading the two variables: a few instructions */
    return;
  }
  const char *n = getenv("SS_FAILALLOC");
  fail_at = n ? strtoul(n, NULL, 10) : 0;
  report = getenv("SS_FAILALLOC_REPORT");
  atomic_store(&configured, 2);
}

/* Whether this allocation is the one to fail; caller is where it came from. */
static int fail_this(void *caller)
{
  if(atomic_load_explicit(&configured, memory_order_acquire) != 2)
    configure();
  unsigned long nth = atomic_fetch_add(&count, 1) + 1;
  if(fail_at && nth == fail_at) {
    atomic_store(&failed_caller, (uintptr_t)caller);
    depth = backtrace(stack, 12);  /* glibc's own malloc, not counted */
    return 1;
  }
  return 0;
}

#define CALLER __builtin_extract_return_addr(__builtin_return_address(0))

void *ss_fa_malloc(size_t n)
{
  return fail_this(CALLER) ? NULL : malloc(n);
}

void *ss_fa_calloc(size_t n, size_t size)
{
  return fail_this(CALLER) ? NULL : calloc(n, size);
}

void *ss_fa_realloc(void *p, size_t n)
{
  return fail_this(CALLER) ? NULL : realloc(p, n);
}

char *ss_fa_strdup(const char *s)
{
  return fail_this(CALLER) ? NULL : strdup(s);
}

char *ss_fa_strndup(const char *s, size_t n)
{
  return fail_this(CALLER) ? NULL : strndup(s, n);
}

__attribute__((destructor)) static void write_report(void)
{
  if(atomic_load(&configured) != 2 || !report)
    return;
  uintptr_t caller = atomic_load(&failed_caller);
  char line[512];
  int len = snprintf(line, sizeof line, "%lu %d", atomic_load(&count), caller != 0);
  Dl_info self, info;
  if(!caller || !dladdr((void *)write_report, &self))
    len += snprintf(line + len, sizeof line - (size_t)len, " 0");
  /* the frames in the library, from the wrapper's caller outwards */
  for(int i = 1; caller && i < depth && len < (int)sizeof line - 24; i++)
    if(dladdr(stack[i], &info) && info.dli_fbase == self.dli_fbase)
      len += snprintf(line + len, sizeof line - (size_t)len, " %#lx",
                      (unsigned long)((uintptr_t)stack[i] - (uintptr_t)info.dli_fbase));
  len += snprintf(line + len, sizeof line - (size_t)len, "\n");
  int fd = open(report, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if(fd >= 0) {
    if(write(fd, line, (size_t)len) < 0) {
      /* nothing to do: the driver sees no report */
    }
    close(fd);
  }
}
