/* registry.h - per-handle state keyed by the CURL * the program holds.
 *
 * An open-addressing hash map, O(1) per lookup whatever the number of
 * handles. Lookups take no lock (a sequence count, registry.c); changes
 * take one mutex, held only inside these calls, never while calling
 * libcurl or program code; a handle's state is then used by the one
 * thread libcurl allows to use that handle at a time. fork() is safe: the
 * lock is taken around it. */
#ifndef SS_REGISTRY_H
#define SS_REGISTRY_H

#include <curl/curl.h>

#include <stdatomic.h>
#include <stdbool.h>

struct ss_handle;
struct registry_table;

/* The current table (registry.c); NULL until the first handle is tracked. */
extern _Atomic(struct registry_table *) registry_cur
  __attribute__((visibility("hidden")));

/* Has no handle ever been tracked (off mode)? Then every lookup answers
 * NULL: the hooks pass straight through without asking. */
static inline bool registry_unused(void)
{
  return !atomic_load_explicit(&registry_cur, memory_order_relaxed);
}

/* The state of handle h, or NULL if the program's handle is unknown. */
struct ss_handle *registry_get(const CURL *h);
/* Insert s under s->easy; returns the stale state previously stored under
 * that address (libcurl frees internal handles itself, so an address can
 * come back), which the caller frees. NULL and no insert when memory runs
 * out: *failed is then set. */
struct ss_handle *registry_put(struct ss_handle *s, int *failed);
/* Remove and return the state of h (NULL if none). */
struct ss_handle *registry_take(const CURL *h);

/* Record that s is in multi handle m (NULL: in none). */
void registry_set_multi(struct ss_handle *s, CURLM *m);
/* Up to max of the handles recorded in m go to out (their count is
 * returned); they stay in m. */
size_t registry_in_multi(CURLM *m, struct ss_handle **out, size_t max);
/* Take every handle recorded in m out of it; up to max of them go to out
 * (their count is returned). For curl_multi_cleanup, which detaches its
 * handles without curl_multi_remove_handle. */
size_t registry_leave_multi(CURLM *m, struct ss_handle **out, size_t max);

#endif
