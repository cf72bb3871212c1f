/* learned_file.c - reading and rewriting the learned-refusal cache file
 * (format and locking scheme in learned_file.h). No libcurl.
 *
 * Every function fails soft: it returns an error and leaves the file as
 * it was. Files are opened with safe_open (safe_file.h): O_CLOEXEC (the
 * host may fork and exec at any time), never blocking in open (a FIFO),
 * never through a symlink, regular files of the effective user only. The
 * lock is waited for as long as the caller says: the library tries once
 * from its flush points and waits only at exit (learned.c); the ctl
 * waits long. */
#include "learned_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../shim/safe_file.h"

#define SAFE_MINE (SS_SAFE_NOFOLLOW | SS_SAFE_MINE)
#define LOCK_STEP_MAX_MS 16  /* the longest pause between two tries */

/* The stamp of an open file or an lstat result. */
static void stamp_of(const struct stat *sb, struct learned_stamp *st)
{
  st->exists = true;
  st->dev = sb->st_dev;
  st->ino = sb->st_ino;
  st->size = sb->st_size;
  st->mtime = sb->st_mtim;
}

void learned_file_stamp(const char *path, struct learned_stamp *st)
{
  struct stat sb;
  memset(st, 0, sizeof(*st));
  if(!lstat(path, &sb))
    stamp_of(&sb, st);
}

bool learned_stamp_same(const struct learned_stamp *a,
                        const struct learned_stamp *b)
{
  if(a->exists != b->exists)
    return false;
  return !a->exists ||
         (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
          a->mtime.tv_sec == b->mtime.tv_sec &&
          a->mtime.tv_nsec == b->mtime.tv_nsec);
}

/* Read all of fd (at most LEARNED_FILE_MAX bytes, cut after the last
 * whole line when longer) and parse it; false on a read error. */
static bool read_entries(int fd, size_t size, struct learned_list *out)
{
  size_t cap = size < LEARNED_FILE_MAX ? size + 1 : LEARNED_FILE_MAX;
  char *text = malloc(cap);
  size_t n = 0;
  ssize_t r = 1;
  while(text && n < cap && r > 0) {
    r = read(fd, text + n, cap - n);
    if(r < 0 && errno == EINTR)
      r = 1;
    else if(r > 0)
      n += (size_t)r;
  }
  if(text && r >= 0) {
    if(n == cap && r > 0) {  /* too long: keep whole lines only */
      while(n && text[n - 1] != '\n')
        n--;
    }
    learned_parse(text, n, out);
  }
  free(text);
  return text && r >= 0;
}

int learned_file_read(const char *path, struct learned_list *out,
                      struct learned_stamp *st)
{
  struct stat sb;
  memset(st, 0, sizeof(*st));
  int fd = safe_open(path, O_RDONLY, 0, SAFE_MINE);
  if(fd < 0)
    return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
  int rc = -1;
  if(!fstat(fd, &sb)) {
    stamp_of(&sb, st);
    rc = read_entries(fd, (size_t)sb.st_size, out) ? 1 : -1;
  }
  close(fd);
  return rc;
}

/* Create the missing directories above path, mode 0700; false when one
 * cannot be made (existing ones are left as they are). */
static bool make_parents(const char *path)
{
  char *p = strdup(path);
  bool ok = p != NULL;
  for(char *s = p ? strchr(p + 1, '/') : NULL; ok && s; s = strchr(s + 1, '/')) {
    *s = '\0';
    if(mkdir(p, 0700) && errno != EEXIST)
      ok = false;
    *s = '/';
  }
  free(p);
  return ok;
}

/* path + suffix in a malloc'ed string. */
static char *path_with(const char *path, const char *suffix)
{
  size_t a = strlen(path), b = strlen(suffix);
  char *s = malloc(a + b + 1);
  if(s) {
    memcpy(s, path, a);
    memcpy(s + a, suffix, b + 1);
  }
  return s;
}

/* Sleep ms milliseconds. */
static void pause_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Open and flock "<path>.lock", waiting up to wait_ms; the fd (closing
 * it unlocks), or LEARNED_FILE_BUSY or LEARNED_FILE_FAILED. */
static int lock_file(const char *path, long wait_ms)
{
  char *name = path_with(path, ".lock");
  int fd = name ? safe_open(name, O_RDWR | O_CREAT, 0600, SAFE_MINE) : -1;
  free(name);
  if(fd < 0)
    return LEARNED_FILE_FAILED;
  /* short pauses first (a writer holds it for one small rewrite), then
   * longer ones, never more than LOCK_STEP_MAX_MS */
  for(long waited = 0, step = 1;; waited += step) {
    if(!flock(fd, LOCK_EX | LOCK_NB))
      return fd;
    if((errno != EWOULDBLOCK && errno != EINTR) || waited >= wait_ms)
      break;
    step = step * 2 > LOCK_STEP_MAX_MS ? LOCK_STEP_MAX_MS : step * 2;
    if(step > wait_ms - waited)
      step = wait_ms - waited;
    pause_ms(step);
  }
  int busy = errno == EWOULDBLOCK || errno == EINTR;
  close(fd);
  return busy ? LEARNED_FILE_BUSY : LEARNED_FILE_FAILED;
}

/* Write all of [p, p+n) to fd. */
static bool write_all(int fd, const char *p, size_t n)
{
  while(n) {
    ssize_t w = safe_write(fd, p, n);  /* EFBIG, not SIGXFSZ */
    if(w < 0 && errno == EINTR)
      continue;
    if(w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Write the text to "<path>.tmp.<pid>" and rename it over path; the new
 * file's stamp into *st. False (no temporary left behind) on failure. */
static bool replace_file(const char *path, const struct buf *text,
                         struct learned_stamp *st)
{
  char suffix[32];
  struct stat sb;
  snprintf(suffix, sizeof(suffix), ".tmp.%ld", (long)getpid());
  char *tmp = path_with(path, suffix);
  if(!tmp)
    return false;
  unlink(tmp);  /* a dead process's, with our pid; we hold the lock */
  int fd = safe_open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600, SAFE_MINE);
  bool ok = fd >= 0 && write_all(fd, text->ptr, text->len) && !fsync(fd) &&
            !fstat(fd, &sb);
  if(fd >= 0 && close(fd))
    ok = false;
  if(ok && rename(tmp, path))
    ok = false;
  if(fd >= 0 && !ok)
    unlink(tmp);
  if(ok)
    stamp_of(&sb, st);
  free(tmp);
  return ok;
}

int learned_file_update(const char *path, bool create, time_t now,
                        long wait_ms, learned_edit_fn edit, void *arg,
                        size_t *changed, struct learned_list *written,
                        struct learned_stamp *st)
{
  struct learned_list l;
  struct learned_stamp old, fresh;
  struct buf text;
  if(create && !make_parents(path))
    return LEARNED_FILE_FAILED;
  int lock = lock_file(path, wait_ms);
  if(lock < 0)
    return lock;
  learned_list_init(&l);
  buf_init(&text);
  int got = learned_file_read(path, &l, &old);
  size_t edits = got >= 0 && (got || create) ? edit(&l, arg) : 0;
  size_t pruned = got > 0 || edits ? learned_list_prune(&l, now,
                                                        LEARNED_MAX_ENTRIES) : 0;
  bool ok = got >= 0;
  fresh = old;
  if(ok && (edits || pruned))
    ok = learned_format(&l, &text) && replace_file(path, &text, &fresh);
  close(lock);
  if(ok && changed)
    *changed = edits;
  if(ok && st)
    *st = fresh;
  if(ok && written) {
    learned_list_free(written);
    *written = l;
  } else {
    learned_list_free(&l);
  }
  buf_free(&text);
  return ok ? LEARNED_FILE_OK : LEARNED_FILE_FAILED;
}

/* ---- what stands against a cache (for `streamshim models`) ------------ */

/* What is wrong with an existing file to be used as ours, or NULL. */
static const char *kind_problem(const struct stat *sb, char *buf, size_t cap)
{
  if(S_ISLNK(sb->st_mode))
    return "a symlink (never followed)";
  if(S_ISDIR(sb->st_mode))
    return "a directory";
  if(S_ISFIFO(sb->st_mode))
    return "a FIFO, not a regular file";
  if(!S_ISREG(sb->st_mode))
    return "not a regular file";
  if(sb->st_uid != geteuid()) {
    snprintf(buf, cap, "owned by uid %lu, not by this user",
             (unsigned long)sb->st_uid);
    return buf;
  }
  return NULL;
}

/* The directory of path (malloc'ed), or NULL. */
static char *dir_of(const char *path)
{
  const char *slash = strrchr(path, '/');
  size_t n = slash && slash > path ? (size_t)(slash - path) : 1;
  char *d = malloc(n + 1);
  if(d) {
    memcpy(d, slash ? path : ".", n);
    d[n] = '\0';
  }
  return d;
}

/* What keeps the directory of path (or the nearest one that exists)
 * from holding the cache, in buf, or NULL. */
static const char *dir_problem(const char *path, char *buf, size_t cap)
{
  struct stat sb;
  const char *why = NULL;
  char *d = dir_of(path);
  while(d && lstat(d, &sb) && (errno == ENOENT || errno == ENOTDIR) &&
        strcmp(d, "/")) {
    char *up = dir_of(d);
    free(d);
    d = up;
  }
  if(d && !lstat(d, &sb) && !S_ISDIR(sb.st_mode))
    snprintf(buf, cap, "%s is not a directory", d), why = buf;
  else if(d && access(d, W_OK | X_OK))
    snprintf(buf, cap, "%s is not writable", d), why = buf;
  free(d);
  return why;
}

const char *learned_file_problem(const char *path, char *buf, size_t cap)
{
  struct stat sb;
  char why[128];
  const char *k;
  if(!lstat(path, &sb) && (k = kind_problem(&sb, why, sizeof(why)))) {
    snprintf(buf, cap, "%s", k);
    return buf;
  }
  char *lock = path_with(path, ".lock");
  k = lock && !lstat(lock, &sb) ? kind_problem(&sb, why, sizeof(why)) : NULL;
  free(lock);
  if(k) {
    snprintf(buf, cap, "its lock file is %s", k);
    return buf;
  }
  return dir_problem(path, buf, cap);
}
