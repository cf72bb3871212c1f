/* fuzz_json.c - libFuzzer harness for hooks/pure/json.c and hooks/pure/body.c.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ishim -Ihooks \
 *     -o /tmp/fuzz_json tests/fuzz/fuzz_json.c hooks/pure/json.c hooks/pure/body.c
 *   /tmp/fuzz_json -max_total_time=60 -max_len=4096
 *
 * Any input: json_parse must not crash; a valid text is walked entirely
 * (every value re-parses alone as the same span), the end detector must
 * agree with json_parse in one piece and byte by byte, and an object goes
 * through body_inspect and body_remove_members, whose result must still be
 * a valid object without top-level "stream"/"stream_options". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "json.h"

#define FUZZ_NAME "fuzz_json"
#include "fuzz_util.h"

#define FUZZ_ASSERT(c) \
  do {                 \
    if(!(c))           \
      abort();         \
  } while(0)

/* Walk a validated value: every nested value parses alone, keys decode. */
static void fuzz_walk(struct json_span v)
{
  struct json_iter it;
  struct json_span k, e, again;
  char key[256];
  size_t klen;
  if(v.type != JSON_OBJECT && v.type != JSON_ARRAY)
    return;
  json_iter_init(&it, v);
  for(;;) {
    bool more = v.type == JSON_OBJECT ? json_next_member(&it, &k, &e)
                                      : json_next_element(&it, &e);
    if(!more)
      break;
    FUZZ_ASSERT(json_parse(e.ptr, e.len, &again) && again.len == e.len);
    FUZZ_ASSERT(again.type == e.type);
    if(v.type == JSON_OBJECT) {
      FUZZ_ASSERT(k.type == JSON_STRING && json_parse(k.ptr, k.len, &again));
      if(json_string_decode(k, key, sizeof(key), &klen))
        FUZZ_ASSERT(json_key_is(k, key) && strlen(key) == klen);
      json_get(v, "stream", &again);
    }
    if(e.type == JSON_STRING)
      json_string_decode(e, key, sizeof(key), &klen);
    fuzz_walk(e);  /* bounded by JSON_MAX_DEPTH on validated input */
  }
}

/* Feed the end detector the whole input, then byte by byte; both must
 * agree, and agree with json_parse for a valid container. */
static void fuzz_end(const char *p, size_t n, const struct json_span *v,
                     bool valid)
{
  struct json_end a, b;
  size_t at_a = 0, at_b = 0, i;
  enum json_end_result ra, rb = JSON_END_MORE;
  json_end_init(&a);
  json_end_init(&b);
  ra = json_end_feed(&a, p, n, &at_a);
  for(i = 0; i < n && rb == JSON_END_MORE; i++)
    rb = json_end_feed(&b, p + i, 1, &at_b);
  FUZZ_ASSERT(ra == rb);
  if(ra != JSON_END_MORE)
    FUZZ_ASSERT(at_a == i - 1 + at_b);
  if(valid && (v->type == JSON_OBJECT || v->type == JSON_ARRAY) &&
     (n < 3 || memcmp(p, "\xef\xbb\xbf", 3)))
    FUZZ_ASSERT(ra == JSON_END_DONE &&
                p + at_a == v->ptr + v->len);
}

/* Body checks: removal keeps a valid object with the same other members. */
static void fuzz_body(const char *p, size_t n)
{
  static const char *const names[] = { "stream", "stream_options" };
  struct body_info bi, after;
  char *out;
  size_t len;
  if(!body_inspect(p, n, &bi))
    return;
  out = malloc(n);
  if(!out)
    return;
  len = body_remove_members(p, n, names, 2, out);
  FUZZ_ASSERT(len <= n);
  FUZZ_ASSERT(body_inspect(out, len, &after));
  FUZZ_ASSERT(!after.has_stream && !after.has_stream_options);
  FUZZ_ASSERT(after.model.len == bi.model.len);
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data;
  struct json_span v;
  bool valid = json_parse(p, size, &v);
  if(valid)
    fuzz_walk(v);
  fuzz_end(p, size, &v, valid);
  fuzz_body(p, size);
  return 0;
}
