/* request.c - what a stage may know of a transfer's request and progress
 * without calling libcurl itself (see stage.h). */
#include "xfer.h"

#include <string.h>

void xfer_request(const struct ss_xfer *x, struct ss_request *r)
{
  const struct ss_handle *h = x->h;
  curl_off_t size;
  memset(r, 0, sizeof(*r));
  r->method = handle_method_word(h);
  r->url = h->app.url;
  r->headers = h->app.httpheader;
  r->content_decoding = h->app.content_decoding != 0;
  r->decodes_answer = r->content_decoding &&
                      (h->app.accept_encoding || (x->swapped & SS_SWAP_ENCODING));
  r->retry = x->retry;
  r->attempt = x->watch.attempt ? x->watch.attempt : 1;
  r->reads_body = handle_read_body(h, &size);
  if(x->swapped & SS_SWAP_BODY) {
    r->body = x->body;
    r->body_len = x->body_len;
    handle_postfields(h, &r->app_body, &r->app_body_len);
  }
  else if(x->swapped & SS_SWAP_READ) {
    r->body = x->up.ptr ? x->up.ptr : "";
    r->body_len = x->up.len;
    if(x->up_app.ptr) {
      r->app_body = x->up_app.ptr;
      r->app_body_len = x->up_app.len;
    }
  }
  else
    handle_postfields(h, &r->body, &r->body_len);
}

const char *xfer_request_body(struct ss_xfer *x, size_t max,
                              const char **p, size_t *n)
{
  curl_off_t size;
  if(handle_postfields(x->h, p, n))
    return NULL;
  if(!handle_read_body(x->h, &size))
    return "the body is neither POSTFIELDS nor read from a callback";
  if(!xfer_read_upload(x, max, p, n))
    return "the upload could not be read ahead";
  return NULL;
}

void xfer_info(const struct ss_xfer *x, struct ss_xfer_info *i)
{
  CURLcode (*get)(CURL *, CURLINFO, ...) = x->real->easy_getinfo;
  CURL *e = x->h->easy;
  memset(i, 0, sizeof(*i));
  if(!get)
    return;
  get(e, CURLINFO_RESPONSE_CODE, &i->response_code);
  get(e, CURLINFO_HTTP_VERSION, &i->http_version);
  char *url = NULL;
  if(get(e, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK)
    i->effective_url = url;
  get(e, CURLINFO_TOTAL_TIME_T, &i->total_us);
  get(e, CURLINFO_NAMELOOKUP_TIME_T, &i->namelookup_us);
  get(e, CURLINFO_CONNECT_TIME_T, &i->connect_us);
  get(e, CURLINFO_APPCONNECT_TIME_T, &i->appconnect_us);
  get(e, CURLINFO_PRETRANSFER_TIME_T, &i->pretransfer_us);
  get(e, CURLINFO_STARTTRANSFER_TIME_T, &i->starttransfer_us);
  get(e, CURLINFO_SIZE_UPLOAD_T, &i->size_upload);
  get(e, CURLINFO_SIZE_DOWNLOAD_T, &i->size_download);
}

const char *xfer_result_text(const struct ss_xfer *x, CURLcode code)
{
  const char *t = x->real->easy_strerror ? x->real->easy_strerror(code) : NULL;
  return t ? t : "";
}
