/* log.c - the shim's log (see log.h). */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe_file.h"
#include "../hooks/pure/escape.h"
#include "../hooks/pure/log_spec.h"

static enum ss_log_level log_level = SS_LOG_OFF;
static int log_fd = 2;

/* Why the log file was refused; a missing file is created, so ENOENT
 * means a missing directory. */
static const char *log_file_why(int err)
{
  return err == ENOENT ? "cannot be opened: its directory does not exist"
                       : safe_open_why(err);
}

/* Open the log file: a regular file of the effective user's, never through
 * a symlink (the path may be in /tmp) and not a hard link of another file;
 * created 0600. A FIFO is refused too: a stalled reader would block the
 * host in write(2). The descriptor, or -1 with errno set. */
#define LOG_FD_MIN 520

static dev_t log_dev;   /* the log file's, when it is one */
static ino_t log_ino;
static bool log_file;

static int open_log_file(const char *path)
{
  int fd = safe_open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600,
                     SS_SAFE_NOFOLLOW | SS_SAFE_MINE);
  struct stat sb;
  if(fd >= 0 && (fstat(fd, &sb) || sb.st_nlink > 1)) {
    close(fd);
    errno = EMLINK;
    return -1;
  }
  if(fd < 0)
    return -1;
  /* above the numbers programs use, and known by its inode: a program
   * that closes its descriptors and opens others never gets log lines */
  int high = fcntl(fd, F_DUPFD_CLOEXEC, LOG_FD_MIN);
  if(high >= 0) {
    close(fd);
    fd = high;
  }
  log_dev = sb.st_dev;
  log_ino = sb.st_ino;
  log_file = true;
  return fd;
}

/* Is the log descriptor still the file it was opened as? */
static bool log_still_ours(void)
{
  struct stat sb;
  return !log_file || (!fstat(log_fd, &sb) && sb.st_dev == log_dev &&
                       sb.st_ino == log_ino);
}

/* A descriptor of the host's stdout of our own (the host may close or
 * reuse its fd 1), or -1. */
static int dup_stdout(void)
{
  return fcntl(1, F_DUPFD_CLOEXEC, 3);
}

int ss_log_open(const char *spec, const char *from)
{
  if(!spec || !*spec)
    return 0;
  const char *file;
  int lvl = log_spec_parse(spec, &file);
  if(lvl < 0) {
    log_level = SS_LOG_WARN;
    ss_log(SS_LOG_WARN, "%s: expected level[:file] with level one of off, "
           "error, warn, info, debug", from);
    return -1;
  }
  if(lvl == SS_LOG_OFF)
    return 0;
  enum log_target to = log_spec_target(file);
  if(to == LOG_TO_NOWHERE)
    return 0;  /* asked for silence */
  if(to != LOG_TO_STDERR) {
    int fd = to == LOG_TO_STDOUT ? dup_stdout() : open_log_file(file);
    if(fd < 0) {
      /* The user asked for a log: say once on stderr why it is not where
       * they asked, and keep errors and warnings there, not the chatter. */
      int err = errno;
      log_level = lvl < SS_LOG_WARN ? (enum ss_log_level)lvl : SS_LOG_WARN;
      ss_log(SS_LOG_WARN, "log file %s %s: not used, %s go to stderr",
             file, log_file_why(err),
             lvl > SS_LOG_ERROR ? "errors and warnings" : "errors");
      return -1;
    }
    log_fd = fd;
  }
  log_level = (enum ss_log_level)lvl;
  return 0;
}

enum ss_log_level ss_log_level(void)
{
  return log_level;
}

void ss_log(enum ss_log_level level, const char *fmt, ...)
{
  char msg[1024], line[2048];
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  size_t mlen = m < 0 ? 0 : (size_t)m < sizeof(msg) ? (size_t)m
                : sizeof(msg) - 1;
  int n = snprintf(line, sizeof(line), "streamshim[%ld]: %s: ",
                   (long)getpid(), log_level_name((int)level));
  size_t len = n < 0 ? 0 : (size_t)n;
  /* Escaped here, for every caller: names and paths come from requests,
   * the environment and files, and must not forge lines or reach a
   * terminal as control sequences. */
  escape_shown(line, &len, sizeof(line) - 1, msg, mlen);
  line[len++] = '\n';
  if(log_still_ours()) {
    ssize_t w = safe_write(log_fd, line, len);  /* no SIGPIPE, no SIGXFSZ */
    (void)w;
  }
  errno = saved;
}
