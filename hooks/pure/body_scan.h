/* body_scan.h - one fast pass over a request body (pure).
 *
 * It decides what json_parse() decides (exactly one JSON value, RFC 8259,
 * UTF-8 checked inside strings, nesting <= JSON_MAX_DEPTH), requires that
 * value to be an object, and on the way notes the last occurrence of the
 * top-level members the judgment reads. json_parse() followed by a walk of
 * the members (json_next_member, json_key_is) reads every byte two or three
 * times at about ten instructions each; here the bytes inside strings,
 * which are nearly all of a prompt, are read 64 at a time (AVX2 when the
 * processor has it, else SSE2 on x86-64, one byte at a time elsewhere):
 * bit masks of the block's quotes, backslashes and other stops say which
 * bytes are escaped and where the string closes, so one-letter escapes
 * cost no branch each; only control bytes, non-ASCII bytes and \u
 * escapes are read one at a time. Keys without a backslash are compared
 * with memcmp. */
#ifndef SS_BODY_SCAN_H
#define SS_BODY_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

/* The top-level members the judgment reads: each the value span of its
 * last occurrence (keys compared decoded, as json_key_is does), type
 * JSON_NONE when absent. */
struct body_members {
  struct json_span obj;             /* the object, whitespace excluded */
  struct json_span model;
  struct json_span stream;
  struct json_span stream_options;
};

/* Is [p, p+n) exactly one JSON object, with optional whitespace around
 * it? Then *m describes it; else *m is all JSON_NONE. The same answer as
 * json_parse(p, n, &obj) && obj.type == JSON_OBJECT, and the same spans as
 * json_get(obj, name, ...) for the three names. */
bool body_scan(const char *p, size_t n, struct body_members *m);

/* For tests: body_scan reading string contents width bytes at a time
 * (0: one byte at a time; 16: SSE2; 32: AVX2), as body_scan_width(width)
 * allows. */
bool body_scan_with(const char *p, size_t n, struct body_members *m,
                    int width);
/* The widest block reader up to most that this build and processor have
 * (32, 16 or 0). */
int body_scan_width(int most);

#endif
