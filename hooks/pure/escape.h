/* escape.h - text shown on a terminal or in a log line. Pure.
 *
 * Names in the shim's output come from requests, URLs and files (a model,
 * an Azure deployment, a path): shown raw they could forge log lines or
 * send a terminal escape sequences. Escaped: '\' as "\\", TAB, LF and CR as
 * "\t", "\n", "\r"; other control bytes, DEL, C1 controls (U+0080..U+009F,
 * which some terminals obey as ESC sequences) and bytes that are not valid
 * UTF-8 (bad or truncated sequences, overlongs, surrogates, above
 * U+10FFFF) as "\xNN"; valid UTF-8 as it is. */
#ifndef SS_ESCAPE_H
#define SS_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Append src[0..n) escaped to out, which holds *o of cap bytes; *o
 * advances. An escape or character that does not fit whole is left out,
 * and so is the rest. */
void escape_shown(char *out, size_t *o, size_t cap, const char *src,
                  size_t n);
/* Append the NUL-terminated src escaped to b; false when memory runs out. */
bool escape_shown_buf(struct buf *b, const char *src);

#endif
