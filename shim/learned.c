/* learned.c - refusals learned at run time (see learned.h; the file's
 * format and locking are in learned_file.h). No libcurl.
 *
 * The process keeps two lists under one mutex:
 * - mem: what this process learned and could not put in the file (no
 *   path, "off", a write failure, a name over LEARNED_MAX_FIELD bytes);
 *   it lives as long as the process (until its entries expire);
 * - snap: the file as last read, with its stamp. A lookup lstat()s the
 *   file and re-reads it only when the stamp changed (every rewrite
 *   renames a new inode in), so the usual lookup costs one lstat.
 * Entries this process wrote to the file are then trusted to the file:
 * `streamshim models --forget` reaches running processes too.
 *
 * The mutex is never held while waiting for the file lock: learned_add
 * rewrites the file first (serialised by flock, which also orders threads
 * of one process, as each opens the lock file itself) and then takes the
 * mutex to record the outcome. Nothing here calls into libcurl.
 *
 * The default path uses secure_getenv (XDG_CACHE_HOME, then HOME; only
 * absolute values count), so under AT_SECURE there is no default file
 * even if a caller got this far. A cache path that is not absolute is
 * ignored (memory only): it would name a different file in each working
 * directory. A cache_ttl of 0 learns nothing. */
#include "learned.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learned_file.h"
#include "sha256.h"

static pthread_mutex_t learned_mu = PTHREAD_MUTEX_INITIALIZER;
static struct learned_list mem;        /* learned here, not in the file */
static struct learned_list snap;       /* the file as last read */
static struct learned_stamp snap_stamp;
static char *snap_path;                /* the file snap was read from */

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

/* Is the triple in l and unexpired at now? */
static bool holds(const struct learned_list *l, const char *host,
                  const char *model, const char *fp, time_t now)
{
  for(size_t i = 0; i < l->n; i++) {
    const struct learned_entry *e = &l->v[i];
    if(e->expires > (long long)now && !strcmp(e->model, model) &&
       !strcmp(e->host, host) && !strcmp(e->fp, fp))
      return true;
  }
  return false;
}

/* Make snap the current content of path (caller holds the mutex). */
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
}

bool learned_lookup(const struct ss_config *c, const char *host,
                    const char *model, const char *fp, time_t now)
{
  char buf[PATH_MAX];
  const char *path = learned_path(c, buf, sizeof(buf));
  pthread_mutex_lock(&learned_mu);
  bool found = holds(&mem, host, model, fp, now);
  if(!found && path) {
    refresh(path);
    found = holds(&snap, host, model, fp, now);
  }
  pthread_mutex_unlock(&learned_mu);
  return found;
}

/* The entry learned_add writes, and the edit that puts it in a list. */
struct learned_new {
  const char *host, *model, *fp, *rule;
  long long learned, expires;
};

/* Replace the triple's entry in l with the new one. */
static size_t put_new(struct learned_list *l, void *arg)
{
  const struct learned_new *e = arg;
  long i;
  while((i = learned_list_find(l, e->host, e->model, e->fp)) >= 0)
    learned_list_remove(l, (size_t)i);
  return learned_list_put(l, e->host, e->model, e->fp, e->rule, e->learned,
                          e->expires) ? 1 : 0;
}

/* Can the entry go to the file at all? */
static bool fits_file(const struct learned_new *e)
{
  return strlen(e->host) <= LEARNED_MAX_FIELD &&
         strlen(e->model) <= LEARNED_MAX_FIELD &&
         strlen(e->rule) <= LEARNED_MAX_FIELD && *e->rule;
}

void learned_add(const struct ss_config *c, const char *host,
                 const char *model, const char *fp, const char *rule,
                 time_t now)
{
  struct learned_list written;
  struct learned_stamp st;
  struct learned_new e = {host, model, fp, rule && *rule ? rule : "?",
                          (long long)now, (long long)now + c->cache_ttl};
  if(c->cache_ttl <= 0 || !host || !model || !fp || !learned_fp_valid(fp))
    return;
  char buf[PATH_MAX];
  const char *p = learned_path(c, buf, sizeof(buf));
  char *path = p ? strdup(p) : NULL;
  size_t changed = 0;
  learned_list_init(&written);
  bool in_file = path && fits_file(&e) &&
                 !learned_file_update(path, true, now, put_new, &e, &changed,
                                      &written, &st) && changed;
  pthread_mutex_lock(&learned_mu);
  long i = learned_list_find(&mem, host, model, fp);
  if(i >= 0)
    learned_list_remove(&mem, (size_t)i);
  if(in_file && snap_path && !strcmp(snap_path, path)) {
    learned_list_free(&snap);
    snap = written;
    snap_stamp = st;
    learned_list_init(&written);
  }
  if(!in_file) {
    put_new(&mem, &e);
    learned_list_prune(&mem, now, LEARNED_MAX_ENTRIES);
  }
  pthread_mutex_unlock(&learned_mu);
  learned_list_free(&written);
  free(path);
}

void learned_reset_for_tests(void)
{
  pthread_mutex_lock(&learned_mu);
  learned_list_free(&mem);
  learned_list_free(&snap);
  free(snap_path);
  snap_path = NULL;
  memset(&snap_stamp, 0, sizeof(snap_stamp));
  pthread_mutex_unlock(&learned_mu);
}
