/* settings.h - the process's configuration, loaded once on first need.
 *
 * The constructor only copies the STREAMSHIM_* variables, HOME and
 * XDG_CONFIG_HOME (a host may empty its environment later: PHP at
 * shutdown, PHP-FPM in its workers); the first libcurl call (or the exit
 * diagnosis) loads the settings: the config file (config_find: the one
 * STREAMSHIM_CONFIG names, else the user's, else the system's), then each
 * variable over it, from the environment, else as the process started
 * with it. Under AT_SECURE (setuid programs) no environment
 * or file is read and the shim passes everything through. */
#ifndef SS_SETTINGS_H
#define SS_SETTINGS_H

#include <stdbool.h>

#include "../hooks/pure/config.h"

/* Keep the variables of envp (the environment the process started
 * with): the library's constructor (at_load.c). */
void settings_keep_env(char **envp);
/* The configuration (never NULL; thread-safe; loaded on first call). */
const struct ss_config *ss_settings(void);
/* Could the settings turn a log on (STREAMSHIM_LOG or STREAMSHIM_CONFIG
 * set when the process started, not AT_SECURE)? Reads nothing but the
 * copies of the variables (no libc call): a log set only in a file found
 * by the search is not counted (the exit diagnosis of a process without
 * libcurl calls would cost every process a lookup). */
bool ss_settings_may_log(void);
/* Does the environment as the process started ask for a log? */
bool ss_settings_log_asked(void);

#endif
