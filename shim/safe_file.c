/* safe_file.c - opening the shim's own files (see safe_file.h). */
#include "safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int safe_open(const char *path, int flags, mode_t mode, unsigned how)
{
  struct stat sb;
  int extra = O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  if(how & SS_SAFE_NOFOLLOW)
    extra |= O_NOFOLLOW;
  if(!path || !*path) {
    errno = ENOENT;
    return -1;
  }
  int fd;
  do
    fd = open(path, flags | extra, mode);
  while(fd < 0 && errno == EINTR);
  if(fd < 0)
    return -1;
  int err = 0;
  if(fstat(fd, &sb))
    err = errno;
  else if(!S_ISREG(sb.st_mode))
    err = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
  else if((how & SS_SAFE_MINE) && sb.st_uid != geteuid() &&
          !((how & SS_SAFE_ROOT_OK) && sb.st_uid == 0))
    err = EPERM;
  /* a regular file: blocking I/O from here on, as the caller expects */
  else if(!(flags & O_NONBLOCK) &&
          fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
    err = errno;
  if(err) {
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}
