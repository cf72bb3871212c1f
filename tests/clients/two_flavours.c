/* two_flavours - one process, two libcurl flavours: this program uses
 * libcurl.so.4 (OpenSSL) and loads a plugin linked with libcurl-gnutls.so.4
 * with dlopen(RTLD_LOCAL). Each does a transfer; under the shim each call
 * must reach its own libcurl (handles must never cross).
 *
 *   two_flavours PLUGIN URL BODY */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
  if(argc != 4) {
    fprintf(stderr, "usage: two_flavours PLUGIN URL BODY\n");
    return 2;
  }
  void *plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  int (*transfer)(const char *, const char *) =
    plugin ? (int (*)(const char *, const char *))dlsym(plugin, "plugin_transfer")
           : NULL;
  if(!transfer) {
    fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
    return 2;
  }
  CURL *h = curl_easy_init();
  struct curl_slist *hdrs =
    curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, argv[2]);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, argv[3]);
  int prc = transfer(argv[2], argv[3]);  /* while h is configured */
  CURLcode rc = curl_easy_perform(h);
  char *ct = NULL;
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
  fprintf(stderr, "main: %s rc=%d ct=%s\n", curl_version(), (int)rc,
          ct ? ct : "(nil)");
  curl_easy_cleanup(h);
  curl_slist_free_all(hdrs);
  return rc || prc;
}
