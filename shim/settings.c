/* settings.c - load the configuration once (see settings.h). */
#include "settings.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../hooks/pure/buf.h"
#include "config_load.h"
#include "log.h"
#include <stdio.h>

static struct ss_config settings;
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;

/* The STREAMSHIM_* variables (and HOME and XDG_CONFIG_HOME, for the
 * user's config file) as the process started with them. Some hosts
 * empty their environment before the shim reads it: PHP's CLI points
 * environ at an empty array at shutdown (before the exit diagnosis),
 * PHP-FPM clears it in each worker (clear_env). Copying a few strings is
 * all the library's constructor (at_load.c) does here; nothing is parsed
 * or opened there. */
#define KEPT_MAX 32
static char kept_text[16384];
static const char *kept_vars[KEPT_MAX];

/* Does e start with prefix? By hand, as the copy below: the constructor
 * runs in every process the library is preloaded into, and each libc
 * function it called would be bound there (lazy binding) for nothing. */
static bool starts_with(const char *e, const char *prefix)
{
  while(*prefix && *e == *prefix)
    e++, prefix++;
  return !*prefix;
}

/* Under AT_SECURE the copies are made but never read: every reader of
 * them checks it first. */
void settings_keep_env(char **envp)
{
  size_t used = 0, k = 0;
  if(!envp)
    return;
  for(char **e = envp; *e && k < KEPT_MAX; e++) {
    /* and where the user's configuration file is */
    if(!starts_with(*e, "STREAMSHIM_") && !starts_with(*e, "HOME=") &&
       !starts_with(*e, "XDG_CONFIG_HOME="))
      continue;
    size_t n = 0;
    const char *v = *e;
    while(used + n < sizeof(kept_text) && (kept_text[used + n] = v[n]))
      n++;
    if(used + n == sizeof(kept_text)) {  /* no room for this one */
      kept_text[used] = '\0';
      continue;
    }
    kept_vars[k++] = kept_text + used;
    used += n + 1;
  }
}

/* The value of name in vars (NULL-terminated, at most max), as getenv
 * finds it, or NULL. No libc call: the exit diagnosis asks in every
 * process (see starts_with). */
static char *find_var(char *const *vars, size_t max, const char *name)
{
  for(size_t i = 0; vars && i < max && vars[i]; i++) {
    const char *e = vars[i], *p = name;
    while(*p && *e == *p)
      e++, p++;
    if(!*p && *e == '=')
      return (char *)e + 1;
  }
  return NULL;
}

/* The value of name when the process started. */
static char *kept_getenv(const char *name)
{
  return find_var((char *const *)kept_vars, KEPT_MAX, name);
}

/* getenv(name), else its value when the process started. */
static char *settings_getenv(const char *name)
{
  char *v = getenv(name);
  return v ? v : kept_getenv(name);
}

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
  const char *log = settings_getenv("STREAMSHIM_LOG");
  char found[4096];
  const char *path = config_find(settings_getenv, CONFIG_SYSTEM_FILE, found,
                                 sizeof(found));
  int read_err = path ? 0 : errno;  /* ENAMETOOLONG: named, unusable */
  char *text = NULL;
  size_t len = 0;
  struct buf warnings;
  buf_init(&warnings);
  if(path && !(text = config_read_file(path, &len)))
    read_err = errno;
  if(text)
    config_parse(&settings, text, len, path, warn_to_buf, &warnings);
  free(text);
  /* ss_log_open says itself what went wrong, naming where the spec is */
  char from[sizeof(found) + 32];
  snprintf(from, sizeof(from), "config %s:%u: log", path ? path : "?",
           settings.log_line);
  ss_log_open(log ? log : settings.log, log ? "STREAMSHIM_LOG" : from);
  flush_warnings(&warnings);
  const char *named = settings_getenv("STREAMSHIM_CONFIG");
  if(read_err && !path)
    ss_warn("STREAMSHIM_CONFIG: a file name of %zu bytes, longer than %zu: "
            "ignored", named ? strlen(named) : 0, sizeof(found) - 1);
  else if(read_err)
    ss_warn("%sconfig %s %s: ignored", named ? "STREAMSHIM_CONFIG: " : "",
            path, config_read_why(path, read_err));
  config_apply_vars(&settings, settings_getenv, warn_to_log, NULL);
  if(settings.stream_only.n)
    ss_info("mode %s, %zu model pattern%s configured, %zu stream-only",
            config_mode_name(settings.mode), settings.models.n,
            settings.models.n == 1 ? "" : "s", settings.stream_only.n);
  else
    ss_info("mode %s, %zu model pattern%s configured",
            config_mode_name(settings.mode), settings.models.n,
            settings.models.n == 1 ? "" : "s");
}

bool ss_settings_may_log(void)
{
  const char *log = kept_getenv("STREAMSHIM_LOG");
  const char *path = kept_getenv("STREAMSHIM_CONFIG");
  return ((log && *log) || (path && *path)) && !getauxval(AT_SECURE);
}

bool ss_settings_log_asked(void)
{
  const char *log = kept_getenv("STREAMSHIM_LOG");
  return !getauxval(AT_SECURE) && log && *log && strncmp(log, "off", 3) &&
         log[0] != '0';
}

const struct ss_config *ss_settings(void)
{
  pthread_once(&settings_once, settings_load);
  return &settings;
}
