/* monitor.c - telling the monitoring stages what happens (see stage.h and
 * monitor.h). The core calls these at each event; a transfer nobody
 * watches has watch.n == 0 and the callers test that first. */
#include "monitor.h"
#include "at_fork.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "../hooks/pure/headers.h"

static atomic_ulong serials;

/* A forked child numbers its own transfers from 1 (at_load.c). */
void monitor_fork_child(void)
{
  atomic_store(&serials, 0);
}

/* Is no monitor configured (capture off)? Asked once: the settings are
 * read once per process, so the answer cannot change; then a transfer
 * calls no monitor's start at all. */
static bool monitors_idle(void)
{
  static atomic_int known;  /* 0: not asked yet, 1: idle, 2: not */
  int k = atomic_load_explicit(&known, memory_order_relaxed);
  if(!k) {
    k = ss_monitors_idle() ? 1 : 2;
    atomic_store_explicit(&known, k, memory_order_relaxed);
  }
  return k == 1;
}

void monitor_open(struct ss_watchers *w, struct ss_xfer *x,
                  const struct ss_watchers *carry)
{
  if(carry) {  /* a retry: the same monitors, the next attempt */
    *w = *carry;
    w->attempt++;
    w->result_known = w->seen = w->finished = false;
    w->hdr_pos = SS_HDR_POS_NONE;
    return;
  }
  w->serial = atomic_fetch_add_explicit(&serials, 1, memory_order_relaxed) + 1;
  w->attempt = 1;
  if(monitors_idle())
    return;
  for(int i = 0; ss_monitors[i] && w->n < SS_MAX_MONITORS; i++) {
    int saved = errno;
    void *ctx = ss_monitors[i]->start(x);
    errno = saved;
    if(!ctx)
      continue;
    w->m[w->n].type = ss_monitors[i];
    w->m[w->n++].ctx = ctx;
  }
}

static void monitor_event(struct ss_watchers *w, struct ss_xfer *x,
                          const struct ss_event *ev)
{
  int saved = errno;
  for(int i = 0; i < w->n; i++)
    w->m[i].type->event(x, w->m[i].ctx, ev);
  errno = saved;
}

void monitor_bytes(struct ss_watchers *w, struct ss_xfer *x,
                   enum ss_event_kind kind, const char *p, size_t n)
{
  struct ss_event ev = {0};
  ev.kind = kind;
  ev.attempt = w->attempt;
  ev.p = p;
  ev.n = n;
  monitor_event(w, x, &ev);
}

/* The kind of a header line from the server, following the blocks. */
static enum ss_header_kind header_kind(struct ss_watchers *w, const char *p,
                                       size_t n)
{
  bool blank = (n == 2 && p[0] == '\r') || (n == 1 && p[0] == '\n');
  int status = header_status(p, n);
  if(status >= 0) {
    w->hdr_pos = status < 200 ? SS_HDR_POS_INFO : SS_HDR_POS_FINAL;
    return SS_HDR_STATUS;
  }
  switch(w->hdr_pos) {
  case SS_HDR_POS_INFO:
    if(blank)
      w->hdr_pos = SS_HDR_POS_NONE;
    return SS_HDR_INFORMATIONAL;
  case SS_HDR_POS_FINAL:
    if(blank)
      w->hdr_pos = SS_HDR_POS_AFTER;
    return SS_HDR_FINAL;
  default:
    return SS_HDR_TRAILER;
  }
}

void monitor_header(struct ss_watchers *w, struct ss_xfer *x, const char *p,
                    size_t n)
{
  struct ss_event ev = {0};
  ev.kind = SS_EV_HEADER;
  ev.attempt = w->attempt;
  ev.header = header_kind(w, p, n);
  ev.p = p;
  ev.n = n;
  monitor_event(w, x, &ev);
}

void monitor_request(struct ss_watchers *w, struct ss_xfer *x)
{
  struct ss_event ev = {0};
  ev.kind = SS_EV_REQUEST;
  ev.attempt = w->attempt;
  monitor_event(w, x, &ev);
}

void monitor_close(struct ss_watchers *w, struct ss_xfer *x)
{
  struct ss_event ev = {0};
  ev.kind = SS_EV_END;
  ev.attempt = w->attempt;
  ev.how = w->seen ? SS_END_SEEN
           : w->result_known || w->finished ? SS_END_UNSEEN
           : SS_END_CANCELLED;
  ev.result = w->result_known ? w->result : CURLE_OK;
  monitor_event(w, x, &ev);
  monitor_drop(w);
  w->n = 0;
}

void monitor_drop(const struct ss_watchers *w)
{
  int saved = errno;
  for(int i = 0; i < w->n; i++)
    if(w->m[i].type->finish)
      w->m[i].type->finish(w->m[i].ctx);
  errno = saved;
}

void monitor_note(struct ss_watchers *w, struct ss_xfer *x,
                  const char *action, const char *why)
{
  struct ss_event ev = {0};
  ev.kind = SS_EV_NOTE;
  ev.attempt = w->attempt;
  ev.p = action;
  ev.n = strlen(action);
  ev.why = why ? why : "";
  monitor_event(w, x, &ev);
}
