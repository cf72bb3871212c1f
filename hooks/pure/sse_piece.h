/* sse_piece.h - pieces of strings and copies of values for the SSE
 * encoders (one per API shape).
 *
 * Pure. The cutter works on the escaped text between a string's quotes, as it stands
 * in an answer json_parse() accepted. A piece never ends inside a UTF-8
 * sequence, inside an escape, or between the two \uXXXX escapes of a
 * surrogate pair, so every piece is itself valid JSON string text and
 * the pieces concatenate back to the original bytes. */
#ifndef SS_SSE_PIECE_H
#define SS_SSE_PIECE_H

#include <stddef.h>

#include "buf.h"
#include "json.h"

/* Bytes of the one character starting at p (p < end): a UTF-8 sequence,
 * an escape, or a \uD8xx\uDCxx surrogate pair of escapes. Never more
 * than end - p, never 0. */
size_t piece_char_len(const char *p, const char *end);

/* Decode the one character starting at p (p < end) into out (room for
 * 4 bytes): *n gets its UTF-8 byte count, 1-4 (a lone surrogate escape
 * gives its 3-byte WTF-8 form). Returns the bytes it takes in the escaped
 * text, as piece_char_len(). For text json_parse() accepted. */
size_t piece_char_decode(const char *p, const char *end, unsigned char *out,
                         size_t *n);

/* End of the next piece of [p, end): all of it when it holds at most
 * max characters (max >= 1), else at most max characters, ending just
 * after the last space (or \n escape) among them when there is one. */
const char *piece_next(const char *p, const char *end, size_t max);

/* What piece_next_known remembers between calls: [from, to) holds
 * one-byte characters only (ASCII, no escape). Zeroed: nothing known. */
struct piece_plain {
  const char *from, *to;
};

/* piece_next(p, end, max), the same answer, for a caller that cuts one
 * string after another: the bytes are looked at once (16 at a time) to
 * know how far they are plain, and a piece inside what is known plain
 * costs only the search for its last space. */
const char *piece_next_known(const char *p, const char *end, size_t max,
                             struct piece_plain *k);

/* Append value v, copied from an answer, to b. Scalars are copied as
 * they are; containers lose the whitespace between their tokens (strings
 * and numbers inside stay byte-identical), so a value from a
 * pretty-printed answer fits on one "data:" line. */
void sse_put_value(struct buf *b, struct json_span v);

/* Append v in decimal. */
void sse_put_uint(struct buf *b, size_t v);

#endif
