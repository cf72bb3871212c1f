/* soak_client - many mixed LLM transfers in one process, every one
 * accounted for, the process's RSS sampled as it goes (make soak, make
 * valgrind; tests/soak/run.py starts tests/server.py and runs this).
 *
 *   soak_client -n N [--iface multi|easy|mixed] [-c C] [--rss-every K] BASEURL
 *
 * BASEURL is the server's root (http://127.0.0.1:PORT). Transfers go in
 * batches of 100 (or fewer at the end): on a multi handle with C (default
 * 8) in flight, or one after another with curl_easy_perform; --iface mixed
 * alternates the two by batch. Transfer i is of kind i % NKINDS:
 *   destream      o3-mini, "stream":true, refused: auto mode retries it
 *                 without stream (a fresh credential each time, so never
 *                 learned), the shim replays SSE
 *   learned       the same with one credential: learned after the first
 *   stream-only   qwq-plus without stream, refused: retried streaming and
 *                 joined into one JSON (fresh credential)
 *   native        gpt-4o, "stream":true: passes through (watched)
 *   json          gpt-4o without stream: passes through
 *   paused        as destream; the first write call answers
 *                 CURL_WRITEFUNC_PAUSE, the transfer is resumed on the next
 *                 turn (multi: from the loop; easy: from the progress
 *                 callback)
 *   removed       (multi only; on easy a native one) native gpt-4o whose
 *                 first write call pauses it, then the loop removes and
 *                 cleans it up mid-transfer
 * Every kind's easy handle is reused for the next transfer of its slot,
 * except every 7th, which is cleaned up and a fresh one made.
 *
 * Checked per finished transfer: CURLE_OK, HTTP 200, and the body: a
 * stream ends in "data: [DONE]\n\n"; a JSON answer is an object with
 * "chat.completion". Outcomes counted: sse, json, removed, failed. On
 * multi each transfer must get exactly one DONE message; a transfer that
 * got none when the handle ran dry is "lost".
 *
 * stdout: "rss after=N kib=K" every K transfers (default 10000) and at
 * the end, then one line "transfers=N sse=.. json=.. removed=.. failed=..
 * lost=..". Exit 0 when started == sse + json + removed and nothing failed
 * or was lost, 1 otherwise (details on stderr), 2 on usage errors. The
 * RSS judgment is run.py's. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { K_DESTREAM, K_LEARNED, K_STREAM_ONLY, K_NATIVE, K_JSON, K_PAUSED, K_REMOVED, NKINDS };
static const char *const kind_names[NKINDS] = {
  "destream", "learned", "stream-only", "native", "json", "paused", "removed"
};

#define BATCH 100
#define MAX_C 64

struct slot {
  CURL *h;
  struct curl_slist *hdrs;
  long idx;
  int kind, writes, dones, in_multi;
  int pause_now, paused, victim;
  char body[256];
  char *data;
  size_t len, cap;
};

static long n_sse, n_json, n_removed, n_failed, n_lost, n_started;
static const char *base;

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
  struct slot *s = ud;
  size_t n = size * nmemb;
  s->writes++;
  if(s->writes == 1 && (s->kind == K_PAUSED || s->kind == K_REMOVED)) {
    /* counted once: libcurl calls again with the same bytes on resume */
    if(s->kind == K_REMOVED)
      s->victim = 1;
    else
      s->pause_now = 1;
    s->paused = 1;
    return CURL_WRITEFUNC_PAUSE;
  }
  if(s->len + n + 1 > s->cap) {
    size_t cap = (s->len + n + 1) * 2;
    char *d = realloc(s->data, cap);
    if(!d)
      return 0;
    s->data = d;
    s->cap = cap;
  }
  memcpy(s->data + s->len, p, n);
  s->len += n;
  s->data[s->len] = 0;
  return n;
}

/* easy interface: resume a paused transfer from the progress callback */
static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
  struct slot *s = ud;
  (void)a, (void)b, (void)c, (void)d;
  if(s->pause_now) {
    s->pause_now = 0;
    curl_easy_pause(s->h, CURLPAUSE_CONT);
  }
  return 0;
}

static long rss_kib(void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if(!f)
    return -1;
  if(fscanf(f, "%ld %ld", &pages, &resident) != 2)
    resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void fail(const struct slot *s, const char *why)
{
  n_failed++;
  fprintf(stderr, "FAIL #%ld (%s): %s; %zu bytes: %.200s\n", s->idx,
          kind_names[s->kind], why, s->len, s->data ? s->data : "");
}

static void set_up(struct slot *s, long idx, int multi)
{
  static const char *const models[NKINDS] = {
    "o3-mini", "o3-mini", "qwq-plus", "gpt-4o", "gpt-4o", "o3-mini", "gpt-4o"
  };
  char hdr[128];
  int kind = (int)(idx % NKINDS);
  int stream = kind != K_STREAM_ONLY && kind != K_JSON;
  char url[256];

  if(kind == K_REMOVED && !multi)
    kind = K_NATIVE;
  if(s->h && idx % 7 == 0) {
    curl_easy_cleanup(s->h);
    s->h = NULL;
  }
  if(!s->h)
    s->h = curl_easy_init();
  else
    curl_easy_reset(s->h);
  curl_slist_free_all(s->hdrs);
  s->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
  if(kind == K_LEARNED)
    snprintf(hdr, sizeof hdr, "Authorization: Bearer sk-soak-learned-0123456789");
  else
    snprintf(hdr, sizeof hdr, "Authorization: Bearer sk-soak-%ld-0123456789", idx);
  s->hdrs = curl_slist_append(s->hdrs, hdr);
  s->idx = idx;
  s->kind = kind;
  s->writes = s->dones = 0;
  s->pause_now = s->paused = s->victim = 0;
  s->len = 0;
  snprintf(s->body, sizeof s->body,
           "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"soak %ld\"}]%s}",
           models[kind], idx, stream ? ",\"stream\":true" : "");
  snprintf(url, sizeof url, "%s/v1/chat/completions", base);
  curl_easy_setopt(s->h, CURLOPT_URL, url);
  curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
  curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs);
  curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
  curl_easy_setopt(s->h, CURLOPT_ACCEPT_ENCODING, "");
  if(!multi) {
    curl_easy_setopt(s->h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(s->h, CURLOPT_XFERINFODATA, s);
    curl_easy_setopt(s->h, CURLOPT_NOPROGRESS, 0L);
  }
  n_started++;
}

static void finish(struct slot *s, CURLcode rc)
{
  long code = 0;
  int sse = s->kind != K_STREAM_ONLY && s->kind != K_JSON;
  curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
  if(rc != CURLE_OK) {
    char why[96];
    snprintf(why, sizeof why, "curl error %d (%s)", (int)rc, curl_easy_strerror(rc));
    fail(s, why);
  }
  else if(code != 200)
    fail(s, "status not 200");
  else if(sse) {
    static const char done[] = "data: [DONE]\n\n";
    size_t dl = sizeof done - 1;
    if(s->len < dl || memcmp(s->data + s->len - dl, done, dl))
      fail(s, "stream does not end in data: [DONE]");
    else
      n_sse++;
  }
  else {
    size_t i = 0;
    while(i < s->len && (s->data[i] == ' ' || s->data[i] == '\n'))
      i++;
    if(i >= s->len || s->data[i] != '{' || !strstr(s->data, "\"chat.completion\""))
      fail(s, "not a chat.completion object");
    else
      n_json++;
  }
}

static void sample(long done_count, long every)
{
  if(every > 0 && done_count % every == 0)
    printf("rss after=%ld kib=%ld\n", done_count, rss_kib()), fflush(stdout);
}

static long done_count, rss_every = 10000;

static void accounted(void)
{
  done_count++;
  sample(done_count, rss_every);
}

static void run_easy(struct slot *s, long first, long count)
{
  for(long i = first; i < first + count; i++) {
    set_up(s, i, 0);
    finish(s, curl_easy_perform(s->h));
    accounted();
  }
}

static void run_multi(CURLM *m, struct slot *slots, int c, long first, long count)
{
  long next = first, end = first + count;
  int running = 0;
  for(int k = 0; k < c && next < end; k++) {
    set_up(&slots[k], next++, 1);
    curl_multi_add_handle(m, slots[k].h);
    slots[k].in_multi = 1;
  }
  for(;;) {
    CURLMsg *msg;
    int left, active = 0;
    curl_multi_perform(m, &running);
    while((msg = curl_multi_info_read(m, &left))) {
      struct slot *s = NULL;
      if(msg->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
      if(s->dones++) {
        fail(s, "second DONE message");
        continue;
      }
      finish(s, msg->data.result);
      curl_multi_remove_handle(m, s->h);
      s->in_multi = 0;
      accounted();
    }
    for(int k = 0; k < c; k++) {
      struct slot *s = &slots[k];
      if(s->in_multi && s->victim) {
        /* removed and cleaned up mid-transfer (paused at its first write) */
        curl_multi_remove_handle(m, s->h);
        curl_easy_cleanup(s->h);
        s->h = NULL;
        s->in_multi = 0;
        n_removed++;
        accounted();
      }
      else if(s->in_multi && s->pause_now) {
        s->pause_now = 0;
        curl_easy_pause(s->h, CURLPAUSE_CONT);
      }
      if(!s->in_multi && next < end) {
        set_up(s, next++, 1);
        curl_multi_add_handle(m, s->h);
        s->in_multi = 1;
      }
      active += s->in_multi;
    }
    if(!active)
      break;
    if(!running) {
      /* nothing running, nothing to do: a transfer without its DONE */
      int again = 0;
      curl_multi_perform(m, &running);
      for(int k = 0; k < c; k++)
        again |= slots[k].in_multi && (slots[k].pause_now || slots[k].victim);
      if(!running && !again && !curl_multi_info_read(m, &left)) {
        for(int k = 0; k < c; k++)
          if(slots[k].in_multi) {
            n_lost++;
            fprintf(stderr, "LOST #%ld (%s)\n", slots[k].idx, kind_names[slots[k].kind]);
            curl_multi_remove_handle(m, slots[k].h);
            slots[k].in_multi = 0;
            accounted();
          }
        break;
      }
      continue;
    }
    curl_multi_poll(m, NULL, 0, 100, NULL);
  }
}

int main(int argc, char **argv)
{
  long n = 0;
  int c = 8;
  const char *iface = "mixed";
  static struct slot slots[MAX_C];
  CURLM *m;

  for(int a = 1; a < argc; a++) {
    if(!strcmp(argv[a], "-n") && a + 1 < argc)
      n = atol(argv[++a]);
    else if(!strcmp(argv[a], "-c") && a + 1 < argc)
      c = atoi(argv[++a]);
    else if(!strcmp(argv[a], "--iface") && a + 1 < argc)
      iface = argv[++a];
    else if(!strcmp(argv[a], "--rss-every") && a + 1 < argc)
      rss_every = atol(argv[++a]);
    else if(argv[a][0] != '-')
      base = argv[a];
    else
      base = NULL, a = argc;
  }
  if(!base || n <= 0 || c < 1 || c > MAX_C ||
     (strcmp(iface, "multi") && strcmp(iface, "easy") && strcmp(iface, "mixed"))) {
    fprintf(stderr, "usage: soak_client -n N [--iface multi|easy|mixed] [-c C]"
                    " [--rss-every K] BASEURL\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c);
  for(long first = 0, b = 0; first < n; first += BATCH, b++) {
    long count = n - first < BATCH ? n - first : BATCH;
    int multi = !strcmp(iface, "multi") || (!strcmp(iface, "mixed") && b % 2 == 0);
    if(multi)
      run_multi(m, slots, c, first, count);
    else
      run_easy(&slots[0], first, count);
  }
  if(done_count % rss_every)
    printf("rss after=%ld kib=%ld\n", done_count, rss_kib());
  printf("transfers=%ld sse=%ld json=%ld removed=%ld failed=%ld lost=%ld\n", n_started,
         n_sse, n_json, n_removed, n_failed, n_lost);
  for(int k = 0; k < MAX_C; k++) {
    if(slots[k].h)
      curl_easy_cleanup(slots[k].h);
    curl_slist_free_all(slots[k].hdrs);
    free(slots[k].data);
  }
  curl_multi_cleanup(m);
  curl_global_cleanup();
  return n_started == n_sse + n_json + n_removed && !n_failed && !n_lost ? 0 : 1;
}
