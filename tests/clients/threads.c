/* threads - many threads, each with its own easy handles, de-streaming and
 * passing through at the same time (for the registry and the life cycle
 * under concurrency; run under TSan by `make check-tsan`).
 *
 *   threads URL NTHREADS NREQUESTS
 *
 * Even requests ask o3-mini for a stream (de-streamed by the shim when it
 * is configured), odd ones ask gpt-4o without streaming. Each thread checks
 * what its write callback got; the exit code is the number of failures. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *url;
static int nreq;

struct sink {
  char *p;
  size_t n;
  int calls;
};

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
  struct sink *s = ud;
  size_t n = size * nmemb;
  char *q = realloc(s->p, s->n + n + 1);
  if(!q)
    return 0;
  memcpy(q + s->n, p, n);
  s->p = q;
  s->n += n;
  s->p[s->n] = '\0';
  s->calls++;
  return n;
}

/* One request on handle h; 0 when the answer has the expected form. */
static int one(CURL *h, int i, struct curl_slist *hdrs)
{
  char body[256];
  struct sink s = {0};
  int streamed = i % 2 == 0;
  snprintf(body, sizeof(body),
           "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"n%d\"}]%s}",
           streamed ? "o3-mini" : "gpt-4o", i, streamed ? ",\"stream\":true" : "");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
  CURLcode rc = curl_easy_perform(h);
  int bad = rc != CURLE_OK || !s.p;
  if(!bad && streamed)
    bad = strncmp(s.p, "data: {", 7) || !strstr(s.p, "data: [DONE]\n\n") ||
          s.calls < 4;
  else if(!bad)
    bad = s.p[0] != '{' || !strstr(s.p, "\"chat.completion\"");
  if(bad)
    fprintf(stderr, "request %d failed: rc=%d %.80s\n", i, (int)rc,
            s.p ? s.p : "");
  free(s.p);
  return bad;
}

static void *worker(void *arg)
{
  struct curl_slist *hdrs =
    curl_slist_append(NULL, "Content-Type: application/json");
  long fails = 0;
  CURL *h = curl_easy_init();
  for(int i = 0; i < nreq; i++) {
    fails += one(h, i, hdrs);
    if(i % 3 == 2) {  /* a fresh handle now and then */
      curl_easy_cleanup(h);
      h = curl_easy_init();
    }
  }
  curl_easy_cleanup(h);
  curl_slist_free_all(hdrs);
  (void)arg;
  return (void *)fails;
}

int main(int argc, char **argv)
{
  if(argc != 4) {
    fprintf(stderr, "usage: threads URL NTHREADS NREQUESTS\n");
    return 2;
  }
  url = argv[1];
  int nt = atoi(argv[2]);
  nreq = atoi(argv[3]);
  pthread_t *t = calloc((size_t)nt, sizeof(*t));
  long fails = 0;
  curl_global_init(CURL_GLOBAL_ALL);
  for(int i = 0; i < nt; i++)
    pthread_create(&t[i], NULL, worker, NULL);
  for(int i = 0; i < nt; i++) {
    void *r;
    pthread_join(t[i], &r);
    fails += (long)r;
  }
  curl_global_cleanup();
  free(t);
  printf("%ld failures\n", fails);
  return fails ? 1 : 0;
}
