/* hooks_multi.c - the multi interface hooks (see hooks.h).
 *
 * A program's transfer on a multi handle starts at curl_multi_add_handle,
 * ends when curl_multi_info_read reports it DONE, and is finished at
 * curl_multi_remove_handle. libcurl's own calls (7.88 runs
 * curl_easy_perform on these functions through the PLT) are recognised by
 * the handle being inside the perform hook, or by the caller's address, and
 * pass straight through, so each transfer is prepared and finished once. */
#include <errno.h>
#include <string.h>

#include "handle.h"
#include "hooks.h"
#include "registry.h"
#include "xfer.h"

/* The program's handle state, or NULL for libcurl's own calls. */
static struct ss_handle *program_handle(CURL *easy, const void *caller)
{
  if(!easy || ss_real_is_libcurl(caller))
    return NULL;
  struct ss_handle *s = registry_get(easy);
  return s && !s->in_perform ? s : NULL;
}

CURLMcode ss_multi_add_handle(enum ss_flavour fl, CURLM *m, CURL *easy,
                              const void *caller)
{
  const struct ss_real *r = ss_real(fl);
  if(!r->multi_add_handle)
    return CURLM_INTERNAL_ERROR;
  struct ss_handle *s = program_handle(easy, caller);
  if(!s)
    return r->multi_add_handle(m, easy);
  xfer_begin(s);
  CURLMcode rc = r->multi_add_handle(m, easy);
  int saved = errno;
  if(s->xfer && rc != CURLM_OK)
    xfer_finish(s);
  else if(s->xfer)
    s->xfer->multi = m;
  errno = saved;
  return rc;
}

CURLMcode ss_multi_remove_handle(enum ss_flavour fl, CURLM *m, CURL *easy,
                                 const void *caller)
{
  const struct ss_real *r = ss_real(fl);
  if(!r->multi_remove_handle)
    return CURLM_INTERNAL_ERROR;
  struct ss_handle *s = program_handle(easy, caller);
  CURLMcode rc = r->multi_remove_handle(m, easy);
  if(s && s->xfer && s->xfer->multi == m) {
    int saved = errno;
    xfer_finish(s);
    errno = saved;
  }
  return rc;
}

CURLMsg *ss_multi_info_read(enum ss_flavour fl, CURLM *m, int *queued,
                            const void *caller)
{
  const struct ss_real *r = ss_real(fl);
  if(!r->multi_info_read)
    return NULL;
  CURLMsg *msg = r->multi_info_read(m, queued);
  if(!msg || msg->msg != CURLMSG_DONE)
    return msg;
  struct ss_handle *s = program_handle(msg->easy_handle, caller);
  if(!s || !s->xfer || s->xfer->ended || s->xfer->multi != m)
    return msg;
  int saved = errno;
  CURLcode rc = xfer_end(s->xfer, msg->data.result);
  errno = saved;
  if(rc == msg->data.result)
    return msg;
  /* libcurl's message is its own; answer with a copy. */
  s->xfer->msg = *msg;
  s->xfer->msg.data.result = rc;
  return &s->xfer->msg;
}
