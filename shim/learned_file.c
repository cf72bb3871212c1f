/* learned_file.c - reading and rewriting the learned-refusal cache file
 * (format and locking scheme in learned_file.h). No libcurl.
 *
 * Every function fails soft: it returns an error and leaves the file as
 * it was. Files are opened O_CLOEXEC (the host may fork and exec at any
 * time) and O_NOFOLLOW (the file, its lock and its temporary file are
 * never symlinks we follow); a file to read must be a regular file owned
 * by the effective user. The lock is waited for LOCK_WAIT_MS at most: a
 * stuck writer must not stall the host program's request. */
#include "learned_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* A writer holds the lock for one read, write and rename of a small file;
 * the learning writer runs inside the host's write callback, which must
 * not stall for long. */
#define LOCK_WAIT_MS 250
#define LOCK_STEP_MS 2

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
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if(fd < 0)
    return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
  int rc = -1;
  if(!fstat(fd, &sb) && S_ISREG(sb.st_mode) && sb.st_uid == geteuid()) {
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

/* Open and flock "<path>.lock"; the fd (closing it unlocks) or -1. */
static int lock_file(const char *path)
{
  char *name = path_with(path, ".lock");
  int fd = name ? open(name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
                                 O_NOCTTY, 0600) : -1;
  free(name);
  for(int waited = 0; fd >= 0; waited += LOCK_STEP_MS) {
    if(!flock(fd, LOCK_EX | LOCK_NB))
      return fd;
    if((errno != EWOULDBLOCK && errno != EINTR) || waited >= LOCK_WAIT_MS)
      break;
    struct timespec ts = {0, LOCK_STEP_MS * 1000000L};
    nanosleep(&ts, NULL);
  }
  if(fd >= 0)
    close(fd);
  return -1;
}

/* Write all of [p, p+n) to fd. */
static bool write_all(int fd, const char *p, size_t n)
{
  while(n) {
    ssize_t w = write(fd, p, n);
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
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW |
                         O_NOCTTY, 0600);
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
                        learned_edit_fn edit, void *arg, size_t *changed,
                        struct learned_list *written,
                        struct learned_stamp *st)
{
  struct learned_list l;
  struct learned_stamp old, fresh;
  struct buf text;
  if(create && !make_parents(path))
    return -1;
  int lock = lock_file(path);
  if(lock < 0)
    return -1;
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
  return ok ? 0 : -1;
}
