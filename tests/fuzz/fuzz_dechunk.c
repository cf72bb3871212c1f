/* libFuzzer harness for hooks/pure/dechunk.c: any bytes, fed whole or in
 * pieces split where the input's first byte says, decode to the same
 * payload, the same verdict, and never more payload than input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dechunk.h"

static void collect(void *arg, const char *p, size_t n)
{
  buf_append(arg, p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if(!size)
    return 0;
  size_t step = (size_t)data[0] % 17 + 1;
  const char *p = (const char *)data + 1;
  size_t n = size - 1;
  struct dechunk a, b;
  struct buf whole, split;
  buf_init(&whole);
  buf_init(&split);
  dechunk_init(&a);
  dechunk_init(&b);
  dechunk_feed(&a, p, n, collect, &whole);
  for(size_t i = 0; i < n; i += step)
    dechunk_feed(&b, p + i, n - i < step ? n - i : step, collect, &split);
  if(whole.len != split.len || a.bad != b.bad || whole.len > n ||
     (whole.len && memcmp(whole.ptr, split.ptr, whole.len)))
    abort();
  buf_free(&whole);
  buf_free(&split);
  return 0;
}
