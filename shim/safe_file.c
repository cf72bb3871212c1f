/* safe_file.c - opening the shim's own files (see safe_file.h). */
#include "safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
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
  else if((how & SS_SAFE_UNSHARED) && (sb.st_mode & (S_IWGRP | S_IWOTH)))
    err = SS_EWRITABLE;
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

ssize_t safe_write(int fd, const void *p, size_t n)
{
  sigset_t block, old, before;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  sigaddset(&block, SIGXFSZ);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  sigpending(&before);
  ssize_t w = write(fd, p, n);
  int err = errno;
  /* a write that partly succeeded may have raised one too */
  sigset_t after;
  sigpending(&after);
  static const int sigs[] = {SIGPIPE, SIGXFSZ};
  for(size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
    struct timespec zero = {0, 0};
    sigset_t one;
    if(!sigismember(&after, sigs[i]) || sigismember(&before, sigs[i]))
      continue;
    sigemptyset(&one);
    sigaddset(&one, sigs[i]);
    while(sigtimedwait(&one, NULL, &zero) < 0 && errno == EINTR)
      ;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = err;
  return w;
}

const char *safe_open_why(int err)
{
  switch(err) {
  case ELOOP:
    return "is a symbolic link";
  case EISDIR:
    return "is a directory";
  case EINVAL:
  case ENXIO:
    return "is not a regular file";
  case EPERM:
    return "is owned by another user";
  case SS_EWRITABLE:
    return "is writable by group or others";
  case EMLINK:
    return "has other hard links";
  case ENOENT:
    return "does not exist";
  case EACCES:
    return "is not accessible";
  default:
    return "cannot be opened";
  }
}
