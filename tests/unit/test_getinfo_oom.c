/* test_getinfo_oom.c - regression test of a review finding:
 * curl_easy_getinfo on a replaced answer whose record of the delivered
 * block lost lines (view.block.oom) answered CURLE_OUT_OF_MEMORY for every
 * CURLINFO, including the ones the shim never answers from the record
 * (CURLINFO_PRIVATE, CURLINFO_TOTAL_TIME, CURLINFO_EFFECTIVE_URL, ...):
 * libcurl's right answer was overridden by an error. Only the record's own
 * values (content type, length, response code) can be wrong there.
 *
 * shim/hooks_info.c is compiled in with stand-ins for the real getinfo,
 * the registry and the view's field readers. */
/* the library is built with CURL_DISABLE_DEPRECATION (SOFLAGS) */
#define CURL_DISABLE_DEPRECATION 1
#include "check.h"

#include <stdarg.h>

#include "../../shim/hooks_info.c"

static char private_data[] = "the program's pointer";

static CURLcode fake_getinfo(CURL *h, CURLINFO info, ...)
{
  va_list ap;
  (void)h;
  va_start(ap, info);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  if(info == CURLINFO_PRIVATE)
    *(char **)arg = private_data;
  else if(info == CURLINFO_TOTAL_TIME)
    *(double *)arg = 1.5;
  else
    return CURLE_UNKNOWN_OPTION;
  return CURLE_OK;
}

static struct ss_handle handle;

/* the real functions (real.h's inline ss_real reads them): the flavour
 * is ready with the stand-in getinfo */
struct ss_real_state ss_real_states[SS_FL_COUNT] = {
  [SS_FL_OPENSSL] = {.fn = {.easy_getinfo = fake_getinfo}, .ready = 1},
};

const struct ss_real ss_real_none;

/* the registry holds handles (registry.h's registry_unused reads it) */
_Atomic(struct registry_table *) registry_cur =
  (struct registry_table *)&handle;

struct ss_handle *registry_get(const CURL *h)
{
  (void)h;
  return &handle;
}

const char *view_field(struct ss_view *v, const char *name, struct buf *out)
{
  (void)v; (void)name; (void)out;
  return NULL;
}

size_t view_count(const struct ss_view *v, const char *name)
{
  (void)v; (void)name;
  return 0;
}

struct curl_header *view_entry(struct ss_view *v, const char *name,
                               size_t index)
{
  (void)v; (void)name; (void)index;
  return NULL;
}

static CURLcode getinfo(CURLINFO info, ...)
{
  va_list ap;
  va_start(ap, info);
  CURLcode rc = ss_easy_getinfo(SS_FL_OPENSSL, (CURL *)&handle, info,
                                va_arg(ap, void *));
  va_end(ap);
  return rc;
}

TEST(getinfo_not_about_the_record_is_libcurls_answer)
{
  char *priv = NULL;
  double total = 0;
  memset(&handle, 0, sizeof(handle));
  handle.view.replaced = true;
  handle.view.block.oom = true;  /* the record lost lines */
  CURLcode rc = getinfo(CURLINFO_PRIVATE, &priv);
  printf("#   CURLINFO_PRIVATE: rc %d, %s\n", (int)rc, priv ? priv : "(null)");
  CHECK(rc == CURLE_OK);
  CHECK(priv == private_data);
  rc = getinfo(CURLINFO_TOTAL_TIME, &total);
  printf("#   CURLINFO_TOTAL_TIME: rc %d, %g\n", (int)rc, total);
  CHECK(rc == CURLE_OK);
}

int main(void)
{
  RUN(getinfo_not_about_the_record_is_libcurls_answer);
  return check_done();
}
