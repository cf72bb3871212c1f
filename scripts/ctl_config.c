/* ctl_config.c - the configuration as the library loads it (see
 * ctl_config.h). */
#include "ctl_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config_load.h"
#include "escape.h"

/* Standard input, as config_read_file reads a file: at most
 * CONFIG_FILE_MAX bytes; NULL with errno set when it cannot be read. */
static char *read_stdin(size_t *len)
{
  char *text = malloc(CONFIG_FILE_MAX);
  size_t n = 0, r;
  if(!text)
    return NULL;
  while(n < CONFIG_FILE_MAX &&
        (r = fread(text + n, 1, CONFIG_FILE_MAX - n, stdin)) > 0)
    n += r;
  if(ferror(stdin)) {
    free(text);
    errno = EIO;
    return NULL;
  }
  *len = n;
  return text;
}

bool ctl_config_load(struct ctl_config *c, const char *file,
                     const char *cache, config_warn_fn warn, void *arg)
{
  const char *msg;
  bool from_stdin = file && !strcmp(file, "-");
  config_init(&c->cfg);
  c->read_errno = 0;
  c->named = !file && getenv("STREAMSHIM_CONFIG");
  if(from_stdin)
    c->path = CTL_STDIN_NAME;
  else if(file)
    c->path = *file ? file : NULL;  /* "": none, as STREAMSHIM_CONFIG="" */
  else if(!(c->path = config_find(getenv, CONFIG_SYSTEM_FILE, c->found,
                                  sizeof(c->found))))
    c->read_errno = errno;  /* ENAMETOOLONG: named, and unusable */
  if(c->path) {
    size_t len = 0;
    char *text = from_stdin ? read_stdin(&len)
                            : config_read_file(c->path, &len);
    if(!text)
      c->read_errno = errno ? errno : EIO;
    else
      config_parse(&c->cfg, text, len, c->path, warn, arg);
    free(text);
  }
  config_apply_env(&c->cfg, warn, arg);
  if(cache && !config_set(&c->cfg, "cache", cache, false, &msg)) {
    fprintf(stderr, PROG ": --cache: %s\n", msg);
    return false;
  }
  return true;
}

void ctl_config_problem(const struct ctl_config *c, const char **where,
                        char *msg, size_t cap)
{
  const char *named = getenv("STREAMSHIM_CONFIG");
  *where = c->named ? "STREAMSHIM_CONFIG" : c->path ? c->path : "?";
  if(!c->path)
    snprintf(msg, cap, "a file name of %zu bytes, longer than %zu: ignored",
             named ? strlen(named) : 0, sizeof(c->found) - 1);
  else if(c->named)
    snprintf(msg, cap, "config %s %s: ignored", c->path,
             config_read_why(c->path, c->read_errno));
  else
    snprintf(msg, cap, "%s: ignored", config_read_why(c->path, c->read_errno));
}

void ctl_say(FILE *f, const char *fmt, ...)
{
  va_list ap, again;
  va_start(ap, fmt);
  va_copy(again, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
  struct buf b;
  buf_init(&b);
  if(text) {
    vsnprintf(text, (size_t)n + 1, fmt, again);
    escape_shown_buf(&b, text);
  }
  va_end(again);
  if(!b.oom)
    fwrite(b.ptr ? b.ptr : "", 1, b.len, f);
  fputc('\n', f);
  buf_free(&b);
  free(text);
}

void ctl_warn_stderr(void *arg, const char *where, unsigned line,
                     const char *msg)
{
  (void)arg;
  if(line)
    ctl_say(stderr, PROG ": config %s:%u: %s", where, line, msg);
  else
    ctl_say(stderr, PROG ": %s: %s", where, msg);
}

int ctl_stdout_checked(int rc, int fail)
{
  errno = 0;
  bool flushed = fflush(stdout) == 0;
  int err = errno;
  if(flushed && !ferror(stdout))
    return rc;
  if(!flushed && err)
    fprintf(stderr, PROG ": write error: %s\n", strerror(err));
  else
    fprintf(stderr, PROG ": write error\n");
  return fail;
}

void ctl_iso_time(long long t, char *out, size_t cap)
{
  struct tm tm;
  time_t tt = (time_t)t;
  if(!gmtime_r(&tt, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(out, cap, "@%lld", t);
}
