/* json.h - a validating JSON reader that reports byte spans.
 *
 * Pure: no allocation, no libcurl, no globals. It gives structure and the
 * exact bytes of every value, so callers can copy strings and numbers from
 * the original text (no re-serialisation: big integers, escapes, key order
 * and whitespace survive). json_parse() validates a whole text once
 * (RFC 8259, UTF-8 checked inside strings, nesting <= JSON_MAX_DEPTH);
 * the iterators then walk an already validated container cheaply and must
 * only be given spans that came from a successful json_parse(). */
#ifndef SS_JSON_H
#define SS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 256

enum json_type {
  JSON_NONE = 0,  /* absent / invalid */
  JSON_OBJECT,
  JSON_ARRAY,
  JSON_STRING,
  JSON_NUMBER,
  JSON_TRUE,
  JSON_FALSE,
  JSON_NULL
};

/* A value's bytes: for strings the span includes the quotes. */
struct json_span {
  const char *ptr;
  size_t len;
  enum json_type type;
};

/* Is [p, p+n) exactly one JSON value, with optional whitespace around it?
 * On success *out spans the value itself (whitespace excluded). */
bool json_parse(const char *p, size_t n, struct json_span *out);

/* Iterator over the members of an object or the elements of an array. */
struct json_iter {
  const char *cur;
  const char *end;
};

void json_iter_init(struct json_iter *it, struct json_span container);
/* Next object member: key span (with quotes) and value span. */
bool json_next_member(struct json_iter *it, struct json_span *key,
                      struct json_span *val);
/* Next array element. */
bool json_next_element(struct json_iter *it, struct json_span *val);

/* Does the key span (with quotes, possibly with escapes) decode to name? */
bool json_key_is(struct json_span key, const char *name);
/* The value of member `name` of object `obj` (the last one if repeated).
 * False (and val->type JSON_NONE) when absent or obj is not an object. */
bool json_get(struct json_span obj, const char *name, struct json_span *val);

/* Decode a string span (with quotes) to UTF-8 in buf (cap bytes, a NUL is
 * added). False when it does not fit or contains \u0000. */
bool json_string_decode(struct json_span s, char *buf, size_t cap,
                        size_t *outlen);

/* Checks the answer readers share (json_shape.c). */
#define JSON_T(t) (1u << (t))  /* a bit of a type mask */
/* Member `name` of obj into *v (JSON_NONE when absent); true when its
 * type is in mask (JSON_T bits; JSON_T(JSON_NONE) allows absence). */
bool json_get_typed(struct json_span obj, const char *name, unsigned mask,
                    struct json_span *v);
/* Is obj an object whose members all have one of the names (a
 * NULL-terminated list)? */
bool json_only_members(struct json_span obj, const char *const *names);
/* The place of key (a span with quotes, as json_key_is) in names (a
 * NULL-terminated list), or -1. A key without escapes is compared as
 * bytes, once per name whose first byte matches. */
int json_name_in(struct json_span key, const char *const *names);
/* The members of obj named in names (a NULL-terminated list), in one
 * walk: vals[i] is the value of the last member named names[i], or
 * JSON_NONE when there is none. Returns how many members have a name not
 * in the list, or -1 (every vals[i] JSON_NONE) when obj is not an object.
 * Readers that look up several members of one object use it instead of
 * one json_get each (each json_get walks the whole object again). */
int json_pick(struct json_span obj, const char *const *names,
              struct json_span *vals);
/* Is v's type in mask (JSON_T bits)? */
static inline bool json_is(struct json_span v, unsigned mask)
{
  return (mask >> v.type) & 1u;
}
/* The value of hex digit c, or -1. */
int json_hex_digit(int c);

/* Incremental end detector: finds where a top-level object or array
 * closes in a byte stream fed in pieces, without storing it. Leading
 * whitespace (and a UTF-8 BOM) is skipped. It tracks strings and nesting
 * only; validity is json_parse()'s job once the end is found. */
struct json_end {
  unsigned depth;     /* current nesting */
  unsigned char state;
  unsigned char bom;  /* BOM bytes seen */
};

enum json_end_result {
  JSON_END_MORE = 0,  /* value still open */
  JSON_END_DONE = 1,  /* value closed; *at = offset just after it */
  JSON_END_BAD = -1   /* the text does not start with { or [ */
};

void json_end_init(struct json_end *d);
/* Feed the next n bytes. Once DONE or BAD, further calls repeat it. */
enum json_end_result json_end_feed(struct json_end *d, const char *p,
                                   size_t n, size_t *at);

#endif
