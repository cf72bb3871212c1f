/* logprobs.h - token log probabilities against the text they spell, for
 * the chat completions and legacy completions replays.
 *
 * A streaming API sends each token's logprobs with the text of that
 * token, but a token can be part of a UTF-8 character (an emoji split
 * over two or three tokens): the stream then holds the tokens back until
 * their bytes end on a character boundary and sends them together, with
 * the characters they complete. Here an answer's token array (chat
 * entries or legacy token strings) is checked against the text once, and
 * then cut into such groups, each with the escaped text it spells (never
 * splitting an escape or a surrogate pair).
 *
 * A token's bytes are:
 * - LP_CHAT, an entry {token, logprob, bytes, top_logprobs}: its "bytes"
 *   array (integers 0-255), or the UTF-8 of "token" when bytes is null
 *   or absent;
 * - LP_LEGACY, a token string: its UTF-8, except that a token written
 *   "bytes:..." (a partial character, e.g. "bytes:\\xe2\\x80") stands for
 *   the bytes after the prefix, each \xHH one byte, other characters
 *   their UTF-8.
 * Pure; all spans come from an answer json_parse() accepted. */
#ifndef SS_LOGPROBS_H
#define SS_LOGPROBS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "json.h"

enum lp_kind { LP_CHAT, LP_LEGACY };

/* Check that arr is an array of well-formed elements of kind and that
 * their bytes, concatenated, are exactly the decoded escaped text
 * [p, end) (p == end == NULL for no text). False with *why (static). */
bool lp_check(struct json_span arr, enum lp_kind kind, const char *p,
              const char *end, const char **why);

/* Take the next group from *it (an iterator over a checked array):
 * elements until the bytes taken end on a character boundary of the text
 * at *pos. Advances *it past them and *pos past the characters they
 * spell; returns how many were taken (0 when none are left). */
size_t lp_group(struct json_iter *it, enum lp_kind kind, const char **pos,
                const char *end);

/* Does the iterator have an element left? */
bool lp_more(const struct json_iter *it);

/* Append the next n elements of *it, comma-separated and compacted
 * (sse_put_value), and advance past them. */
void lp_put_elems(struct buf *b, struct json_iter *it, size_t n);

#endif
