/* ctl_config.h - the configuration as the library loads it, for the
 * streamshim-ctl commands (models, check-config, explain): the file
 * config_find picks (or the one --config names), the STREAMSHIM_*
 * variables over it, then --cache. */
#ifndef SS_CTL_CONFIG_H
#define SS_CTL_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <limits.h>

#include "config.h"

#define PROG "streamshim"

/* The name a configuration read from standard input goes by ("-"). */
#define CTL_STDIN_NAME "(standard input)"

struct ctl_config {
  struct ss_config cfg;
  const char *path;        /* the file read or meant; NULL: none */
  bool named;              /* path is STREAMSHIM_CONFIG's (or it named
                              one too long for a path: path NULL) */
  int read_errno;          /* it could not be read: why; else 0 */
  char found[PATH_MAX];    /* room for a path config_find gives */
};

/* Load c (which need not be initialised): the file named by file ("":
 * none, "-": standard input), else the one config_find picks; then the
 * variables; then cache unless NULL. Problems go to warn (a file's with
 * its line; the variables' with line 0; an unreadable file is left to the
 * caller: read_errno, ctl_config_problem). False, after saying why on
 * stderr, for a bad cache. config_free(&c->cfg) after. */
bool ctl_config_load(struct ctl_config *c, const char *file,
                     const char *cache, config_warn_fn warn, void *arg);

/* Why the file could not be read (c->read_errno set), as the library
 * says it: into msg, and *where the name it goes under, STREAMSHIM_CONFIG
 * when that variable named the file, else the file. */
void ctl_config_problem(const struct ctl_config *c, const char **where,
                        char *msg, size_t cap);

/* Print one line on f: fmt's text escaped as the library's log escapes
 * its lines (escape.h: the control bytes of a name or value from a file
 * or the environment never reach the terminal), then a newline. */
void ctl_say(FILE *f, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* Config problems on stderr, as the library would log them (escaped). */
void ctl_warn_stderr(void *arg, const char *where, unsigned line,
                     const char *msg);

/* rc, or fail after saying so on stderr when what was printed on stdout
 * did not all reach it (a full disk, /dev/full, a closed pipe): the
 * commands' last word, as coreutils' close_stdout is theirs. */
int ctl_stdout_checked(int rc, int fail);

/* A Unix time as ISO 8601 UTC ("2025-01-31T12:00:00Z"). */
void ctl_iso_time(long long t, char *out, size_t cap);

#endif
