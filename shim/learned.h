/* learned.h - refusals learned at run time, remembered across processes.
 *
 * When a server refuses to stream (refusal.h), the shim records the host,
 * the model (or Azure deployment) and a fingerprint of the credential the
 * request carried (some refusals depend on the account). Later requests
 * for the same triple are sent non-streaming at once. Entries expire after
 * the configured TTL (cache_ttl, default 7 days) so that a model that
 * gains streaming is tried again.
 *
 * Memory always holds what this process learned. The file (config key
 * cache / STREAMSHIM_CACHE; default $XDG_CACHE_HOME/streamshim/refusals,
 * else ~/.cache/streamshim/refusals; "off" for none) shares entries between
 * processes: created mode 0600 in a 0700 directory, updated under an
 * flock'ed lock file by writing a temporary file and renaming it over, so
 * concurrent processes never see a torn file and never lose each other's
 * entries. Any file problem (unwritable, corrupt, missing HOME) degrades to
 * memory only, never to an error. Thread-safe. */
#ifndef SS_LEARNED_H
#define SS_LEARNED_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"

#define LEARNED_FP_LEN 16  /* hex digits of a credential fingerprint */

/* The fingerprint of a credential: the first LEARNED_FP_LEN hex digits of
 * its SHA-256, or "-" when there is none (secret NULL or n == 0). out has
 * room for LEARNED_FP_LEN + 1 bytes. The secret itself is never stored. */
void learned_fingerprint(const char *secret, size_t n, char *out);

/* Is (host, model, fp) known to refuse streaming at time now? */
bool learned_lookup(const struct ss_config *c, const char *host,
                    const char *model, const char *fp, time_t now);

/* Remember that (host, model, fp) refused at time now, by rule (a name
 * from refusal_match). Replaces an older entry of the same triple. */
void learned_add(const struct ss_config *c, const char *host,
                 const char *model, const char *fp, const char *rule,
                 time_t now);

/* The path of the cache file for c, or NULL when caching to a file is
 * off or no directory can be found: c's own string, or built in buf (cap
 * bytes; PATH_MAX is enough). */
const char *learned_path(const struct ss_config *c, char *buf, size_t cap);

/* For unit tests only: forget everything this process holds in memory (what
 * it learned, the file as last read), as if a new process started. */
void learned_reset_for_tests(void);

#endif
