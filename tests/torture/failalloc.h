/* failalloc.h - the allocation-failure torture build (make torture).
 *
 * Included before every source of the library (-include) in the torture
 * build only: the shim's own malloc, calloc, realloc, strdup and strndup
 * go through tests/torture/failalloc.c, which counts them and can fail
 * the Nth one (SS_FAILALLOC=N). The real declarations come first, so
 * that the headers included later see the originals and the macros only
 * rename the calls. free is not wrapped: failing it is not a thing, and
 * leaks are LeakSanitizer's job.
 */
#ifndef SS_FAILALLOC_H
#define SS_FAILALLOC_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void *ss_fa_malloc(size_t n);
void *ss_fa_calloc(size_t n, size_t size);
void *ss_fa_realloc(void *p, size_t n);
char *ss_fa_strdup(const char *s);
char *ss_fa_strndup(const char *s, size_t n);

#define malloc(n) ss_fa_malloc(n)
#define calloc(n, s) ss_fa_calloc(n, s)
#define realloc(p, n) ss_fa_realloc(p, n)
#define strdup(s) ss_fa_strdup(s)
#define strndup(s, n) ss_fa_strndup(s, n)

#endif
