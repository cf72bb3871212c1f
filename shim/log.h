/* log.h - the shim's own log: silent unless STREAMSHIM_LOG asks.
 *
 * Each line is written with a single write(2) on an O_APPEND descriptor, so
 * lines from threads and processes sharing the file never interleave.
 * Callers never pass secrets: header values are redacted before logging. */
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
 * Returns 0, or -1 when the spec is bad (then the log stays on stderr at
 * warn level so the mistake can be reported). */
int ss_log_open(const char *spec);
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
