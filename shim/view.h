/* view.h - what the last transfer showed the program: the client writer
 * (out.c) records the header block and the byte counts it delivered, and
 * curl_easy_getinfo and curl_easy_header answer from that record when a
 * stage handed the program an answer of its own (hooks_info.c), so that
 * they agree with the callbacks. The core knows nothing of the answer's
 * format: the record is the block the stage passed on. */
#ifndef SS_VIEW_H
#define SS_VIEW_H

#include <stdbool.h>
#include <curl/curl.h>

#include "../hooks/pure/buf.h"

/* libcurl marks the origin of the entries it hands out with this bit
 * (lib/headers.c, "this is a magic bit"); ours carry it too. */
#define SS_CURLH_MARK (1u << 27)

struct ss_view {
  bool replaced;            /* a stage replaced the answer: answer from
                               the record */
  bool body_withheld;       /* failed as FAILONERROR asks, before the body
                               (which libcurl did receive) */
  curl_off_t body_bytes;    /* bytes given to the write callback */
  long header_bytes;        /* header bytes given to the program */
  struct buf block;         /* the last block delivered, from its status
                               line to its blank line */
  bool block_done;          /* its blank line came: later lines are
                               trailers */
  struct buf content_type;  /* CURLINFO_CONTENT_TYPE's answer */
  struct buf scratch;       /* curl_easy_header's name and value */
  struct curl_header entry; /* and its answer */
  size_t entry_pos;         /* its place among all the block's fields */
};

void view_init(struct ss_view *v);
void view_free(struct ss_view *v);
/* A new transfer: nothing seen yet (memory kept). */
void view_reset(struct ss_view *v);
/* A stage hands the program an answer of its own: record its block (the
 * next one handed) from now on. */
void view_replaced(struct ss_view *v);
/* A header line and body bytes the program was handed. */
void view_header(struct ss_view *v, const char *p, size_t n);
static inline void view_body(struct ss_view *v, size_t n)
{
  v->body_bytes += (curl_off_t)n;  /* inline: the direct body path's */
}

/* The value of the first field name of the recorded block, trimmed, as a
 * NUL-terminated copy in *out (NULL: none). */
const char *view_field(struct ss_view *v, const char *name, struct buf *out);
/* How many fields name the recorded block has. */
size_t view_count(const struct ss_view *v, const char *name);
/* The index-th field name (or, with name NULL, the index-th field of any
 * name) of the recorded block, as a curl_header of origin CURLH_HEADER
 * anchored to v, valid until the next call (its place among all fields
 * in entry_pos); NULL when there is none. */
struct curl_header *view_entry(struct ss_view *v, const char *name,
                               size_t index);

#endif
