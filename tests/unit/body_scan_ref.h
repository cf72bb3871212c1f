/* body_scan_ref.h - what body_scan() must say, the slow way: json_parse()
 * and a walk of the top-level members with json_key_is() (as body_inspect
 * read bodies before body_scan.c). Shared by tests/unit/test_body_scan.c
 * and tests/fuzz/fuzz_body_scan.c. */
#ifndef SS_BODY_SCAN_REF_H
#define SS_BODY_SCAN_REF_H

#include <stdbool.h>
#include <string.h>

#include "body_scan.h"
#include "json.h"

static inline bool body_scan_ref(const char *p, size_t n,
                                 struct body_members *m)
{
  static const struct json_span none = { NULL, 0, JSON_NONE };
  struct json_span obj, key, val;
  struct json_iter it;
  m->obj = m->model = m->stream = m->stream_options = none;
  if(!json_parse(p, n, &obj) || obj.type != JSON_OBJECT)
    return false;
  m->obj = obj;
  json_iter_init(&it, obj);
  while(json_next_member(&it, &key, &val)) {
    if(json_key_is(key, "model"))
      m->model = val;
    else if(json_key_is(key, "stream"))
      m->stream = val;
    else if(json_key_is(key, "stream_options"))
      m->stream_options = val;
  }
  return true;
}

static inline bool body_scan_same_span(struct json_span a, struct json_span b)
{
  return a.type == b.type && a.ptr == b.ptr && a.len == b.len;
}

/* Do body_scan() and the reference agree on [p, p+n), with each block
 * reader this machine has (one byte, SSE2, AVX2)? */
static inline bool body_scan_agrees(const char *p, size_t n)
{
  static const int widths[] = { 0, 16, 32 };
  struct body_members a, b;
  bool ref = body_scan_ref(p, n, &b);
  for(size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
    if(body_scan_with(p, n, &a, widths[i]) != ref ||
       !body_scan_same_span(a.obj, b.obj) ||
       !body_scan_same_span(a.model, b.model) ||
       !body_scan_same_span(a.stream, b.stream) ||
       !body_scan_same_span(a.stream_options, b.stream_options))
      return false;
  }
  return body_scan(p, n, &a) == ref;
}

#endif
