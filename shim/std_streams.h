/* std_streams.h - libc's stdin, stdout and stderr, looked up when first
 * needed. A reference to them in the code is a data relocation the loader
 * resolves (a symbol search) at load, in every process the library is
 * preloaded into; only a process that tracks a handle needs them. */
#ifndef SS_STD_STREAMS_H
#define SS_STD_STREAMS_H

#include <stdio.h>

enum ss_std_stream { SS_STDIN, SS_STDOUT, SS_STDERR };

/* The stream the program's stdin, stdout or stderr is (NULL if libc has
 * none: not on glibc). */
FILE *ss_std_stream(enum ss_std_stream which);

#endif
