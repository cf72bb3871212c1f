/* control.c - what stages ask of a transfer besides passing bytes on: a
 * retry, a failure as libcurl would report it, a pause between replayed
 * events, FAILONERROR as libcurl applies it (see stage.h). */
#include "xfer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "defer.h"
#include "log.h"

bool xfer_want_retry(struct ss_xfer *x, enum ss_retry how)
{
  struct ss_handle *h = x->h;
  /* curl_easy_perform retries in its hook, even after libcurl ended. A
   * multi handle's transfer is retried by the drive hook running when
   * this callback returns; once libcurl reported its end, the program's
   * loop knows it finished and would never run a retry. */
  if(!h->in_perform &&
     (!h->in_multi || x->ended ||
      !defer_add(h, h->in_multi, SS_DEFER_RETRY, 0)))
    return false;
  x->retry_wanted = how;
  return true;
}

enum ss_flow xfer_fail(struct ss_xfer *x, CURLcode code, const char *text)
{
  x->fail_code = code;
  size_t n = strlen(text);
  if(n >= sizeof(x->fail_text))
    n = sizeof(x->fail_text) - 1;
  memcpy(x->fail_text, text, n);
  x->fail_text[n] = '\0';
  out_block_direct(&x->out);
  x->out.failed = true;  /* libcurl's next calls fail too */
  x->out.fail_value = 0;
  x->h->view.body_withheld = true;  /* none of the body was delivered */
  return SS_FAILED;
}

bool xfer_fails_on_status(const struct ss_xfer *x, int status)
{
  const struct ss_app_opts *a = &x->h->app;
  return a->failonerror && status >= 400 &&
         !(status == 401 && a->has_user) &&
         !(status == 407 && a->has_proxy_user);
}

enum ss_flow xfer_fail_status(struct ss_xfer *x, int status)
{
  char text[64];
  snprintf(text, sizeof(text), "The requested URL returned error: %d",
           status);
  return xfer_fail(x, CURLE_HTTP_RETURNED_ERROR, text);
}

bool xfer_notes_wanted(const struct ss_xfer *x)
{
  return x->watch.n != 0;
}

void xfer_note(struct ss_xfer *x, const char *action, const char *why)
{
  if(!x->watch.n)
    return;
  if(!why)
    why = "";
  if(x->starting) {  /* the attempt's request event comes first */
    buf_append(&x->early_notes, action, strlen(action) + 1);
    buf_append(&x->early_notes, why, strlen(why) + 1);
    return;
  }
  monitor_note(&x->watch, x, action, why);
}

void xfer_tell_early_notes(struct ss_xfer *x)
{
  const char *p = x->early_notes.ptr, *end = p + x->early_notes.len;
  while(!x->early_notes.oom && p < end) {
    const char *why = p + strlen(p) + 1;
    monitor_note(&x->watch, x, p, why);
    p = why + strlen(why) + 1;
  }
  buf_free(&x->early_notes);
}

int xfer_attempt(const struct ss_xfer *x)
{
  return x->watch.attempt;
}

void xfer_answer_replaced(struct ss_xfer *x)
{
  view_replaced(&x->h->view);
}

/* Sleep ms milliseconds, through signals. */
static void sleep_ms(unsigned ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  int saved = errno;
  while(nanosleep(&ts, &ts) && errno == EINTR)
    ;
  errno = saved;
}

enum ss_flow xfer_pace(struct ss_xfer *x, unsigned ms)
{
  struct ss_handle *h = x->h;
  if(!ms || x->ended || x->out.detached)
    return SS_OK;
  switch(defer_driver()) {
  case SS_DRIVE_EASY:
    sleep_ms(ms);
    return SS_OK;
  case SS_DRIVE_PERFORM:
    if(h->in_multi && !h->in_perform &&
       defer_add(h, h->in_multi, SS_DEFER_RESUME, defer_now_ms() + ms))
      return SS_PAUSED;
    return SS_OK;
  default:
    return SS_OK;
  }
}

void xfer_restart(struct ss_handle *h)
{
  struct ss_xfer *x = h->xfer;
  if(x && (x->swapped & SS_SWAP_READ) && x->up_complete) {
    /* the program's own body, not one a stage put in its place */
    struct buf *own = x->up_app.ptr ? &x->up_app : &x->up;
    buf_free(&h->kept_upload);
    h->kept_upload = *own;
    h->has_kept_upload = true;
    buf_init(own);
  }
  enum ss_retry how = x && x->retry_wanted ? x->retry_wanted
                                            : SS_RETRY_WITHOUT_STREAM;
  struct ss_watchers carry = {0};
  if(x) {  /* the monitors watch the retry as the same transfer */
    carry = x->watch;
    x->watch.n = 0;
  }
  xfer_finish(h);
  h->retry = how;
  xfer_begin_attempt(h, x ? &carry : NULL);
  h->retry = SS_RETRY_NONE;
  h->has_kept_upload = false;
  buf_free(&h->kept_upload);
}

void *xfer_judgment(struct ss_xfer *x, bool *first)
{
  *first = !x->judged;
  x->judged = true;
  return x->judgment;
}
