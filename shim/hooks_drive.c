/* hooks_drive.c - the calls that drive a multi handle (see hooks.h and
 * drive.h). Besides forwarding, they run what the shim deferred to the
 * program's next call: a retry of a refused stream happens before the
 * call returns, so the program never sees the refused attempt end and its
 * count of running transfers never drops while a retry is pending; a paced
 * replay is unpaused when due, and poll/wait/timeout never sleep past
 * that. libcurl's own calls (7.88 runs curl_easy_perform on these
 * functions) pass straight through. */
#include <errno.h>

#include "defer.h"
#include "drive.h"
#include "hooks.h"
#include "log.h"
#include "registry.h"
#include "xfer.h"

#define DRIVE_BATCH 32

/* Retry s's refused attempt now: take the handle out of m (which also
 * drops the attempt's DONE message), restart the transfer and add the
 * handle back. libcurl refuses while inside its callbacks (a program
 * calling info_read from one): then the retry waits for the next call. */
static bool drive_retry(const struct ss_real *r, CURLM *m,
                        struct ss_handle *s)
{
  if(!s->xfer || s->in_multi != m || !r->multi_remove_handle ||
     !r->multi_add_handle)
    return false;
  if(r->multi_remove_handle(m, s->easy) != CURLM_OK) {
    defer_add(s, m, SS_DEFER_RETRY, 0);
    return false;
  }
  xfer_restart(s);
  if(r->multi_add_handle(m, s->easy) != CURLM_OK) {
    ss_error("the retry could not be added back to its multi handle");
    xfer_finish(s);
    registry_set_multi(s, NULL);
    return false;
  }
  return true;
}

/* Unpause a paced transfer's receiving, unless the program paused it
 * itself meanwhile (its own unpause then resumes the replay); a sending
 * pause of the program's stays. */
static void drive_resume(const struct ss_real *r, struct ss_handle *s)
{
  if(r->easy_pause && !(s->app_paused & CURLPAUSE_RECV))
    r->easy_pause(s->easy, s->app_paused & CURLPAUSE_SEND);
}

bool drive_deferred(const struct ss_real *r, CURLM *m, bool resume)
{
  struct ss_deferred d;
  unsigned kinds = (1u << SS_DEFER_RETRY) | (resume ? 1u << SS_DEFER_RESUME : 0);
  bool restarted = false;
  if(!defer_queued())  /* the common case: no clock read */
    return false;
  int saved = errno;
  /* One at a time: a resume runs program callbacks, which may change the
   * list. A resume may queue the next pause, never due at once: this ends;
   * a retry libcurl refused is queued again: taken once per call. */
  uint64_t now = defer_now_ms();
  size_t budget = 1024;
  while(budget-- && defer_take_due(m, now, kinds, &d)) {
    if(d.kind == SS_DEFER_RETRY) {
      if(!drive_retry(r, m, d.h))
        break;
      restarted = true;
    }
    else
      drive_resume(r, d.h);
  }
  errno = saved;
  return restarted;
}

/* Retries are due at once: a refusal judged during a real call is retried
 * before the hook returns, and so is one judged during the call that
 * starts those retries. Each transfer is retried once at most, so the
 * rounds end by themselves; the bound is a guard. */
#define DRIVE_ROUNDS 64

/* After the last real call: a retry still queued (libcurl refused to take
 * the handle back, or the guard stopped the rounds) is a transfer the
 * program must still count as running, or its loop ends without it. */
static void count_queued(CURLM *m, int *running)
{
  size_t n = defer_count(m, SS_DEFER_RETRY);
  if(n && running)
    *running += (int)n;
}

/* The stages' work that must wait until the program is out of libcurl
 * (what auto mode learned goes to its cache file), never from inside one
 * of its callbacks. */
static void stages_quiet_outside_callbacks(void)
{
  if(defer_outside_callbacks()) {
    int saved = errno;
    ss_stages_quiet();
    errno = saved;
  }
}

/* The running count says every transfer of m is over: what the shim still
 * holds for one of them (a header block without a body, an answer cut
 * short) goes out now, from inside the call as libcurl delivers, before
 * the program's loop ends (a program that never reads its messages then
 * removes the handles, and no callback may follow a remove). */
static void hand_over_held(CURLM *m)
{
  struct ss_handle *in[64];
  if(!xfer_open_count())
    return;
  int saved = errno;
  size_t n = registry_in_multi(m, in, sizeof(in) / sizeof(in[0]));
  for(size_t i = 0; i < n; i++) {
    struct ss_handle *s = in[i];
    if(!s->xfer || s->xfer->ended)
      continue;
    struct ss_drive f;
    defer_deliver_begin(&f, m);
    xfer_hand_over(s->xfer);  /* the result is mapped at info_read */
    defer_drive_end(&f);
  }
  errno = saved;
}

/* One call of the program's that drives m: the real call (perform, or
 * socket_action on the program's socket), then, while retries restart,
 * the real call again (for socket_action: on the timeout, which starts
 * them); afterwards the running count and what the shim holds. */
struct drive_call {
  const struct ss_real *r;
  CURLM *m;
  enum ss_driver d;
  curl_socket_t s;           /* SS_DRIVE_SOCKET: the program's socket */
  int ev;                    /* and its events */
  int *running;
};

static CURLMcode real_call(const struct drive_call *c, bool again)
{
  if(c->d == SS_DRIVE_PERFORM)
    return c->r->multi_perform(c->m, c->running);
  return again ? c->r->multi_socket_action(c->m, CURL_SOCKET_TIMEOUT, 0,
                                           c->running)
               : c->r->multi_socket_action(c->m, c->s, c->ev, c->running);
}

/* A call of the program's. libcurl's own (its multi layer under
 * curl_easy_perform) and every call of a process that tracks nothing pass
 * straight through before: the shim never delivers for libcurl's
 * internal multi handle. */
static CURLMcode drive(const struct drive_call *c)
{
  /* resumes only from perform: socket_action loops own their timers */
  bool resume = c->d == SS_DRIVE_PERFORM;
  if(defer_delivering(c->m))
    return CURLM_RECURSIVE_API_CALL;
  if(defer_in_callback_of(c->m))
    return real_call(c, false);  /* refused */
  struct ss_drive f;
  defer_drive_begin(&f, c->d, c->m);
  drive_deferred(c->r, c->m, resume);
  CURLMcode rc = real_call(c, false);
  for(int i = 0; rc == CURLM_OK && i < DRIVE_ROUNDS &&
                 drive_deferred(c->r, c->m, resume); i++)
    rc = real_call(c, true);
  if(rc == CURLM_OK) {
    count_queued(c->m, c->running);
    if(c->running && !*c->running)
      hand_over_held(c->m);
  }
  defer_drive_end(&f);
  stages_quiet_outside_callbacks();
  return rc;
}

CURLMcode ss_multi_perform(enum ss_flavour fl, CURLM *m, int *running,
                           const void *caller)
{
  const struct ss_real *r = ss_real_get(fl);
  (void)caller;  /* the export passed libcurl's own calls through */
  if(!r->multi_perform)
    return CURLM_INTERNAL_ERROR;
  struct drive_call c = {r, m, SS_DRIVE_PERFORM, CURL_SOCKET_BAD, 0, running};
  return drive(&c);
}

CURLMcode ss_multi_socket_action(enum ss_flavour fl, CURLM *m,
                                 curl_socket_t s, int ev_bitmask,
                                 int *running, const void *caller)
{
  const struct ss_real *r = ss_real_get(fl);
  (void)caller;  /* the export passed libcurl's own calls through */
  if(!r->multi_socket_action)
    return CURLM_INTERNAL_ERROR;
  struct drive_call c = {r, m, SS_DRIVE_SOCKET, s, ev_bitmask, running};
  return drive(&c);
}

typedef CURLMcode (*wait_fn)(CURLM *, struct curl_waitfd *, unsigned int,
                             int, int *);

/* The program waits on m: never past a paced replay's next piece. */
__attribute__((noinline))
static CURLMcode wait_program(wait_fn fn, CURLM *m, struct curl_waitfd *extra,
                              unsigned int n, int timeout_ms, int *numfds)
{
  if(defer_queued()) {
    long w = defer_wait_ms(m, defer_now_ms());
    if(w >= 0 && w < timeout_ms)
      timeout_ms = (int)w;
  }
  return fn(m, extra, n, timeout_ms, numfds);
}

CURLMcode ss_multi_wait(enum ss_flavour fl, CURLM *m,
                        struct curl_waitfd *extra, unsigned int n,
                        int timeout_ms, int *numfds, bool poll,
                        const void *caller)
{
  const struct ss_real *r = ss_real_get(fl);
  wait_fn fn = poll ? r->multi_poll : r->multi_wait;
  (void)caller;  /* the export passed libcurl's own calls through */
  if(!fn)
    return CURLM_INTERNAL_ERROR;
  return wait_program(fn, m, extra, n, timeout_ms, numfds);
}

CURLMcode ss_multi_timeout(enum ss_flavour fl, CURLM *m, long *timeout_ms,
                           const void *caller)
{
  const struct ss_real *r = ss_real_get(fl);
  if(!r->multi_timeout)
    return CURLM_INTERNAL_ERROR;
  CURLMcode rc = r->multi_timeout(m, timeout_ms);
  if(rc == CURLM_OK && timeout_ms && !ss_real_is_libcurl(fl, caller) &&
     defer_queued()) {
    long w = defer_wait_ms(m, defer_now_ms());
    if(w >= 0 && (*timeout_ms < 0 || w < *timeout_ms))
      *timeout_ms = w;
  }
  return rc;
}
