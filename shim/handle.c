/* handle.c - recording the program's options (see handle.h). */
#include "handle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "std_streams.h"

/* libcurl's defaults (url.c Curl_init_userdefined). */
static void app_defaults(struct ss_app_opts *a)
{
  memset(a, 0, sizeof(*a));
  a->write_data = ss_std_stream(SS_STDOUT);
  a->read_data = ss_std_stream(SS_STDIN);
  a->infilesize = -1;
  a->postfieldsize = -1;
  a->content_decoding = 1;
}

/* Free what the record owns. */
static void app_free(struct ss_app_opts *a)
{
  free(a->postfields_copy);
  free(a->url_buf);
  free(a->customrequest);
  free(a->accept_encoding);
}

struct ss_handle *handle_new(CURL *easy, enum ss_flavour fl)
{
  struct ss_handle *h = calloc(1, sizeof(*h));
  if(!h)
    return NULL;
  h->easy = easy;
  h->fl = fl;
  app_defaults(&h->app);
  view_init(&h->view);
  return h;
}

void handle_free(struct ss_handle *h)
{
  if(!h)
    return;
  app_free(&h->app);
  buf_free(&h->kept_upload);
  view_free(&h->view);
  free(h);
}

void handle_reset(struct ss_handle *h)
{
  app_free(&h->app);
  app_defaults(&h->app);
  view_reset(&h->view);
}

/* Replace *dst with a copy of src (NULL allowed); false on OOM. */
static bool set_str(char **dst, const char *src)
{
  char *c = src ? strdup(src) : NULL;
  if(src && !c)
    return false;
  free(*dst);
  *dst = c;
  return true;
}

/* CURLOPT_URL: copied into the record's buffer, which grows only, so
 * that setting it again per transfer allocates nothing; false on OOM
 * (the URL is then unknown). */
static bool set_url(struct ss_app_opts *a, const char *src)
{
  if(!src) {
    a->url = NULL;
    return true;
  }
  size_t n = strlen(src) + 1;
  if(n > a->url_cap) {
    size_t cap = n < 128 ? 128 : n;
    char *b = malloc(cap);
    if(!b) {
      a->url = NULL;
      return false;
    }
    free(a->url_buf);
    a->url_buf = b;
    a->url_cap = cap;
  }
  memcpy(a->url_buf, src, n);
  a->url = a->url_buf;
  return true;
}

struct ss_handle *handle_dup(const struct ss_handle *src, CURL *easy)
{
  struct ss_handle *h = handle_new(easy, src->fl);
  if(!h)
    return NULL;
  h->app = src->app;
  h->app.url = h->app.url_buf = NULL;
  h->app.url_cap = 0;
  h->app.customrequest = h->app.accept_encoding = NULL;
  h->app.postfields_copy = NULL;
  bool ok = set_url(&h->app, src->app.url) &&
            set_str(&h->app.customrequest, src->app.customrequest) &&
            set_str(&h->app.accept_encoding, src->app.accept_encoding);
  if(ok && src->app.postfields_copy) {
    size_t n = src->app.postfields_copy_len;
    h->app.postfields_copy = malloc(n + 1);
    ok = h->app.postfields_copy != NULL;
    if(ok) {
      memcpy(h->app.postfields_copy, src->app.postfields_copy, n + 1);
      h->app.postfields = h->app.postfields_copy;
    }
  }
  if(!ok) {
    handle_free(h);
    return NULL;
  }
  return h;
}

/* COPYPOSTFIELDS: libcurl copies postfieldsize bytes, or strlen+1 when the
 * size is -1 (setopt.c); keep the same bytes. */
static void record_copy(struct ss_app_opts *a, const char *p)
{
  free(a->postfields_copy);
  a->postfields_copy = NULL;
  a->postfields_copy_len = 0;
  a->postfields = NULL;
  a->method = SS_METHOD_POST;
  if(!p)
    return;
  size_t n = a->postfieldsize < 0 ? strlen(p) : (size_t)a->postfieldsize;
  a->postfields_copy = malloc(n + 1);
  if(!a->postfields_copy) {
    a->body_unknown = true;
    return;
  }
  memcpy(a->postfields_copy, p, n);
  a->postfields_copy[n] = '\0';
  a->postfields_copy_len = n;
  a->postfields = a->postfields_copy;
  a->body_unknown = false;
}

/* POSTFIELDSIZE(_LARGE): a larger size drops a copied body (setopt.c). */
static void record_size(struct ss_app_opts *a, curl_off_t size)
{
  if(a->postfieldsize < size && a->postfields_copy &&
     a->postfields == a->postfields_copy) {
    free(a->postfields_copy);
    a->postfields_copy = NULL;
    a->postfields = NULL;
  }
  a->postfieldsize = size;
}

/* The options that change the method, as setopt.c applies them. */
static void record_method(struct ss_app_opts *a, CURLoption opt, long on)
{
  switch(opt) {
  case CURLOPT_NOBODY:
    a->nobody = on;
    if(on)
      a->method = SS_METHOD_HEAD;
    else if(a->method == SS_METHOD_HEAD)
      a->method = SS_METHOD_GET;
    break;
  case CURLOPT_UPLOAD:
    a->upload = on;
    a->method = on ? SS_METHOD_PUT : SS_METHOD_GET;
    if(on)
      a->nobody = false;
    break;
  case CURLOPT_POST:
    a->method = on ? SS_METHOD_POST : SS_METHOD_GET;
    if(on)
      a->nobody = false;
    a->upload = false;
    break;
  case CURLOPT_HTTPGET:
    if(on) {
      a->method = SS_METHOD_GET;
      a->upload = a->nobody = false;
    }
    break;
  default:
    break;
  }
}

bool handle_option_recorded(CURLoption opt)
{
  /* the cases of handle_record below, and nothing else */
  switch(opt) {
  case CURLOPT_WRITEFUNCTION: case CURLOPT_WRITEDATA:
  case CURLOPT_HEADERFUNCTION: case CURLOPT_HEADERDATA:
  case CURLOPT_READFUNCTION: case CURLOPT_READDATA:
  case CURLOPT_SEEKFUNCTION: case CURLOPT_SEEKDATA:
  case CURLOPT_INFILESIZE: case CURLOPT_INFILESIZE_LARGE:
  case CURLOPT_POSTFIELDS: case CURLOPT_COPYPOSTFIELDS:
  case CURLOPT_POSTFIELDSIZE: case CURLOPT_POSTFIELDSIZE_LARGE:
  case CURLOPT_URL: case CURLOPT_CURLU: case CURLOPT_CUSTOMREQUEST:
  case CURLOPT_HTTPHEADER: case CURLOPT_ACCEPT_ENCODING:
  case CURLOPT_HTTP_CONTENT_DECODING:
  case CURLOPT_LOW_SPEED_LIMIT: case CURLOPT_LOW_SPEED_TIME:
  case CURLOPT_HTTPPOST: case CURLOPT_MIMEPOST: case CURLOPT_HEADER:
  case CURLOPT_FAILONERROR: case CURLOPT_USERPWD: case CURLOPT_USERNAME:
  case CURLOPT_PROXYUSERPWD: case CURLOPT_PROXYUSERNAME:
  case CURLOPT_ERRORBUFFER: case CURLOPT_VERBOSE:
  case CURLOPT_DEBUGFUNCTION: case CURLOPT_DEBUGDATA: case CURLOPT_STDERR:
  case CURLOPT_PUT: case CURLOPT_NOBODY: case CURLOPT_UPLOAD:
  case CURLOPT_POST: case CURLOPT_HTTPGET:
    return true;
  default:
    return false;
  }
}

/* Keep handle_option_recorded in step with the cases here. */
void handle_record(struct ss_handle *h, CURLoption opt,
                   const union ss_optval *v)
{
  struct ss_app_opts *a = &h->app;
  switch(opt) {
  case CURLOPT_WRITEFUNCTION: a->write_fn = (curl_write_callback)v->f; break;
  case CURLOPT_WRITEDATA: a->write_data = v->p; break;
  case CURLOPT_HEADERFUNCTION: a->header_fn = (curl_write_callback)v->f; break;
  case CURLOPT_HEADERDATA: a->header_data = v->p; break;
  case CURLOPT_READFUNCTION: a->read_fn = (curl_read_callback)v->f; break;
  case CURLOPT_READDATA: a->read_data = v->p; break;
  case CURLOPT_SEEKFUNCTION: a->seek_fn = (curl_seek_callback)v->f; break;
  case CURLOPT_SEEKDATA: a->seek_data = v->p; break;
  case CURLOPT_INFILESIZE: a->infilesize = v->l; break;
  case CURLOPT_INFILESIZE_LARGE: a->infilesize = v->o; break;
  case CURLOPT_POSTFIELDS:
    free(a->postfields_copy);
    a->postfields_copy = NULL;
    a->postfields = v->p;
    a->method = SS_METHOD_POST;
    a->body_unknown = false;
    break;
  case CURLOPT_COPYPOSTFIELDS: record_copy(a, v->p); break;
  case CURLOPT_POSTFIELDSIZE: record_size(a, v->l); break;
  case CURLOPT_POSTFIELDSIZE_LARGE: record_size(a, v->o); break;
  case CURLOPT_URL: set_url(a, v->p); break;
  case CURLOPT_CURLU: a->url = NULL; break;
  case CURLOPT_CUSTOMREQUEST:
    if(!set_str(&a->customrequest, v->p))
      a->body_unknown = true;
    break;
  case CURLOPT_HTTPHEADER: a->httpheader = v->p; break;
  case CURLOPT_ACCEPT_ENCODING:
    if(!set_str(&a->accept_encoding, v->p))
      a->body_unknown = true;
    break;
  case CURLOPT_HTTP_CONTENT_DECODING: a->content_decoding = v->l; break;
  case CURLOPT_LOW_SPEED_LIMIT: a->low_speed_limit = v->l; break;
  case CURLOPT_LOW_SPEED_TIME: a->low_speed_time = v->l; break;
  case CURLOPT_HTTPPOST: a->method = SS_METHOD_POST_FORM; a->nobody = false; break;
  case CURLOPT_MIMEPOST: a->method = SS_METHOD_POST_MIME; a->nobody = false; break;
  case CURLOPT_HEADER: a->include_header = v->l != 0; break;
  case CURLOPT_FAILONERROR: a->failonerror = v->l != 0; break;
  case CURLOPT_USERPWD: case CURLOPT_USERNAME: a->has_user = v->p != NULL; break;
  case CURLOPT_PROXYUSERPWD: case CURLOPT_PROXYUSERNAME:
    a->has_proxy_user = v->p != NULL;
    break;
  case CURLOPT_ERRORBUFFER: a->errorbuffer = v->p; break;
  case CURLOPT_VERBOSE: a->verbose = v->l != 0; break;
  case CURLOPT_DEBUGFUNCTION: a->debug_fn = (curl_debug_callback)v->f; break;
  case CURLOPT_DEBUGDATA: a->debug_data = v->p; break;
  case CURLOPT_STDERR: a->stderr_file = v->p; break;
  case CURLOPT_PUT:  /* an old name of UPLOAD */
    record_method(a, CURLOPT_UPLOAD, v->l != 0);
    break;
  case CURLOPT_NOBODY: case CURLOPT_UPLOAD: case CURLOPT_POST:
  case CURLOPT_HTTPGET:
    record_method(a, opt, v->l != 0);
    break;
  default:
    break;
  }
}

bool handle_postfields(const struct ss_handle *h, const char **p, size_t *n)
{
  const struct ss_app_opts *a = &h->app;
  if(a->body_unknown || !a->postfields || a->upload ||
     a->method != SS_METHOD_POST)
    return false;
  *p = a->postfields;
  *n = a->postfieldsize < 0 ? strlen(a->postfields) : (size_t)a->postfieldsize;
  return true;
}

bool handle_read_body(const struct ss_handle *h, curl_off_t *size)
{
  const struct ss_app_opts *a = &h->app;
  if(a->upload) {
    *size = a->infilesize;
    return true;
  }
  if(a->method == SS_METHOD_POST && !a->postfields && !a->body_unknown) {
    *size = a->postfieldsize;
    return true;
  }
  return false;
}

const char *handle_method_word(const struct ss_handle *h)
{
  const struct ss_app_opts *a = &h->app;
  if(a->customrequest)
    return a->customrequest;
  if(a->nobody)
    return "HEAD";
  if(a->upload)
    return "PUT";
  switch(a->method) {
  case SS_METHOD_POST: case SS_METHOD_POST_FORM: case SS_METHOD_POST_MIME:
    return "POST";
  case SS_METHOD_PUT: return "PUT";
  case SS_METHOD_HEAD: return "HEAD";
  default: return "GET";
  }
}
