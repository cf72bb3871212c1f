/* fuzz_body_scan.c - libFuzzer harness for body_scan()
 * (hooks/pure/body_scan.c).
 *
 *   make fuzz    (or build/fuzz/fuzz_body_scan -max_total_time=60)
 *
 * The fast pass must say what json_parse() and a walk of the members say
 * (tests/unit/body_scan_ref.h): the same verdict and, for an object, the
 * same spans of the last "model", "stream" and "stream_options". Each
 * input is tried as it is and wrapped as the value of a "stream" member,
 * so that the member spans get exercised by raw bytes too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body_scan.h"
#include "../unit/body_scan_ref.h"

#define FUZZ_NAME "fuzz_body_scan"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char head[] = "{\"model\":\"m\",\"stream\":";
  char *copy = malloc(size ? size : 1);
  char *wrapped = malloc(sizeof(head) + size + 1);
  if(!copy || !wrapped) {
    free(copy);
    free(wrapped);
    return 0;
  }
  /* an exact-size copy: reads past the end show under ASan */
  memcpy(copy, data, size);
  fuzz_assert(body_scan_agrees(copy, size), "differs from json_parse");
  memcpy(wrapped, head, sizeof(head) - 1);
  memcpy(wrapped + sizeof(head) - 1, data, size);
  wrapped[sizeof(head) - 1 + size] = '}';
  fuzz_assert(body_scan_agrees(wrapped, sizeof(head) + size),
              "differs from json_parse as a member");
  free(copy);
  free(wrapped);
  return 0;
}
