/* fuzz_body.c - libFuzzer harness for body_remove_members() and
 * body_edit_members() (hooks/pure/body.c).
 *
 *   make fuzz    (or build/fuzz/fuzz_body -max_total_time=60)
 *
 * The one-pass removal must give what the reference gives (cut the first
 * named member, start over: tests/unit/body_ref.h), byte for byte, into a
 * separate buffer and in place, with work linear in the input (struct
 * body_work). The editor, given an edit list drawn from the input's last
 * bytes, must give a result that body_ref_check_edit() accepts: it
 * parses, its members are the input's with exactly the edits applied
 * (untouched ones byte for byte), appended ones are in the body's style,
 * and the bytes before the first edited member and after the last are
 * the input's; a remove-only list gives body_remove_members()'s bytes; a
 * text that is not an object is refused and the output left alone.
 * Inputs are used two ways: as a JSON text, and (first byte odd) as a
 * recipe, one byte per member, that builds objects with many edited
 * members between kept ones and odd whitespace, which raw bytes rarely
 * reach. */
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

/* An edit list from the input's last bytes: (d[0] >> 1) & 7 edits, each
 * a name and a value (or a removal) chosen by one byte. */
static size_t pick_edits(const uint8_t *d, size_t n, struct body_edit *e)
{
  static const char *const enames[] = {
    "stream", "stream_options", "model", "k", "", "streams", "x", "stream",
  };
  static const struct body_edit vals[] = {
    BODY_REMOVE(""), BODY_SET("", "true"), BODY_SET("", "false"),
    BODY_SET("", "{\"include_usage\":true}"), BODY_SET("", "\"}\\\"{,\""),
    BODY_SET("", " [1, {\"a\": \"]\"}]\n"), BODY_REMOVE(""),
    BODY_SET("", "null"),
  };
  size_t count = n ? (d[0] >> 1) & 7 : 0;
  if(count > n)
    count = n;
  for(size_t i = 0; i < count; i++) {
    uint8_t b = d[n - 1 - i];
    e[i] = vals[b & 7];
    e[i].name = enames[(b >> 3) & 7];
  }
  return count;
}

/* Edit [p, p+n) and judge the result (see the top). */
static void check_edit(const char *p, size_t n, const struct body_edit *e,
                       size_t count)
{
  struct json_span obj;
  struct body_work w;
  struct buf out;
  bool object = json_parse(p, n, &obj) && obj.type == JSON_OBJECT;
  size_t vals = 0;
  buf_init(&out);
  buf_puts(&out, "#");
  bool ok = body_edit_members_work(p, n, e, count, &out, &w);
  if(out.oom) {
    buf_free(&out);
    return;
  }
  fuzz_assert(ok == object, "an object refused, or a non-object edited");
  if(!ok) {
    fuzz_assert(out.len == 1, "a refused edit wrote");
    buf_free(&out);
    return;
  }
  const char *why = body_ref_check_edit(p, n, e, count, out.ptr + 1,
                                        out.len - 1);
  if(why)
    fprintf(stderr, "%s\n", why);
  fuzz_assert(!why, "the edit breaks the rules");
  for(size_t i = 0; i < count; i++)
    vals += e[i].value ? e[i].value_len : 0;
  fuzz_assert(w.scanned <= 3 * n + vals && w.moved <= n,
              "edit work not linear");
  bool removes = true;
  const char *names[8];
  for(size_t i = 0; i < count; i++) {
    removes = removes && !e[i].value;
    names[i] = e[i].name;
  }
  if(removes) {
    char *ref = malloc(n);
    if(ref) {
      size_t len = body_remove_members(p, n, names, count, ref);
      fuzz_assert(len == out.len - 1 && !memcmp(ref, out.ptr + 1, len),
                  "a remove-only edit differs from body_remove_members");
    }
    free(ref);
  }
  buf_free(&out);
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
  struct body_edit e[8];
  size_t count = pick_edits(data, size, e);
  check((const char *)data, size);
  check_edit((const char *)data, size, e, count);
  if(size && (data[0] & 1)) {
    struct buf b;
    buf_init(&b);
    from_recipe(data, size, &b);
    if(!b.oom) {
      check(b.ptr, b.len);
      check_edit(b.ptr, b.len, e, count);
    }
    buf_free(&b);
  }
  return 0;
}
