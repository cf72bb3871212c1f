/* header_api.c - what curl_easy_getinfo and the header API say after one
 * transfer, beside what the callbacks were handed (tests/test_header_api.py).
 *
 *   header_api URL BODYFILE [HEADER...]
 *
 * POSTs BODYFILE to URL (with the given request headers) and prints:
 *   delivered: LINE        each header line the header callback got
 *   body: N                body bytes the write callback got
 *   next ORIGIN: NAME: VALUE (amount A index I)
 *                          curl_easy_nextheader over CURLH_HEADER, then
 *                          over CURLH_1XX|CURLH_HEADER|CURLH_TRAILER
 *   get NAME[I] ORIGIN: VALUE (amount A) | code C
 *                          curl_easy_header for a few names
 *   info: content_type=.. length=.. size=.. header_size=..  */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t body_bytes;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
  (void)p;
  (void)ud;
  body_bytes += size * n;
  return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
  (void)ud;
  size_t len = size * n;
  while(len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
    len--;
  printf("delivered: %.*s\n", (int)len, p);
  return size * n;
}

static const char *origin_name(unsigned int o)
{
  switch(o & 0xffff) {  /* libcurl adds a marker bit of its own */
  case CURLH_HEADER: return "header";
  case CURLH_TRAILER: return "trailer";
  case CURLH_CONNECT: return "connect";
  case CURLH_1XX: return "1xx";
  case CURLH_PSEUDO: return "pseudo";
  default: return "?";
  }
}

static void walk(CURL *h, unsigned int origin, const char *tag)
{
  struct curl_header *prev = NULL, *e;
  while((e = curl_easy_nextheader(h, origin, -1, prev))) {
    printf("next %s %s: %s: %s (amount %zu index %zu)\n", tag,
           origin_name(e->origin), e->name, e->value, e->amount, e->index);
    prev = e;
  }
}

static void get(CURL *h, const char *name, size_t index, unsigned int origin,
                const char *tag)
{
  struct curl_header *e;
  CURLHcode c = curl_easy_header(h, name, index, origin, -1, &e);
  if(c == CURLHE_OK)
    printf("get %s %s[%zu] %s: %s (amount %zu)\n", tag, name, index,
           origin_name(e->origin), e->value, e->amount);
  else
    printf("get %s %s[%zu]: code %d\n", tag, name, index, (int)c);
}

int main(int argc, char **argv)
{
  if(argc < 3) {
    fprintf(stderr, "usage: header_api URL BODYFILE [HEADER...]\n");
    return 2;
  }
  static char body[1 << 20];
  FILE *f = fopen(argv[2], "rb");
  size_t blen = f ? fread(body, 1, sizeof(body), f) : 0;
  if(f)
    fclose(f);
  struct curl_slist *hl = NULL;
  for(int i = 3; i < argc; i++)
    hl = curl_slist_append(hl, argv[i]);
  CURL *h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, argv[1]);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)blen);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  CURLcode rc = curl_easy_perform(h);
  printf("result: %d\nbody: %zu\n", (int)rc, body_bytes);
  walk(h, CURLH_HEADER, "final");
  walk(h, CURLH_1XX | CURLH_HEADER | CURLH_TRAILER, "all");
  static const char *names[] = {"Content-Type", "Content-Length",
                                "Content-Encoding", "x-request-id",
                                "X-Dup", "Expect"};
  for(size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    get(h, names[i], 0, CURLH_HEADER, "final");
    get(h, names[i], 1, CURLH_HEADER, "final");
    get(h, names[i], 0, CURLH_1XX | CURLH_HEADER, "mixed");
    get(h, names[i], 1, CURLH_1XX | CURLH_HEADER, "mixed");
  }
  char *ct = NULL;
  curl_off_t len = 0, size = 0;
  long hsize = 0;
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
  curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
  curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &size);
  curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &hsize);
  printf("info: content_type=%s length=%ld size=%ld header_size=%ld\n",
         ct ? ct : "(nil)", (long)len, (long)size, hsize);
  curl_easy_cleanup(h);
  curl_slist_free_all(hl);
  return 0;
}
