/* redact.h - removing secrets from what a capture records. Pure.
 *
 * Three name lists decide what is secret: header names, URL query keys and
 * JSON / form field names, all compared case-insensitively (ASCII). A
 * secret value becomes "[redacted N]", N its length in bytes; every other
 * byte is copied exactly. A value that is empty is kept (there is nothing
 * to hide, and the output stays byte-exact).
 *
 * Every writer appends to out. It returns false only when memory runs out
 * (redact_json also when its input is not one JSON value); then out->len
 * is as on entry, so no half-written record, and no byte of a secret, is
 * left behind: the caller drops the whole field. Every writer copies its
 * input unchanged when r->off. Memory only through buf.h (out, and one
 * temporary buffer for a form body that looks like JSON); no state. */
#ifndef SS_REDACT_H
#define SS_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define REDACT_NAMES_MAX 64  /* names per list */
#define REDACT_NAME_MAX 63   /* bytes per name */

enum redact_list {
  REDACT_HEADERS = 0,  /* header names whose value is secret */
  REDACT_QUERY,        /* URL query keys (also in a fragment) */
  REDACT_FIELDS,       /* JSON member names, form keys */
  REDACT_LISTS
};

struct redact_names {
  unsigned n;
  char v[REDACT_NAMES_MAX][REDACT_NAME_MAX + 1];  /* NUL-terminated */
};

struct redact_rules {
  bool off;  /* copy everything unchanged (capture_redact = off) */
  struct redact_names lists[REDACT_LISTS];
};

/* The built-in lists (docs: capture format, "Redaction"), off false:
 *   headers  Authorization Proxy-Authorization api-key x-api-key
 *            x-goog-api-key Cookie Set-Cookie
 *   query    key api_key api-key apikey token access_token sig signature
 *            password secret
 *   fields   api_key apiKey password secret client_secret refresh_token
 *            access_token id_token token */
void redact_rules_default(struct redact_rules *r);

/* Edit one list with a comma-separated spec of n bytes: "name" or "+name"
 * adds (a name already there, in any case, is not added twice), "-name"
 * removes; blanks around items and after the sign are ignored, empty items
 * skipped. A name is 1 to REDACT_NAME_MAX bytes with no control byte.
 * When every item is well-formed the items apply in order. When one is
 * not, only the additions apply, never a removal (a typo must not turn
 * redaction off). A full list drops the additions that do not fit. False
 * when an item was malformed or did not fit. */
bool redact_rules_edit(struct redact_rules *r, enum redact_list which,
                       const char *spec, size_t n);
/* Is [name, name+n) in the list (case-insensitively)? */
bool redact_rules_has(const struct redact_rules *r, enum redact_list which,
                      const char *name, size_t n);

/* One header line as libcurl hands it ("Name: value", with or without its
 * CR LF; HTTP/2 names are lowercase). A listed name's value (without the
 * blanks around it) becomes "[redacted N]"; Authorization and
 * Proxy-Authorization keep a known scheme word ("Bearer [redacted 51]";
 * IANA's registered schemes and common others, redact.c); a value of one
 * word or with another first word is redacted whole. The URL in a Location,
 * Content-Location or Referer value, and the target of a request line
 * ("GET /path?key=... HTTP/1.1"), are redacted as redact_url() does.
 * Anything else (status lines, blank lines) is copied. A folded
 * continuation line (obs-fold, starting with a blank) cannot be told from
 * here: join it to its field and use redact_header_value(). */
bool redact_header_line(const struct redact_rules *r, const char *line,
                        size_t n, struct buf *out);
/* The value of field [name, name+name_len) as redact_header_line() writes
 * it; blanks (space, tab, CR, LF) around the value are kept. */
bool redact_header_value(const struct redact_rules *r, const char *name,
                         size_t name_len, const char *value, size_t n,
                         struct buf *out);

/* A URL (absolute, scheme-less as libcurl accepts "user:pw@host/x", or a
 * relative reference as in a Location). The userinfo of the authority
 * (up to its last '@'; the authority ends at the first '/', '?' or '#')
 * becomes "[redacted]@"; the value of every '&'-separated item of the
 * query and of the fragment whose key (percent-decoded, '+' as a space)
 * is listed becomes "[redacted N]". An '@' in the path or query is data. */
bool redact_url(const struct redact_rules *r, const char *url, size_t n,
                struct buf *out);

/* A JSON document: the value of every member, at any depth, whose decoded
 * name ("api\u005fkey" is api_key) is in the fields list becomes
 * "[redacted N]" for a string (N: the bytes between its quotes, as
 * written) and "[redacted]" for any other value; all other bytes are kept
 * (whitespace, order, escapes). False, out untouched, when the input is
 * not exactly one JSON value (json.h: RFC 8259, nesting up to
 * JSON_MAX_DEPTH), unless r->off (then any input is copied). Linear in n:
 * one pass after json_parse(), no recursion, no stack. */
bool redact_json(const struct redact_rules *r, const char *body, size_t n,
                 struct buf *out);

/* An application/x-www-form-urlencoded body (k=v&k2=v2): the value of
 * every item whose key (percent-decoded, '+' as a space) is in the fields
 * list becomes "[redacted N]". */
bool redact_form(const struct redact_rules *r, const char *body, size_t n,
                 struct buf *out);

/* A body of the given Content-Type value (NULL: none), in this order:
 *  1. one JSON value, whatever the type: redact_json();
 *  2. application/x-www-form-urlencoded: redact_form(), after the lenient
 *     JSON pass below when the body looks like JSON (a JSON text cut
 *     short, sent with curl -d's default type);
 *  3. a type whose subtype has "json" in it (NDJSON, a JSON body cut at
 *     the capture's limit), text/event-stream, or a body that looks like
 *     JSON (its first byte after blanks and a UTF-8 BOM is '{' or '['):
 *     the JSON rule applied leniently, member by member (a name is a
 *     string followed by ':'; strings end at a quote or a line end; an
 *     unclosed value runs to the end of the text);
 *  4. anything else: copied unchanged.
 * A body cut short must be given as the prefix it is: rules 2 and 3 still
 * find the members in it. */
bool redact_body(const struct redact_rules *r, const char *content_type,
                 const char *body, size_t n, struct buf *out);

#endif
