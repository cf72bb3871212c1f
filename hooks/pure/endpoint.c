/* endpoint.c - classify LLM API URLs (see endpoint.h). */
#include "endpoint.h"
#include "json.h"

#include <string.h>
#include <strings.h>

const char *endpoint_name(enum ep_kind k)
{
  /* arrays, not pointers: no relocation at load */
  static const char names[][20] = {"none", "chat completions", "completions",
                                   "responses", "messages"};
  return names[k];
}

/* Does [p, p+n) end with the string s? */
static bool ends_with(const char *p, size_t n, const char *s)
{
  size_t m = strlen(s);
  return n >= m && !memcmp(p + n - m, s, m);
}

/* Percent-decode [p, p+n) into out (cap bytes incl. NUL); "" if too long
 * or it decodes to a NUL. */
static void decode_segment(const char *p, size_t n, char *out, size_t cap)
{
  size_t o = 0;
  for(size_t i = 0; i < n; i++) {
    char c = p[i];
    if(c == '%' && i + 2 < n && json_hex_digit(p[i + 1]) >= 0 &&
       json_hex_digit(p[i + 2]) >= 0) {
      c = (char)(json_hex_digit(p[i + 1]) * 16 + json_hex_digit(p[i + 2]));
      i += 2;
    }
    if(!c || o + 1 >= cap) {
      out[0] = '\0';
      return;
    }
    out[o++] = c;
  }
  out[o] = '\0';
}

/* Copy the authority [a, b) without user info, lowercased, to host. */
static void set_host(const char *a, const char *b, char *host, size_t cap)
{
  const char *at = memchr(a, '@', (size_t)(b - a));
  if(at)
    a = at + 1;
  if((size_t)(b - a) >= cap)
    return;
  for(size_t i = 0; a + i < b; i++) {
    unsigned char c = (unsigned char)a[i];
    /* ASCII only, as libcurl compares host names (Curl_strcasecompare);
     * tolower would bind the locale's tables (a glibc symbol version) in
     * every process the library is loaded into */
    host[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  host[b - a] = '\0';
}

/* Find the path of a URL: after "scheme://authority", up to '?' or '#'.
 * False for schemes other than http(s). The authority goes to ep->host. */
static bool url_path(const char *url, const char **path, size_t *len,
                     struct endpoint *ep)
{
  /* a scheme ends at the first "://" that comes before any / ? # */
  const char *p = url + strcspn(url, ":/?#");
  if(p[0] == ':' && p[1] == '/' && p[2] == '/') {
    size_t slen = (size_t)(p - url);
    if(!((slen == 4 && !strncasecmp(url, "http", 4)) ||
         (slen == 5 && !strncasecmp(url, "https", 5))))
      return false;
    p += 3;
  }
  else
    p = url;
  const char *host = p;
  p += strcspn(p, "/?#");
  set_host(host, p, ep->host, sizeof(ep->host));
  *path = p;
  *len = *p == '/' ? strcspn(p, "?#") : 0;
  return true;
}

/* Azure: /openai/deployments/{deployment}/... gives the deployment. */
static void azure_deployment(const char *p, size_t n, struct endpoint *ep)
{
  static const char key[] = "/openai/deployments/";
  const char *s = memmem(p, n, key, sizeof(key) - 1);
  if(!s)
    return;
  s += sizeof(key) - 1;
  const char *e = memchr(s, '/', n - (size_t)(s - p));
  if(!e || e == s)
    return;
  ep->azure = true;
  decode_segment(s, (size_t)(e - s), ep->deployment, sizeof(ep->deployment));
}

void endpoint_classify(const char *url, struct endpoint *ep)
{
  const char *p;
  size_t n;
  /* field by field: the struct is 1 KiB, and this runs for every URL */
  ep->kind = EP_NONE;
  ep->azure = false;
  ep->deployment[0] = ep->path[0] = ep->host[0] = '\0';
  if(!url || !url_path(url, &p, &n, ep))
    return;
  while(n > 1 && p[n - 1] == '/')
    n--;
  if(n < sizeof(ep->path)) {
    memcpy(ep->path, p, n);
    ep->path[n] = '\0';
  }
  if(ends_with(p, n, "/chat/completions"))
    ep->kind = EP_CHAT;
  else if(ends_with(p, n, "/completions"))
    ep->kind = EP_COMPLETIONS;
  else if(ends_with(p, n, "/responses"))
    ep->kind = EP_RESPONSES;
  else if(ends_with(p, n, "/v1/messages"))
    ep->kind = EP_MESSAGES;
  if(ep->kind != EP_NONE)
    azure_deployment(p, n, ep);
}
