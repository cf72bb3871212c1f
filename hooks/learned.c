/* learned.c - refusals learned at run time (see learned.h; the file's
 * format and locking are in learned_file.h). No libcurl.
 *
 * The process keeps two lists under learned_mu:
 * - mem: what this process learned and has not trusted to the file: the
 *   pending entries (to be written at the next flush) and the ones kept
 *   in memory only (no path, "off", the file cannot be written, a name
 *   over LEARNED_MAX_FIELD bytes); the latter live as long as the process
 *   (until they expire). pending_n counts the pending ones, read without
 *   the lock by the flush points' fast path;
 * - snap: the file as last read, with its stamp. A lookup lstat()s the
 *   file and re-reads it only when the stamp changed (every rewrite
 *   renames a new inode in), so the usual lookup costs one lstat.
 * A triple's word is its newest unexpired entry of the two lists (mem's
 * on a tie: its flush replaces the file's, merge_batch), whichever its
 * direction: a lookup of one direction is true only when that word is of
 * that direction, and learning the other direction replaces it.
 * Entries this process wrote to the file leave mem and are then trusted
 * to the file: `streamshim models --forget` reaches running processes
 * too; its forget records in the file drop the matching entries of mem
 * noted before the forget (a pending one is then never written).
 *
 * A flush holds file_mu around one attempt at the file's locked section
 * (open the lock, flock without waiting, read, merge, write, rename,
 * close), and takes learned_mu only to copy the pending entries and to
 * record the outcome: learned_mu is never held while the file is locked
 * or waited for, file_mu never while waiting (the waits of
 * learned_flush_at are between attempts). The fork handlers take both
 * (file_mu first), so no child is born inside either section: it never
 * inherits a held mutex nor a descriptor that holds the file's lock.
 *
 * The default path uses secure_getenv (XDG_CACHE_HOME, then HOME; only
 * absolute values count), so under AT_SECURE there is no default file
 * even if a caller got this far; lookups and learning find it once per
 * process. A cache path that is not absolute is
 * ignored (memory only): it would name a different file in each working
 * directory. A cache_ttl of 0 learns nothing. */
#include "learned.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learned_file.h"
#include "pure/sha256.h"

static pthread_mutex_t learned_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t file_mu = PTHREAD_MUTEX_INITIALIZER;
static struct learned_list mem;        /* learned here, not in the file */
static char *pend_path;                /* where mem's pending entries go */
static atomic_size_t pending_n;        /* mem's pending entries */
static struct learned_list snap;       /* the file as last read */
static struct learned_stamp snap_stamp;
static char *snap_path;                /* the file snap was read from */
/* The default path, found once per process (the environment, like the
 * configuration, is read once): lookups cost no secure_getenv. */
static char default_path[PATH_MAX];
static bool default_found;             /* default_path is set ("": none) */

static unsigned fork_depth;             /* under glibc's fork lock */

/* A fork while another thread learns, looks up or writes must not leave
 * a lock held in the child (issue 9, defect 3). The depth is a guard:
 * handlers that ran twice for one fork must not lock twice. */
static void lock_all(void)
{
  if(!fork_depth++) {
    pthread_mutex_lock(&file_mu);
    pthread_mutex_lock(&learned_mu);
  }
}

static void unlock_all(void)
{
  if(!--fork_depth) {
    pthread_mutex_unlock(&learned_mu);
    pthread_mutex_unlock(&file_mu);
  }
}

/* In a child: the parent writes the entries pending at the fork; the child
 * keeps them for its lookups, but neither flushes nor waits for them at
 * exit (a pre-forked worker must not stall on its parent's learning). */
static void unlock_in_child(void)
{
  if(fork_depth == 1) {  /* learned_mu still held: no thread but this one */
    for(size_t i = 0; i < mem.n; i++)
      mem.v[i].pending = false;
    atomic_store(&pending_n, 0);
  }
  unlock_all();
}

/* Registered at load, before any thread can take the lock: a handler
 * registered lazily could miss a fork already under way, and one
 * registered by a once routine a child re-runs would run twice. */
__attribute__((constructor)) static void install_atfork(void)
{
  pthread_atfork(lock_all, unlock_all, unlock_in_child);
}

void learned_fingerprint(const char *secret, size_t n, char *out)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char d[SHA256_DIGEST_LEN];
  if(!secret || !n) {
    memcpy(out, "-", 2);
    return;
  }
  sha256(secret, n, d);
  for(size_t i = 0; i < LEARNED_FP_LEN; i++)
    out[i] = hex[(d[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
  out[LEARNED_FP_LEN] = '\0';
}

/* dir + tail in buf when dir is absolute and it fits; else NULL. */
static const char *join(char *buf, size_t cap, const char *dir,
                        const char *tail)
{
  if(!dir || dir[0] != '/')
    return NULL;
  int n = snprintf(buf, cap, "%s%s", dir, tail);
  return n > 0 && (size_t)n < cap ? buf : NULL;
}

const char *learned_path(const struct ss_config *c, char *path, size_t cap)
{
  const char *p;
  if(c->cache)
    return !strcmp(c->cache, "off") || c->cache[0] != '/' ? NULL : c->cache;
  p = join(path, cap, secure_getenv("XDG_CACHE_HOME"),
           "/streamshim/refusals");
  if(!p)
    p = join(path, cap, secure_getenv("HOME"),
             "/.cache/streamshim/refusals");
  return p;
}

/* The cache file of lookups and learning (learned_mu held): c's own, or
 * the default path found the first time. NULL: memory only. */
static const char *cache_path(const struct ss_config *c)
{
  if(c->cache)
    return !strcmp(c->cache, "off") || c->cache[0] != '/' ? NULL : c->cache;
  if(!default_found) {
    char buf[PATH_MAX];
    const char *p = learned_path(c, buf, sizeof(buf));
    memcpy(default_path, p ? p : "", p ? strlen(p) + 1 : 1);
    default_found = true;
  }
  return default_path[0] ? default_path : NULL;
}

/* Has l an entry of host and model (any credential, either direction)
 * unexpired at now? */
static bool has_model(const struct learned_list *l, const char *host,
                      const char *model, time_t now)
{
  for(size_t i = 0; i < l->n; i++) {
    const struct learned_entry *e = &l->v[i];
    if(e->expires > (long long)now && !strcmp(e->model, model) &&
       !strcmp(e->host, host))
      return true;
  }
  return false;
}

/* The triple's newest entry in l unexpired at now (the first of equals),
 * or NULL; l may be NULL. */
static const struct learned_entry *newest(const struct learned_list *l,
                                          const char *host,
                                          const char *model, const char *fp,
                                          time_t now)
{
  const struct learned_entry *best = NULL;
  for(size_t i = 0; l && i < l->n; i++) {
    const struct learned_entry *e = &l->v[i];
    if(e->expires > (long long)now && !strcmp(e->model, model) &&
       !strcmp(e->host, host) && !strcmp(e->fp, fp) &&
       (!best || e->learned > best->learned))
      best = e;
  }
  return best;
}

/* Does the triple's word (mem's newest entry or file's, mem's on a tie)
 * say direction dir at now? (learned_mu held; file may be NULL.) */
static bool holds(const struct learned_list *file, const char *host,
                  const char *model, const char *fp, enum refusal_dir dir,
                  time_t now)
{
  const struct learned_entry *m = newest(&mem, host, model, fp, now);
  const struct learned_entry *f = newest(file, host, model, fp, now);
  const struct learned_entry *w = m && f ? (f->learned > m->learned ? f : m)
                                  : m ? m : f;
  return w && w->dir == dir;
}

/* Count mem's pending entries into pending_n (learned_mu held). */
static void recount(void)
{
  size_t n = 0;
  for(size_t i = 0; i < mem.n; i++)
    n += mem.v[i].pending;
  atomic_store(&pending_n, n);
}

/* Drop the entries of mem that a forget record of the file covers
 * (learned_mu held). */
static void apply_forgets(const struct learned_list *file)
{
  if(!file->nf)
    return;
  for(size_t i = mem.n; i-- > 0;)
    if(learned_forgotten(file, &mem.v[i], mem.v[i].noted_ns))
      learned_list_remove(&mem, i);
  recount();
}

/* Make snap the current content of path (learned_mu held). */
static void refresh(const char *path)
{
  struct learned_stamp now_st;
  if(!snap_path || strcmp(snap_path, path)) {
    char *dup = strdup(path);
    if(!dup)
      return;
    free(snap_path);
    snap_path = dup;
    learned_list_free(&snap);
    memset(&snap_stamp, 0, sizeof(snap_stamp));
    snap_stamp.exists = true;  /* differs from any lstat: read below */
    snap_stamp.ino = (ino_t)-1;
  }
  learned_file_stamp(path, &now_st);
  if(learned_stamp_same(&now_st, &snap_stamp))
    return;
  learned_list_free(&snap);
  if(learned_file_read(path, &snap, &snap_stamp) < 0)
    snap_stamp = now_st;  /* unreadable: try again when it changes */
  else if(pend_path && !strcmp(pend_path, path))
    apply_forgets(&snap);
}

bool learned_known(const struct ss_config *c, const char *host,
                   const char *model, time_t now)
{
  pthread_mutex_lock(&learned_mu);
  const char *path = cache_path(c);
  if(path)
    refresh(path);
  bool known = has_model(&mem, host, model, now) ||
               (path && has_model(&snap, host, model, now));
  pthread_mutex_unlock(&learned_mu);
  return known;
}

bool learned_lookup(const struct ss_config *c, const char *host,
                    const char *model, const char *fp, enum refusal_dir dir,
                    time_t now)
{
  pthread_mutex_lock(&learned_mu);
  const char *path = cache_path(c);
  if(path)
    refresh(path);
  bool found = holds(path ? &snap : NULL, host, model, fp, dir, now);
  pthread_mutex_unlock(&learned_mu);
  return found;
}

/* The entry learned_add records, and the edit that puts it in a list. */
struct learned_new {
  const char *host, *model, *fp, *rule;
  enum refusal_dir dir;
  long long learned, expires;
};

/* Replace the triple's entry in l (either direction) with the new one. */
static size_t put_new(struct learned_list *l, void *arg)
{
  const struct learned_new *e = arg;
  long i;
  while((i = learned_list_find(l, e->host, e->model, e->fp)) >= 0)
    learned_list_remove(l, (size_t)i);
  return learned_list_put(l, e->host, e->model, e->fp, e->dir, e->rule,
                          e->learned, e->expires) ? 1 : 0;
}

/* Can the entry go to the file at all? */
static bool fits_file(const struct learned_new *e)
{
  return strlen(e->host) <= LEARNED_MAX_FIELD &&
         strlen(e->model) <= LEARNED_MAX_FIELD &&
         strlen(e->rule) <= LEARNED_MAX_FIELD && *e->rule;
}

/* Make path the target of pending entries (learned_mu held): entries
 * pending for another path (only tests change it) stay in memory only.
 * False when memory runs out. */
static bool pend_to(const char *path)
{
  if(pend_path && !strcmp(pend_path, path))
    return true;
  char *dup = strdup(path);
  if(!dup)
    return false;
  for(size_t i = 0; i < mem.n; i++)
    mem.v[i].pending = false;
  free(pend_path);
  pend_path = dup;
  return true;
}

void learned_add(const struct ss_config *c, const char *host,
                 const char *model, const char *fp, enum refusal_dir dir,
                 const char *rule, time_t now)
{
  struct learned_new e = {host, model, fp, rule && *rule ? rule : "?", dir,
                          (long long)now, (long long)now + c->cache_ttl};
  if(c->cache_ttl <= 0 || !host || !model || !fp || !learned_fp_valid(fp))
    return;
  long long noted = learned_clock_ns();
  pthread_mutex_lock(&learned_mu);
  const char *path = cache_path(c);
  /* learn once: a burst of refusals of one triple is one entry; the
   * other direction's word is replaced */
  bool known = holds(path && snap_path && !strcmp(snap_path, path) ? &snap
                                                                   : NULL,
                     host, model, fp, dir, now);
  if(!known && put_new(&mem, &e)) {
    struct learned_entry *n = &mem.v[mem.n - 1];
    n->noted_ns = noted;
    n->pending = path && fits_file(&e) && pend_to(path);
    learned_list_prune(&mem, now, LEARNED_MAX_ENTRIES);
    recount();
  }
  pthread_mutex_unlock(&learned_mu);
}

/* ---- writing the pending entries -------------------------------------- */

/* The edit of a flush: the batch (a copy of the pending entries) into
 * the file's entries, except what a forget record covers (noted before
 * a forget: dropped, never written back); a newer entry of the same
 * triple stays, and so does one of the same time and direction (the
 * batch's wins a tie of the other direction: the newest word, as far as
 * seconds tell, and what this process's lookups said). */
static size_t merge_batch(struct learned_list *l, void *arg)
{
  const struct learned_list *b = arg;
  size_t changes = 0;
  for(size_t i = 0; i < b->n; i++) {
    const struct learned_entry *e = &b->v[i];
    long k = learned_list_find(l, e->host, e->model, e->fp);
    if(learned_forgotten(l, e, e->noted_ns))
      continue;
    if(k < 0 || l->v[k].learned < e->learned ||
       (l->v[k].learned == e->learned && l->v[k].dir != e->dir)) {
      struct learned_new n = {e->host, e->model, e->fp, e->rule, e->dir,
                              e->learned, e->expires};
      changes += put_new(l, &n);
    }
  }
  return changes;
}

/* Copy mem's pending entries into b and pend_path into *path; false when
 * there are none or memory runs out. */
static bool take_batch(struct learned_list *b, char **path)
{
  pthread_mutex_lock(&learned_mu);
  *path = atomic_load(&pending_n) && pend_path ? strdup(pend_path) : NULL;
  bool ok = *path != NULL;
  for(size_t i = 0; ok && i < mem.n; i++) {
    const struct learned_entry *e = &mem.v[i];
    if(!e->pending)
      continue;
    ok = learned_list_put(b, e->host, e->model, e->fp, e->dir, e->rule,
                          e->learned, e->expires);
    if(ok)
      b->v[b->n - 1].noted_ns = e->noted_ns;
  }
  pthread_mutex_unlock(&learned_mu);
  return ok && b->n;
}

/* The index of mem's pending entry that b's entry i copied, or -1. */
static long pending_of(const struct learned_list *b, size_t i)
{
  const struct learned_entry *e = &b->v[i];
  long k = learned_list_find(&mem, e->host, e->model, e->fp);
  return k >= 0 && mem.v[k].pending && mem.v[k].noted_ns == e->noted_ns
         ? k : -1;
}

/* Record a flush's outcome (learned_mu taken here): written or forgotten
 * entries leave mem, the file as written becomes snap; a file that cannot
 * be written leaves them in memory only; a busy lock leaves them pending. */
static void settle(const struct learned_list *b, const char *path, int rc,
                   struct learned_list *written,
                   const struct learned_stamp *st)
{
  pthread_mutex_lock(&learned_mu);
  for(size_t i = b->n; rc != LEARNED_FILE_BUSY && i-- > 0;) {
    long k = pending_of(b, i);
    if(k >= 0 && rc == LEARNED_FILE_OK)
      learned_list_remove(&mem, (size_t)k);
    else if(k >= 0)
      mem.v[k].pending = false;
  }
  if(rc == LEARNED_FILE_OK) {
    apply_forgets(written);
    if(snap_path && !strcmp(snap_path, path)) {
      learned_list_free(&snap);
      snap = *written;
      snap_stamp = *st;
      learned_list_init(written);
    }
  }
  recount();
  pthread_mutex_unlock(&learned_mu);
}

/* One attempt at writing the pending entries (file_mu held), the lock
 * tried once. */
static int flush_once(time_t now)
{
  struct learned_list b, written;
  struct learned_stamp st;
  char *path = NULL;
  learned_list_init(&b);
  learned_list_init(&written);
  int rc = LEARNED_FILE_OK;
  if(take_batch(&b, &path)) {
    rc = learned_file_update(path, true, now, 0, merge_batch, &b, NULL,
                             &written, &st);
    settle(&b, path, rc, &written, &st);
  }
  learned_list_free(&written);
  learned_list_free(&b);
  free(path);
  return rc;
}

int learned_flush_at(time_t now, long wait_ms)
{
  int rc;
  int saved = errno;
  for(long waited = 0, step = 1;; waited += step) {
    pthread_mutex_lock(&file_mu);
    rc = flush_once(now);
    pthread_mutex_unlock(&file_mu);
    if(rc != LEARNED_FILE_BUSY || waited >= wait_ms)
      break;
    /* the lock is free again within one small rewrite, usually */
    step = step * 2 > 16 ? 16 : step * 2;
    if(step > wait_ms - waited)
      step = wait_ms - waited;
    struct timespec ts = {0, step * 1000000L};
    nanosleep(&ts, NULL);
  }
  errno = saved;
  return rc;
}

void learned_flush(void)
{
  if(!atomic_load_explicit(&pending_n, memory_order_relaxed))
    return;
  learned_flush_at(time(NULL), 0);
}

size_t learned_pending(void)
{
  return atomic_load(&pending_n);
}

void learned_discard_pending(void)
{
  pthread_mutex_lock(&learned_mu);
  for(size_t i = 0; i < mem.n; i++)
    mem.v[i].pending = false;
  recount();
  pthread_mutex_unlock(&learned_mu);
}

/* What is still pending at exit gets a last chance, waiting for the lock
 * a while: a process that learned during a busy spell keeps its entries.
 * Nothing at all in a process that learned nothing. */
__attribute__((destructor)) static void learned_at_exit(void)
{
  if(atomic_load_explicit(&pending_n, memory_order_relaxed))
    learned_flush_at(time(NULL), LEARNED_EXIT_WAIT_MS);
}

void learned_reset_for_tests(void)
{
  pthread_mutex_lock(&file_mu);
  pthread_mutex_lock(&learned_mu);
  learned_list_free(&mem);
  learned_list_free(&snap);
  free(snap_path);
  snap_path = NULL;
  free(pend_path);
  pend_path = NULL;
  default_found = false;  /* a new process reads its environment */
  atomic_store(&pending_n, 0);
  memset(&snap_stamp, 0, sizeof(snap_stamp));
  pthread_mutex_unlock(&learned_mu);
  pthread_mutex_unlock(&file_mu);
}
