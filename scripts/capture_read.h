/* capture_read.h - reading a streamshim capture file (streamshim-capture(5)):
 * one JSON record per line, checked against the format, and the accessors
 * the two readers (`streamshim har`, `streamshim stats`) share.
 *
 * A line is checked twice: by the project's validating reader (json.h:
 * RFC 8259, UTF-8 inside strings, nothing after the value) and then, as a
 * cJSON tree, against the record's shape: the members the format names
 * must have their types when present, and pid, transfer, start and a
 * non-empty attempts list with each attempt's request method and url must
 * be there. Members it does not know are ignored (later versions only add
 * members). A line that fails is reported on stderr with its number and
 * skipped; blank lines are ignored. */
#ifndef SS_CAPTURE_READ_H
#define SS_CAPTURE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "buf.h"

#define CAP_PROG "streamshim"

struct cap_file {
  FILE *f;
  const char *name;     /* for messages: the path, or "standard input" */
  unsigned long line;   /* the number of the line read last */
  unsigned long bad;    /* lines skipped as malformed */
  unsigned long records;/* records returned */
  bool read_error;      /* reading failed (message printed) */
  char *buf;            /* getline's */
  size_t cap;
};

/* Open path ("-": standard input). False, with a message on stderr, when
 * it cannot be opened. */
bool cap_open(struct cap_file *cf, const char *path);
/* The next well-formed record (the caller cJSON_Delete()s it), or NULL at
 * the end of the file or on a read error (cf->read_error, message
 * printed). Malformed lines are skipped with a warning. */
cJSON *cap_next(struct cap_file *cf);
void cap_close(struct cap_file *cf);

/* Why a parsed record does not follow the format, or NULL when it does. */
const char *cap_check(const cJSON *rec);

/* Members (NULL / the default when absent or of another type). */
const cJSON *cap_obj(const cJSON *o, const char *name);
const cJSON *cap_arr(const cJSON *o, const char *name);
const char *cap_str(const cJSON *o, const char *name, const char *dflt);
double cap_num(const cJSON *o, const char *name, double dflt);
bool cap_has_num(const cJSON *o, const char *name);

/* A BODY: {"size": N, "text": "..."} or {"size": N, "base64": "..."},
 * "truncated": true when the capture kept only its first bytes. */
struct cap_body {
  bool present;
  double size;
  const char *text;     /* NULL when base64 */
  const char *base64;   /* NULL when text */
  bool truncated;
};
void cap_body(const cJSON *o, const char *name, struct cap_body *b);

/* The value of the first header `name` (case-insensitive) of a list of
 * [name, value] pairs, or NULL. */
const char *cap_header(const cJSON *headers, const char *name);

/* "2026-12-02T03:50:14.123456Z" (fraction optional, up to 9 digits) to
 * microseconds since the epoch. */
bool cap_parse_time(const char *s, int64_t *us);
/* Microseconds since the epoch as ISO 8601 UTC with milliseconds:
 * "2026-12-02T03:50:14.123Z" (out: 32 bytes). */
void cap_format_time_ms(int64_t us, char out[32]);

/* The parts of a URL: its path (from the first '/' after the authority up
 * to '?' or '#'; "/" when empty) and its query (after '?' up to '#';
 * *qlen 0 when none). */
void cap_url_parts(const char *url, const char **path, size_t *plen,
                   const char **query, size_t *qlen);
/* Is [p, p+n) valid UTF-8 (no overlongs, surrogates, or code points above
 * U+10FFFF)? */
bool cap_utf8_valid(const char *p, size_t n);

/* The model a request asked for: the Azure deployment of the URL path
 * (/openai/deployments/NAME/...: Azure routes by it and ignores the body's
 * model, as the shim matches), else the top-level "model" string of the
 * program's own body when the shim rewrote it, else of the body sent.
 * Appends it to out (decoded UTF-8); false when there is none. */
bool cap_request_model(const cJSON *request, struct buf *out);

#endif
