/* capture_file.c - appending records to the capture file (see capture.h).
 *
 * The file is opened once per process, on the first record, with
 * safe_open: created mode 0600, never through a symlink (O_NOFOLLOW: a
 * link another user planted cannot send the records to a file of his
 * choosing), a regular file of the effective user, not hard-linked
 * elsewhere. Each record is one write(2) on the O_APPEND descriptor, so
 * records of threads and processes sharing the file never interleave or
 * tear. A file that cannot be opened or written is logged once; the
 * transfers are not disturbed either way. */
#include "capture_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../shim/log.h"
#include "../shim/safe_file.h"

static pthread_mutex_t file_mu = PTHREAD_MUTEX_INITIALIZER;
static int file_fd = -1;
static bool open_failed, write_failed;

static void lock_file(void) { pthread_mutex_lock(&file_mu); }
static void unlock_file(void) { pthread_mutex_unlock(&file_mu); }

/* At load, before any thread can take the lock (as learned.c does). */
__attribute__((constructor)) static void install_atfork(void)
{
  pthread_atfork(lock_file, unlock_file, unlock_file);
}

/* The descriptor, opened on first use; -1 when it cannot be. */
static int capture_fd(const char *path)
{
  lock_file();
  if(file_fd < 0 && !open_failed) {
    int saved = errno;
    int fd = safe_open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600,
                       SS_SAFE_NOFOLLOW | SS_SAFE_MINE);
    struct stat sb;
    if(fd >= 0 && !fstat(fd, &sb) && sb.st_nlink > 1) {
      close(fd);
      fd = -1;
      errno = EMLINK;
    }
    if(fd < 0) {
      open_failed = true;
      ss_error("capture: cannot write %s: %s; nothing is captured", path,
               errno == EMLINK ? "it has other hard links"
                               : ss_file_why(errno));
    }
    file_fd = fd;
    errno = saved;
  }
  int fd = file_fd;
  unlock_file();
  return fd;
}

void cap_write(const char *path, const struct buf *line)
{
  if(!path || line->oom || !line->len)
    return;
  int fd = capture_fd(path);
  if(fd < 0)
    return;
  int saved = errno;
  ssize_t w = safe_write(fd, line->ptr, line->len);
  if(w != (ssize_t)line->len) {
    lock_file();
    bool first = !write_failed;
    write_failed = true;
    unlock_file();
    if(first)
      ss_error("capture: writing %s failed (%s); records are lost", path,
               w < 0 ? strerror(errno) : "short write");
  }
  errno = saved;
}
