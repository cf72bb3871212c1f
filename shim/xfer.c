/* xfer.c - the transfer life cycle and the stage chain (see xfer.h). */
#include "xfer.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "defer.h"
#include "log.h"

static enum ss_flow resume_all(struct ss_xfer *x);
static void xfer_free_stages(struct ss_xfer *x);

/* Transfers started and not yet ended, in all threads: the drive hooks
 * look for held answers to hand over only when there may be one. */
static atomic_long open_xfers;

size_t xfer_open_count(void)
{
  long n = atomic_load_explicit(&open_xfers, memory_order_relaxed);
  return n > 0 ? (size_t)n : 0;
}

/* x ends (or goes without ending): no longer open. */
static void xfer_close_count(struct ss_xfer *x)
{
  if(!x->ended) {
    x->ended = true;
    atomic_fetch_sub_explicit(&open_xfers, 1, memory_order_relaxed);
  }
}

/* The debug log's line for an attempt's start: the stages that take
 * part, and those that declined. */
static void debug_start(const struct ss_xfer *x)
{
  char taken[256] = "", declined[256] = "";
  size_t nt = 0, nd = 0;
  for(int i = 0; ss_stages[i]; i++) {
    bool in = false;
    for(int k = 0; k < x->nstages; k++)
      in |= x->stage[k].type == ss_stages[i];
    char *to = in ? taken : declined;
    size_t *at = in ? &nt : &nd;
    int w = snprintf(to + *at, sizeof(taken) - *at, "%s%s", *at ? ", " : "",
                     ss_stages[i]->name);
    if(w > 0 && (size_t)w < sizeof(taken) - *at)
      *at += (size_t)w;
  }
  int attempt = x->watch.attempt ? x->watch.attempt : 1;
  if(!nt && !x->watch.n)
    ss_debug("transfer %lu attempt %d: no stage takes part (declined %s): "
             "passed through untouched", xfer_serial(x), attempt, declined);
  else
    ss_debug("transfer %lu attempt %d: stages %s (declined %s)%s",
             xfer_serial(x), attempt, nt ? taken : "none",
             nd ? declined : "none",
             x->watch.n ? "; watched by the capture" : "");
}

/* The debug log's line for an attempt's end: the bytes that came and
 * those the program was handed. */
static void debug_end(const struct ss_xfer *x, CURLcode result)
{
  const struct ss_view *v = &x->h->view;
  ss_debug("transfer %lu attempt %d ended (result %d): got %zu header and "
           "%zu body bytes, handed the program %ld header and %lld body "
           "bytes", xfer_serial(x), x->watch.attempt ? x->watch.attempt : 1,
           (int)result,
           x->got_header, x->got_body, v->header_bytes,
           (long long)v->body_bytes);
}

/* What can take part in transfers: bits of the answers of
 * ss_stages_idle and ss_monitors_idle, asked once (the settings never
 * change once loaded). */
enum { IDLE_KNOWN = 1, IDLE_STAGES = 2, IDLE_MONITORS = 4 };
static unsigned idle_bits(void)
{
  static atomic_uint known;
  unsigned k = atomic_load_explicit(&known, memory_order_relaxed);
  if(!k) {
    k = IDLE_KNOWN | (ss_stages_idle() ? IDLE_STAGES : 0) |
        (ss_monitors_idle() ? IDLE_MONITORS : 0);
    atomic_store_explicit(&known, k, memory_order_relaxed);
  }
  return k;
}

/* Can nothing take part in a transfer of h (no monitor watches any, and
 * no stage any, or one of this request's method)? */
static bool nothing_takes(const struct ss_handle *h)
{
  unsigned k = idle_bits();
  return (k & IDLE_MONITORS) &&
         ((k & IDLE_STAGES) || !ss_stages_may_take(handle_method_word(h)));
}

/* Start a transfer of h (an attempt of it: carry holds the monitors of
 * the refused one); NULL when no stage or monitor takes part. */
static struct ss_xfer *xfer_start(struct ss_handle *h,
                                  const struct ss_watchers *carry)
{
  /* Nothing can take part (mode off, no capture; a GET): nothing to set
   * up, and nothing to tell but the debug log's line. */
  if(!carry && nothing_takes(h) && !SS_LOG_ON(SS_LOG_DEBUG))
    return NULL;
  struct ss_xfer *x = xfer_record_new();
  if(!x) {  /* the retry's monitors let go without its end */
    if(carry)
      monitor_drop(carry);
    return NULL;
  }
  x->h = h;
  x->real = ss_real(h->fl);
  x->cur = -1;
  x->retry = h->retry;
  out_init(&x->out);
  atomic_fetch_add_explicit(&open_xfers, 1, memory_order_relaxed);
  h->xfer = x;  /* stages and the setopt hook look it up from here */
  monitor_open(&x->watch, x, carry);
  x->starting = true;
  buf_init(&x->early_notes);
  /* judged once: when no stage can take it, none is asked */
  bool wanted = ss_stages_judge(x);
  for(int i = 0; wanted && ss_stages[i] && x->nstages < SS_MAX_STAGES; i++) {
    unsigned before = x->swapped;
    void *ctx = ss_stages[i]->start(x);
    if(!ctx) {
      /* an upload read ahead must still be sent: its swap stays */
      unsigned undo = x->swapped & ~before & ~SS_SWAP_READ;
      if(undo)
        xfer_restore(x, undo);
      continue;
    }
    x->stage[x->nstages].type = ss_stages[i];
    x->stage[x->nstages++].ctx = ctx;
  }
  x->starting = false;
  if(SS_LOG_ON(SS_LOG_DEBUG))
    debug_start(x);
  if(!x->nstages && !x->swapped && !x->watch.n) {
    h->xfer = NULL;
    xfer_close_count(x);
    xfer_free_stages(x);  /* the record only: no stage, no monitor */
    return NULL;
  }
  if(x->watch.n) {  /* the monitors see what is sent and the answer */
    if(!(x->swapped & SS_SWAP_WRITE))
      xfer_watch_response(x);
    xfer_watch_debug(x);
    monitor_request(&x->watch, x);
    xfer_tell_early_notes(x);
  }
  return x;
}

static void xfer_leave(struct ss_xfer *x);

CURLcode xfer_result(const struct ss_xfer *x, CURLcode result)
{
  if(x->fail_code)
    return x->fail_code;
  return x->out.failed && result == CURLE_OK ? CURLE_WRITE_ERROR : result;
}

void xfer_cancel(struct ss_xfer *x)
{
  out_block_direct(&x->out);
  x->out.at_end = true;
  xfer_close_count(x);
}

/* libcurl's result, as far as the shim knows it, for the monitors. */
static CURLcode known_result(struct ss_xfer *x, CURLcode result)
{
  x->watch.result = result;
  x->watch.result_known = true;
  return result;
}

/* The attempt's end: what the stages hold goes out. known: result is
 * libcurl's (not when the shim hands held data over before it). */
static CURLcode end_attempt(struct ss_xfer *x, CURLcode result, bool known)
{
  if(x->ended)
    result = xfer_result(x, result);
  else if(result == CURLE_ABORTED_BY_CALLBACK)
    /* The program stopped it itself (a progress callback's abort):
     * nothing more reaches it, as without the shim. */
    xfer_cancel(x);
  else {
    xfer_close_count(x);
    x->busy++;
    out_block_direct(&x->out);
    x->out.at_end = true;
    resume_all(x);  /* a backlog left by a pause goes out first */
    for(int i = 0; i < x->nstages; i++) {
      if(!x->stage[i].type->end)
        continue;
      x->cur = i;
      x->stage[i].type->end(x, x->stage[i].ctx, &result);
      x->cur = -1;
    }
    if(x->fail_code && x->h->app.errorbuffer)  /* as libcurl's failf */
      memcpy(x->h->app.errorbuffer, x->fail_text, sizeof(x->fail_text));
    result = xfer_result(x, result);
    if(known)
      known_result(x, result);
    if(SS_LOG_ON(SS_LOG_DEBUG))
      debug_end(x, result);
    xfer_leave(x);  /* the caller checks h->xfer: x may be gone */
    return result;
  }
  return known ? known_result(x, result) : result;
}

CURLcode xfer_end(struct ss_xfer *x, CURLcode result)
{
  return end_attempt(x, result, true);
}

void xfer_hand_over(struct ss_xfer *x)
{
  x->watch.finished = true;  /* the running count says so */
  end_attempt(x, CURLE_OK, false);
}

void xfer_begin(struct ss_handle *h)
{
  xfer_begin_attempt(h, NULL);
}

void xfer_begin_attempt(struct ss_handle *h, const struct ss_watchers *carry)
{
  int saved = errno;
  if(h->xfer)
    xfer_finish(h);  /* one left open: a multi transfer never removed */
  view_reset(&h->view);
  xfer_start(h, carry);
  errno = saved;
}

void xfer_result_seen(struct ss_xfer *x, CURLcode result)
{
  known_result(x, result);
  x->watch.seen = true;
  if(x->watch.n)  /* the end is now, not when the handle is let go of */
    monitor_close(&x->watch, x);
}

/* Free what the stages and the client writer hold, and x. */
static void xfer_free_stages(struct ss_xfer *x)
{
  if(x->watch.n)
    monitor_close(&x->watch, x);
  for(int i = 0; i < x->nstages; i++)
    if(x->stage[i].type->finish)
      x->stage[i].type->finish(x, x->stage[i].ctx);
  out_free(&x->out);
  xfer_record_free(x);
}

/* One of the shim's calls on x returns: free it if the handle let go of
 * it meanwhile and this was the last. */
static void xfer_leave(struct ss_xfer *x)
{
  if(!--x->busy && x->out.detached)
    xfer_free_stages(x);
}

/* Free the transfer: the handle's options, then the stages. When the
 * program lets go of it from inside one of its callbacks (a reset), the
 * stage that called the program is still on the stack: x is detached
 * from the handle now and freed when that call returns. */
static void xfer_free(struct ss_handle *h, bool put_back)
{
  struct ss_xfer *x = h->xfer;
  if(!x)
    return;
  defer_forget(h);
  xfer_close_count(x);
  if(put_back)
    xfer_put_back(x, h->easy, x->swapped);
  xfer_release(x, x->swapped);
  buf_free(&x->up_app);
  h->xfer = NULL;
  out_block_direct(&x->out);
  if(x->busy)
    x->out.detached = true;  /* nothing more reaches the program */
  else
    xfer_free_stages(x);
}

void xfer_finish(struct ss_handle *h)
{
  xfer_free(h, true);
}

void xfer_discard(struct ss_handle *h)
{
  xfer_free(h, false);
}

/* The client writer, told how the transfer delivers header lines. */
static struct ss_out *client(struct ss_xfer *x)
{
  x->out.headers_in_body = (x->swapped & SS_SWAP_INCLUDE) != 0;
  return &x->out;
}

/* Run a header line or body bytes through the stages from index i on, then
 * the client. A stage without a callback for that kind passes it on. */
static enum ss_flow chain(struct ss_xfer *x, int i, enum ss_out_kind kind,
                          const char *p, size_t n)
{
  for(; i < x->nstages; i++) {
    const struct ss_stage *t = x->stage[i].type;
    enum ss_flow (*fn)(struct ss_xfer *, void *, const char *, size_t) =
      kind == SS_OUT_BODY ? t->body : t->header;
    if(!fn)
      continue;
    int saved = x->cur;
    x->cur = i;
    enum ss_flow r = fn(x, x->stage[i].ctx, p, n);
    x->cur = saved;
    if(r == SS_PAUSED) {
      x->resume_mask |= 1u << i;
      out_block_direct(&x->out);  /* the stage resumes first */
    }
    return r;
  }
  if(x->watch.n && !x->out.failed && !x->out.detached)
    monitor_bytes(&x->watch, x, kind == SS_OUT_BODY ? SS_EV_HANDED_BODY
                                         : SS_EV_HANDED_HEADER, p, n);
  return out_deliver(client(x), x->h, kind, p, n);
}

enum ss_flow xfer_pass_header(struct ss_xfer *x, const char *p, size_t n)
{
  return chain(x, x->cur + 1, SS_OUT_HEADER, p, n);
}

enum ss_flow xfer_pass_body(struct ss_xfer *x, const char *p, size_t n)
{
  return chain(x, x->cur + 1, SS_OUT_BODY, p, n);
}

/* May the calling stage's bytes of this kind go straight to the program
 * (xfer_body_direct, xfer_header_direct)? Not when another stage or a
 * monitor sees them, nor while anything of the chain's is left to
 * deliver or resume first, nor once the transfer failed, ended or was let
 * go of (out_block_direct clears the flag whenever one of those happens
 * later). */
static bool direct_allowed(const struct ss_xfer *x, bool body)
{
  for(int i = 0; i < x->nstages; i++)
    if(i != x->cur && (body ? x->stage[i].type->body
                            : x->stage[i].type->header))
      return false;
  return x->cur >= 0 && !x->watch.n &&
         !(x->absorbed | x->resume_mask | x->out.has_pending |
           x->out.failed | x->out.detached | x->out.at_end);
}

void xfer_body_direct(struct ss_xfer *x)
{
  if(direct_allowed(x, true))
    x->out.direct |= SS_DIRECT_BODY;
}

void xfer_header_direct(struct ss_xfer *x)
{
  /* with CURLOPT_HEADER the client writer puts lines in the body too */
  if(!(x->swapped & SS_SWAP_INCLUDE) && direct_allowed(x, false))
    x->out.direct |= SS_DIRECT_HEADER;
}

/* After an unpause: the client's refused piece first, then the stages that
 * stopped producing, deepest first (their backlog comes first in order). */
static enum ss_flow resume_all(struct ss_xfer *x)
{
  enum ss_flow r = out_flush(client(x), x->h);
  for(int i = x->nstages - 1; i >= 0 && r == SS_OK; i--) {
    if(!(x->resume_mask & (1u << i)))
      continue;
    x->resume_mask &= ~(1u << i);
    if(!x->stage[i].type->resume)
      continue;
    x->cur = i;
    r = x->stage[i].type->resume(x, x->stage[i].ctx);
    x->cur = -1;
    if(r == SS_PAUSED)
      x->resume_mask |= 1u << i;
  }
  return r;
}

/* What to return to libcurl for a failed delivery: anything but n. */
static size_t fail_value(const struct ss_xfer *x, size_t n)
{
  return x->out.fail_value != n ? x->out.fail_value : 0;
}

/* One call from libcurl. After a pause libcurl hands the same input back
 * (possibly with more appended, as newer cw-out does); the prefix already
 * absorbed is skipped. */
static size_t xfer_feed(struct ss_xfer *x, enum ss_out_kind kind,
                        const char *p, size_t n)
{
  size_t skip = 0;
  if(x->absorbed && x->absorbed_kind == kind)
    skip = x->absorbed < n ? x->absorbed : n;
  x->absorbed = 0;
  if(kind == SS_OUT_BODY)
    x->got_body += n - skip;
  else
    x->got_header += n - skip;
  if(x->watch.n && skip < n) {  /* what the server sent, once */
    if(kind == SS_OUT_BODY)
      monitor_bytes(&x->watch, x, SS_EV_BODY, p + skip, n - skip);
    else
      monitor_header(&x->watch, x, p + skip, n - skip);
  }
  if(x->out.failed)
    return fail_value(x, n);
  /* The answer flows: the program's low-speed limit holds again (it was
   * lifted only for the silence before the answer). */
  if(kind == SS_OUT_BODY && (x->swapped & SS_SWAP_LOWSPEED))
    xfer_restore(x, SS_SWAP_LOWSPEED);
  /* what a pause left goes first (out.failed was answered above) */
  enum ss_flow r = x->out.has_pending || x->resume_mask ? resume_all(x)
                                                        : SS_OK;
  if(r == SS_OK && skip < n) {
    r = chain(x, 0, kind, p + skip, n - skip);
    skip = n;
  }
  if(r == SS_PAUSED) {
    out_block_direct(&x->out);  /* the absorbed prefix is skipped first */
    x->absorbed = skip;
    x->absorbed_kind = kind;
    return CURL_WRITEFUNC_PAUSE;
  }
  return r == SS_OK ? n : fail_value(x, n);
}

static size_t xfer_input(struct ss_xfer *x, enum ss_out_kind kind,
                         const char *p, size_t n)
{
  x->busy++;
  size_t w = xfer_feed(x, kind, p, n);
  xfer_leave(x);
  return w;
}

/* The direct ways (one flag: out.direct): libcurl's bytes, the
 * program's answer. A pause leaves the bytes with libcurl, which hands
 * them again after the unpause. Nothing of x is read once the program's
 * callback returns (it may let go of the transfer from inside it): the
 * debug log's count of what libcurl gave is taken before (a piece the
 * program paused on counts again when libcurl hands it again). */
size_t ss_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
  struct ss_xfer *x = ud;
  size_t n = size * nmemb;
  if(x->out.direct & SS_DIRECT_BODY) {
    x->got_body += n;
    return out_write_direct(x->h, p, n);
  }
  return xfer_input(x, SS_OUT_BODY, p, n);
}

size_t ss_header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
  struct ss_xfer *x = ud;
  size_t n = size * nmemb;
  if(x->out.direct & SS_DIRECT_HEADER) {
    if(n && p[0] != 'H') {
      x->got_header += n;
      return out_header_direct(x->h, p, n);
    }
    /* a line that may start a block (HTTP/...) goes to the stage, which
     * asks for the direct way again if it still wants it */
    x->out.direct &= ~(unsigned)SS_DIRECT_HEADER;
  }
  return xfer_input(x, SS_OUT_HEADER, p, n);
}

unsigned long xfer_serial(const struct ss_xfer *x)
{
  return x->watch.serial;
}
