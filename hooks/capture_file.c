/* capture_file.c - appending records to the capture file (see capture.h).
 *
 * The file is opened on the first record with safe_open: created mode
 * 0600, never through a symlink (O_NOFOLLOW: a link another user planted
 * cannot send the records to a file of his choosing), a regular file of
 * the effective user, not hard-linked elsewhere. Before each record the
 * descriptor is checked against the path (same device and inode): a
 * program that closed its descriptors and opened others under the same
 * number (a daemon does) never gets a record in its own file or socket,
 * and a file deleted or rotated meanwhile is created again. Each record
 * is one write(2) on the O_APPEND descriptor, so records of threads and
 * processes sharing the file never interleave; a write cut short (a full
 * disk) is taken back when nothing was appended after it, so it leaves
 * no torn line. A file that cannot be opened or written is logged once;
 * the transfers are not disturbed either way. */
#include "capture_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../shim/log.h"
#include "../shim/safe_file.h"

/* Above the descriptors programs use for themselves. */
#define CAP_FD_MIN 512

static pthread_mutex_t file_mu = PTHREAD_MUTEX_INITIALIZER;
static int file_fd = -1;
static dev_t file_dev;
static ino_t file_ino;
static bool open_failed, write_failed;

static void lock_file(void) { pthread_mutex_lock(&file_mu); }
static void unlock_file(void) { pthread_mutex_unlock(&file_mu); }

/* At load, before any thread can take the lock (as learned.c does). */
__attribute__((constructor)) static void install_atfork(void)
{
  pthread_atfork(lock_file, unlock_file, unlock_file);
}

/* Open path (logged once when it cannot be); -1 on failure. */
static int open_capture(const char *path)
{
  int fd = safe_open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600,
                     SS_SAFE_NOFOLLOW | SS_SAFE_MINE);
  struct stat sb;
  if(fd >= 0 && (fstat(fd, &sb) || sb.st_nlink > 1)) {
    close(fd);
    fd = -1;
    errno = EMLINK;
  }
  if(fd < 0) {
    if(!open_failed)
      ss_error("capture: cannot write %s: %s; nothing is captured", path,
               errno == EMLINK ? "it has other hard links"
                               : safe_open_why(errno));
    open_failed = true;
    return -1;
  }
  int high = fcntl(fd, F_DUPFD_CLOEXEC, CAP_FD_MIN);
  if(high >= 0) {
    close(fd);
    fd = high;
  }
  file_dev = sb.st_dev;
  file_ino = sb.st_ino;
  return fd;
}

/* Is fd still the file at path? */
static bool still_ours(int fd, const char *path)
{
  struct stat at_fd, at_path;
  return !fstat(fd, &at_fd) && at_fd.st_dev == file_dev &&
         at_fd.st_ino == file_ino && !lstat(path, &at_path) &&
         at_path.st_dev == file_dev && at_path.st_ino == file_ino;
}

/* The descriptor for path, opened again when it no longer is the file
 * there (a descriptor the program reused is left alone: it is its own);
 * -1 when it cannot be. */
static int capture_fd(const char *path)
{
  lock_file();
  if(file_fd >= 0 && !still_ours(file_fd, path))
    file_fd = -1;
  if(file_fd < 0 && !open_failed)
    file_fd = open_capture(path);
  int fd = file_fd;
  unlock_file();
  return fd;
}

/* A write cut short: take it back when it is the file's last bytes. */
static void take_back(int fd, size_t written)
{
  struct stat sb;
  off_t end = lseek(fd, 0, SEEK_CUR);
  if(written && end >= (off_t)written && !fstat(fd, &sb) && sb.st_size == end &&
     ftruncate(fd, end - (off_t)written)) {
    /* nothing more to do: the line stays torn */
  }
}

void cap_write(const char *path, const struct buf *line)
{
  if(!path || line->oom || !line->len)
    return;
  int saved = errno;
  int fd = capture_fd(path);
  if(fd < 0) {
    errno = saved;
    return;
  }
  ssize_t w = safe_write(fd, line->ptr, line->len);
  if(w != (ssize_t)line->len) {
    int err = w < 0 ? errno : ENOSPC;
    if(w > 0)
      take_back(fd, (size_t)w);
    lock_file();
    bool first = !write_failed;
    write_failed = true;
    unlock_file();
    if(first)
      ss_error("capture: writing %s failed (%s); records are lost", path,
               strerror(err));
  }
  errno = saved;
}
