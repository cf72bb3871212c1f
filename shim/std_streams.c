/* std_streams.c - libc's standard streams, found on first use (see
 * std_streams.h). dlsym finds the definition the program's own references
 * bind to (the executable's copy when it has one), as the loader would. */
#include "std_streams.h"

#include <dlfcn.h>
#include <stdatomic.h>

static _Atomic(FILE **) found[3];

FILE *ss_std_stream(enum ss_std_stream which)
{
  static const char names[3][8] = {"stdin", "stdout", "stderr"};
  FILE **at = atomic_load_explicit(&found[which], memory_order_acquire);
  if(!at) {  /* two threads may both look: the same answer */
    at = dlsym(RTLD_DEFAULT, names[which]);
    if(!at)
      return NULL;
    atomic_store_explicit(&found[which], at, memory_order_release);
  }
  return *at;
}
