/* swap.c - the options a transfer changes on the real handle, and their
 * restoration from the program's record (see xfer.h). */
#include "xfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hooks/pure/headers.h"


/* Each node of a shim-built header list; `owned` data is ours to free. */
struct owned_node {
  struct curl_slist node;
  bool owned;
};

/* Free a list built by copy_headers. */
static void free_headers(struct curl_slist *l)
{
  while(l) {
    struct owned_node *o = (struct owned_node *)l;
    l = l->next;
    if(o->owned)
      free(o->node.data);
    free(o);
  }
}

/* Is this header line (NUL-terminated) the field `name`? */
static bool is_field(const char *s, const char *name)
{
  return header_is(s, strlen(s), name);
}

/* Does the program's header list send this field? */
static bool has_field(const struct curl_slist *l, const char *name)
{
  for(; l; l = l->next)
    if(l->data && is_field(l->data, name))
      return true;
  return false;
}

/* A copy of the program's list with each Content-Length set to len, or
 * NULL when it has none (or memory ran out: *oom). */
static struct curl_slist *copy_headers(const struct curl_slist *l, size_t len,
                                       bool *oom)
{
  struct curl_slist *head = NULL, **tail = &head;
  bool any = false;
  *oom = false;
  for(; l; l = l->next) {
    struct owned_node *o = calloc(1, sizeof(*o));
    if(!o)
      goto fail;
    *tail = &o->node;
    tail = &o->node.next;
    o->node.data = l->data;
    if(l->data && is_field(l->data, "Content-Length")) {
      char *c = malloc(64);
      if(!c)
        goto fail;
      snprintf(c, 64, "%.*s: %zu", (int)strcspn(l->data, " \t:"), l->data, len);
      o->node.data = c;
      o->owned = any = true;
    }
  }
  if(any)
    return head;
  free_headers(head);
  return NULL;
fail:
  free_headers(head);
  *oom = true;
  return NULL;
}

bool xfer_fix_content_length(struct ss_xfer *x, size_t len)
{
  bool oom;
  struct curl_slist *hl = copy_headers(x->h->app.httpheader, len, &oom);
  if(!hl)
    return !oom;
  x->headers = hl;
  x->swapped |= SS_SWAP_HTTPHEADER;
  return !x->real->easy_setopt(x->h->easy, CURLOPT_HTTPHEADER, hl);
}

bool xfer_set_body(struct ss_xfer *x, char *body, size_t len)
{
  CURL *e = x->h->easy;
  if(x->swapped & SS_SWAP_READ)  /* an upload read ahead: served instead */
    return xfer_set_upload(x, body, len);
  x->body = body;
  x->body_len = len;
  x->swapped |= SS_SWAP_BODY;
  return !x->real->easy_setopt(e, CURLOPT_POSTFIELDS, body) &&
         !x->real->easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                               (curl_off_t)len) &&
         xfer_fix_content_length(x, len);
}

bool xfer_decode_answer(struct ss_xfer *x)
{
  const struct ss_app_opts *a = &x->h->app;
  /* libcurl decodes when ACCEPT_ENCODING is set, and without an
   * Accept-Encoding header a server sends the answer as it is; only a
   * program sending its own header gets the encoded bytes. */
  if(a->accept_encoding || !has_field(a->httpheader, "Accept-Encoding"))
    return true;
  x->swapped |= SS_SWAP_ENCODING;
  return !x->real->easy_setopt(x->h->easy, CURLOPT_ACCEPT_ENCODING, "");
}

bool xfer_shim_decodes(const struct ss_xfer *x)
{
  return (x->swapped & SS_SWAP_ENCODING) != 0;
}

bool xfer_lift_low_speed(struct ss_xfer *x)
{
  if(x->h->app.low_speed_limit <= 0 || x->h->app.low_speed_time <= 0)
    return true;
  x->swapped |= SS_SWAP_LOWSPEED;
  return !x->real->easy_setopt(x->h->easy, CURLOPT_LOW_SPEED_LIMIT, 0L);
}

bool xfer_fail_on_error(struct ss_xfer *x, bool on)
{
  if(!x->h->app.failonerror)
    return true;
  x->swapped |= SS_SWAP_FAILONERROR;
  return !x->real->easy_setopt(x->h->easy, CURLOPT_FAILONERROR, on ? 1L : 0L);
}

bool xfer_watch_response(struct ss_xfer *x)
{
  CURL *e = x->h->easy;
  CURLcode (*set)(CURL *, CURLoption, ...) = x->real->easy_setopt;
  x->swapped |= SS_SWAP_WRITE | SS_SWAP_HEADER;
  /* With CURLOPT_HEADER libcurl would hand header lines to the write
   * callback too, mixed with the body; the client writer does it instead,
   * so that the shim sees body bytes only there. */
  if(x->h->app.include_header) {
    x->swapped |= SS_SWAP_INCLUDE;
    if(set(e, CURLOPT_HEADER, 0L))
      return false;
  }
  return !set(e, CURLOPT_WRITEFUNCTION, ss_write_cb) &&
         !set(e, CURLOPT_WRITEDATA, x) &&
         !set(e, CURLOPT_HEADERFUNCTION, ss_header_cb) &&
         !set(e, CURLOPT_HEADERDATA, x);
}

/* Put the program's body back on e. A COPYPOSTFIELDS copy was freed by
 * libcurl when the shim set POSTFIELDS: copy again from the shim's own. */
static void restore_body(const struct ss_app_opts *a, CURL *e,
                         CURLcode (*set)(CURL *, CURLoption, ...))
{
  if(a->postfields_copy && a->postfields == a->postfields_copy) {
    if(a->postfieldsize < 0) {
      set(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
      set(e, CURLOPT_COPYPOSTFIELDS, a->postfields_copy);
    }
    else {
      set(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)a->postfields_copy_len);
      set(e, CURLOPT_COPYPOSTFIELDS, a->postfields_copy);
      set(e, CURLOPT_POSTFIELDSIZE_LARGE, a->postfieldsize);
    }
  }
  else {
    set(e, CURLOPT_POSTFIELDS, a->postfields);
    set(e, CURLOPT_POSTFIELDSIZE_LARGE, a->postfieldsize);
  }
  /* Setting a body makes libcurl POST: a method the program chose since
   * (HTTPGET, NOBODY, UPLOAD) is applied again. */
  if(a->nobody)
    set(e, CURLOPT_NOBODY, 1L);
  else if(a->upload)
    set(e, CURLOPT_UPLOAD, 1L);
  else if(a->method == SS_METHOD_GET)
    set(e, CURLOPT_HTTPGET, 1L);
}

void xfer_put_back(const struct ss_xfer *x, CURL *e, unsigned mask)
{
  const struct ss_app_opts *a = &x->h->app;
  CURLcode (*set)(CURL *, CURLoption, ...) = x->real->easy_setopt;
  mask &= x->swapped;
  if(mask & SS_SWAP_WRITE) {
    set(e, CURLOPT_WRITEFUNCTION, a->write_fn);
    set(e, CURLOPT_WRITEDATA, a->write_data);
  }
  if(mask & SS_SWAP_HEADER) {
    set(e, CURLOPT_HEADERFUNCTION, a->header_fn);
    set(e, CURLOPT_HEADERDATA, a->header_data);
  }
  if(mask & SS_SWAP_BODY)
    restore_body(a, e, set);
  if(mask & SS_SWAP_HTTPHEADER)
    set(e, CURLOPT_HTTPHEADER, a->httpheader);
  if(mask & SS_SWAP_ENCODING)
    set(e, CURLOPT_ACCEPT_ENCODING, a->accept_encoding);
  if(mask & SS_SWAP_LOWSPEED)
    set(e, CURLOPT_LOW_SPEED_LIMIT, a->low_speed_limit);
  if(mask & SS_SWAP_READ) {
    set(e, CURLOPT_READFUNCTION, a->read_fn);
    set(e, CURLOPT_READDATA, a->read_data);
    set(e, CURLOPT_SEEKFUNCTION, a->seek_fn);
    set(e, CURLOPT_SEEKDATA, a->seek_data);
  }
  if(mask & SS_SWAP_INCLUDE)
    set(e, CURLOPT_HEADER, (long)a->include_header);
  if(mask & SS_SWAP_FAILONERROR)
    set(e, CURLOPT_FAILONERROR, (long)a->failonerror);
  if(mask & SS_SWAP_DEBUG) {
    set(e, CURLOPT_DEBUGFUNCTION, a->debug_fn);
    set(e, CURLOPT_DEBUGDATA, a->debug_data);
    set(e, CURLOPT_VERBOSE, (long)a->verbose);
  }
  if(mask & SS_SWAP_UPSIZE)
    set(e, a->upload ? CURLOPT_INFILESIZE_LARGE : CURLOPT_POSTFIELDSIZE_LARGE,
        a->upload ? a->infilesize : a->postfieldsize);
}

void xfer_release(struct ss_xfer *x, unsigned mask)
{
  mask &= x->swapped;
  if(mask & SS_SWAP_READ)
    buf_free(&x->up);
  if(mask & SS_SWAP_BODY) {
    free(x->body);
    x->body = NULL;
  }
  if(mask & SS_SWAP_HTTPHEADER) {
    free_headers(x->headers);
    x->headers = NULL;
  }
  x->swapped &= ~mask;
}

void xfer_restore(struct ss_xfer *x, unsigned mask)
{
  xfer_put_back(x, x->h->easy, mask);
  xfer_release(x, mask);
}

bool xfer_owns_option(const struct ss_xfer *x, CURLoption opt)
{
  unsigned bit;
  switch(opt) {
  case CURLOPT_WRITEFUNCTION: case CURLOPT_WRITEDATA:
    bit = SS_SWAP_WRITE; break;
  case CURLOPT_HEADERFUNCTION: case CURLOPT_HEADERDATA:
    bit = SS_SWAP_HEADER; break;
  case CURLOPT_POSTFIELDS: case CURLOPT_COPYPOSTFIELDS:
  case CURLOPT_POSTFIELDSIZE: case CURLOPT_POSTFIELDSIZE_LARGE:
    bit = SS_SWAP_BODY; break;
  case CURLOPT_HTTPHEADER: bit = SS_SWAP_HTTPHEADER; break;
  case CURLOPT_ACCEPT_ENCODING: bit = SS_SWAP_ENCODING; break;
  case CURLOPT_LOW_SPEED_LIMIT: bit = SS_SWAP_LOWSPEED; break;
  case CURLOPT_READFUNCTION: case CURLOPT_READDATA:
  case CURLOPT_SEEKFUNCTION: case CURLOPT_SEEKDATA:
    bit = SS_SWAP_READ; break;
  case CURLOPT_INFILESIZE: case CURLOPT_INFILESIZE_LARGE:
    bit = SS_SWAP_UPSIZE; break;
  case CURLOPT_HEADER: bit = SS_SWAP_INCLUDE; break;
  case CURLOPT_FAILONERROR: bit = SS_SWAP_FAILONERROR; break;
  case CURLOPT_VERBOSE: case CURLOPT_DEBUGFUNCTION: case CURLOPT_DEBUGDATA:
    bit = SS_SWAP_DEBUG; break;
  default: return false;
  }
  /* a POST read body's size is POSTFIELDSIZE */
  if(bit == SS_SWAP_BODY && (x->swapped & SS_SWAP_UPSIZE) &&
     (opt == CURLOPT_POSTFIELDSIZE || opt == CURLOPT_POSTFIELDSIZE_LARGE))
    return true;
  return (x->swapped & bit) != 0;
}
