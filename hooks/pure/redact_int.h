/* redact_int.h - helpers shared by the redaction files (redact.c:
 * lists, headers, URLs, forms; redact_json.c: JSON and bodies). Pure. */
#ifndef SS_REDACT_INT_H
#define SS_REDACT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "redact.h"

bool rd_same_name(const char *a, size_t an, const char *b, size_t bn);
bool rd_same_cname(const char *p, size_t n, const char *name);
bool rd_listed(const struct redact_names *l, const char *p, size_t n);
/* A blank (space, tab); a blank or line end (around a header value, and
 * JSON whitespace). Inline: the JSON pass asks after every string. */
static inline bool rd_is_blank(char c)
{
  return c == ' ' || c == '\t';
}

static inline bool rd_is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool rd_in_set(char c, const char *set);
void rd_put_redacted(struct buf *out, size_t n);
bool rd_finish(struct buf *out, size_t start);
bool rd_copy_all(const char *p, size_t n, struct buf *out);
void rd_put_pairs(const struct redact_names *l, const char *p, size_t n,
                      bool route, struct buf *out);

#endif
