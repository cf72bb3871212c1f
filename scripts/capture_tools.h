/* capture_tools.h - the two readers of a capture file (streamshim-capture(5)).
 *
 * capture_har: HAR 1.2, one entry per attempt (a request on the wire), in
 * the file's order; the attempts of one transfer are linked by their
 * `_streamshim` member (pid, transfer, attempt, attempts).
 * capture_stats: one row per transfer and a totals row, as a table or
 * (json) one JSON object {"transfers": [...], "totals": {...}}.
 *
 * Both read every record of cf and write to out. They return false when
 * memory ran out (a message is printed); malformed lines and read errors
 * are left in cf for the caller's exit status. */
#ifndef SS_CAPTURE_TOOLS_H
#define SS_CAPTURE_TOOLS_H

#include <stdbool.h>
#include <stdio.h>

#include "capture_read.h"

#ifndef SS_VERSION
#define SS_VERSION "0.1.0"
#endif

bool capture_har(struct cap_file *cf, FILE *out);
bool capture_stats(struct cap_file *cf, FILE *out, bool json);

#endif
