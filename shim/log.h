/* log.h - the shim's own log: silent unless STREAMSHIM_LOG asks.
 *
 * Each line is written with a single write(2) on an O_APPEND descriptor, so
 * lines from threads and processes sharing the file never interleave.
 * Callers never pass secrets: header values are redacted before logging.
 * ss_log escapes the message itself (control bytes, DEL, '\', invalid
 * UTF-8), so that no name or path a caller passes can forge a line or
 * reach a terminal as an escape sequence. */
#ifndef SS_LOG_H
#define SS_LOG_H

enum ss_log_level {
  SS_LOG_OFF = 0,
  SS_LOG_ERROR,
  SS_LOG_WARN,
  SS_LOG_INFO,
  SS_LOG_DEBUG
};

/* Open the log from a "level[:file]" spec; NULL or "" keeps it silent.
 * The file must be a regular file of the effective user's, reached
 * without a symlink (safe_open), not hard-linked elsewhere; it is created
 * mode 0600. Returns 0, or -1 after logging why on stderr: a bad spec
 * (then the log is on stderr at warn level; the warning names the spec's
 * source, from: "STREAMSHIM_LOG" or "config FILE:LINE: log") or a file
 * refused (then on stderr at the level asked, at most warn). */
int ss_log_open(const char *spec, const char *from);
/* Current level; a cheap check to skip building messages. */
enum ss_log_level ss_log_level(void);
/* Write one line "streamshim[pid]: LEVEL: message\n". */
void ss_log(enum ss_log_level level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

#define SS_LOG_ON(lvl) (ss_log_level() >= (lvl))
#define ss_error(...) \
  do { if(SS_LOG_ON(SS_LOG_ERROR)) ss_log(SS_LOG_ERROR, __VA_ARGS__); } while(0)
#define ss_warn(...) \
  do { if(SS_LOG_ON(SS_LOG_WARN)) ss_log(SS_LOG_WARN, __VA_ARGS__); } while(0)
#define ss_info(...) \
  do { if(SS_LOG_ON(SS_LOG_INFO)) ss_log(SS_LOG_INFO, __VA_ARGS__); } while(0)
#define ss_debug(...) \
  do { if(SS_LOG_ON(SS_LOG_DEBUG)) ss_log(SS_LOG_DEBUG, __VA_ARGS__); } while(0)

#endif
