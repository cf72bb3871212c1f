/* fuzz_body.c - libFuzzer harness for body_remove_members() (hooks/body.c).
 *
 *   make fuzz    (or build/fuzz/fuzz_body -max_total_time=60)
 *
 * The one-pass removal must give what the reference gives (cut the first
 * named member, start over: tests/unit/body_ref.h), byte for byte, into a
 * separate buffer and in place, with work linear in the input (struct
 * body_work). Inputs are used two ways: as a JSON text, and (first byte
 * odd) as a recipe, one byte per member, that builds objects with many
 * removed members between kept ones and odd whitespace, which raw bytes
 * rarely reach. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "buf.h"
#include "json.h"
#include "../unit/body_ref.h"

#define FUZZ_NAME "fuzz_body"
#include "fuzz_util.h"

static const char *const names[] = { "stream", "stream_options" };

/* Compare the one pass with the reference on [p, p+n). */
static void check(const char *p, size_t n)
{
  struct body_work w, rw;
  char *out = malloc(n ? n : 1), *ref = malloc(n ? n : 1);
  if(!out || !ref) {
    free(out);
    free(ref);
    return;
  }
  size_t len = body_remove_members_work(p, n, names, 2, out, &w);
  size_t rlen = body_ref_remove(p, n, names, 2, ref, &rw);
  fuzz_assert(len == rlen && (!len || !memcmp(out, ref, len)),
              "differs from the reference");
  fuzz_assert(w.scanned <= 2 * n && w.moved <= 2 * n, "work not linear");
  if(n)
    memcpy(out, p, n);
  len = body_remove_members(out, n, names, 2, out);
  fuzz_assert(len == rlen && (!len || !memcmp(out, ref, len)),
              "in place differs from the reference");
  free(out);
  free(ref);
}

/* Build an object from a recipe: each byte picks a member and the
 * whitespace around its comma. */
static void from_recipe(const uint8_t *d, size_t n, struct buf *b)
{
  static const char *const mem[] = {
    "\"stream\":true", "\"stream_options\":{\"include_usage\":true}",
    "\"str\\u0065am\":false", "\"model\":\"m\"", "\"k\":[{\"stream\":1}]",
    "\"streams\":1", "\"\":\"}\"", "\"stream\" :\n[1,2]",
  };
  static const char *const ws[] = { "", " ", "\n  ", "\t\r\n" };
  buf_puts(b, ws[n ? d[0] >> 6 : 0]);
  buf_puts(b, "{");
  for(size_t i = 1; i < n; i++) {
    if(i > 1) {
      buf_puts(b, ws[(d[i] >> 3) & 3]);
      buf_puts(b, ",");
    }
    buf_puts(b, ws[(d[i] >> 5) & 3]);
    buf_puts(b, mem[d[i] & 7]);
  }
  buf_puts(b, ws[n ? (d[0] >> 4) & 3 : 0]);
  buf_puts(b, "}");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check((const char *)data, size);
  if(size && (data[0] & 1)) {
    struct buf b;
    buf_init(&b);
    from_recipe(data, size, &b);
    if(!b.oom)
      check(b.ptr, b.len);
    buf_free(&b);
  }
  return 0;
}
