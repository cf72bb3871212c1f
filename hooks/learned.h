/* learned.h - refusals learned at run time, remembered across processes.
 *
 * When a server refuses to stream (refusal.h), or refuses a request
 * without stream (a model that only streams), the shim records the host,
 * the model (or Azure deployment), a fingerprint of the credential the
 * request carried (some refusals depend on the account) and the
 * direction of the refusal. Later requests for the same triple are sent
 * the way the server takes at once (non-streaming, or streaming). A
 * triple has one entry: learning the other direction replaces it (the
 * newest word wins). Entries expire after the configured TTL (cache_ttl,
 * default 7 days) so that a model that changes is tried again.
 *
 * Learning never touches the disk: learned_add runs inside the program's
 * write callback, so it only records the entry in memory (lookups of this
 * process see it at once), once per triple and direction (a burst of
 * refusals of one triple learns it once), and marks it pending. The file
 * is written later, outside libcurl's callbacks, by learned_flush(): the
 * hooks call it after curl_easy_perform returns and from the multi drive
 * calls; a destructor flushes what is left at exit, waiting for the lock
 * up to LEARNED_EXIT_WAIT_MS. A flush point tries the lock once: when another
 * writer holds it the entries stay pending for the next flush point, so
 * a refusal is never dropped while the cache can be written. Only a cache
 * that cannot be written (not a regular file of ours, an uncreatable
 * directory, no space) leaves an entry in memory only.
 *
 * The file (config key cache / STREAMSHIM_CACHE; default
 * $XDG_CACHE_HOME/streamshim/refusals, else ~/.cache/streamshim/refusals;
 * "off" for none) shares entries between processes: created mode 0600 in
 * a 0700 directory, updated under an flock'ed lock file by writing a
 * temporary file and renaming it over (learned_file.h), so concurrent
 * processes never see a torn file and never lose each other's entries; a
 * forget is never undone by an entry learned before it and written after
 * it (the file's forget records). Any file problem (unwritable, corrupt,
 * a FIFO, missing HOME) degrades to memory only, never to an error or a
 * hang. Thread-safe, and fork-safe at any point: a child is never born
 * while a thread holds the lists' mutex or is inside the file's locked
 * section (pthread_atfork), so it never inherits a held lock. */
#ifndef SS_LEARNED_H
#define SS_LEARNED_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "learned_file.h"  /* LEARNED_FP_LEN, the entries */
#include "pure/config.h"


/* The fingerprint of a credential: the first LEARNED_FP_LEN hex digits of
 * its SHA-256, or "-" when there is none (secret NULL or n == 0). out has
 * room for LEARNED_FP_LEN + 1 bytes. The secret itself is never stored. */
void learned_fingerprint(const char *secret, size_t n, char *out);

/* Is (host, model, fp) known at time now to refuse in direction dir
 * (REFUSES_STREAM: to stream; REFUSES_NONSTREAM: not to)? The triple's
 * newest unexpired entry decides, this process's (learned, maybe not yet
 * written) or the file's: this process's on a tie of learned times. */
bool learned_lookup(const struct ss_config *c, const char *host,
                    const char *model, const char *fp, enum refusal_dir dir,
                    time_t now);

/* Is anything known of host and model at time now (an unexpired entry,
 * of any credential and either direction, learned here or in the file)?
 * When not, learned_lookup is false for every fp and direction: the
 * judgment asks this first and digests the credential only when it must.
 * Cheap when the cache is empty or absent (one lstat). */
bool learned_known(const struct ss_config *c, const char *host,
                   const char *model, time_t now);

/* Remember that (host, model, fp) refused in direction dir at time now,
 * by rule (a name from refusal_match): in memory at once, in the file at
 * the next flush. Nothing when learned_lookup would already say so for
 * dir (learned or pending, unexpired); an expired entry of the triple,
 * or one of the other direction, is replaced. Never blocks, never does
 * I/O. */
void learned_add(const struct ss_config *c, const char *host,
                 const char *model, const char *fp, enum refusal_dir dir,
                 const char *rule, time_t now);

/* Write the pending entries to the file if the lock is free at once;
 * else they wait for the next call. Costs one atomic load when nothing
 * is pending. Call it only outside libcurl's callbacks. errno is kept. */
void learned_flush(void);

/* learned_flush_at's results (the same values as learned_file.h's). */
#define LEARNED_FLUSH_DONE 0        /* nothing pending is left */
#define LEARNED_FLUSH_FAILED (-1)   /* the file cannot be written: memory */
#define LEARNED_FLUSH_BUSY (-2)     /* the lock stayed held: still pending */

/* Flush with now as the time that expires entries, waiting up to wait_ms
 * for the lock. For the destructor, `streamshim-ctl learn` and tests. */
int learned_flush_at(time_t now, long wait_ms);

/* How many entries wait to be written (for tests and the ctl). */
size_t learned_pending(void);

/* Keep the pending entries in memory only: the ctl gave up writing them
 * and must not wait again at exit. */
void learned_discard_pending(void);

/* How long the destructor waits for the lock at exit. */
#define LEARNED_EXIT_WAIT_MS 5000

/* The path of the cache file for c, or NULL when caching to a file is
 * off or no directory can be found: c's own string, or built in buf (cap
 * bytes; PATH_MAX is enough). */
const char *learned_path(const struct ss_config *c, char *buf, size_t cap);

/* For unit tests only: forget everything this process holds in memory (what
 * it learned, the file as last read), as if a new process started. */
void learned_reset_for_tests(void);

#endif
