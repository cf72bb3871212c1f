/* upload.c - reading a program's upload body ahead, so that a stage can
 * look at it and replace it (see xfer.h). libcurl then reads from the
 * shim's memory; a rewind (redirect, auth) is a seek within it. */
#include "xfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libcurl's read function: the buffer, then the program's own reader when
 * the read ahead stopped early. */
static size_t ss_read_cb(char *p, size_t size, size_t nmemb, void *ud)
{
  struct ss_xfer *x = ud;
  const struct ss_app_opts *a = &x->h->app;
  size_t want = size * nmemb, left = x->up.len - x->up_off;
  if(left) {
    size_t n = left < want ? left : want;
    memcpy(p, x->up.ptr + x->up_off, n);
    x->up_off += n;
    return n;
  }
  if(x->up_complete)
    return 0;
  if(a->read_fn)
    return a->read_fn(p, size, nmemb, a->read_data);
  return fread(p, size, nmemb, (FILE *)a->read_data);
}

/* libcurl's seek function: rewinds within a complete read ahead. */
static int ss_seek_cb(void *ud, curl_off_t offset, int origin)
{
  struct ss_xfer *x = ud;
  if(!x->up_complete || origin != SEEK_SET || offset < 0 ||
     (size_t)offset > x->up.len)
    return CURL_SEEKFUNC_CANTSEEK;
  x->up_off = (size_t)offset;
  return CURL_SEEKFUNC_OK;
}

/* Read from the program until the end, a refusal or max bytes. */
static void read_ahead(struct ss_xfer *x, curl_off_t size, size_t max)
{
  const struct ss_app_opts *a = &x->h->app;
  char tmp[16384];
  for(;;) {
    size_t want = sizeof(tmp);
    if(size >= 0 && (curl_off_t)(x->up.len + want) > size)
      want = (size_t)(size - (curl_off_t)x->up.len);
    if(!want) {  /* libcurl would not read past the announced size */
      x->up_complete = true;
      return;
    }
    size_t r = a->read_fn ? a->read_fn(tmp, 1, want, a->read_data)
                          : fread(tmp, 1, want, (FILE *)a->read_data);
    if(r == 0) {
      x->up_complete = size < 0 || (curl_off_t)x->up.len == size;
      return;
    }
    if(r > want || !buf_append(&x->up, tmp, r) || x->up.len > max)
      return;  /* pause, abort, error or too big: the rest streams later */
  }
}

bool xfer_read_upload(struct ss_xfer *x, size_t max, const char **p,
                      size_t *n)
{
  CURL *e = x->h->easy;
  CURLcode (*set)(CURL *, CURLoption, ...) = x->real->easy_setopt;
  curl_off_t size;
  if(!handle_read_body(x->h, &size))
    return false;
  buf_init(&x->up);
  x->up_off = 0;
  x->up_complete = false;
  if(x->h->has_kept_upload) {  /* a retry: the program's reader is spent */
    x->up = x->h->kept_upload;
    buf_init(&x->h->kept_upload);
    x->h->has_kept_upload = false;
    x->up_complete = true;
  }
  else
    read_ahead(x, size, max);
  x->swapped |= SS_SWAP_READ;
  set(e, CURLOPT_READFUNCTION, ss_read_cb);
  set(e, CURLOPT_READDATA, x);
  set(e, CURLOPT_SEEKFUNCTION, ss_seek_cb);
  set(e, CURLOPT_SEEKDATA, x);
  *p = x->up.ptr ? x->up.ptr : "";
  *n = x->up.len;
  return x->up_complete;
}

bool xfer_set_upload(struct ss_xfer *x, char *body, size_t len)
{
  const struct ss_app_opts *a = &x->h->app;
  curl_off_t size = a->upload ? a->infilesize : a->postfieldsize;
  buf_free(&x->up_app);
  x->up_app = x->up;  /* the program's, for the monitors */
  x->up.ptr = body;
  x->up.len = x->up.cap = len;
  x->up_off = 0;
  if(size < 0)  /* chunked stays chunked */
    return true;
  x->swapped |= SS_SWAP_UPSIZE;
  return !x->real->easy_setopt(x->h->easy,
                               a->upload ? CURLOPT_INFILESIZE_LARGE
                                         : CURLOPT_POSTFIELDSIZE_LARGE,
                               (curl_off_t)len) &&
         xfer_fix_content_length(x, len);
}
