/* settings.h - the process's configuration, loaded once on first need.
 *
 * Nothing is read in the constructor: the first libcurl call loads the
 * environment and the config file. Under AT_SECURE (setuid programs) no
 * environment or file is read and the shim passes everything through. */
#ifndef SS_SETTINGS_H
#define SS_SETTINGS_H

#include "config.h"

/* The configuration (never NULL; thread-safe; loaded on first call). */
const struct ss_config *ss_settings(void);

#endif
