/* log_spec.c - "level[:file]" (see log_spec.h). */
#include "log_spec.h"

#include <string.h>
#include <strings.h>

/* arrays, not pointers: no relocation at load */
static const char level_names[][8] = {"off", "error", "warn", "info", "debug"};

int log_spec_parse(const char *spec, const char **file)
{
  const char *colon = strchr(spec, ':');
  size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
  *file = colon ? colon + 1 : NULL;
  if(n == 1 && spec[0] >= '0' && spec[0] <= '4')
    return spec[0] - '0';
  for(int i = 0; i < 5; i++)
    if(strlen(level_names[i]) == n && !strncasecmp(spec, level_names[i], n))
      return i;
  return -1;
}

const char *log_level_name(int level)
{
  return level >= 0 && level < 5 ? level_names[level] : "?";
}

enum log_target log_spec_target(const char *file)
{
  if(!file || !*file || !strcmp(file, "/dev/stderr") ||
     !strcmp(file, "/dev/fd/2"))
    return LOG_TO_STDERR;
  if(!strcmp(file, "/dev/null"))
    return LOG_TO_NOWHERE;
  if(!strcmp(file, "/dev/stdout") || !strcmp(file, "/dev/fd/1"))
    return LOG_TO_STDOUT;
  return LOG_TO_FILE;
}
