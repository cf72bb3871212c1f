/* hooks_easy.c - the easy interface hooks (see hooks.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "defer.h"
#include "handle.h"
#include "log.h"
#include "hooks.h"
#include "registry.h"
#include "xfer.h"

/* Register new state for a program handle; on failure the handle simply
 * stays unknown (pass-through). */
static void track(struct ss_handle *s)
{
  int failed;
  if(!s)
    return;
  struct ss_handle *stale = registry_put(s, &failed);
  if(failed)
    handle_free(s);
  handle_free(stale);
}

/* Can nothing ever take part in a transfer of this process (mode off, no
 * capture, no debug log's line per transfer)? Then no handle is tracked
 * at all and every hook passes straight through: the record of options
 * serves only transfers a stage or monitor takes part in. The settings
 * are loaded by the first libcurl call (ss_real) and never change. */
static bool nothing_to_track(void)
{
  return ss_stages_idle() && ss_monitors_idle() && !SS_LOG_ON(SS_LOG_DEBUG);
}

CURL *ss_easy_init(enum ss_flavour fl, const void *caller)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->easy_init)
    return NULL;
  CURL *easy = r->easy_init();
  if(easy && !ss_real_is_libcurl(fl, caller) && !nothing_to_track()) {
    int saved = errno;
    track(handle_new(easy, fl));
    errno = saved;
  }
  return easy;
}

CURL *ss_easy_duphandle(enum ss_flavour fl, CURL *src, const void *caller)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->easy_duphandle)
    return NULL;
  CURL *easy = r->easy_duphandle(src);
  struct ss_handle *s = registry_get(src);
  if(!easy || !s || ss_real_is_libcurl(fl, caller))
    return easy;
  int saved = errno;
  struct ss_handle *d = handle_dup(s, easy);
  /* A copy made mid-transfer carries the shim's swapped options: give the
   * copy the program's own. */
  if(d && s->xfer)
    xfer_put_back(s->xfer, easy, s->xfer->swapped);
  track(d);
  errno = saved;
  return easy;
}

void ss_easy_reset(enum ss_flavour fl, CURL *easy)
{
  const struct ss_real *r = ss_real_get(fl);
  struct ss_handle *s = registry_get(easy);
  if(s)  /* libcurl forgets every option: so does the record */
    xfer_discard(s);
  if(r->easy_reset)
    r->easy_reset(easy);
  if(s)
    handle_reset(s);
}

void ss_easy_cleanup(enum ss_flavour fl, CURL *easy)
{
  const struct ss_real *r = ss_real_get(fl);
  struct ss_handle *s = easy ? registry_take(easy) : NULL;
  /* Before the handle goes: the monitors' end may still ask libcurl for
   * the transfer's figures. Nothing is restored on a handle about to go. */
  if(s)
    xfer_discard(s);
  if(r->easy_cleanup)
    r->easy_cleanup(easy);
  handle_free(s);
}

static CURLcode forward_setopt(const struct ss_real *r, CURL *easy,
                               CURLoption opt, union ss_optval v)
{
  return ss_optval_pass(r->easy_setopt, easy, opt, v);
}

/* An option the transfer changed on the real handle: keep it for the
 * program (restored at the end), checking what libcurl would refuse. */
static CURLcode record_owned(struct ss_handle *s, CURLoption opt,
                             const union ss_optval *v)
{
  if((opt == CURLOPT_POSTFIELDSIZE && v->l < -1) ||
     (opt == CURLOPT_POSTFIELDSIZE_LARGE && v->o < -1))
    return CURLE_BAD_FUNCTION_ARGUMENT;
  handle_record(s, opt, v);
  return CURLE_OK;
}

CURLcode ss_easy_setopt_tracked(const struct ss_real *r, CURL *easy,
                                CURLoption opt, union ss_optval val)
{
  const union ss_optval *v = &val;
  struct ss_handle *s = handle_option_recorded(opt) ? registry_get(easy)
                                                    : NULL;
  if(!s)
    return forward_setopt(r, easy, opt, val);
  int saved = errno;
  if(s->xfer && xfer_owns_option(s->xfer, opt)) {
    CURLcode rc = record_owned(s, opt, v);
    errno = saved;
    return rc;
  }
  errno = saved;
  CURLcode rc = forward_setopt(r, easy, opt, val);
  if(rc == CURLE_OK) {
    saved = errno;
    handle_record(s, opt, v);
    errno = saved;
  }
  return rc;
}

/* libcurl finished the attempt: the shim's end of it, delivering what it
 * holds from outside libcurl, where a callback's calls libcurl would
 * refuse must be refused too. */
static CURLcode end_attempt(struct ss_handle *s, CURLcode rc)
{
  struct ss_drive f;
  defer_deliver_begin(&f, NULL);
  rc = xfer_end(s->xfer, rc);
  defer_drive_end(&f);
  return rc;
}

/* A transfer of a handle that may be tracked. */
__attribute__((noinline))
static CURLcode perform_tracked(const struct ss_real *r, CURL *easy)
{
  struct ss_handle *s = easy ? registry_get(easy) : NULL;
  /* From a callback of its own transfer, which the shim delivers after
   * libcurl returned: refused as libcurl refuses it inside. */
  if(s && s->in_perform && defer_delivering(NULL)) {
    if(s->app.errorbuffer)
      strcpy(s->app.errorbuffer, "easy handle already used in multi handle");
    return CURLE_FAILED_INIT;
  }
  /* in a multi handle libcurl refuses: leave that transfer alone */
  if(!s || s->in_perform || s->in_multi)
    return r->easy_perform(easy);
  xfer_begin(s);
  struct ss_drive f;
  defer_drive_begin(&f, SS_DRIVE_EASY, NULL);
  s->in_perform = true;
  CURLcode rc = r->easy_perform(easy);
  if(s->xfer) {
    int saved = errno;
    rc = end_attempt(s, rc);
    /* (a reset from a callback during the end lets go of the transfer) */
    if(s->xfer && s->xfer->retry_wanted) {  /* refused: once more */
      xfer_restart(s);
      errno = saved;
      rc = r->easy_perform(easy);
      saved = errno;
      if(s->xfer)
        rc = end_attempt(s, rc);
    }
    if(s->xfer)
      xfer_result_seen(s->xfer, rc);
    xfer_finish(s);
    errno = saved;
  }
  s->in_perform = false;
  defer_drive_end(&f);
  if(defer_outside_callbacks())  /* not inside another's callback */
    ss_stages_quiet();  /* e.g. what the transfer learned, to the file */
  return rc;
}

CURLcode ss_easy_perform(enum ss_flavour fl, CURL *easy)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->easy_perform)
    return CURLE_FAILED_INIT;
  if(registry_unused())  /* nothing tracked (off mode) */
    return r->easy_perform(easy);
  return perform_tracked(r, easy);
}

CURLcode ss_easy_pause(enum ss_flavour fl, CURL *easy, int bitmask,
                       const void *caller)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->easy_pause)
    return CURLE_FAILED_INIT;
  struct ss_handle *s = easy && !ss_real_is_libcurl(fl, caller)
                        ? registry_get(easy) : NULL;
  if(s)  /* before the call: an unpause delivers from inside it */
    s->app_paused = bitmask;
  return r->easy_pause(easy, bitmask);
}
