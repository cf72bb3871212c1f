/* log_spec.h - the grammar of STREAMSHIM_LOG and the `log` key:
 * "level[:file]", level one of off, error, warn, info, debug (any case)
 * or a digit 0 to 4. Pure: the log (shim/log.c) and `streamshim
 * check-config` read it alike. */
#ifndef SS_LOG_SPEC_H
#define SS_LOG_SPEC_H

/* The level of spec (0 off, 1 error, 2 warn, 3 info, 4 debug), or -1 when
 * it names none; *file is the text after the first ':' (NULL without
 * one). */
int log_spec_parse(const char *spec, const char **file);

/* Where a log named file goes: the file itself, or one of the process's
 * own streams as users name them ("/dev/null": nowhere; "/dev/stderr",
 * "/dev/fd/2" and "" (no file): stderr; "/dev/stdout", "/dev/fd/1"). */
enum log_target { LOG_TO_FILE, LOG_TO_NOWHERE, LOG_TO_STDERR, LOG_TO_STDOUT };
enum log_target log_spec_target(const char *file);

/* A level's name ("off" ... "debug"). */
const char *log_level_name(int level);

#endif
