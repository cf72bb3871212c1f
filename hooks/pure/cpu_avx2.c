/* cpu_avx2.c - AVX2 support, probed once (see cpu_avx2.h). */
#include "cpu_avx2.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <stdatomic.h>
#include <stddef.h>

/* cpuid leaf 7 says the processor has AVX2; leaf 1's OSXSAVE and XCR0
 * say the system saves the YMM registers (SSE and AVX state). */
static bool probe(void)
{
  unsigned a, b, c, d;
  if(__get_cpuid_max(0, NULL) < 7 || !__get_cpuid(1, &a, &b, &c, &d) ||
     !(c & bit_OSXSAVE) || !(c & bit_AVX))
    return false;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  (void)hi;
  if((lo & 6) != 6)
    return false;
  __cpuid_count(7, 0, a, b, c, d);
  return (b & bit_AVX2) != 0;
}

bool cpu_has_avx2(void)
{
  static atomic_int known;  /* 0: not probed; 1: no; 2: yes */
  int k = atomic_load_explicit(&known, memory_order_relaxed);
  if(!k) {
    k = probe() ? 2 : 1;
    atomic_store_explicit(&known, k, memory_order_relaxed);
  }
  return k == 2;
}
#else
bool cpu_has_avx2(void)
{
  return false;
}
#endif
