/* xfercheck - see xfercheck.h: the write/header callbacks of the multi test
 * clients and the checks of a finished transfer's answer. */
#include "xfercheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const kind_name[3] = {"destream", "json", "native"};

const char *url = "http://127.0.0.1:8080/v1/chat/completions";
const char *dump_dir;
int passthrough_only;
long failures;

/* Print a FAIL line naming x, then fmt; count it in `failures`. */
void fail(const struct xfer *x, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "FAIL transfer %d round %d (%s, %s): ", x->idx, x->round + 1,
          kind_name[x->kind], x->tag);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  failures++;
}

/* CLOCK_MONOTONIC in seconds. */
double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keep the bytes and the length of each call; late calls are only counted.
 * With pause_at set, call pause_at is refused once with CURL_WRITEFUNC_PAUSE
 * (libcurl delivers the same bytes again after the unpause). */
size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
  struct xfer *x = ud;
  size_t n = size * nmemb;
  if(!x->in_multi) {
    x->late_calls++;
    return n;
  }
  if(x->pause_at && x->ncalls + 1 == x->pause_at && !x->paused) {
    x->paused = x->want_unpause = 1;
    return CURL_WRITEFUNC_PAUSE;
  }
  if(x->len + n + 1 > x->cap) {
    size_t cap = (x->len + n + 1) * 2;
    char *q = realloc(x->data, cap);
    if(!q)
      return 0;
    x->data = q;
    x->cap = cap;
  }
  memcpy(x->data + x->len, p, n);
  x->len += n;
  x->data[x->len] = '\0';
  if(x->ncalls == x->ccap) {
    int cc = x->ccap ? x->ccap * 2 : 64;
    size_t *q = realloc(x->calls, (size_t)cc * sizeof(*q));
    if(!q)
      return 0;
    x->calls = q;
    x->ccap = cc;
  }
  x->calls[x->ncalls++] = n;
  return n;
}

/* Count header calls (or late calls); the headers themselves are unused. */
size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
  struct xfer *x = ud;
  (void)p;
  if(!x->in_multi)
    x->late_calls++;
  else
    x->hdr_calls++;
  return size * nmemb;
}

/* The raw (still JSON-escaped) bytes of the string value of the first
 * member `key` at or after p, or NULL. *n gets its length. */
static const char *json_str(const char *p, const char *end, const char *key,
                            size_t *n)
{
  size_t kl = strlen(key);
  while(p && p < end) {
    const char *k = memmem(p, (size_t)(end - p), key, kl);
    if(!k)
      return NULL;
    const char *v = k + kl;
    while(v < end && (*v == ' ' || *v == '\n'))
      v++;
    if(v < end && *v == ':') {
      v++;
      while(v < end && (*v == ' ' || *v == '\n'))
        v++;
      if(v < end && *v == '"') {
        const char *s = ++v;
        while(v < end && *v != '"')
          v += *v == '\\' ? 2 : 1;
        if(v >= end)
          return NULL;
        *n = (size_t)(v - s);
        return s;
      }
    }
    p = k + kl;
  }
  return NULL;
}

/* Forget what the callbacks saw, for a new round; the buffers stay. */
void reset_sink(struct xfer *x)
{
  x->len = 0;
  if(x->data)
    x->data[0] = '\0';
  x->ncalls = 0;
  x->hdr_calls = 0;
  x->len_at_done = 0;
}

/* With dump_dir: write the body sent and the bytes received to
 * dump_dir/i<idx>-r<round>.req and .out. */
static void dump(const struct xfer *x)
{
  char path[4096];
  FILE *f;
  if(!dump_dir)
    return;
  snprintf(path, sizeof(path), "%s/i%d-r%d.req", dump_dir, x->idx, x->round);
  if((f = fopen(path, "wb"))) {
    fwrite(x->body, 1, strlen(x->body), f);
    fclose(f);
  }
  snprintf(path, sizeof(path), "%s/i%d-r%d.out", dump_dir, x->idx, x->round);
  if((f = fopen(path, "wb"))) {
    fwrite(x->data ? x->data : "", 1, x->len, f);
    fclose(f);
  }
}

/* Check an SSE stream; `one_per_call`: every write call is one event. */
static void check_stream(struct xfer *x, int one_per_call)
{
  const char *p = x->data, *end = x->data + x->len;
  char *content = calloc(1, x->len + 1);
  size_t clen = 0;
  const char *id0 = NULL;
  size_t id0n = 0;
  int events = 0, done = 0;
  if(!content) {
    fail(x, "out of memory");
    return;
  }
  while(p < end) {
    const char *e = memmem(p, (size_t)(end - p), "\n\n", 2);
    if(!e) {
      fail(x, "unterminated event at byte %zu: %.60s", (size_t)(p - x->data), p);
      break;
    }
    events++;
    if(done)
      fail(x, "event %d after [DONE]: %.60s", events, p);
    if(strncmp(p, "data: ", 6) || memchr(p, '\n', (size_t)(e - p))) {
      fail(x, "event %d is not one data line: %.60s", events, p);
    } else if(e - p == 12 && !strncmp(p, "data: [DONE]", 12)) {
      done++;
    } else {
      const char *id;
      size_t idn, cn;
      if(!memmem(p, (size_t)(e - p), "\"chat.completion.chunk\"", 23))
        fail(x, "event %d is not a chat.completion.chunk: %.80s", events, p);
      id = json_str(p, e, "\"id\"", &idn);
      if(!id)
        fail(x, "event %d has no id", events);
      else if(!id0) {
        id0 = id;
        id0n = idn;
      } else if(idn != id0n || memcmp(id, id0, idn))
        fail(x, "event %d id %.*s differs from %.*s", events, (int)idn, id,
             (int)id0n, id0);
      for(const char *c = p; (c = json_str(c, e, "\"content\"", &cn)); c += cn) {
        memcpy(content + clen, c, cn);
        clen += cn;
      }
    }
    p = e + 2;
  }
  if(done != 1)
    fail(x, "%d [DONE] events", done);
  if(x->len < 14 || memcmp(end - 14, "data: [DONE]\n\n", 14))
    fail(x, "stream does not end with data: [DONE]: ...%.40s",
         x->len > 40 ? end - 40 : x->data);
  if(events < 4)
    fail(x, "only %d events", events);
  if(!strstr(content, x->tag))
    fail(x, "tag not in the streamed content: %.200s", content);
  if(one_per_call) {
    size_t off = 0;
    for(int i = 0; i < x->ncalls; i++) {
      const char *c = x->data + off;
      size_t n = x->calls[i];
      const char *sep = memmem(c, n, "\n\n", 2);
      if(n < 8 || strncmp(c, "data: ", 6) || !sep || sep + 2 != c + n)
        fail(x, "write call %d is not exactly one event (%zu bytes): %.60s", i + 1,
             n, c);
      off += n;
    }
    if(x->ncalls != events)
      fail(x, "%d write calls for %d events", x->ncalls, events);
  }
  free(content);
}

/* Check a non-streamed answer: one chat.completion JSON object, no SSE,
 * the tag in its content. */
static void check_json(struct xfer *x)
{
  const char *p = x->data, *end = x->data + x->len;
  size_t cn;
  const char *c;
  while(p < end && (*p == ' ' || *p == '\n'))
    p++;
  if(p == end || *p != '{' || end[-1] != '}')
    fail(x, "not a JSON object: %.80s", x->data);
  if(!strstr(x->data, "\"chat.completion\""))
    fail(x, "not a chat.completion: %.120s", x->data);
  if(strstr(x->data, "data: "))
    fail(x, "JSON answer looks like SSE: %.80s", x->data);
  c = json_str(x->data, end, "\"content\"", &cn);
  if(!c || !memmem(c, cn, x->tag, strlen(x->tag)))
    fail(x, "tag not in the content: %.200s", x->data);
}

/* Check the finished current round of x; 1 when it passed. */
int check(struct xfer *x)
{
  long status = 0;
  char *ct = NULL;
  curl_off_t size = -1;
  long before = failures;
  if(!x->data) {
    x->data = calloc(1, 1);
    x->cap = x->data ? 1 : 0;
    if(!x->data) {
      fail(x, "out of memory");
      return 0;
    }
  }
  if(x->result != CURLE_OK)
    fail(x, "result %d (%s)", (int)x->result, curl_easy_strerror(x->result));
  curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &ct);
  curl_easy_getinfo(x->h, CURLINFO_SIZE_DOWNLOAD_T, &size);
  if(status != 200)
    fail(x, "HTTP status %ld: %.200s", status, x->data);
  if(x->len != x->len_at_done)
    fail(x, "%zu bytes written after the transfer was done",
         x->len - x->len_at_done);
  if(x->late_calls)
    fail(x, "%d callbacks while not in the multi handle", x->late_calls);
  if(size != (curl_off_t)x->len)
    fail(x, "SIZE_DOWNLOAD %ld, write callback got %zu", (long)size, x->len);
  if(x->kind == K_JSON) {
    if(!ct || strncmp(ct, "application/json", 16))
      fail(x, "Content-Type %s", ct ? ct : "(none)");
    check_json(x);
  } else {
    if(!ct || strncmp(ct, "text/event-stream", 17))
      fail(x, "Content-Type %s", ct ? ct : "(none)");
    check_stream(x, x->kind == K_DESTREAM);
  }
  if(failures != before)
    fprintf(stderr, "  transfer %d round %d got %zu bytes in %d calls: %.300s\n",
            x->idx, x->round + 1, x->len, x->ncalls, x->data);
  dump(x);
  return failures == before;
}
