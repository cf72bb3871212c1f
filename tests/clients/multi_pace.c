/* multi_pace - two transfers on one multi handle driven by
 * curl_multi_perform + curl_multi_poll (a long 1000 ms poll timeout, as
 * programs use): A posts BODY_A to URL (a replayed answer, paced by the
 * shim), B posts BODY_B to URL (a native stream the server sends slowly).
 * Prints one line per write-callback call: "<A|B> <ms since start> <bytes>",
 * then "done A <ms>" / "done B <ms>" as curl_multi_info_read reports them,
 * and writes what A received to OUT_A. Pacing must neither stall B nor
 * wait for the poll timeout between A's events.
 *
 *   multi_pace URL BODY_A BODY_B OUT_A */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct timespec t0;

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
  if(argc != 5) {
    fprintf(stderr, "usage: multi_pace URL BODY_A BODY_B OUT_A\n");
    return 2;
  }
  struct xfer a = {"A", fopen(argv[4], "wb")}, b = {"B", NULL};
  if(!a.out)
    return 2;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *m = curl_multi_init();
  struct curl_slist *ha = curl_slist_append(NULL, "Content-Type: application/json");
  struct curl_slist *hb = curl_slist_append(NULL, "Content-Type: application/json");
  hb = curl_slist_append(hb, "X-Test-Event-Delay: 0.05");
  CURL *ea = start(m, argv[1], argv[2], ha, &a);
  CURL *eb = start(m, argv[1], argv[3], hb, &b);
  int running = 1, failures = 0;
  while(running) {
    if(curl_multi_perform(m, &running) != CURLM_OK)
      return 1;
    CURLMsg *msg;
    int left;
    while((msg = curl_multi_info_read(m, &left))) {
      if(msg->msg != CURLMSG_DONE)
        continue;
      printf("done %s %ld\n", msg->easy_handle == ea ? "A" : "B", ms_since_start());
      failures += msg->data.result != CURLE_OK;
    }
    if(running)
      curl_multi_poll(m, NULL, 0, 1000, NULL);
  }
  curl_multi_remove_handle(m, ea);
  curl_multi_remove_handle(m, eb);
  curl_easy_cleanup(ea);
  curl_easy_cleanup(eb);
  curl_multi_cleanup(m);
  curl_slist_free_all(ha);
  curl_slist_free_all(hb);
  fclose(a.out);
  curl_global_cleanup();
  return failures ? 1 : 0;
}
