/* llmclient - a libcurl program for the integration tests. It posts a
 * JSON body to a URL and records every callback it receives, so tests can
 * check what a program under the shim sees.
 *
 *   llmclient [options] URL BODYFILE [BODYFILE2]
 *
 * With BODYFILE2 the same handle performs a second request with that body
 * (reuse). Callback calls go to --calls FILE as frames "B <len>\n<bytes>\n"
 * (write callback) and "H <len>\n<bytes>\n" (header callback); the body also
 * goes to stdout. A summary line goes to stderr at the end of each transfer:
 *   result=N status=N ct=TYPE size=N cl=N hdr_ct=TYPE
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct opts {
  int multi, copy, content_length, no_write_fn, headerdata_only, dup, reset;
  int setopt_in_cb, read_body, no_decoding, include_header, verbose;
  int dup_in_multi, double_add, no_info_read, cleanup_multi_first, fork;
  int switch_fns;            /* between the two requests: new write fn, no header fn */
  int fail;                  /* CURLOPT_FAILONERROR + an error buffer */
  const char *size;          /* before | after | large-before | large-after */
  long pause_after;          /* pause after this many body calls (0: never) */
  long abort_after;          /* short count on this body call (0: never) */
  long low_speed_limit, low_speed_time;
  const char *calls;
  const char *after[8];      /* "nobody=1", "httpget=1", "post=1": set after the body */
  int nafter;
  struct curl_slist *headers;
};

static struct opts o;
static FILE *calls;
static char errbuf[CURL_ERROR_SIZE];
static long body_calls;
static int paused, pause_done;

static void frame(char kind, const char *p, size_t n)
{
  if(!calls)
    return;
  fprintf(calls, "%c %zu\n", kind, n);
  fwrite(p, 1, n, calls);
  fputc('\n', calls);
  fflush(calls);
}

static size_t other_write(char *p, size_t size, size_t nmemb, void *ud)
{
  (void)ud;
  frame(o.switch_fns ? 'O' : 'B', p, size * nmemb);
  fwrite(p, size, nmemb, stdout);
  fflush(stdout);
  return size * nmemb;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
  CURL *h = ud;
  size_t n = size * nmemb;
  body_calls++;
  if(o.pause_after && body_calls == o.pause_after && !pause_done) {
    pause_done = paused = 1;
    fprintf(stderr, "paused at call %ld\n", body_calls);
    body_calls--;  /* this call will come again */
    return CURL_WRITEFUNC_PAUSE;
  }
  if(o.abort_after && body_calls == o.abort_after)
    return 0;
  if(o.setopt_in_cb && body_calls == 1) {
    char *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    fprintf(stderr, "in-callback ct=%s\n", ct ? ct : "(nil)");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, other_write);
  }
  frame('B', p, n);
  fwrite(p, 1, n, stdout);
  fflush(stdout);
  return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
  (void)ud;
  frame('H', p, size * nmemb);
  return size * nmemb;
}

/* Easy interface: the progress callback unpauses a paused transfer. */
static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
                       curl_off_t d)
{
  (void)a; (void)b; (void)c; (void)d;
  if(paused) {
    paused = 0;
    curl_easy_pause(ud, CURLPAUSE_CONT);
  }
  return 0;
}

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if(!f) {
    perror(path);
    exit(2);
  }
  char *buf = malloc(1 << 24);
  *len = fread(buf, 1, (1 << 24) - 1, f);
  buf[*len] = '\0';
  fclose(f);
  return buf;
}

struct upload {
  const char *p;
  size_t len, off;
};
static struct upload up;

/* The body through a read callback, a few bytes at a time. */
static size_t on_read(char *p, size_t size, size_t nmemb, void *ud)
{
  struct upload *u = ud;
  size_t n = size * nmemb < 7 ? size * nmemb : 7;
  if(n > u->len - u->off)
    n = u->len - u->off;
  memcpy(p, u->p + u->off, n);
  u->off += n;
  return n;
}

static void set_body(CURL *h, const char *body, size_t len)
{
  if(o.read_body) {
    up.p = body;
    up.len = len;
    up.off = 0;
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    if(o.size)
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    return;
  }
  if(o.size && !strcmp(o.size, "before"))
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
  if(o.size && !strcmp(o.size, "large-before"))
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  curl_easy_setopt(h, o.copy ? CURLOPT_COPYPOSTFIELDS : CURLOPT_POSTFIELDS,
                   body);
  if(o.size && !strcmp(o.size, "after"))
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
  if(o.size && !strcmp(o.size, "large-after"))
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
}

/* Options that change the method, applied after the body, in order. */
static void apply_after(CURL *h)
{
  for(int k = 0; k < o.nafter; k++) {
    const char *eq = strchr(o.after[k], '=');
    long v = eq ? strtol(eq + 1, NULL, 10) : 1;
    size_t n = eq ? (size_t)(eq - o.after[k]) : strlen(o.after[k]);
    if(!strncmp(o.after[k], "nobody", n))
      curl_easy_setopt(h, CURLOPT_NOBODY, v);
    else if(!strncmp(o.after[k], "httpget", n))
      curl_easy_setopt(h, CURLOPT_HTTPGET, v);
    else if(!strncmp(o.after[k], "post", n))
      curl_easy_setopt(h, CURLOPT_POST, v);
  }
}

static void configure(CURL *h, const char *url, const char *body, size_t len)
{
  curl_easy_setopt(h, CURLOPT_URL, url);
  if(o.fail) {
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, o.headers);
  set_body(h, body, len);
  apply_after(h);
  if(!o.no_write_fn) {
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, h);
  }
  if(o.headerdata_only)
    curl_easy_setopt(h, CURLOPT_HEADERDATA, stderr);
  else
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  if(o.include_header)
    curl_easy_setopt(h, CURLOPT_HEADER, 1L);
  if(o.verbose)  /* libcurl's own debug output, to stderr */
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
  if(o.no_decoding)
    curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  if(o.low_speed_limit) {
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, o.low_speed_limit);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, o.low_speed_time);
  }
  if(o.pause_after && !o.multi) {
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, h);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  }
}

static void summary(CURL *h, CURLcode rc);

static CURLcode run_multi(CURL *h)
{
  CURLM *m = curl_multi_init();
  int running = 1, rounds = 0;
  CURLcode result = CURLE_OK;
  CURL *dup = NULL;
  curl_multi_add_handle(m, h);
  while(running) {
    curl_multi_perform(m, &running);
    if(o.double_add && ++rounds == 2)
      fprintf(stderr, "second add: %d\n", (int)curl_multi_add_handle(m, h));
    if(paused) {
      paused = 0;
      curl_easy_pause(h, CURLPAUSE_CONT);
    }
    if(running)
      curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  CURLMsg *msg;
  int left;
  while(!o.no_info_read && (msg = curl_multi_info_read(m, &left)))
    if(msg->msg == CURLMSG_DONE && msg->easy_handle == h)
      result = msg->data.result;
  if(o.dup_in_multi)  /* a copy of a handle whose transfer is not finished */
    dup = curl_easy_duphandle(h);
  if(o.cleanup_multi_first)
    curl_multi_cleanup(m);
  else {
    curl_multi_remove_handle(m, h);
    curl_multi_cleanup(m);
  }
  if(dup) {
    up.off = 0;  /* a read body starts again */
    curl_easy_setopt(dup, CURLOPT_WRITEDATA, dup);
    summary(dup, curl_easy_perform(dup));
    curl_easy_cleanup(dup);
  }
  return result;
}

static void summary(CURL *h, CURLcode rc)
{
  long status = 0, hsize = 0;
  char *ct = NULL;
  curl_off_t size = 0, cl = 0;
  struct curl_header *hh = NULL;
  /* a getinfo that fails (out of memory, tests/torture) is said at the end */
  int failed = 0;
  failed |= curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK;
  failed |= curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK;
  failed |= curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &size) != CURLE_OK;
  failed |= curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK;
  failed |= curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &hsize) != CURLE_OK;
  CURLHcode hc = curl_easy_header(h, "Content-Type", 0, CURLH_HEADER, -1, &hh);
  fprintf(stderr, "result=%d status=%ld ct=%s size=%ld cl=%ld hdr_ct=%s "
          "hsize=%ld%s\n", (int)rc, status, ct ? ct : "(nil)", (long)size,
          (long)cl, hc == CURLHE_OK ? hh->value :
          hc == CURLHE_OUT_OF_MEMORY ? "(out of memory)" : "(missing)", hsize,
          failed ? " getinfo=failed" : "");
  if(o.fail)
    fprintf(stderr, "errbuf: %s\n", errbuf);
}

static CURLcode perform(CURL *h)
{
  body_calls = 0;
  pause_done = 0;
  CURLcode rc = o.multi ? run_multi(h) : curl_easy_perform(h);
  summary(h, rc);
  return rc;
}

static void parse_args(int argc, char **argv, int *first)
{
  int i = 1;
  for(; i < argc && !strncmp(argv[i], "--", 2); i++) {
    const char *a = argv[i];
    if(!strcmp(a, "--multi")) o.multi = 1;
    else if(!strcmp(a, "--copy")) o.copy = 1;
    else if(!strcmp(a, "--no-write-fn")) o.no_write_fn = 1;
    else if(!strcmp(a, "--headerdata-only")) o.headerdata_only = 1;
    else if(!strcmp(a, "--dup")) o.dup = 1;
    else if(!strcmp(a, "--reset")) o.reset = 1;
    else if(!strcmp(a, "--setopt-in-cb")) o.setopt_in_cb = 1;
    else if(!strcmp(a, "--read")) o.read_body = 1;
    else if(!strcmp(a, "--include-header")) o.include_header = 1;
    else if(!strcmp(a, "--fork")) o.fork = 1;
    else if(!strcmp(a, "--switch-fns")) o.switch_fns = 1;
    else if(!strcmp(a, "--fail")) o.fail = 1;
    else if(!strcmp(a, "--then") && o.nafter < 8) o.after[o.nafter++] = argv[++i];
    else if(!strcmp(a, "--dup-in-multi")) o.dup_in_multi = 1;
    else if(!strcmp(a, "--double-add")) o.double_add = 1;
    else if(!strcmp(a, "--no-info-read")) o.no_info_read = 1;
    else if(!strcmp(a, "--cleanup-multi-first")) o.cleanup_multi_first = 1;
    else if(!strcmp(a, "--no-decoding")) o.no_decoding = 1;
    else if(!strcmp(a, "--verbose")) o.verbose = 1;
    else if(!strcmp(a, "--size")) o.size = argv[++i];
    else if(!strcmp(a, "--pause-after")) o.pause_after = strtol(argv[++i], 0, 10);
    else if(!strcmp(a, "--abort-after")) o.abort_after = strtol(argv[++i], 0, 10);
    else if(!strcmp(a, "--calls")) o.calls = argv[++i];
    else if(!strcmp(a, "--header")) o.headers = curl_slist_append(o.headers, argv[++i]);
    else if(!strcmp(a, "--low-speed")) {
      o.low_speed_limit = strtol(argv[++i], 0, 10);
      o.low_speed_time = strtol(argv[++i], 0, 10);
    }
    else {
      fprintf(stderr, "unknown option %s\n", a);
      exit(2);
    }
  }
  *first = i;
}

int main(int argc, char **argv)
{
  int i;
  parse_args(argc, argv, &i);
  if(argc - i < 2) {
    fprintf(stderr, "usage: llmclient [options] URL BODYFILE [BODYFILE2]\n");
    return 2;
  }
  if(o.calls)
    calls = fopen(o.calls, "wb");
  size_t len, len2 = 0;
  char *body = slurp(argv[i + 1], &len);
  char *body2 = argc - i > 2 ? slurp(argv[i + 2], &len2) : NULL;
  curl_global_init(CURL_GLOBAL_ALL);
  CURL *h = curl_easy_init();
  configure(h, argv[i], body, len);
  if(o.dup) {
    CURL *d = curl_easy_duphandle(h);
    curl_easy_cleanup(h);
    h = d;
    /* the write callback's userdata must be the handle in use */
    if(!o.no_write_fn)
      curl_easy_setopt(h, CURLOPT_WRITEDATA, h);
  }
  if(o.fork) {
    /* a pre-forking server: the child uses the configured handle first */
    fflush(NULL);
    pid_t pid = fork();
    if(pid == 0)
      _exit(perform(h) == CURLE_OK ? 0 : 1);
    int st = 0;
    waitpid(pid, &st, 0);
    fprintf(stderr, "child exit=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  }
  CURLcode rc = perform(h);
  if(body2) {
    if(o.reset) {
      curl_easy_reset(h);
      configure(h, argv[i], body2, len2);
    }
    else
      set_body(h, body2, len2);
    if(o.switch_fns) {
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, other_write);
      curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, NULL);
    }
    /* the first body is gone: a shim must not have kept pointing at it */
    memset(body, 'X', len);
    rc = perform(h);
  }
  curl_easy_cleanup(h);
  curl_slist_free_all(o.headers);
  curl_global_cleanup();
  free(body);
  free(body2);
  if(calls)
    fclose(calls);
  return rc == CURLE_OK ? 0 : 1;
}
