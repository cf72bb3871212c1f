/* headers.h - HTTP header lines as libcurl hands them to callbacks. Pure.
 *
 * Lines end in "\r\n" (HTTP/1) or "\n"; HTTP/2 names are lowercase, so
 * names compare case-insensitively. */
#ifndef SS_HEADERS_H
#define SS_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The length of the line at p, its '\n' included (the last line of a
 * block may have none); left > 0 bytes remain. */
size_t header_line_len(const char *p, size_t left);
/* The status code of a status line ("HTTP/1.1 200 OK", "HTTP/2 200"), or
 * -1 when the line is not one. */
int header_status(const char *p, size_t n);
/* The value of field `name` in the line [p, p+n) ("Name: value", with
 * its line end or without, as in a curl_slist), or NULL when the line is
 * another field or none. Blanks may stand between the name and the colon.
 * *vlen (when not NULL) gets the value's length: the spaces and tabs
 * before it and the spaces, CR and LF after it are not counted. */
const char *header_value(const char *p, size_t n, const char *name,
                         size_t *vlen);
/* Is this line the field `name` ("Name: value")? */
bool header_is(const char *p, size_t n, const char *name);
/* Rewrite a final header block (lines ending in '\n') for an answer
 * replayed as Server-Sent Events: Content-Type becomes content_type
 * (added if absent), Content-Length and Content-Encoding are dropped, every
 * other byte is kept. False when memory runs out. */
bool headers_rewrite_for_sse(const char *block, size_t n,
                             const char *content_type, struct buf *out);

/* Rewrite a final header block for an answer joined into one JSON body
 * of body_len bytes: the status line carries status (its version kept,
 * the reason phrase replaced when the status changes), Content-Type
 * becomes application/json (added if absent), a Content-Length of
 * body_len replaces any, Content-Encoding and Transfer-Encoding are
 * dropped (libcurl decoded the stream), every other byte is kept. False
 * when memory runs out. */
bool headers_rewrite_for_json(const char *block, size_t n, int status,
                              size_t body_len, struct buf *out);

/* The value of the first field `name` among the lines of a block (as
 * header_value()), or NULL. Which block of a transfer (the last one,
 * after redirects and 1xx answers) is the caller's business. */
const char *headers_field(const char *block, size_t n, const char *name,
                          size_t *vlen);
/* Does the block have a field `name`? */
bool headers_has(const char *block, size_t n, const char *name);
/* Copy the block without the Content-Encoding and Content-Length fields:
 * for an answer libcurl decoded although the program would have received
 * it encoded. False when memory runs out. */
bool headers_drop_encoding(const char *block, size_t n, struct buf *out);

#endif
