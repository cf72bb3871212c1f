/* glob.h - a list of shell globs (fnmatch(3)) matched against names. Pure. */
#ifndef SS_GLOB_H
#define SS_GLOB_H

#include <stdbool.h>
#include <stddef.h>

struct globs {
  char **v;  /* owned patterns */
  size_t n;
};

void globs_init(struct globs *g);
/* Add each item of a comma-separated list (items trimmed, empty ones
 * skipped). False when memory runs out. */
bool globs_add_list(struct globs *g, const char *list);
/* Drop every pattern. */
void globs_clear(struct globs *g);
/* The first pattern matching name, or NULL. */
const char *globs_match(const struct globs *g, const char *name);

#endif
