/* capture_record_int.h - the pieces of a capture record, shared by
 * capture_record.c (the record's shape) and capture_json.c (members,
 * header fields and bodies, redacted). Pure. */
#ifndef SS_CAPTURE_RECORD_INT_H
#define SS_CAPTURE_RECORD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture_record.h"

/* Members end in a comma; cap_close drops the last one and closes the
 * object or array. */
void cap_key(struct buf *o, const char *name);
void cap_str(struct buf *o, const char *name, const char *p, size_t n);
void cap_int(struct buf *o, const char *name, int64_t v);
void cap_close(struct buf *o, char c);
/* Marks o out of memory when part is (a part built apart, then copied in). */
void cap_lost(struct buf *o, const struct buf *part);
/* The length of a line without its line end. */
size_t cap_trim_eol(const char *p, size_t n);
/* A URL, redacted, as a JSON string. */
void cap_url(struct buf *o, const struct capture *c, const char *p, size_t n);
/* A "Name: value" line as ["Name", "value"], the value redacted. */
void cap_field(struct buf *o, const struct capture *c, const char *p,
               size_t n);
/* The next field of a block from *at, continuation lines (obs-fold)
 * joined to it, into line (without its line end); 0 at the block's end. */
size_t cap_next_field(const char *blk, size_t n, size_t *at,
                      struct buf *line);
/* The value of field name among the lines of a block (NULL: none). */
const char *cap_field_value(const char *block, size_t n, const char *name,
                            size_t *vlen);
/* BODY member name: {"size", "text" | "base64", "truncated"}, redacted by
 * the content type its header block [block, block+blen) names; withheld
 * when it cannot be redacted (multipart, or a content coding not decoded:
 * decoded says libcurl decodes it). */
void cap_body(struct buf *o, const struct capture *c, const char *name,
              const struct cap_body *b, const char *block, size_t blen,
              bool decoded);
/* The events' arrival times, for an event stream. */
void cap_events(struct buf *o, const char *name, const struct cap_events *e);

#endif
