/* body.h - inspecting and editing an LLM request body (pure).
 *
 * The request is edited surgically: only top-level members are removed,
 * each with one adjacent comma, and every other byte is kept. */
#ifndef SS_BODY_H
#define SS_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

struct body_info {
  bool stream_true;        /* top-level "stream" is true (last occurrence) */
  bool has_stream;         /* any top-level "stream" member */
  bool has_stream_options; /* any top-level "stream_options" member */
  bool include_usage;      /* stream_options.include_usage is true */
  struct json_span model;  /* top-level "model" value (JSON_NONE if absent) */
};

/* Parse the body as a JSON object and describe it. False when the body is
 * not exactly one valid JSON object. */
bool body_inspect(const char *p, size_t n, struct body_info *bi);

/* Copy the object [p, p+n) to out (room for n bytes) without every
 * top-level member whose key is one of names[0..count-1]: a removed member
 * takes the comma and whitespace that follow it, or, when it is the last
 * member, the comma and whitespace that precede it. Returns the new length.
 * The input must be a valid JSON object (body_inspect() true). */
size_t body_remove_members(const char *p, size_t n, const char *const *names,
                           size_t count, char *out);

/* The work one body_remove_members_work() call did, so that tests can
 * bound it: it is linear in n however many members are removed. */
struct body_work {
  size_t scanned;  /* bytes read: the validation and the member walk */
  size_t moved;    /* bytes copied: the first copy and each kept run */
};

/* body_remove_members(), reporting its work in *work (may be NULL). */
size_t body_remove_members_work(const char *p, size_t n,
                                const char *const *names, size_t count,
                                char *out, struct body_work *work);

#endif
