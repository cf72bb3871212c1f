/* multi_socket - many transfers on one multi handle driven by
 * curl_multi_socket_action from an epoll loop (CURLMOPT_SOCKETFUNCTION,
 * CURLMOPT_TIMERFUNCTION and the epoll_wait timeout), results read with
 * curl_multi_info_read.
 *
 *   multi_socket [-n N] [-u URL] [--passthrough-only] [--pause]
 *                [--max-conns C] [--dump DIR] [URL]
 *
 * Kinds as in multi_many.c (0 de-streamed o3-mini stream:true, 1 gpt-4o
 * JSON, 2 gpt-4o native stream; --passthrough-only never uses kind 0); a
 * third of the requests ask for a chunked, small-piece answer
 * (X-Test-Chunked: 1). Transfers come in twins (2p, 2p+1) with the same
 * body, hence the same answer. With --pause the write callback of the first
 * twin returns CURL_WRITEFUNC_PAUSE on its 2nd call, and the loop calls
 * curl_easy_pause(CURLPAUSE_CONT) on its next turn; the twin runs unpaused.
 * Afterwards both must have received the same bytes, and de-streamed twins
 * the same sequence of write calls (nothing lost, nothing doubled, every
 * event once, in order, [DONE] last).
 *
 * Each transfer is checked as in multi_many.c when curl_multi_info_read
 * reports it done, then removed and cleaned up at once.
 *
 * stdout: one summary line; stderr: details of each failure. Exit 0 when
 * everything passed, 1 otherwise, 2 on usage errors. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "xfercheck.h"

static int kind_for(int pair)
{
  int k = pair % 3;
  if(passthrough_only && k == K_DESTREAM)
    k = (pair / 3) % 2 ? K_JSON : K_NATIVE;
  return k;
}

static void setup(struct xfer *x, struct curl_slist *plain, struct curl_slist *chunked)
{
  int pair = x->idx / 2;
  x->kind = kind_for(pair);
  x->hdrs = (pair / 3) % 3 == 1 ? chunked : plain;
  snprintf(x->tag, sizeof(x->tag), "[s%d]", pair);
  snprintf(x->body, sizeof(x->body),
           "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":"
           "\"socket %s please\"}]%s}",
           x->kind == K_DESTREAM ? "o3-mini" : "gpt-4o", x->tag,
           x->kind != K_JSON ? ",\"stream\":true" : "");
  reset_sink(x);
  curl_easy_setopt(x->h, CURLOPT_URL, url);
  curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
  if(x->idx % 4 < 2)
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
  else
    curl_easy_setopt(x->h, CURLOPT_COPYPOSTFIELDS, x->body);
  curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
}

/* ------------------------------------------------------------------ */
/* The event loop */

static CURLM *multi;
static int epfd = -1;
static double timer_at = -1;      /* absolute, seconds; -1: no timer */
static int sock_marker;           /* curl_multi_assign: fd is in epoll */
static long sock_errors;

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
  struct epoll_event ev;
  (void)e;
  (void)userp;
  if(what == CURL_POLL_REMOVE) {
    if(socketp) {
      /* the fd may be closed already (then epoll forgot it itself) */
      epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL);
      curl_multi_assign(multi, s, NULL);
    }
    return 0;
  }
  memset(&ev, 0, sizeof(ev));
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
  ev.data.fd = s;
  if(!socketp) {
    if(epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev) && (errno != EEXIST ||
                                                  epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev))) {
      fprintf(stderr, "FAIL epoll_ctl ADD %d: %s\n", (int)s, strerror(errno));
      sock_errors++;
      return -1;
    }
    curl_multi_assign(multi, s, &sock_marker);
  } else if(epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev) &&
            (errno != ENOENT || epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev))) {
    fprintf(stderr, "FAIL epoll_ctl MOD %d: %s\n", (int)s, strerror(errno));
    sock_errors++;
    return -1;
  }
  return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
  (void)m;
  (void)userp;
  timer_at = timeout_ms < 0 ? -1 : now_s() + (double)timeout_ms / 1000.0;
  return 0;
}

static int usage(void)
{
  fprintf(stderr, "usage: multi_socket [-n N] [-u URL] [--passthrough-only] [--pause]"
                  " [--max-conns C] [--dump DIR] [URL]\n");
  return 2;
}

int main(int argc, char **argv)
{
  int n = 60, pause = 0;
  long max_conns = 16;
  for(int a = 1; a < argc; a++) {
    if(!strcmp(argv[a], "-n") && a + 1 < argc)
      n = atoi(argv[++a]);
    else if(!strcmp(argv[a], "-u") && a + 1 < argc)
      url = argv[++a];
    else if(!strcmp(argv[a], "--max-conns") && a + 1 < argc)
      max_conns = atol(argv[++a]);
    else if(!strcmp(argv[a], "--dump") && a + 1 < argc)
      dump_dir = argv[++a];
    else if(!strcmp(argv[a], "--passthrough-only"))
      passthrough_only = 1;
    else if(!strcmp(argv[a], "--pause"))
      pause = 1;
    else if(argv[a][0] != '-')
      url = argv[a];
    else
      return usage();
  }
  if(n < 2 || n % 2)
    return usage();

  curl_global_init(CURL_GLOBAL_ALL);
  multi = curl_multi_init();
  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct xfer *xs = calloc((size_t)n, sizeof(*xs));
  struct curl_slist *plain = curl_slist_append(NULL, "Content-Type: application/json");
  struct curl_slist *chunked = curl_slist_append(NULL, "Content-Type: application/json");
  chunked = curl_slist_append(chunked, "X-Test-Chunked: 1");
  if(!multi || epfd < 0 || !xs || !plain || !chunked) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
  /* At most C connections (default 16): the loopback server (Python,
     listen backlog 5) loses bursts of connects and the SYN retransmissions
     then stay in step. All N transfers are in the multi handle at once;
     libcurl queues the rest and reuses kept-alive connections. */
  if(max_conns > 0)
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_conns);
  for(int i = 0; i < n; i++) {
    struct xfer *x = &xs[i];
    x->idx = i;
    x->h = curl_easy_init();
    if(!x->h) {
      fprintf(stderr, "curl_easy_init failed\n");
      return 1;
    }
    setup(x, plain, chunked);
    x->pause_at = pause && i % 2 == 0 ? 2 : 0;
  }

  int counts[3] = {0, 0, 0}, ok = 0, added = 0, outstanding = 0, running = 0;
  int paused = 0, unpauses = 0, max_running = 0;
  double deadline = now_s() + 50;
  /* all at once; libcurl queues what exceeds max_conns */
  for(; added < n; added++) {
    struct xfer *x = &xs[added];
    CURLMcode mc = curl_multi_add_handle(multi, x->h);
    if(mc != CURLM_OK) {
      fail(x, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
      continue;
    }
    x->in_multi = 1;
    x->state = S_RUNNING;
    outstanding++;
  }
  int at_once = outstanding;
  while(outstanding > 0) {
    struct epoll_event evs[64];
    CURLMcode mc;
    int left, nev, wait_ms;
    /* transfers paused by their write callback on the last turn */
    for(int i = 0; i < n; i++) {
      struct xfer *x = &xs[i];
      if(x->want_unpause && x->state == S_RUNNING) {
        x->want_unpause = 0;
        unpauses++;
        CURLcode rc = curl_easy_pause(x->h, CURLPAUSE_CONT);
        if(rc != CURLE_OK)
          fail(x, "curl_easy_pause(CONT): %s", curl_easy_strerror(rc));
      }
    }
    if(timer_at < 0)
      wait_ms = 200;
    else {
      double d = (timer_at - now_s()) * 1000.0;
      wait_ms = d <= 0 ? 0 : d > 200 ? 200 : (int)d + 1;
    }
    nev = epoll_wait(epfd, evs, 64, wait_ms);
    if(nev < 0 && errno != EINTR) {
      fprintf(stderr, "FAIL epoll_wait: %s\n", strerror(errno));
      failures++;
      break;
    }
    for(int i = 0; i < nev; i++) {
      int flags = 0;
      if(evs[i].events & (EPOLLIN | EPOLLHUP))
        flags |= CURL_CSELECT_IN;
      if(evs[i].events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
      if(evs[i].events & EPOLLERR)
        flags |= CURL_CSELECT_ERR;
      mc = curl_multi_socket_action(multi, evs[i].data.fd, flags, &running);
      if(mc != CURLM_OK) {
        fprintf(stderr, "FAIL curl_multi_socket_action: %s\n", curl_multi_strerror(mc));
        failures++;
      }
    }
    if(timer_at >= 0 && now_s() >= timer_at) {
      timer_at = -1;
      mc = curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
      if(mc != CURLM_OK) {
        fprintf(stderr, "FAIL curl_multi_socket_action(timeout): %s\n",
                curl_multi_strerror(mc));
        failures++;
      }
    }
    if(running > max_running)
      max_running = running;
    CURLMsg *msg;
    while((msg = curl_multi_info_read(multi, &left))) {
      struct xfer *x;
      char *priv = NULL;
      if(msg->msg != CURLMSG_DONE)
        continue;
      CURL *h = msg->easy_handle;
      CURLcode result = msg->data.result;
      curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
      x = (struct xfer *)(void *)priv;
      if(!x || x->h != h || x->state != S_RUNNING) {
        fprintf(stderr, "FAIL a DONE message for an unknown or finished handle %p\n",
                (void *)h);
        failures++;
        continue;
      }
      x->result = result;
      x->state = S_DONE;
      x->len_at_done = x->len;
      outstanding--;
      /* check, then remove and clean up right away (msg is gone after) */
      curl_multi_remove_handle(multi, h);
      x->in_multi = 0;
      ok += check(x);
      counts[x->kind]++;
      if(x->pause_at && !x->paused && x->kind != K_JSON)
        fail(x, "the write callback was never called a 2nd time to pause");
      if(x->want_unpause)
        fail(x, "done while still paused");
      paused += x->paused;
      curl_easy_cleanup(x->h);
      x->h = NULL;
    }
    if(now_s() > deadline) {
      fprintf(stderr, "FAIL %d transfers still running after 50 s\n", outstanding);
      failures++;
      break;
    }
  }

  /* twins: the same answer, whether paused or not */
  for(int i = 0; i + 1 < n; i += 2) {
    struct xfer *a = &xs[i], *b = &xs[i + 1];
    if(a->state != S_DONE || b->state != S_DONE || a->result || b->result)
      continue;
    if(a->len != b->len || memcmp(a->data, b->data, a->len))
      fail(a, "got %zu bytes, its twin %d got %zu: they differ", a->len, b->idx, b->len);
    else if(a->kind == K_DESTREAM &&
            (a->ncalls != b->ncalls ||
             memcmp(a->calls, b->calls, (size_t)a->ncalls * sizeof(*a->calls))))
      fail(a, "%d write calls, its twin %d had %d, or they split differently",
           a->ncalls, b->idx, b->ncalls);
  }
  for(int i = 0; i < n; i++) {
    struct xfer *x = &xs[i];
    if(x->h) {
      if(x->in_multi)
        curl_multi_remove_handle(multi, x->h);
      curl_easy_cleanup(x->h);
    }
    if(x->late_calls)
      fail(x, "%d callbacks after it was removed", x->late_calls);
    free(x->data);
    free(x->calls);
  }
  if(paused != unpauses) {
    fprintf(stderr, "FAIL %d transfers paused, %d unpaused\n", paused, unpauses);
    failures++;
  }
  failures += sock_errors;
  fprintf(stderr, "note: libcurl reported at most %d running transfers\n", max_running);
  curl_multi_cleanup(multi);
  close(epfd);
  curl_slist_free_all(plain);
  curl_slist_free_all(chunked);
  free(xs);
  curl_global_cleanup();
  printf("multi_socket: %d/%d transfers ok (%d destreamed, %d json, %d native), "
         "%d paused and resumed, %d in the multi handle at once, %ld failures\n",
         ok, counts[0] + counts[1] + counts[2], counts[K_DESTREAM], counts[K_JSON],
         counts[K_NATIVE], paused, at_once, failures);
  return failures ? 1 : 0;
}
