/* flavour_user.c - a plugin doing one transfer with whichever libcurl it
 * was linked against (the tests link it with libcurl-gnutls), for
 * two_flavours.c, which loads it with dlopen(RTLD_LOCAL) as Python does its
 * extension modules. Prints the body to stdout. */
#include <curl/curl.h>
#include <stdio.h>

__attribute__((visibility("default"))) int plugin_transfer(const char *url,
                                                           const char *body);

int plugin_transfer(const char *url, const char *body)
{
  CURL *h = curl_easy_init();
  struct curl_slist *hdrs =
    curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  CURLcode rc = curl_easy_perform(h);
  char *ct = NULL;
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
  fprintf(stderr, "plugin: %s rc=%d ct=%s\n", curl_version(), (int)rc,
          ct ? ct : "(nil)");
  curl_easy_cleanup(h);
  curl_slist_free_all(hdrs);
  return (int)rc;
}
