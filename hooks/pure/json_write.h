/* json_write.h - writing JSON text: strings, numbers, base64. Pure.
 *
 * For records the shim writes itself (the capture), with no allocator
 * shared with the host and the exact bytes it was given: a string is
 * valid UTF-8 escaped as RFC 8259 asks (", \, control characters; DEL and
 * everything else as it is), a byte string that is not UTF-8 goes out as
 * base64. Appends to a struct buf; check its oom flag once at the end. */
#ifndef SS_JSON_WRITE_H
#define SS_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The length of the longest prefix of p[0..n) that is valid UTF-8 and
 * does not end inside a character. */
size_t utf8_valid_prefix(const char *p, size_t n);
/* Append p[0..n) as a JSON string, quotes included. Bytes that are not
 * valid UTF-8 become U+FFFD (callers that must keep bytes check
 * utf8_valid_prefix first and use base64). */
void json_put_string(struct buf *b, const char *p, size_t n);
/* The same for a NUL-terminated string (NULL: null). */
void json_put_cstring(struct buf *b, const char *s);
void json_put_int(struct buf *b, int64_t v);
/* Append p[0..n) as a base64 string (RFC 4648, padded), quotes included. */
void json_put_base64(struct buf *b, const char *p, size_t n);

#endif
