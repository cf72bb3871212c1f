/* capture.h - the traffic capture: a monitoring stage (shim/stage.h) that
 * records every libcurl transfer of the process, one JSON line each, to
 * the file STREAMSHIM_CAPTURE (config `capture`) names. The record format
 * is documented in the README ("Capture") and streamshim-capture(5);
 * secrets are redacted (hooks/pure/redact.h). Capturing changes no byte of
 * the traffic and no callback the program sees; a file that cannot be
 * written is logged once and the transfers go on. */
#ifndef SS_CAPTURE_H
#define SS_CAPTURE_H

#include "../shim/stage.h"

extern const struct ss_monitor capture_monitor;
/* Is the capture off (no file named): it watches nothing? */
bool capture_idle(void);

#endif
