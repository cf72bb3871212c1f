/* learned_check.h - what the learned-cache unit tests share: a directory
 * of their own, paths in it, a config caching to one of them. Include
 * after check.h and config.h. */
#ifndef LEARNED_CHECK_H
#define LEARNED_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static char dir[64];  /* the test's directory (learned_dir_make) */

/* Make the test's directory from a mkdtemp template; false on failure. */
static bool learned_dir_make(const char *tmpl)
{
  snprintf(dir, sizeof(dir), "%s", tmpl);
  if(!mkdtemp(dir)) {
    perror("mkdtemp");
    return false;
  }
  return true;
}

/* dir + "/" + name in a static buffer (a ring of 16: a test may hold
 * a few at once). */
static const char *in_dir(const char *name)
{
  static char b[16][256];
  static unsigned k;
  k = (k + 1) % 16;
  snprintf(b[k], sizeof(b[k]), "%s/%s", dir, name);
  return b[k];
}

/* A config caching to path (NULL: the default) with a TTL (the caller
 * frees it). */
static void cfg_for(struct ss_config *c, const char *path, long ttl)
{
  const char *msg;
  config_init(c);
  if(path)
    CHECK(config_set(c, "cache", path, false, &msg));
  c->cache_ttl = ttl;
}

#endif
