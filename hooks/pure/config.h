/* config.h - streamshim's configuration and its file grammar. Pure.
 *
 * The file is line-based:
 *
 *   # comment            (also "; comment": whole lines; a ';' elsewhere
 *                        is the line's)
 *   key = value  # note  a '#' after a blank starts a trailing comment,
 *                        except inside a value that starts with a double
 *                        quote ("gpt#4" and "a # b" keep it; in
 *                        *"code":"x*  # note the quotes open nothing)
 *   key = value          settings before any section are global
 *   [refusal "name"]     a rule for refusals (to stream, or not to; below)
 *   [section]            other sections, unknown keys and bad values are
 *   [section "name"]     reported (warn) and skipped, never fatal
 *
 * Values are the rest of the line (up to a trailing comment) with
 * surrounding blanks removed; a value may be wrapped in double quotes to
 * keep blanks or a " #" (config_strip_comment says where it ends). Global
 * keys:
 *
 *   mode = auto | force | off   (STREAMSHIM_MODE; auto is the default)
 *   models = glob, glob, ...    (STREAMSHIM_MODELS; may repeat, adds) models
 *                               that refuse "stream": true, sent without it
 *   stream_only = glob, ...     (STREAMSHIM_STREAM_ONLY; may repeat, adds)
 *                               models that only stream (a request without
 *                               stream is refused), sent with it
 *   log = level[:file]          (STREAMSHIM_LOG)
 *   chunk = N                   characters per replayed piece (STREAMSHIM_CHUNK)
 *   max_answer = N              bytes of answer buffered before giving up
 *   pace = N                    milliseconds between replayed events (STREAMSHIM_PACE)
 *   cache = path | off          learned refusals (STREAMSHIM_CACHE; default
 *                               $XDG_CACHE_HOME/streamshim/refusals)
 *   cache_ttl = N[s|m|h|d]      how long a learned refusal holds (default 7d)
 *
 * The traffic capture (one JSON line per transfer; redaction in redact.h):
 *
 *   capture = path | off        (STREAMSHIM_CAPTURE) where to append; empty
 *                               or off: no capture (the default). A path of
 *                               SS_CAPTURE_PATH_MAX bytes or more is refused
 *   capture_max_body = N        (STREAMSHIM_CAPTURE_MAX_BODY) body bytes kept
 *                               per body, 0 to 1073741824 (default 1048576;
 *                               0: sizes only)
 *   capture_redact = on | off   (STREAMSHIM_CAPTURE_REDACT) off records
 *                               secrets as they went: dangerous
 *   capture_redact_headers = +name, -name, ...
 *   capture_redact_query = ...  (STREAMSHIM_CAPTURE_REDACT_HEADERS, _QUERY,
 *   capture_redact_fields = ... _FIELDS) edits of the built-in lists, as
 *                               redact_rules_edit() applies them; they
 *                               accumulate (a variable edits what the file
 *                               left, never replaces it: a variable must not
 *                               silently drop a name the file added). A bad
 *                               item is reported; the valid additions still
 *                               apply, the removals then do not
 *
 * Refusal rules (semantics in hooks/pure/refusal.h; parsed by config_rules.c):
 *
 *   [refusal "name"]               name: non-empty, no '"', unique, not
 *                                  a built-in rule's ("built-in",
 *                                  "dashscope-stream-only", ...; see
 *                                  refusal.h); the header ends the section
 *                                  before it, and the next header ends it
 *   direction = no-stream | stream-only
 *                                  which answers the rule judges (default
 *                                  no-stream: answers to streaming
 *                                  requests, REFUSES_STREAM; stream-only:
 *                                  answers to requests without stream,
 *                                  REFUSES_NONSTREAM); no condition itself
 *   status = N                     HTTP status 100-599 (default 400)
 *   field a.b.c = value            JSON string/number/true/false/null at a
 *                                  dotted path (members; digits index an
 *                                  array) equals value; may repeat
 *   message = glob                 fnmatch glob on the error message
 *   body = glob                    fnmatch glob on the whole body
 *
 * Inside a rule the key is a word ("field" and its path are separated by
 * blanks); values are read as above. direction, message and body may
 * appear once per rule (status too; a second one replaces the first). A
 * bad line (unknown key, bad status, direction or path, a repeat, no '=')
 * is reported and drops the whole rule; a rule with no setting at all, or
 * only a direction, is dropped too (it would match every 400). A header
 * without a quoted name, a repeated or reserved name: reported, the
 * section is skipped.
 *
 * Environment variables override the file (STREAMSHIM_MODELS and
 * STREAMSHIM_STREAM_ONLY replace the file's lists); rules come from the
 * file only. */
#ifndef SS_CONFIG_H
#define SS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "glob.h"
#include "redact.h"
#include "refusal.h"

#define SS_CAPTURE_PATH_MAX 4096  /* bytes of the capture path, NUL included */

enum ss_mode {
  SS_MODE_OFF = 0,   /* pass everything through */
  SS_MODE_FORCE,     /* de-stream configured models */
  SS_MODE_AUTO       /* force, and retry any refused stream (the default) */
};

struct ss_config {
  enum ss_mode mode;
  struct globs models;       /* refuse "stream": true: sent without it */
  struct globs stream_only;  /* only stream: sent with "stream": true */
  char *log;           /* owned "level[:file]" or NULL */
  unsigned log_line;   /* the file's line that set log (0: none), which
                          check-config and the library's warning name */
  size_t chunk_chars;
  size_t max_answer;
  unsigned pace_ms;    /* delay between replayed events; 0: none */
  char *cache;         /* owned path, "off", or NULL for the default */
  long cache_ttl;      /* seconds a learned refusal holds */
  struct refusal_rules refusals;  /* [refusal "name"] sections, in order */
  char capture[SS_CAPTURE_PATH_MAX];  /* the capture file; "": none */
  unsigned capture_line;       /* the file's line that set capture (0: none) */
  size_t capture_max_body;     /* body bytes recorded; 0: sizes only */
  struct redact_rules capture_redact;  /* what the capture hides */
};

/* A name for a mode, for logs. */
const char *config_mode_name(enum ss_mode m);

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
