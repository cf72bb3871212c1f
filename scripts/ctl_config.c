/* ctl_config.c - the configuration as the library loads it (see
 * ctl_config.h). */
#include "ctl_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config_load.h"

bool ctl_config_load(struct ctl_config *c, const char *file,
                     const char *cache, config_warn_fn warn, void *arg)
{
  const char *msg;
  config_init(&c->cfg);
  c->read_errno = 0;
  c->path = file ? file
                 : config_find(getenv, CONFIG_SYSTEM_FILE, c->found,
                               sizeof(c->found));
  if(c->path) {
    size_t len;
    char *text = config_read_file(c->path, &len);
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

void ctl_warn_stderr(void *arg, const char *where, unsigned line,
                     const char *msg)
{
  (void)arg;
  if(line)
    fprintf(stderr, PROG ": config %s:%u: %s\n", where, line, msg);
  else
    fprintf(stderr, PROG ": %s: %s\n", where, msg);
}

void ctl_iso_time(long long t, char *out, size_t cap)
{
  struct tm tm;
  time_t tt = (time_t)t;
  if(!gmtime_r(&tt, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(out, cap, "@%lld", t);
}
