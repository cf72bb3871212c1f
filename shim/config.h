/* config.h - streamshim's configuration and its file grammar. Pure.
 *
 * The file is line-based:
 *
 *   # comment            (also "; comment"; whole lines only)
 *   key = value          settings before any section are global
 *   [section]            later features add sections; unknown sections
 *   [section "name"]     and keys are reported and skipped, never fatal
 *
 * Values are the rest of the line with surrounding blanks removed; a value
 * may be wrapped in double quotes to keep blanks. Global keys:
 *
 *   mode = force | off          (STREAMSHIM_MODE)
 *   models = glob, glob, ...    (STREAMSHIM_MODELS; may repeat, adds)
 *   log = level[:file]          (STREAMSHIM_LOG)
 *   chunk = N                   characters per replayed piece (STREAMSHIM_CHUNK)
 *   max_answer = N              bytes of answer buffered before giving up
 *
 * Environment variables override the file (STREAMSHIM_MODELS replaces the
 * file's list). */
#ifndef SS_CONFIG_H
#define SS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "glob.h"

enum ss_mode {
  SS_MODE_OFF = 0,   /* pass everything through */
  SS_MODE_FORCE      /* de-stream configured models */
};

struct ss_config {
  enum ss_mode mode;
  struct globs models;
  char *log;           /* owned "level[:file]" or NULL */
  size_t chunk_chars;
  size_t max_answer;
};

/* Reports a problem: where ("file:line" or a variable name) and what. */
typedef void (*config_warn_fn)(void *arg, const char *where, unsigned line,
                               const char *msg);

void config_init(struct ss_config *c);
void config_free(struct ss_config *c);
/* Apply one global setting. False with a reason in *msg when the key is
 * unknown or the value bad: the setting is then left unchanged, except an
 * unknown mode, which acts as off. Values are case-sensitive. */
bool config_set(struct ss_config *c, const char *key, const char *value,
                bool replace_list, const char **msg);
/* Apply a whole file's text; problems go to warn (which may be NULL). */
void config_parse(struct ss_config *c, const char *text, size_t n,
                  const char *where, config_warn_fn warn, void *arg);

#endif
