/* config_load.h - the configuration's sources, read alike by the library
 * (settings.c) and by the streamshim-ctl commands (models, check-config,
 * explain): the file config_find picks, then the STREAMSHIM_* variables
 * over it. No libcurl, no logging: problems go to the caller's warn. */
#ifndef SS_CONFIG_LOAD_H
#define SS_CONFIG_LOAD_H

#include <stddef.h>

#include "../hooks/pure/config.h"

#define CONFIG_FILE_MAX (1u << 20)  /* bytes of a config file read */

/* The system-wide file, last in the search (make SYSCONFDIR=...). */
#ifndef SS_SYSCONFDIR
#define SS_SYSCONFDIR "/etc"
#endif
#define CONFIG_SYSTEM_FILE SS_SYSCONFDIR "/streamshim/config"

typedef char *(*config_getenv_fn)(const char *name);

/* The configuration file to read, into path (cap bytes): the one
 * STREAMSHIM_CONFIG names when it is set (that one only, whether it
 * exists or not; set but empty: none), else the first name that exists
 * (lstat: a dangling symlink is one, to be reported when it cannot be
 * read) of the user's, $XDG_CONFIG_HOME/streamshim/config (when
 * XDG_CONFIG_HOME is absolute) or else $HOME/.config/streamshim/config,
 * and system_file (CONFIG_SYSTEM_FILE; a parameter for the tests). NULL
 * when there is none, with errno 0, or ENAMETOOLONG when
 * STREAMSHIM_CONFIG names a file that does not fit in cap bytes (a
 * config that cannot be used: the caller reports it); else path. get:
 * getenv's contract. */
const char *config_find(config_getenv_fn get, const char *system_file,
                        char *path, size_t cap);

/* Read up to CONFIG_FILE_MAX bytes of a file into a malloc'ed buffer
 * (*len bytes, not NUL-terminated); NULL with errno set when it cannot be
 * opened or is refused: it may be reached through a symlink but must be a
 * regular file owned by the effective user or root and writable by
 * neither group nor others (safe_open; a FIFO never blocks). */
char *config_read_file(const char *path, size_t *len);

/* Why the file at path could not be read, config_read_file's errno err
 * (or ENAMETOOLONG from config_find): safe_open_why's words, or "is a
 * symbolic link to nothing" for a dangling link. */
const char *config_read_why(const char *path, int err);

/* Apply each STREAMSHIM_* variable that is set (MODE, MODELS, STREAM_ONLY,
 * CHUNK, PACE, CACHE, CACHE_TTL, CAPTURE, CAPTURE_MAX_BODY, CAPTURE_REDACT
 * and its _HEADERS, _QUERY and _FIELDS lists) over c; a bad value is
 * reported to warn (where: the variable's name, line 0) and leaves the
 * setting as config_set does. */
void config_apply_env(struct ss_config *c, config_warn_fn warn, void *arg);

/* The name of the i-th variable config_apply_env reads; NULL past the
 * last. */
const char *config_env_var(size_t i);

/* The same with the variables' values from get (getenv's contract). */
void config_apply_vars(struct ss_config *c, config_getenv_fn get,
                       config_warn_fn warn, void *arg);

#endif
