/* config_load.c - the configuration's sources (see config_load.h). */
#include "config_load.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* The variables and the keys they set, in the order they apply. */
static const char *const env_keys[][2] = {
  {"STREAMSHIM_MODE", "mode"},
  {"STREAMSHIM_MODELS", "models"},
  {"STREAMSHIM_CHUNK", "chunk"},
  {"STREAMSHIM_PACE", "pace"},
  {"STREAMSHIM_CACHE", "cache"},
  {"STREAMSHIM_CACHE_TTL", "cache_ttl"},
};

char *config_read_file(const char *path, size_t *len)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
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
  *len = n;
  return text;
}

void config_apply_env(struct ss_config *c, config_warn_fn warn, void *arg)
{
  for(size_t i = 0; i < sizeof(env_keys) / sizeof(env_keys[0]); i++) {
    const char *v = getenv(env_keys[i][0]);
    const char *msg;
    if(v && !config_set(c, env_keys[i][1], v, true, &msg) && warn)
      warn(arg, env_keys[i][0], 0, msg);
  }
}
