/* glob.c - a list of shell globs (see glob.h). */
#include "glob.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

void globs_init(struct globs *g)
{
  g->v = NULL;
  g->n = 0;
}

/* Append a copy of [s, s+len). */
static bool globs_add(struct globs *g, const char *s, size_t len)
{
  char **v = realloc(g->v, (g->n + 1) * sizeof(*v));
  if(!v)
    return false;
  g->v = v;
  char *p = strndup(s, len);
  if(!p)
    return false;
  g->v[g->n++] = p;
  return true;
}

bool globs_add_list(struct globs *g, const char *list)
{
  const char *s = list;
  while(*s) {
    const char *e = strchr(s, ',');
    if(!e)
      e = s + strlen(s);
    const char *a = s, *b = e;
    while(a < b && (*a == ' ' || *a == '\t'))
      a++;
    while(b > a && (b[-1] == ' ' || b[-1] == '\t'))
      b--;
    if(b > a && !globs_add(g, a, (size_t)(b - a)))
      return false;
    s = *e ? e + 1 : e;
  }
  return true;
}

void globs_clear(struct globs *g)
{
  for(size_t i = 0; i < g->n; i++)
    free(g->v[i]);
  free(g->v);
  globs_init(g);
}

const char *globs_match(const struct globs *g, const char *name)
{
  for(size_t i = 0; i < g->n; i++)
    if(fnmatch(g->v[i], name, 0) == 0)
      return g->v[i];
  return NULL;
}
