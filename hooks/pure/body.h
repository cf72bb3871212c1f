/* body.h - inspecting and editing an LLM request body (pure).
 *
 * The request is edited surgically: top-level members are removed (each
 * with one adjacent comma), given a new value or appended, and every other
 * byte is kept. Nothing is re-serialised. */
#ifndef SS_BODY_H
#define SS_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

struct buf;  /* hooks/pure/buf.h */

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

/* One edit of a top-level member: remove it, or set its value. */
struct body_edit {
  const char *name;   /* the key, compared decoded ("str\u0065am" is
                         "stream"); to be appended it must be plain:
                         printable ASCII without '"' or '\\' */
  const char *value;  /* JSON text of one value; NULL: remove */
  size_t value_len;
};

/* Edit-list entries: BODY_SET("stream", "true") (a string literal only),
 * BODY_REMOVE("stream_options"). */
#define BODY_SET(name, json) { (name), "" json "", sizeof("" json "") - 1 }
#define BODY_REMOVE(name) { (name), NULL, 0 }

/* Append to out the object [p, p+n) with the edits e[0..count-1] applied,
 * in one pass. Only the edited members change; every other byte (key
 * order, whitespace, escapes, numbers, nested members) is kept.
 *
 *  - remove: every top-level member with the key goes, with one adjacent
 *    comma, exactly as body_remove_members() cuts it;
 *  - set, key present: the value of its last occurrence is replaced (its
 *    key and the bytes around the value stay) and earlier occurrences are
 *    removed, since JSON readers keep the last;
 *  - set, key absent: the member is appended after the last member of the
 *    result, written the way the body writes its own last member: after
 *    the bytes that separate that member from the one before (the comma
 *    and whitespace: "," or ", " or a new line with its indentation; a
 *    comma and the whitespace after '{' when it is the first member), with
 *    the bytes that join its key and value (":" or ": "). With no member
 *    before it, it takes the first removed member's place (no comma), or
 *    in an object with no members at all goes right after '{' as
 *    "name":value. Whitespace before '}' stays after it; several are
 *    appended in list order;
 *  - several edits of one name: the last in the list wins.
 *
 * Time is linear in n and the output (keys are compared with each edit's
 * name: the list is meant to be short). False, with out as on entry, when
 * the body is not exactly one JSON object, a value is not one JSON value
 * or a set name is not plain; false with out->oom set when memory runs
 * out. p must not point into out. */
bool body_edit_members(const char *p, size_t n, const struct body_edit *e,
                       size_t count, struct buf *out);

/* Copy the object [p, p+n) to out (room for n bytes; out may be p) without
 * every top-level member whose key is one of names[0..count-1]: a removed
 * member takes the comma and whitespace that follow it, or, when it is the
 * last member, the comma and whitespace that precede it. Returns the new
 * length. The input must be a valid JSON object (body_inspect() true);
 * anything else is copied unchanged. */
size_t body_remove_members(const char *p, size_t n, const char *const *names,
                           size_t count, char *out);

/* The work one call did, so that tests can bound it: linear in n however
 * many members are edited. */
struct body_work {
  size_t scanned;   /* bytes read: the validation, each member walk and
                       the edits' values */
  size_t moved;     /* input bytes copied: body_remove_members()'s first
                       copy and each kept run */
  size_t inserted;  /* bytes written that are not kept runs: new values,
                       appended keys and the separators copied for them */
};

/* body_remove_members(), reporting its work in *work (may be NULL). */
size_t body_remove_members_work(const char *p, size_t n,
                                const char *const *names, size_t count,
                                char *out, struct body_work *work);

/* body_edit_members(), reporting its work in *work (may be NULL). A list
 * that sets a name walks the members once more to find last occurrences. */
bool body_edit_members_work(const char *p, size_t n, const struct body_edit *e,
                            size_t count, struct buf *out,
                            struct body_work *work);

#endif
