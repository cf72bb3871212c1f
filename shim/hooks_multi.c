/* hooks_multi.c - the multi interface hooks (see hooks.h).
 *
 * A program's transfer on a multi handle starts at curl_multi_add_handle,
 * ends when curl_multi_info_read reports it DONE (or, for programs that
 * never read messages, at curl_multi_remove_handle), and is finished at
 * curl_multi_remove_handle or curl_multi_cleanup. libcurl's own calls
 * (7.88 runs curl_easy_perform on these functions through the PLT) are
 * recognised by the handle being inside the perform hook, or by the
 * caller's address, and pass straight through, so each transfer is
 * prepared and finished once. */
#include <errno.h>
#include <string.h>

#include "defer.h"
#include "drive.h"
#include "handle.h"
#include "hooks.h"
#include "registry.h"
#include "xfer.h"

/* The program's handle state, or NULL for libcurl's own calls. */
static struct ss_handle *program_handle(enum ss_flavour fl, CURL *easy,
                                        const void *caller)
{
  if(!easy || ss_real_is_libcurl(fl, caller))
    return NULL;
  struct ss_handle *s = registry_get(easy);
  return s && !s->in_perform ? s : NULL;
}

/* The program adds a handle. */
__attribute__((noinline))
static CURLMcode add_program(enum ss_flavour fl, const struct ss_real *r,
                             CURLM *m, CURL *easy, const void *caller)
{
  struct ss_handle *s = program_handle(fl, easy, caller);
  /* Already in a multi handle: libcurl refuses; the running transfer
   * must not be touched. */
  if(!s || s->in_multi)
    return r->multi_add_handle(m, easy);
  if(defer_delivering(m))  /* as libcurl inside one of m's callbacks */
    return CURLM_RECURSIVE_API_CALL;
  /* From one of m's callbacks libcurl refuses too, and nothing may be
   * started (an upload read ahead). Should it take the handle after all
   * (a nested callback cleared its flag), take it back to prepare it. */
  if(defer_in_callback_of(m)) {
    CURLMcode rc = r->multi_add_handle(m, easy);
    if(rc != CURLM_OK || r->multi_remove_handle(m, easy) != CURLM_OK)
      return rc;
  }
  xfer_begin(s);
  CURLMcode rc = r->multi_add_handle(m, easy);
  int saved = errno;
  if(rc != CURLM_OK)
    xfer_finish(s);
  else
    registry_set_multi(s, m);
  errno = saved;
  return rc;
}

CURLMcode ss_multi_add_handle(enum ss_flavour fl, CURLM *m, CURL *easy,
                              const void *caller)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->multi_add_handle)
    return CURLM_INTERNAL_ERROR;
  return add_program(fl, r, m, easy, caller);
}

/* The program takes h out of its transfer. One libcurl has not reported
 * done was cancelled (a transfer stopped mid-answer, the rest of a paced
 * replay): nothing more of it reaches the program, as no callback reaches
 * a removed transfer without the shim. Then the handle is restored. */
static void leave(struct ss_handle *s)
{
  int saved = errno;
  if(s->xfer)
    xfer_cancel(s->xfer);
  xfer_finish(s);
  errno = saved;
}

/* The program removes a handle. */
__attribute__((noinline))
static CURLMcode remove_program(enum ss_flavour fl, const struct ss_real *r,
                                CURLM *m, CURL *easy, const void *caller)
{
  if(defer_delivering(m))
    return CURLM_RECURSIVE_API_CALL;
  struct ss_handle *s = program_handle(fl, easy, caller);
  CURLMcode rc = r->multi_remove_handle(m, easy);
  /* refused (from a callback: the transfer goes on) changes nothing */
  if(rc == CURLM_OK && s && s->in_multi == m) {
    registry_set_multi(s, NULL);
    leave(s);
  }
  return rc;
}

CURLMcode ss_multi_remove_handle(enum ss_flavour fl, CURLM *m, CURL *easy,
                                 const void *caller)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->multi_remove_handle)
    return CURLM_INTERNAL_ERROR;
  return remove_program(fl, r, m, easy, caller);
}

CURLMcode ss_multi_cleanup(enum ss_flavour fl, CURLM *m, const void *caller)
{
  const struct ss_real *r = ss_real_get(fl);
  struct ss_handle *held[256];
  if(!r->multi_cleanup)
    return CURLM_INTERNAL_ERROR;
  if(!m || ss_real_is_libcurl(fl, caller))
    return r->multi_cleanup(m);
  if(defer_delivering(m))
    return CURLM_RECURSIVE_API_CALL;
  /* libcurl detaches the handles without curl_multi_remove_handle */
  size_t n = registry_leave_multi(m, held, sizeof(held) / sizeof(held[0]));
  CURLMcode rc = r->multi_cleanup(m);
  for(size_t i = 0; i < n; i++) {
    if(rc == CURLM_OK)
      leave(held[i]);
    else  /* refused: the handles are still in m */
      registry_set_multi(held[i], m);
  }
  return rc;
}

/* The program reads m's messages. */
__attribute__((noinline))
static CURLMsg *info_read_program(enum ss_flavour fl, const struct ss_real *r,
                                  CURLM *m, int *queued, const void *caller)
{
  /* retries only: a resume would call the program from info_read; none
   * from m's own callbacks, where libcurl refuses to re-add */
  if(!defer_in_callback_of(m))
    drive_deferred(r, m, false);
  CURLMsg *msg = r->multi_info_read(m, queued);
  if(!msg || msg->msg != CURLMSG_DONE)
    return msg;
  struct ss_handle *s = program_handle(fl, msg->easy_handle, caller);
  if(!s || !s->xfer || s->in_multi != m)
    return msg;
  int saved = errno;
  struct ss_drive f;
  defer_deliver_begin(&f, m);
  CURLcode rc = xfer_end(s->xfer, msg->data.result);
  defer_drive_end(&f);
  errno = saved;
  /* the program may have reset the handle from a callback xfer_end made */
  if(!s->xfer)
    return msg;
  xfer_result_seen(s->xfer, rc);
  if(rc == msg->data.result)
    return msg;
  /* libcurl's message is its own; answer with a copy. */
  s->xfer->msg = *msg;
  s->xfer->msg.data.result = rc;
  return &s->xfer->msg;
}

CURLMsg *ss_multi_info_read(enum ss_flavour fl, CURLM *m, int *queued,
                            const void *caller)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->multi_info_read)
    return NULL;
  return info_read_program(fl, r, m, queued, caller);
}
