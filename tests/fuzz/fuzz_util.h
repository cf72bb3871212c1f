/* fuzz_util.h - what the libFuzzer harnesses share. Define FUZZ_NAME (the
 * harness's name, for messages) before including it.
 *
 * fuzz_assert() stops the fuzzer on a broken property; fuzz_same()
 * compares two outputs. With -DSS_FUZZ_MAIN a main() runs each file named
 * on the command line through the harness, without libFuzzer. */
#ifndef SS_FUZZ_UTIL_H
#define SS_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop the fuzzer on a broken property. */
static inline void fuzz_assert(int ok, const char *what)
{
  if(!ok) {
    fprintf(stderr, FUZZ_NAME ": %s\n", what);
    abort();
  }
}

/* Do the two buffers hold the same bytes? */
static inline int fuzz_same_buf(const struct buf *x, const struct buf *y)
{
  return x->len == y->len && (!x->len || !memcmp(x->ptr, y->ptr, x->len));
}

#ifdef SS_FUZZ_MAIN
/* Run each file named on the command line through the harness. */
int main(int argc, char **argv)
{
  for(int i = 1; i < argc; i++) {
    struct buf in;
    char chunk[4096];
    size_t got;
    FILE *f = fopen(argv[i], "rb");
    if(!f)
      continue;
    buf_init(&in);
    while((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
      buf_append(&in, chunk, got);
    fclose(f);
    LLVMFuzzerTestOneInput((const uint8_t *)in.ptr, in.len);
    buf_free(&in);
  }
  return 0;
}
#endif

#endif
