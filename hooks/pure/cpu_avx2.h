/* cpu_avx2.h - does this processor (and its operating system) run AVX2
 * code? Asked on first use with cpuid, not by __builtin_cpu_supports:
 * that links libgcc's constructor, which probes the processor at load in
 * every process the library is preloaded into. x86 only. */
#ifndef SS_CPU_AVX2_H
#define SS_CPU_AVX2_H

#include <stdbool.h>

bool cpu_has_avx2(void);

#endif
