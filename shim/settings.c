/* settings.c - load the configuration once (see settings.h). */
#include "settings.h"

#include <fcntl.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config_load.h"
#include "log.h"
#include <stdio.h>

static struct ss_config settings;
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;

/* Route config problems to the log. */
static void warn_to_log(void *arg, const char *where, unsigned line,
                        const char *msg)
{
  (void)arg;
  if(line)
    ss_warn("config %s:%u: %s", where, line, msg);
  else
    ss_warn("%s: %s", where, msg);
}

/* Keep config problems until the log (which the file may name) is open. */
static void warn_to_buf(void *arg, const char *where, unsigned line,
                        const char *msg)
{
  char text[512];
  int n = snprintf(text, sizeof(text), "config %s:%u: %s\n", where, line, msg);
  if(n > 0)
    buf_append(arg, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

/* Log each line kept by warn_to_buf. */
static void flush_warnings(struct buf *kept)
{
  const char *p = kept->ptr, *end = kept->ptr + kept->len;
  while(p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if(!nl)
      break;
    ss_warn("%.*s", (int)(nl - p), p);
    p = nl + 1;
  }
  buf_free(kept);
}

static void settings_load(void)
{
  config_init(&settings);
  if(getauxval(AT_SECURE)) {
    settings.mode = SS_MODE_OFF;
    return;
  }
  /* The log first, so that problems below can be reported. */
  const char *log = getenv("STREAMSHIM_LOG");
  const char *path = getenv("STREAMSHIM_CONFIG");
  char *text = NULL;
  size_t len = 0;
  struct buf kept;
  buf_init(&kept);
  if(path && *path)
    text = config_read_file(path, &len);
  bool unreadable = path && *path && !text;
  if(text)
    config_parse(&settings, text, len, path, warn_to_buf, &kept);
  free(text);
  if(ss_log_open(log ? log : settings.log))
    ss_warn("STREAMSHIM_LOG: expected level[:file] with level one of "
            "error, warn, info, debug");
  flush_warnings(&kept);
  if(unreadable)
    ss_warn("config %s: cannot be read, ignored", path);
  config_apply_env(&settings, warn_to_log, NULL);
  ss_info("mode %s, %zu model pattern%s configured",
          config_mode_name(settings.mode), settings.models.n,
          settings.models.n == 1 ? "" : "s");
}

const struct ss_config *ss_settings(void)
{
  pthread_once(&settings_once, settings_load);
  return &settings;
}
