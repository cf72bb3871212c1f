/* hooks_info.c - curl_easy_getinfo and the header API (see hooks.h). When
 * a stage handed the program an answer of its own, they answer from the
 * record of what the client writer delivered (view.h), so that what they
 * say agrees with the callbacks: the replacement's content type, no
 * length where it has none, the bytes the program got. Everything else
 * is libcurl's answer. */
#include <stdlib.h>
#include <strings.h>

#include "handle.h"
#include "hooks.h"
#include "registry.h"
#include "../hooks/pure/headers.h"

/* The recorded block's Content-Length, or -1 (*oom: it could not be
 * copied). */
static curl_off_t view_length(struct ss_view *v, bool *oom)
{
  struct buf num;
  buf_init(&num);
  const char *s = view_field(v, "Content-Length", &num);
  char *stop;
  curl_off_t len = s ? strtoll(s, &stop, 10) : -1;
  if(!s || *stop || len < 0)
    len = -1;
  *oom = num.oom;
  buf_free(&num);
  return len;
}

/* The recorded block's status, or -1. */
static long view_status(const struct ss_view *v)
{
  if(!v->block.len)
    return -1;
  return header_status(v->block.ptr,
                       header_line_len(v->block.ptr, v->block.len));
}

/* What getinfo reports about a replaced answer. Out of memory: when the
 * record of the block lost lines, or a value could not be copied (the
 * program is told, never handed a wrong value). */
static CURLcode view_getinfo(struct ss_view *v, CURLINFO info, void *arg)
{
  switch(info) {  /* the answers read from the record of the block */
  case CURLINFO_CONTENT_TYPE:
  case CURLINFO_CONTENT_LENGTH_DOWNLOAD:
  case CURLINFO_CONTENT_LENGTH_DOWNLOAD_T:
  case CURLINFO_RESPONSE_CODE:
    if(v->block.oom)
      return CURLE_OUT_OF_MEMORY;
    break;
  default:
    break;
  }
  switch(info) {
  case CURLINFO_CONTENT_TYPE:
    *(const char **)arg = view_field(v, "Content-Type", &v->content_type);
    if(v->content_type.oom)
      return CURLE_OUT_OF_MEMORY;
    break;
  case CURLINFO_CONTENT_LENGTH_DOWNLOAD:
  case CURLINFO_CONTENT_LENGTH_DOWNLOAD_T: {
    bool oom = false;
    curl_off_t len = view_length(v, &oom);
    if(oom)
      return CURLE_OUT_OF_MEMORY;
    if(info == CURLINFO_CONTENT_LENGTH_DOWNLOAD)
      *(double *)arg = (double)len;
    else
      *(curl_off_t *)arg = len;
    break;
  }
  case CURLINFO_SIZE_DOWNLOAD:
    *(double *)arg = (double)v->body_bytes;
    break;
  case CURLINFO_SIZE_DOWNLOAD_T:
    *(curl_off_t *)arg = v->body_bytes;
    break;
  case CURLINFO_HEADER_SIZE:  /* PHP splits CURLOPT_HEADER output with it */
    *(long *)arg = v->header_bytes;
    break;
  case CURLINFO_RESPONSE_CODE: {  /* an error a stream carried has its own */
    long status = view_status(v);
    if(status > 0)
      *(long *)arg = status;
    break;
  }
  default:
    break;
  }
  return CURLE_OK;
}

CURLcode ss_easy_getinfo_tracked(const struct ss_real *r, CURL *easy,
                                 CURLINFO info, void *arg)
{
  CURLcode rc = r->easy_getinfo(easy, info, arg);
  if(rc != CURLE_OK || !arg)
    return rc;
  struct ss_handle *s = easy ? registry_get(easy) : NULL;
  if(s && s->view.replaced)
    rc = view_getinfo(&s->view, info, arg);
  else if(s && s->view.body_withheld && (info == CURLINFO_SIZE_DOWNLOAD ||
                                         info == CURLINFO_SIZE_DOWNLOAD_T))
    rc = view_getinfo(&s->view, info, arg);  /* none of it was delivered */
  return rc;
}

/* The program's handle, when its last answer was replaced and the call
 * asks about the last request's own header block. */
static struct ss_handle *replaced(CURL *easy, unsigned int origin,
                                  int request)
{
  struct ss_handle *s = easy ? registry_get(easy) : NULL;
  return s && s->view.replaced && request == -1 && (origin & CURLH_HEADER)
         ? s : NULL;
}

/* Origins libcurl records before a response's block (a proxy's CONNECT
 * answer, 1xx blocks, HTTP/2 pseudo-headers) and after it (trailers). */
#define BEFORE_BLOCK (CURLH_CONNECT | CURLH_1XX | CURLH_PSEUDO)
#define AFTER_BLOCK CURLH_TRAILER

/* How many headers name libcurl has of these origins. */
static size_t real_amount(const struct ss_real *r, CURL *easy,
                          const char *name, unsigned int origin)
{
  struct curl_header *h;
  if(!origin || r->easy_header(easy, name, 0, origin, -1, &h) != CURLHE_OK)
    return 0;
  return h->amount;
}

/* libcurl's entry, counted among all of the answer's: a copy with the
 * whole amount and its place in it. */
static struct curl_header *renumber(struct ss_view *v,
                                    const struct curl_header *h,
                                    size_t amount, size_t index)
{
  v->entry = *h;
  v->entry.amount = amount;
  v->entry.index = index;
  return &v->entry;
}

CURLHcode ss_easy_header(enum ss_flavour fl, CURL *easy, const char *name,
                         size_t index, unsigned int origin, int request,
                         struct curl_header **hout)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->easy_header)
    return CURLHE_NOT_BUILT_IN;
  struct ss_handle *s = name && hout ? replaced(easy, origin, request) : NULL;
  if(!s)
    return r->easy_header(easy, name, index, origin, request, hout);
  if(s->view.block.oom)  /* the record of the block lost lines */
    return CURLHE_OUT_OF_MEMORY;
  /* libcurl's records before the block, the delivered block, libcurl's
   * trailers: in that order, as libcurl counts them. */
  size_t before = real_amount(r, easy, name, origin & BEFORE_BLOCK);
  size_t mine = view_count(&s->view, name);
  size_t after = real_amount(r, easy, name, origin & AFTER_BLOCK);
  size_t amount = before + mine + after;
  struct curl_header *h;
  *hout = NULL;
  if(!amount)
    return CURLHE_MISSING;
  if(index >= amount)
    return CURLHE_BADINDEX;
  if(index >= before && index < before + mine) {
    h = view_entry(&s->view, name, index - before);
    if(!h)
      return CURLHE_OUT_OF_MEMORY;
    h->amount = amount;
    h->index = index;
  }
  else {
    unsigned int part = index < before ? origin & BEFORE_BLOCK
                                       : origin & AFTER_BLOCK;
    size_t at = index < before ? index : index - before - mine;
    CURLHcode rc = r->easy_header(easy, name, at, part, -1, &h);
    if(rc != CURLHE_OK)
      return rc;
    h = renumber(&s->view, h, amount, index);
  }
  *hout = h;
  return CURLHE_OK;
}

/* e, found in the part of the answer origin names (before the block,
 * the block, after it), numbered among all of the answer's fields of its
 * name in the origins asked for, as libcurl numbers them. */
static struct curl_header *number(const struct ss_real *r, CURL *easy,
                                  struct ss_view *v, struct curl_header *e,
                                  unsigned int origin, unsigned int part)
{
  if(!e)
    return NULL;
  /* libcurl's entry first: counting below reuses the struct it gave */
  struct curl_header found = *e;
  size_t before = real_amount(r, easy, found.name, origin & BEFORE_BLOCK);
  size_t mine = view_count(v, found.name);
  size_t after = real_amount(r, easy, found.name, origin & AFTER_BLOCK);
  size_t index = part == CURLH_HEADER ? before + found.index
                 : part == AFTER_BLOCK ? before + mine + found.index
                 : found.index;
  return renumber(v, &found, before + mine + after, index);
}

struct curl_header *ss_easy_nextheader(enum ss_flavour fl, CURL *easy,
                                       unsigned int origin, int request,
                                       struct curl_header *prev)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->easy_nextheader)
    return NULL;
  struct ss_handle *s = replaced(easy, origin, request);
  if(!s)
    return r->easy_nextheader(easy, origin, request, prev);
  struct ss_view *v = &s->view;
  /* Which part prev is in: libcurl's before the block, the block (ours,
   * anchored to the view), libcurl's after it. A copy of libcurl's entry
   * keeps its anchor, from which libcurl goes on. */
  bool in_block = prev && prev->anchor == v;
  bool after = prev && !in_block && (prev->origin & AFTER_BLOCK);
  struct curl_header *h;
  if(!after && !in_block && (origin & BEFORE_BLOCK)) {
    h = r->easy_nextheader(easy, origin & BEFORE_BLOCK, -1, prev);
    if(h)
      return number(r, easy, v, h, origin, BEFORE_BLOCK);
  }
  if(!after) {
    h = view_entry(v, NULL, in_block ? v->entry_pos + 1 : 0);
    if(h)
      return number(r, easy, v, h, origin, CURLH_HEADER);
  }
  if(!(origin & AFTER_BLOCK))
    return NULL;
  h = r->easy_nextheader(easy, origin & AFTER_BLOCK, -1, after ? prev : NULL);
  return number(r, easy, v, h, origin, AFTER_BLOCK);
}
