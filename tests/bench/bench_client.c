/* bench_client - the benchmark's libcurl program: N transfers of one
 * request, on one easy handle (keep-alive) or over a multi handle with C
 * transfers at once, counting the bytes the write callback gets.
 *
 *   bench_client [-n N] [-c C] [-m M [-M M2]] [-d BODYFILE] [-H HEADER]... [-k] URL
 *
 * -m M calls bench_mark() when M transfers are done and again when M2 are
 * (default N): callgrind --dump-before=bench_mark then writes the counts
 * of the first M transfers, of the M2 - M after them and of the rest
 * apart, so one run gives a slope without start-up or exit in it. With -c,
 * M2 = N - C keeps the slope to the steady state: between the two marks as
 * many transfers start as end.
 * With -d the request is a POST of the file's bytes (CURLOPT_POSTFIELDS);
 * without, a GET. -k accepts any TLS certificate (the benchmark's own
 * self-signed ones, mitmproxy's). Prints "transfers=N bytes=N failed=N
 * maxrss_kb=N" on stdout and exits 1 when any transfer failed or answered
 * other than 2xx. No timing: the benchmark counts instructions (callgrind)
 * or times whole runs. RLIMIT_NOFILE is raised to its hard limit for -c in
 * the thousands. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static unsigned long long received;
static long mark_at = -1, mark2_at = -1;

/* callgrind's dump point (--dump-before=bench_mark); does nothing. */
__attribute__((noinline)) void bench_mark(long done);
__attribute__((noinline)) void bench_mark(long done)
{
  __asm__ volatile("" : : "r"(done) : "memory");
}

static void transfer_done(long done, long n)
{
  if(done == mark_at || (mark_at >= 0 && done == (mark2_at >= 0 ? mark2_at : n)))
    bench_mark(done);
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
  (void)p;
  (void)ud;
  received += size * nmemb;
  return size * nmemb;
}

static char *read_file(const char *path, long *len)
{
  FILE *f = fopen(path, "rb");
  if(!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  *len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)*len + 1);
  if(b && fread(b, 1, (size_t)*len, f) != (size_t)*len) {
    free(b);
    b = NULL;
  }
  fclose(f);
  return b;
}

/* VmHWM of /proc/self/status: getrusage's ru_maxrss survives execve, so it
 * would report a large parent's (the harness's Python) peak instead. */
static long peak_rss_kb(void)
{
  char line[256];
  long kb = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if(!f)
    return -1;
  while(fgets(line, sizeof line, f))
    if(sscanf(line, "VmHWM: %ld", &kb) == 1)
      break;
  fclose(f);
  return kb;
}

struct req {
  const char *url;
  const char *body;
  long body_len;
  struct curl_slist *headers;
  int insecure;
};

static void prepare(CURL *h, const struct req *r)
{
  curl_easy_setopt(h, CURLOPT_URL, r->url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  if(r->headers)
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
  if(r->insecure) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if(r->body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, r->body_len);
  }
}

static int failed_status(CURL *h, CURLcode rc)
{
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  return rc != CURLE_OK || status < 200 || status > 299;
}

/* n transfers one after the other on one handle: the connection is kept. */
static long run_easy(const struct req *r, long n)
{
  long failed = 0;
  CURL *h = curl_easy_init();
  for(long i = 0; i < n; i++) {
    prepare(h, r);
    failed += failed_status(h, curl_easy_perform(h));
    transfer_done(i + 1, n);
  }
  curl_easy_cleanup(h);
  return failed;
}

/* n transfers, c at a time, each finished handle reused for the next. */
static long run_multi(const struct req *r, long n, long c)
{
  long failed = 0, started = 0, done = 0;
  CURLM *m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, c);
  for(; started < c && started < n; started++) {
    CURL *h = curl_easy_init();
    prepare(h, r);
    curl_multi_add_handle(m, h);
  }
  while(done < n) {
    int running = 0, left = 0;
    curl_multi_perform(m, &running);
    CURLMsg *msg;
    while((msg = curl_multi_info_read(m, &left))) {
      if(msg->msg != CURLMSG_DONE)
        continue;
      CURL *h = msg->easy_handle;
      failed += failed_status(h, msg->data.result);
      done++;
      transfer_done(done, n);
      curl_multi_remove_handle(m, h);
      if(started < n) {
        prepare(h, r);
        curl_multi_add_handle(m, h);
        started++;
      } else {
        curl_easy_cleanup(h);
      }
    }
    if(done < n)
      curl_multi_poll(m, NULL, 0, 1000, NULL);
  }
  curl_multi_cleanup(m);
  return failed;
}

int main(int argc, char **argv)
{
  struct req r = {0};
  long n = 1, c = 0;
  int opt;
  while((opt = getopt(argc, argv, "n:c:m:M:d:H:k")) != -1) {
    switch(opt) {
    case 'n': n = atol(optarg); break;
    case 'c': c = atol(optarg); break;
    case 'm': mark_at = atol(optarg); break;
    case 'M': mark2_at = atol(optarg); break;
    case 'd':
      r.body = read_file(optarg, &r.body_len);
      if(!r.body) {
        perror(optarg);
        return 2;
      }
      break;
    case 'H': r.headers = curl_slist_append(r.headers, optarg); break;
    case 'k': r.insecure = 1; break;
    default:
      fprintf(stderr, "usage: bench_client [-n N] [-c C] [-m M [-M M2]] [-d BODYFILE] [-H HEADER]... [-k] URL\n");
      return 2;
    }
  }
  if(optind + 1 != argc) {
    fprintf(stderr, "bench_client: one URL\n");
    return 2;
  }
  r.url = argv[optind];
  struct rlimit nofile;
  if(getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  long failed = c > 0 ? run_multi(&r, n, c) : run_easy(&r, n);
  curl_slist_free_all(r.headers);
  curl_global_cleanup();
  printf("transfers=%ld bytes=%llu failed=%ld maxrss_kb=%ld\n", n, received, failed,
         peak_rss_kb());
  return failed ? 1 : 0;
}
