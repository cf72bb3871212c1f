/* capture_record_int.h - the pieces of a capture record, shared by
 * capture_record.c (the record's shape) and capture_json.c (members,
 * header fields and bodies, redacted). Pure. */
#ifndef SS_CAPTURE_RECORD_INT_H
#define SS_CAPTURE_RECORD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "capture_record.h"
#include "json_write.h"

/* Members end in a comma; cap_close drops the last one and closes the
 * object or array. Member names are the record's own literals (plain
 * ASCII, nothing to escape): inline, so that their lengths are known
 * where they are written. */
static inline void cap_key(struct buf *o, const char *name)
{
  buf_append(o, "\"", 1);
  buf_append(o, name, strlen(name));
  buf_append(o, "\":", 2);
}

static inline void cap_str(struct buf *o, const char *name, const char *p,
                           size_t n)
{
  cap_key(o, name);
  json_put_string(o, p, n);
  buf_append(o, ",", 1);
}

static inline void cap_int(struct buf *o, const char *name, int64_t v)
{
  cap_key(o, name);
  json_put_int(o, v);
  buf_append(o, ",", 1);
}

void cap_close(struct buf *o, char c);
/* Marks o out of memory when part is (a part built apart, then copied in). */
void cap_lost(struct buf *o, const struct buf *part);
/* The length of a line without its line end. */
size_t cap_trim_eol(const char *p, size_t n);
/* A URL, redacted, as a JSON string. */
void cap_url(struct buf *o, const struct capture *c, const char *p, size_t n);
/* A "Name: value" line as ["Name", "value"], the value redacted (through
 * scratch, a buffer the caller owns and reuses). */
void cap_field(struct buf *o, const struct capture *c, const char *p,
               size_t n, struct buf *scratch);
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
