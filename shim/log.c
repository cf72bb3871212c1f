/* log.c - the shim's log (see log.h). */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static enum ss_log_level log_level = SS_LOG_OFF;
static int log_fd = 2;

static const char *const level_names[] = {"off", "error", "warn", "info",
                                          "debug"};

/* Map a level name (or digit) to a level; -1 if unknown. */
static int parse_level(const char *s, size_t n)
{
  if(n == 1 && s[0] >= '0' && s[0] <= '4')
    return s[0] - '0';
  for(int i = 0; i <= SS_LOG_DEBUG; i++)
    if(strlen(level_names[i]) == n && !strncasecmp(s, level_names[i], n))
      return i;
  return -1;
}

int ss_log_open(const char *spec)
{
  if(!spec || !*spec)
    return 0;
  const char *colon = strchr(spec, ':');
  size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
  int lvl = parse_level(spec, n);
  if(lvl < 0) {
    log_level = SS_LOG_WARN;
    return -1;
  }
  if(colon && colon[1]) {
    int fd = open(colon + 1, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if(fd < 0) {
      log_level = SS_LOG_WARN;
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
  char line[1024];
  int saved = errno;
  int n = snprintf(line, sizeof(line), "streamshim[%ld]: %s: ", (long)getpid(),
                   level_names[level]);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if(len > sizeof(line) - 2)
    len = sizeof(line) - 2;
  line[len++] = '\n';
  ssize_t w = write(log_fd, line, len);
  (void)w;
  errno = saved;
}
