/* multi_pace - two transfers on one multi handle driven by
 * curl_multi_perform + curl_multi_poll (a long 1000 ms poll timeout, as
 * programs use): A posts BODY_A to URL (a replayed answer, paced by the
 * shim), B posts BODY_B to URL (a native stream the server sends slowly).
 * Prints one line per write-callback call: "<A|B> <ms since start> <bytes>",
 * then "done A <ms>" / "done B <ms>" as curl_multi_info_read reports them,
 * and writes what A received to OUT_A. Pacing must neither stall B nor
 * wait for the poll timeout between A's events.
 *
 *   multi_pace [--poll-first] [--program-pause MS] [--cancel-after N]
 *              URL BODY_A BODY_B OUT_A
 *
 * --poll-first      the loop runs poll, info_read, perform (info_read
 *                   before perform: the shim must not resume from it)
 * --program-pause MS after A's 2nd write call the program pauses A itself
 *                   (CURLPAUSE_ALL, from the loop) for MS ms; a write to A
 *                   meanwhile prints "FAIL write while paused"
 * --cancel-after N  after A's Nth write call the program removes A; a
 *                   write to A afterwards prints "FAIL write after remove" */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct timespec t0;
static int a_calls, a_paused, a_removed;

static long ms_since_start(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
}

struct xfer {
  const char *name;
  FILE *out;
};

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
  struct xfer *x = ud;
  printf("%s %ld %zu\n", x->name, ms_since_start(), size * n);
  if(x->name[0] == 'A') {
    a_calls++;
    if(a_paused)
      printf("FAIL write while paused\n");
    if(a_removed)
      printf("FAIL write after remove\n");
  }
  if(x->out)
    fwrite(p, size, n, x->out);
  return size * n;
}

static CURL *start(CURLM *m, const char *url, const char *body,
                   struct curl_slist *hdrs, struct xfer *x)
{
  CURL *e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_multi_add_handle(m, e);
  return e;
}

int main(int argc, char **argv)
{
  int poll_first = 0, cancel_after = 0, a = 1;
  long pause_ms = 0, paused_at = -1;
  for(; a < argc && !strncmp(argv[a], "--", 2); a++) {
    if(!strcmp(argv[a], "--poll-first"))
      poll_first = 1;
    else if(!strcmp(argv[a], "--program-pause") && a + 1 < argc)
      pause_ms = strtol(argv[++a], NULL, 10);
    else if(!strcmp(argv[a], "--cancel-after") && a + 1 < argc)
      cancel_after = (int)strtol(argv[++a], NULL, 10);
    else
      break;
  }
  if(argc - a != 4) {
    fprintf(stderr, "usage: multi_pace [--poll-first] [--program-pause MS] "
            "[--cancel-after N] URL BODY_A BODY_B OUT_A\n");
    return 2;
  }
  const char *url = argv[a], *body_a = argv[a + 1], *body_b = argv[a + 2];
  struct xfer xa = {"A", fopen(argv[a + 3], "wb")}, xb = {"B", NULL};
  if(!xa.out)
    return 2;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *m = curl_multi_init();
  struct curl_slist *ha = curl_slist_append(NULL, "Content-Type: application/json");
  struct curl_slist *hb = curl_slist_append(NULL, "Content-Type: application/json");
  hb = curl_slist_append(hb, "X-Test-Event-Delay: 0.05");
  CURL *ea = start(m, url, body_a, ha, &xa);
  CURL *eb = start(m, url, body_b, hb, &xb);
  int running = 1, failures = 0;
  if(poll_first)
    curl_multi_perform(m, &running);
  while(running) {
    if(poll_first)
      curl_multi_poll(m, NULL, 0, 1000, NULL);
    else if(curl_multi_perform(m, &running) != CURLM_OK)
      return 1;
    CURLMsg *msg;
    int left;
    while((msg = curl_multi_info_read(m, &left))) {
      if(msg->msg != CURLMSG_DONE)
        continue;
      printf("done %s %ld\n", msg->easy_handle == ea ? "A" : "B", ms_since_start());
      failures += msg->data.result != CURLE_OK;
    }
    if(pause_ms && a_calls >= 2 && paused_at < 0) {
      paused_at = ms_since_start();
      a_paused = 1;
      curl_easy_pause(ea, CURLPAUSE_ALL);
      printf("program paused A %ld\n", paused_at);
    }
    if(a_paused && ms_since_start() - paused_at >= pause_ms) {
      a_paused = 0;
      printf("program unpaused A %ld\n", ms_since_start());
      curl_easy_pause(ea, CURLPAUSE_CONT);
    }
    if(cancel_after && a_calls >= cancel_after && !a_removed) {
      a_removed = 1;
      curl_multi_remove_handle(m, ea);
      printf("program removed A %ld\n", ms_since_start());
    }
    if(poll_first)
      curl_multi_perform(m, &running);
    else if(running)
      curl_multi_poll(m, NULL, 0, a_paused ? 50 : 1000, NULL);
  }
  if(!a_removed)
    curl_multi_remove_handle(m, ea);
  curl_multi_remove_handle(m, eb);
  curl_easy_cleanup(ea);
  curl_easy_cleanup(eb);
  curl_multi_cleanup(m);
  curl_slist_free_all(ha);
  curl_slist_free_all(hb);
  fclose(xa.out);
  curl_global_cleanup();
  return failures ? 1 : 0;
}
