/* multi_refusals - many refused streams at once on one multi handle,
 * driven the way the curl examples drive one: trust the running count.
 *
 *   multi_refusals [-n N] [--socket] [--max-conns C] [--slow MS] URL
 *
 * N transfers (default 200) ask o3-mini for a stream; in auto mode the
 * server refuses each and the shim retries it without stream. The loop
 * ends when the running count says 0:
 *   perform:  do { curl_multi_perform(m, &running);
 *                  if(running) curl_multi_poll(m, ..., 1000); } while(running)
 *   --socket: curl_multi_socket_action from a poll(2) loop over the sockets
 *             and the timer libcurl asks for, while(running)
 * and only then are the messages read (curl_multi_info_read). A count that
 * drops to 0 while a retry is pending ends the loop early: transfers then
 * lack their DONE message or their answer. --slow MS makes every progress
 * callback take MS milliseconds, as a program doing work there does: one
 * drive call then lasts long enough for a retry started in it to finish
 * in it too. Checked per transfer: exactly
 * one DONE, CURLE_OK, HTTP 200, an event stream that ends in one
 * "data: [DONE]" and quotes the transfer's tag, nothing after DONE.
 *
 * stdout: one summary line. Exit 0 when every transfer passed, else 1. */
#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SOCKS 1024

struct xfer {
  CURL *h;
  int idx, dones;
  char tag[32];
  char body[256];
  char *data;
  size_t len, cap;
  CURLcode result;
};

/* the sockets libcurl asked to watch (--socket) */
static struct pollfd socks[MAX_SOCKS];
static int nsocks;
static long timer_ms = -1;
static long failures;

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
  struct xfer *x = ud;
  size_t n = size * nmemb;
  if(x->dones)
    failures++, fprintf(stderr, "FAIL %s: written after DONE\n", x->tag);
  if(x->len + n + 1 > x->cap) {
    size_t cap = (x->len + n + 1) * 2;
    char *d = realloc(x->data, cap);
    if(!d)
      return 0;
    x->data = d;
    x->cap = cap;
  }
  memcpy(x->data + x->len, p, n);
  x->len += n;
  x->data[x->len] = '\0';
  return n;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *u, void *sp)
{
  (void)e; (void)u; (void)sp;
  int i = 0;
  while(i < nsocks && socks[i].fd != s)
    i++;
  if(what == CURL_POLL_REMOVE) {
    if(i < nsocks)
      socks[i] = socks[--nsocks];
    return 0;
  }
  if(i == nsocks) {
    if(nsocks == MAX_SOCKS)
      return -1;
    nsocks++;
  }
  socks[i].fd = s;
  socks[i].events = (short)((what & CURL_POLL_IN ? POLLIN : 0) |
                            (what & CURL_POLL_OUT ? POLLOUT : 0));
  return 0;
}

static int on_timer(CURLM *m, long ms, void *u)
{
  (void)m; (void)u;
  timer_ms = ms;
  return 0;
}

static long slow_ms;

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
                       curl_off_t d)
{
  (void)ud; (void)a; (void)b; (void)c; (void)d;
  struct timespec ts = {0, slow_ms * 1000000L};
  nanosleep(&ts, NULL);
  return 0;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int drive_perform(CURLM *m, double deadline)
{
  int running = 0;
  do {
    if(curl_multi_perform(m, &running) != CURLM_OK)
      return -1;
    if(running)
      curl_multi_poll(m, NULL, 0, 1000, NULL);
  } while(running && now_s() < deadline);
  return running;
}

static int drive_socket(CURLM *m, double deadline)
{
  int running = 0;
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
  if(curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running))
    return -1;
  while(running && now_s() < deadline) {
    struct pollfd ready[MAX_SOCKS];
    int n = nsocks;
    memcpy(ready, socks, sizeof(ready[0]) * (size_t)n);
    int wait = timer_ms < 0 || timer_ms > 1000 ? 1000 : (int)timer_ms;
    int got = poll(ready, (nfds_t)n, wait);
    if(got <= 0) {
      timer_ms = -1;
      curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
      continue;
    }
    for(int i = 0; i < n; i++) {
      int ev = (ready[i].revents & POLLIN ? CURL_CSELECT_IN : 0) |
               (ready[i].revents & POLLOUT ? CURL_CSELECT_OUT : 0) |
               (ready[i].revents & (POLLERR | POLLHUP) ? CURL_CSELECT_ERR : 0);
      if(ev)
        curl_multi_socket_action(m, ready[i].fd, ev, &running);
    }
  }
  return running;
}

/* One transfer, after the loop: one DONE, a whole stream with its tag. */
static int check(struct xfer *x)
{
  long code = 0;
  curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
  const char *why = NULL;
  if(x->dones != 1)
    why = x->dones ? "more than one DONE" : "no DONE message";
  else if(x->result != CURLE_OK)
    why = curl_easy_strerror(x->result);
  else if(code != 200)
    why = "status not 200";
  else if(!x->data || !strstr(x->data, x->tag))
    why = "the answer does not quote the tag";
  else if(x->len < 14 || strcmp(x->data + x->len - 14, "data: [DONE]\n\n") ||
          strstr(x->data, "data: [DONE]") != x->data + x->len - 14)
    why = "the stream does not end in one data: [DONE]";
  else if(strstr(x->data, "unsupported_value"))
    why = "the refusal reached the program";
  if(why)
    fprintf(stderr, "FAIL %s: %s (status %ld, %zu bytes)\n", x->tag, why,
            code, x->len);
  return !why;
}

int main(int argc, char **argv)
{
  int n = 200, socket_loop = 0;
  long max_conns = 32;
  const char *url = NULL;
  for(int a = 1; a < argc; a++) {
    if(!strcmp(argv[a], "-n") && a + 1 < argc)
      n = atoi(argv[++a]);
    else if(!strcmp(argv[a], "--max-conns") && a + 1 < argc)
      max_conns = atol(argv[++a]);
    else if(!strcmp(argv[a], "--slow") && a + 1 < argc)
      slow_ms = atol(argv[++a]);
    else if(!strcmp(argv[a], "--socket"))
      socket_loop = 1;
    else if(argv[a][0] != '-')
      url = argv[a];
    else
      url = NULL, a = argc;
  }
  if(!url || n < 1) {
    fprintf(stderr, "usage: multi_refusals [-n N] [--socket] [--max-conns C] [--slow MS] URL\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_ALL);
  CURLM *m = curl_multi_init();
  struct xfer *xs = calloc((size_t)n, sizeof(*xs));
  struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
  if(!m || !xs || !hdrs)
    return 1;
  if(max_conns > 0)
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_conns);
  for(int i = 0; i < n; i++) {
    struct xfer *x = &xs[i];
    x->idx = i;
    snprintf(x->tag, sizeof(x->tag), "[r%d]", i);
    snprintf(x->body, sizeof(x->body),
             "{\"model\":\"o3-mini\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"refused %s\"}],\"stream\":true}", x->tag);
    x->h = curl_easy_init();
    if(!x->h)
      return 1;
    curl_easy_setopt(x->h, CURLOPT_URL, url);
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    if(slow_ms) {
      curl_easy_setopt(x->h, CURLOPT_XFERINFOFUNCTION, on_progress);
      curl_easy_setopt(x->h, CURLOPT_NOPROGRESS, 0L);
    }
    if(curl_multi_add_handle(m, x->h) != CURLM_OK)
      return 1;
  }
  double start = now_s();
  int left = socket_loop ? drive_socket(m, start + 60) : drive_perform(m, start + 60);
  if(left)
    failures++, fprintf(stderr, "FAIL the loop did not end (%d running)\n", left);
  /* only now, as the examples do: every transfer must be done */
  CURLMsg *msg;
  int queued, dones = 0, ok = 0;
  while((msg = curl_multi_info_read(m, &queued))) {
    char *priv = NULL;
    if(msg->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    struct xfer *x = (struct xfer *)(void *)priv;
    x->dones++;
    x->result = msg->data.result;
    dones++;
  }
  for(int i = 0; i < n; i++) {
    ok += check(&xs[i]);
    curl_multi_remove_handle(m, xs[i].h);
    curl_easy_cleanup(xs[i].h);
    free(xs[i].data);
  }
  curl_multi_cleanup(m);
  curl_slist_free_all(hdrs);
  free(xs);
  curl_global_cleanup();
  printf("multi_refusals: %d/%d transfers ok, %d done messages, %ld failures\n",
         ok, n, dones, failures + (n - ok));
  return ok == n && !failures ? 0 : 1;
}
