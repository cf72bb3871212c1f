/* headers.h - HTTP header lines as libcurl hands them to callbacks. Pure.
 *
 * Lines end in "\r\n" (HTTP/1) or "\n"; HTTP/2 names are lowercase, so
 * names compare case-insensitively. */
#ifndef SS_HEADERS_H
#define SS_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "../shim/buf.h"

/* The status code of a status line ("HTTP/1.1 200 OK", "HTTP/2 200"), or
 * -1 when the line is not one. */
int header_status(const char *p, size_t n);
/* Is this line the field `name` ("Name: value")? */
bool header_is(const char *p, size_t n, const char *name);
/* Rewrite a final header block (lines ending in '\n') for an answer
 * replayed as Server-Sent Events: Content-Type becomes content_type
 * (added if absent), Content-Length and Content-Encoding are dropped, every
 * other byte is kept. False when memory runs out. */
bool headers_rewrite_for_sse(const char *block, size_t n,
                             const char *content_type, struct buf *out);

/* Does the block have a field `name`? */
bool headers_has(const char *block, size_t n, const char *name);
/* Copy the block without the Content-Encoding and Content-Length fields:
 * for an answer libcurl decoded although the program would have received
 * it encoded. False when memory runs out. */
bool headers_drop_encoding(const char *block, size_t n, struct buf *out);

#endif
