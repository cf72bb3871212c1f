/* multi_many - one multi handle driving many transfers at once with
 * curl_multi_perform + curl_multi_poll (for the shim's per-handle state and
 * life cycle on the multi interface).
 *
 *   multi_many [-n N] [-u URL] [--passthrough-only] [--victims K] [--dump DIR]
 *              [--max-conns C] [--ramp R] [--delay S] [URL]
 *
 * N (default 200) easy handles are added at once (--ramp R: R per loop
 * turn); at most C (default 16, 0: no limit) connections are opened, as the
 * Python loopback server loses bursts of connects: libcurl queues the other
 * transfers and hands kept-alive connections from handle to handle.
 * --delay S asks the server to hold the odd transfers' answers S seconds
 * (X-Test-Delay), to keep more of them in flight at once.
 *
 * Transfer i is of kind i % 3 (round 1) / (i + 1) % 3 (round 2):
 *   0  de-streamed: o3-mini with "stream":true (the shim replays SSE)
 *   1  JSON: gpt-4o without stream (passes through)
 *   2  native: gpt-4o with "stream":true (the server streams, passes through)
 * With --passthrough-only kind 0 is never used (for runs without the shim).
 * Every prompt carries a unique tag "[x<i>.r<round>]" that the server quotes
 * in the answer, so an answer delivered to the wrong transfer is seen.
 *
 * Round 1: all N transfers at once. When an even-numbered transfer is done
 * (curl_multi_info_read) it is checked, removed, given a new body and added
 * again on the same easy handle (round 2, while the others still run). Odd
 * ones stay in the multi handle, done, until the end. K "victim" transfers
 * (slow answers: X-Test-Chunked + X-Test-Event-Delay, ~3 s) are removed
 * and cleaned up mid-transfer from the loop, on purpose: on their first
 * header or write callback, or (de-streamed: the shim holds the headers
 * back) half a second after CURLINFO_REQUEST_SIZE shows the request sent.
 *
 * Checks per transfer: CURLE_OK, HTTP 200; streams (kinds 0 and 2) are SSE
 * "data: ...\n\n" events, chunks of one id, the tag in the content, exactly
 * one "data: [DONE]\n\n" and it is last; de-streamed ones also have exactly
 * one event per write call, Content-Type text/event-stream and
 * SIZE_DOWNLOAD == bytes seen; JSON ones are one chat.completion object.
 * No callback may reach a transfer after it was removed, and nothing may be
 * written to a done transfer.
 *
 * With --dump DIR each checked transfer leaves DIR/i<i>-r<round>.req (the
 * body sent) and .out (the bytes the write callback got) for the tests.
 *
 * stdout: one summary line; stderr: details of each failure. Exit 0 when
 * everything passed, 1 otherwise, 2 on usage errors. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfercheck.h"

static int kind_for(int i, int round)
{
  int k = (i + round) % 3;
  if(passthrough_only && k == K_DESTREAM)
    k = round ? K_JSON : K_NATIVE;
  return k;
}

/* Set x's handle up for `round`. */
static void setup(struct xfer *x, int round)
{
  int streamed;
  x->round = round;
  x->kind = kind_for(x->idx, round);
  streamed = x->kind != K_JSON;
  snprintf(x->tag, sizeof(x->tag), "[x%d.r%d]", x->idx, round);
  snprintf(x->body, sizeof(x->body),
           "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":"
           "\"multi %s please\"}]%s}",
           x->kind == K_DESTREAM ? "o3-mini" : "gpt-4o", x->tag,
           streamed ? ",\"stream\":true" : "");
  reset_sink(x);
  curl_easy_setopt(x->h, CURLOPT_URL, url);
  curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
  switch(x->idx % 4) {
  case 0:
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
    break;
  case 1:
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
    break;
  default:
    curl_easy_setopt(x->h, CURLOPT_COPYPOSTFIELDS, x->body);
    break;
  }
  curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
}

static int usage(void)
{
  fprintf(stderr, "usage: multi_many [-n N] [-u URL] [--passthrough-only] [--victims K]"
                  " [--ramp R] [--max-conns C] [--delay S] [--dump DIR] [URL]\n");
  return 2;
}

int main(int argc, char **argv)
{
  int n = 200, nvictims = 6, ramp = 0;
  long max_conns = 16;
  const char *delay = NULL;
  for(int a = 1; a < argc; a++) {
    if(!strcmp(argv[a], "-n") && a + 1 < argc)
      n = atoi(argv[++a]);
    else if(!strcmp(argv[a], "-u") && a + 1 < argc)
      url = argv[++a];
    else if(!strcmp(argv[a], "--victims") && a + 1 < argc)
      nvictims = atoi(argv[++a]);
    else if(!strcmp(argv[a], "--ramp") && a + 1 < argc)
      ramp = atoi(argv[++a]);
    else if(!strcmp(argv[a], "--max-conns") && a + 1 < argc)
      max_conns = atol(argv[++a]);
    else if(!strcmp(argv[a], "--delay") && a + 1 < argc)
      delay = argv[++a];
    else if(!strcmp(argv[a], "--dump") && a + 1 < argc)
      dump_dir = argv[++a];
    else if(!strcmp(argv[a], "--passthrough-only"))
      passthrough_only = 1;
    else if(argv[a][0] != '-')
      url = argv[a];
    else
      return usage();
  }
  if(n < 1 || nvictims < 0 || nvictims > n / 4 || ramp < 0)
    return usage();
  if(!ramp)
    ramp = n;

  curl_global_init(CURL_GLOBAL_ALL);
  CURLM *m = curl_multi_init();
  struct xfer *xs = calloc((size_t)n, sizeof(*xs));
  struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
  struct curl_slist *slow = curl_slist_append(NULL, "Content-Type: application/json");
  slow = curl_slist_append(slow, "X-Test-Chunked: 1");
  slow = curl_slist_append(slow, "X-Test-Event-Delay: 0.05");
  char delay_hdr[64];
  snprintf(delay_hdr, sizeof(delay_hdr), "X-Test-Delay: %s", delay ? delay : "0");
  struct curl_slist *held = curl_slist_append(NULL, "Content-Type: application/json");
  held = curl_slist_append(held, delay_hdr);
  if(!m || !xs || !hdrs || !slow || !held) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  /* All N easy handles are in the multi handle at once, but the loopback
     server (Python, listen backlog 5) loses SYNs in bursts and the
     retransmissions then stay in step: connections are capped (libcurl
     queues the other transfers and reuses kept-alive connections). */
  if(max_conns > 0)
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_conns);
  /* victims spread over the range and over the kinds */
  int stride = nvictims ? n / nvictims : 0;
  for(int v = 0; v < nvictims; v++)
    xs[v * stride + 1 + v % 3].victim = 1;

  int counts[3] = {0, 0, 0}, ok = 0, aborted = 0, reused = 0, victims_done = 0;
  int outstanding = 0, added = 0;
  for(int i = 0; i < n; i++) {
    struct xfer *x = &xs[i];
    x->idx = i;
    x->h = curl_easy_init();
    if(!x->h) {
      fprintf(stderr, "curl_easy_init failed\n");
      return 1;
    }
    x->hdrs = x->victim ? slow : i % 2 && delay ? held : hdrs;
    x->reuse = !x->victim && i % 2 == 0;
    setup(x, 0);
  }

  double start = now_s(), deadline = start + 50;
  while(outstanding > 0 || added < n) {
    int running = 0, left;
    CURLMcode mc;
    /* the first round: all at once unless --ramp R adds R per turn */
    for(int k = 0; k < ramp && added < n; k++, added++) {
      struct xfer *x = &xs[added];
      mc = curl_multi_add_handle(m, x->h);
      if(mc != CURLM_OK) {
        fail(x, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        continue;
      }
      x->in_multi = 1;
      x->state = S_RUNNING;
      x->t_added = now_s();
      outstanding++;
    }
    mc = curl_multi_perform(m, &running);
    if(mc != CURLM_OK) {
      fprintf(stderr, "FAIL curl_multi_perform: %s\n", curl_multi_strerror(mc));
      failures++;
      break;
    }
    CURLMsg *msg;
    while((msg = curl_multi_info_read(m, &left))) {
      struct xfer *x;
      char *priv = NULL;
      if(msg->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      x = (struct xfer *)(void *)priv;
      if(!x || x->h != msg->easy_handle || x->state != S_RUNNING) {
        fprintf(stderr, "FAIL a DONE message for an unknown or finished handle %p\n",
                (void *)msg->easy_handle);
        failures++;
        continue;
      }
      x->result = msg->data.result;
      x->state = S_DONE;
      x->len_at_done = x->len;
      outstanding--;
      if(x->victim)
        victims_done++;
      if(x->reuse && x->round == 0) {
        /* check it now, then the same handle goes again */
        curl_multi_remove_handle(m, x->h);
        x->in_multi = 0;
        ok += check(x);
        counts[x->kind]++;
        setup(x, 1);
        mc = curl_multi_add_handle(m, x->h);
        if(mc != CURLM_OK) {
          fail(x, "re-adding: %s", curl_multi_strerror(mc));
          continue;
        }
        x->in_multi = 1;
        x->state = S_RUNNING;
        x->t_added = now_s();
        outstanding++;
        reused++;
      }
    }
    /* victims: removed and cleaned up while their answer trickles in */
    for(int i = 0; i < n; i++) {
      struct xfer *x = &xs[i];
      if(!x->victim || x->state != S_RUNNING)
        continue;
      long reqsize = 0;
      if(!x->t_sent && curl_easy_getinfo(x->h, CURLINFO_REQUEST_SIZE, &reqsize) == CURLE_OK &&
         reqsize > 0)
        x->t_sent = now_s();
      /* on the first callback, or (a de-streamed answer, whose headers the
         shim holds back) half a second into the ~3 s answer */
      if(x->ncalls > 0 || x->hdr_calls > 0 || (x->t_sent && now_s() - x->t_sent > 0.5) ||
         now_s() - x->t_added > 10) {
        fprintf(stderr, "note: removing transfer %d (%s) after %d header and %d write "
                "calls, %.2f s after it was added, %.2f s after its request went\n",
                x->idx, kind_name[x->kind], x->hdr_calls, x->ncalls,
                now_s() - x->t_added, x->t_sent ? now_s() - x->t_sent : -1.0);
        mc = curl_multi_remove_handle(m, x->h);
        if(mc != CURLM_OK)
          fail(x, "removing mid-transfer: %s", curl_multi_strerror(mc));
        x->in_multi = 0;
        curl_easy_cleanup(x->h);
        x->h = NULL;
        x->state = S_ABORTED;
        outstanding--;
        aborted++;
      }
    }
    if(now_s() > deadline) {
      fprintf(stderr, "FAIL %d transfers still running after 50 s\n", outstanding);
      failures++;
      break;
    }
    if(outstanding > 0 || added < n)
      curl_multi_poll(m, NULL, 0, added < n ? 5 : 100, NULL);
  }

  /* the done transfers that stayed in the multi handle, and round 2 */
  for(int i = 0; i < n; i++) {
    struct xfer *x = &xs[i];
    if(x->state == S_DONE) {
      ok += check(x);
      counts[x->kind]++;
    } else if(x->state == S_ABORTED && x->late_calls) {
      fail(x, "%d callbacks after it was removed", x->late_calls);
    }
  }
  for(int i = 0; i < n; i++) {
    struct xfer *x = &xs[i];
    if(x->h) {
      if(x->in_multi)
        curl_multi_remove_handle(m, x->h);
      x->in_multi = 0;
      curl_easy_cleanup(x->h);
    }
    free(x->data);
    free(x->calls);
  }
  if(victims_done)
    fprintf(stderr, "note: %d victim transfers finished before they could be removed\n",
            victims_done);
  if(aborted + victims_done != nvictims) {
    fprintf(stderr, "FAIL %d victims removed, %d expected\n", aborted, nvictims);
    failures++;
  }
  curl_multi_cleanup(m);
  curl_slist_free_all(hdrs);
  curl_slist_free_all(slow);
  curl_slist_free_all(held);
  free(xs);
  curl_global_cleanup();
  printf("multi_many: %d/%d transfers ok (%d destreamed, %d json, %d native), "
         "%d reused, %d removed mid-transfer, %ld failures\n",
         ok, counts[0] + counts[1] + counts[2], counts[K_DESTREAM], counts[K_JSON], counts[K_NATIVE], reused, aborted,
         failures);
  return failures ? 1 : 0;
}
