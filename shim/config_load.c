/* config_load.c - the configuration's sources (see config_load.h). */
#include "config_load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe_file.h"

/* The variables and the keys they set, in the order they apply. Arrays,
 * not pointers: a table of pointers is relocated at load in every
 * process the library is preloaded into. */
static const struct {
  char var[40], key[24];
} env_keys[] = {
  {"STREAMSHIM_MODE", "mode"},
  {"STREAMSHIM_MODELS", "models"},
  {"STREAMSHIM_STREAM_ONLY", "stream_only"},
  {"STREAMSHIM_CHUNK", "chunk"},
  {"STREAMSHIM_PACE", "pace"},
  {"STREAMSHIM_CACHE", "cache"},
  {"STREAMSHIM_CACHE_TTL", "cache_ttl"},
  {"STREAMSHIM_CAPTURE", "capture"},
  {"STREAMSHIM_CAPTURE_MAX_BODY", "capture_max_body"},
  {"STREAMSHIM_CAPTURE_REDACT", "capture_redact"},
  {"STREAMSHIM_CAPTURE_REDACT_HEADERS", "capture_redact_headers"},
  {"STREAMSHIM_CAPTURE_REDACT_QUERY", "capture_redact_query"},
  {"STREAMSHIM_CAPTURE_REDACT_FIELDS", "capture_redact_fields"},
};

char *config_read_file(const char *path, size_t *len)
{
  /* A symlink is fine (dotfile managers link configs), but only to a
   * regular file the user or root owns and no one else may write, as ssh
   * asks of its config (the settings decide what is sent where, and the
   * capture file); never a FIFO or a device, which would block the host
   * in open or read. */
  int fd = safe_open(path, O_RDONLY, 0,
                     SS_SAFE_MINE | SS_SAFE_ROOT_OK | SS_SAFE_UNSHARED);
  if(fd < 0)
    return NULL;
  char *text = malloc(CONFIG_FILE_MAX);
  size_t n = 0;
  while(text && n < CONFIG_FILE_MAX) {
    ssize_t r = read(fd, text + n, CONFIG_FILE_MAX - n);
    if(r <= 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  if(!text)
    errno = ENOMEM;
  *len = n;
  return text;
}

/* dir + tail into path when dir is absolute and it fits and the name
 * exists; else NULL. lstat, not access(F_OK): a symlink to nothing is a
 * name that exists, the user's config that cannot be read (and says so),
 * not a reason to fall through to the system's in silence. */
static const char *candidate(char *path, size_t cap, const char *dir,
                             const char *tail)
{
  struct stat sb;
  if(!dir || dir[0] != '/')
    return NULL;
  int n = snprintf(path, cap, "%s%s", dir, tail);
  return n > 0 && (size_t)n < cap && !lstat(path, &sb) ? path : NULL;
}

const char *config_find(config_getenv_fn get, const char *system_file,
                        char *path, size_t cap)
{
  const char *named = get("STREAMSHIM_CONFIG");
  const char *p;
  errno = 0;
  if(named) {
    int n = snprintf(path, cap, "%s", named);
    if(*named && (n < 0 || (size_t)n >= cap))
      errno = ENAMETOOLONG;  /* named, and cannot be used: the caller says so */
    return *named && !errno ? path : NULL;
  }
  /* the user's: under XDG_CONFIG_HOME when that is absolute (the XDG
   * base directories' rule), else under ~/.config */
  const char *xdg = get("XDG_CONFIG_HOME");
  if(xdg && xdg[0] == '/')
    p = candidate(path, cap, xdg, "/streamshim/config");
  else
    p = candidate(path, cap, get("HOME"), "/.config/streamshim/config");
  p = p ? p : candidate(path, cap, system_file, "");
  errno = 0;  /* a name lstat did not find is no error */
  return p;
}

const char *config_read_why(const char *path, int err)
{
  struct stat sb;
  if(err == ENOENT && !lstat(path, &sb) && S_ISLNK(sb.st_mode))
    return "is a symbolic link to nothing";
  if(err == ENAMETOOLONG)
    return "has a name too long";
  return safe_open_why(err);
}

const char *config_env_var(size_t i)
{
  return i < sizeof(env_keys) / sizeof(env_keys[0]) ? env_keys[i].var : NULL;
}

/* getenv, called: its address taken would be bound (a symbol lookup) in
 * every process the library is loaded into. */
static char *env_value(const char *name)
{
  return getenv(name);
}

void config_apply_env(struct ss_config *c, config_warn_fn warn, void *arg)
{
  config_apply_vars(c, env_value, warn, arg);
}

void config_apply_vars(struct ss_config *c, config_getenv_fn get,
                       config_warn_fn warn, void *arg)
{
  for(size_t i = 0; i < sizeof(env_keys) / sizeof(env_keys[0]); i++) {
    const char *v = get(env_keys[i].var);
    const char *msg;
    if(v && !config_set(c, env_keys[i].key, v, true, &msg) && warn)
      warn(arg, env_keys[i].var, 0, msg);
  }
}
