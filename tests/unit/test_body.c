/* test_body.c - unit tests for hooks/pure/body.c: inspecting a request body,
 * removing top-level members surgically, and editing them (set a value,
 * append a member, remove) in one pass. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "body_ref.h"
#include "buf.h"
#include "check.h"
#include "json.h"

static const char *const stream_names[] = { "stream", "stream_options" };

/* Inspect a NUL-terminated body. */
static bool inspect(const char *s, struct body_info *bi)
{
  return body_inspect(s, strlen(s), bi);
}

TEST(inspect_basic)
{
  struct body_info bi;
  const char *s = "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[]}";
  CHECK(inspect(s, &bi));
  CHECK(bi.stream_true && bi.has_stream && !bi.has_stream_options);
  CHECK(!bi.include_usage);
  CHECK(bi.model.type == JSON_STRING);
  CHECK_MEM(bi.model.ptr, bi.model.len, "\"gpt-4o\"", 8);
  CHECK(inspect("{}", &bi));
  CHECK(!bi.stream_true && !bi.has_stream && bi.model.type == JSON_NONE);
  CHECK(inspect(" \n{\"stream\":false}\n", &bi));
  CHECK(bi.has_stream && !bi.stream_true);
}

TEST(inspect_last_wins)
{
  struct body_info bi;
  CHECK(inspect("{\"stream\":true,\"stream\":false}", &bi));
  CHECK(bi.has_stream && !bi.stream_true);
  CHECK(inspect("{\"stream\":false,\"stream\":true}", &bi));
  CHECK(bi.stream_true);
  CHECK(inspect("{\"stream\":\"true\"}", &bi));
  CHECK(bi.has_stream && !bi.stream_true);
  CHECK(inspect("{\"stream\":1}", &bi) && !bi.stream_true);
  CHECK(inspect("{\"str\\u0065am\":true}", &bi) && bi.stream_true);
  CHECK(inspect("{\"model\":\"a\",\"model\":\"b\"}", &bi));
  CHECK_MEM(bi.model.ptr, bi.model.len, "\"b\"", 3);
  CHECK(inspect("{\"model\":null}", &bi) && bi.model.type == JSON_NULL);
}

TEST(inspect_include_usage)
{
  struct body_info bi;
  CHECK(inspect("{\"stream_options\":{\"include_usage\":true}}", &bi));
  CHECK(bi.has_stream_options && bi.include_usage && !bi.has_stream);
  CHECK(inspect("{\"stream_options\":{\"include_usage\":false}}", &bi));
  CHECK(bi.has_stream_options && !bi.include_usage);
  CHECK(inspect("{\"stream_options\":{\"include_usage\":true,"
                "\"include_usage\":false}}", &bi));
  CHECK(!bi.include_usage);
  CHECK(inspect("{\"stream_options\":{\"include_usage\":false,"
                "\"include_usage\":true}}", &bi));
  CHECK(bi.include_usage);
  CHECK(inspect("{\"stream_options\":{\"include_usage\":true},"
                "\"stream_options\":{}}", &bi));
  CHECK(bi.has_stream_options && !bi.include_usage);
  CHECK(inspect("{\"stream_options\":null}", &bi));
  CHECK(bi.has_stream_options && !bi.include_usage);
  CHECK(inspect("{\"stream_options\":[{\"include_usage\":true}]}", &bi));
  CHECK(!bi.include_usage);
  CHECK(inspect("{\"stream_options\":{\"include_usage\":\"true\"}}", &bi));
  CHECK(!bi.include_usage);
  CHECK(inspect("{\"include_usage\":true}", &bi) && !bi.include_usage);
}

TEST(inspect_nested_ignored)
{
  struct body_info bi;
  CHECK(inspect("{\"extra\":{\"stream\":true,\"model\":\"m\"},"
                "\"messages\":[{\"stream\":true}],\"x\":\"\\\"stream\\\":true\"}",
                &bi));
  CHECK(!bi.has_stream && !bi.stream_true && bi.model.type == JSON_NONE);
}

TEST(inspect_rejects)
{
  struct body_info bi;
  static const char *bad[] = {
    "", "[]", "[{\"stream\":true}]", "\"x\"", "1", "null",
    "{\"stream\":true", "{\"stream\":true}}", "{\"stream\":true} {}",
    "{\"stream\":tru}", "{\"a\":\"\xff\"}",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    bi.stream_true = true;
    CHECK(!inspect(bad[i], &bi));
    CHECK(!bi.stream_true && bi.model.type == JSON_NONE);
  }
  CHECK(!body_inspect("{}\0", 3, &bi));
}

/* Remove `names` from in and compare with want; also check the result is
 * still one valid object. */
static void check_remove(const char *in, const char *const *names,
                         size_t count, const char *want, int line)
{
  size_t n = strlen(in);
  char *out = malloc(n ? n : 1);
  struct json_span v;
  if(!out)
    return;
  struct body_work w;
  size_t len = body_remove_members_work(in, n, names, count, out, &w);
  if(len != strlen(want) || memcmp(out, want, len))
    printf("#   line %d: in  [%s]\n#   got [%.*s]\n#   want [%s]\n", line,
           in, (int)len, out, want);
  CHECK_MEM(out, len, want, strlen(want));
  CHECK(json_parse(out, len, &v) && v.type == JSON_OBJECT);
  CHECK(w.scanned <= 2 * n && w.moved <= 2 * n);
  char *ref = malloc(n ? n : 1);
  if(ref) {
    size_t rlen = body_ref_remove(in, n, names, count, ref, &w);
    CHECK_MEM(out, len, ref, rlen);
    free(ref);
  }
  free(out);
}

#define REMOVE(in, want) check_remove(in, stream_names, 2, want, __LINE__)

TEST(remove_positions)
{
  REMOVE("{\"model\":\"x\", \"stream\":true, \"messages\":[]}",
         "{\"model\":\"x\", \"messages\":[]}");
  REMOVE("{\"model\":\"x\",\"stream\":true}", "{\"model\":\"x\"}");
  REMOVE("{\"stream\":true,\"model\":\"x\"}", "{\"model\":\"x\"}");
  REMOVE("{\"stream\":true}", "{}");
  REMOVE("{ \"stream\" : true }", "{  }");
  REMOVE("{\"model\":\"x\" , \"stream\" : true }", "{\"model\":\"x\" }");
  REMOVE("{\"a\":1,\"stream\":true,\"b\":2,\"c\":3}",
         "{\"a\":1,\"b\":2,\"c\":3}");
  REMOVE("{\"a\":1,\"b\":2,\"c\":3}", "{\"a\":1,\"b\":2,\"c\":3}");
  REMOVE("{}", "{}");
  REMOVE("  {\"stream\":false}  \n", "  {}  \n");
}

TEST(remove_both)
{
  REMOVE("{\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
         "{}");
  REMOVE("{\"model\":\"m\",\"stream\":true,\"stream_options\":{}}",
         "{\"model\":\"m\"}");
  REMOVE("{\"stream\":true,\"stream_options\":{},\"model\":\"m\"}",
         "{\"model\":\"m\"}");
  REMOVE("{\"stream_options\":{},\"model\":\"m\",\"stream\":true}",
         "{\"model\":\"m\"}");
  REMOVE("{\"a\":1, \"stream\":true, \"stream_options\":{\"x\":[1]}, "
         "\"b\":2}", "{\"a\":1, \"b\":2}");
  REMOVE("{\"stream\":true,\"stream\":false,\"model\":\"m\",\"stream\":1}",
         "{\"model\":\"m\"}");
  REMOVE("{\"str\\u0065am\":true,\"model\":\"m\"}", "{\"model\":\"m\"}");
}

TEST(remove_pretty)
{
  REMOVE("{\n  \"model\": \"x\",\n  \"stream\": true,\n"
         "  \"messages\": []\n}\n",
         "{\n  \"model\": \"x\",\n  \"messages\": []\n}\n");
  REMOVE("{\n  \"model\": \"x\",\n  \"stream\": true\n}",
         "{\n  \"model\": \"x\"\n}");
  REMOVE("{\n  \"stream\": true,\n  \"model\": \"x\"\n}",
         "{\n  \"model\": \"x\"\n}");
  REMOVE("{\n\t\"stream\": true,\n\t\"stream_options\": {\n\t\t"
         "\"include_usage\": true\n\t}\n}", "{\n\t\n}");
  REMOVE("{\r\n  \"model\" : \"x\" ,\r\n  \"stream\" : true\r\n}",
         "{\r\n  \"model\" : \"x\"\r\n}");
}

TEST(remove_nested_untouched)
{
  REMOVE("{\"o\":{\"stream\":true},\"a\":[{\"stream\":true}]}",
         "{\"o\":{\"stream\":true},\"a\":[{\"stream\":true}]}");
  REMOVE("{\"s\":\"\\\"stream\\\":true,\",\"stream\":true}",
         "{\"s\":\"\\\"stream\\\":true,\"}");
  REMOVE("{\"stream\":{\"stream\":true},\"k\":\"stream\"}",
         "{\"k\":\"stream\"}");
  REMOVE("{\"streams\":true,\"Stream\":true,\"stream \":1}",
         "{\"streams\":true,\"Stream\":true,\"stream \":1}");
}

TEST(remove_keeps_bytes)
{
  REMOVE("{\"n\":12345678901234567890,\"stream\":true,\"f\":1.0e+02}",
         "{\"n\":12345678901234567890,\"f\":1.0e+02}");
  REMOVE("{\"t\":\"\\u00e9\\ud83d\\ude00\\/\",\"stream\":true}",
         "{\"t\":\"\\u00e9\\ud83d\\ude00\\/\"}");
  REMOVE("{\"stream\":true,\"z\":\"\xc3\xa9\",\"k\":{\"b\":2,\"a\":1}}",
         "{\"z\":\"\xc3\xa9\",\"k\":{\"b\":2,\"a\":1}}");
}

TEST(remove_other_names)
{
  static const char *const one[] = { "model" };
  check_remove("{\"model\":\"x\",\"stream\":true}", one, 1,
               "{\"stream\":true}", __LINE__);
  check_remove("{\"model\":\"x\",\"stream\":true}", one, 0,
               "{\"model\":\"x\",\"stream\":true}", __LINE__);
  check_remove("{\"a\":1}", stream_names, 2, "{\"a\":1}", __LINE__);
}

TEST(remove_not_an_object)
{
  /* invalid input is copied unchanged rather than cut blindly */
  static const char *bad[] = { "[{\"stream\":true}]", "{\"stream\":true",
                               "{\"stream\":true}x", "\"stream\"" };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char out[64];
    size_t n = strlen(bad[i]);
    CHECK(body_remove_members(bad[i], n, stream_names, 2, out) == n);
    CHECK_MEM(out, n, bad[i], n);
  }
  CHECK(body_remove_members("", 0, stream_names, 2, NULL) == 0);
}

TEST(remove_in_place)
{
  char s[] = "{\"stream\":true, \"model\":\"m\", \"stream_options\":{}}";
  size_t len = body_remove_members(s, strlen(s), stream_names, 2, s);
  CHECK_MEM(s, len, "{\"model\":\"m\"}", 13);
}

/* ---- property test over generated objects ------------------------------ */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint32_t rnd(uint32_t n)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return n ? (uint32_t)((rng_state * 2685821657736338717ull) >> 33) % n : 0;
}

static void gen_ws(struct buf *b)
{
  static const char *ws[] = { "", "", " ", "\n  ", "\n\t\t", "\r\n", "  " };
  buf_puts(b, ws[rnd(7)]);
}

/* Append one random object member; stream-like keys are common. */
static void gen_member(struct buf *b)
{
  static const char *keys[] = {
    "\"stream\"", "\"stream_options\"", "\"str\\u0065am\"", "\"model\"",
    "\"messages\"", "\"streams\"", "\"\"", "\"n\"", "\"stream_\"",
  };
  static const char *vals[] = {
    "true", "false", "null", "12345678901234567890", "-1.5e-7",
    "\"gpt-4o\"", "\"\\u00e9\\\"stream\\\":true,\"", "{\"stream\":true}",
    "{\"include_usage\":true}", "[{\"stream\":[true,{}]},\"}\"]", "[]",
    "{}", "\"\xf0\x9f\x98\x80\"",
  };
  buf_puts(b, keys[rnd(sizeof(keys) / sizeof(keys[0]))]);
  gen_ws(b);
  buf_puts(b, ":");
  gen_ws(b);
  buf_puts(b, vals[rnd(sizeof(vals) / sizeof(vals[0]))]);
}

/* Build a random object with surrounding whitespace. */
static void gen_object(struct buf *b)
{
  uint32_t n = rnd(7);
  gen_ws(b);
  buf_puts(b, "{");
  for(uint32_t i = 0; i < n; i++) {
    gen_ws(b);
    if(i) {
      buf_puts(b, ",");
      gen_ws(b);
    }
    gen_member(b);
  }
  gen_ws(b);
  buf_puts(b, "}");
  gen_ws(b);
}

static bool is_stream_key(struct json_span k)
{
  return json_key_is(k, "stream") || json_key_is(k, "stream_options");
}

/* Is a a subsequence of b (the output only lost bytes)? */
static bool subsequence(const char *a, size_t alen, const char *b,
                        size_t blen)
{
  size_t i = 0;
  for(size_t j = 0; j < blen && i < alen; j++)
    if(a[i] == b[j])
      i++;
  return i == alen;
}

/* Check the kept members of out are exactly the non-stream members of in,
 * in order and byte for byte. */
static void check_members(struct json_span in, struct json_span out)
{
  struct json_iter a, b;
  struct json_span ka, va, kb, vb;
  json_iter_init(&a, in);
  json_iter_init(&b, out);
  while(json_next_member(&a, &ka, &va)) {
    if(is_stream_key(ka))
      continue;
    CHECK(json_next_member(&b, &kb, &vb));
    CHECK_MEM(kb.ptr, kb.len, ka.ptr, ka.len);
    CHECK_MEM(vb.ptr, vb.len, va.ptr, va.len);
  }
  CHECK(!json_next_member(&b, &kb, &vb));
}

/* Does body_ref_remove() give out[0, len) for [p, p+n)? */
static void check_same_as_reference(const char *p, size_t n, const char *out,
                                    size_t len)
{
  struct body_work w;
  char *ref = malloc(n ? n : 1);
  if(!ref)
    return;
  size_t rlen = body_ref_remove(p, n, stream_names, 2, ref, &w);
  if(rlen != len || memcmp(ref, out, len))
    printf("#   in [%.*s]\n#   got [%.*s]\n#   ref [%.*s]\n", (int)n, p,
           (int)len, out, (int)rlen, ref);
  CHECK_MEM(out, len, ref, rlen);
  free(ref);
}

/* Every object of up to 6 members drawn from a removed "stream", a
 * removed "stream_options" and a kept member, with two kinds of
 * whitespace around each comma: the one pass cuts what the reference
 * cuts, byte for byte, in place and not. */
TEST(remove_exhaustive_small)
{
  static const char *const mem[] = {
    "\"stream\":true", "\"stream_options\" : {\"include_usage\":true}",
    "\"k\":[1,{\"stream\":1}]",
  };
  static const char *const ws[] = { "", " \n\t" };
  for(unsigned len = 0; len <= 6; len++) {
    unsigned combos = 1;
    for(unsigned i = 0; i < len; i++)
      combos *= 3 * 2;
    for(unsigned c = 0; c < combos; c++) {
      struct buf b;
      unsigned k = c;
      buf_init(&b);
      buf_puts(&b, ws[(c >> 3) & 1]);
      buf_puts(&b, "{");
      for(unsigned i = 0; i < len; i++, k /= 6) {
        if(i) {
          buf_puts(&b, ws[(k / 3) & 1]);
          buf_puts(&b, ",");
        }
        buf_puts(&b, ws[(k / 3 + i) & 1]);
        buf_puts(&b, mem[k % 3]);
      }
      buf_puts(&b, ws[c & 1]);
      buf_puts(&b, "}");
      char *res = malloc(b.len + 1);
      if(b.oom || !res) {
        free(res);
        buf_free(&b);
        return;
      }
      size_t n = body_remove_members(b.ptr, b.len, stream_names, 2, res);
      check_same_as_reference(b.ptr, b.len, res, n);
      memcpy(res, b.ptr, b.len);  /* again, in place */
      n = body_remove_members(res, b.len, stream_names, 2, res);
      check_same_as_reference(b.ptr, b.len, res, n);
      free(res);
      buf_free(&b);
    }
  }
}

/* ---- many members: one pass, whatever their number ----------------------- */


/* A kept member ,"k<i>":"<pad>" appended to both the input and the output
 * expected (key is a scratch buffer of cap bytes). */
static void put_kept(struct buf *in, struct buf *want, char *key, size_t cap,
                     int i, const char *pad)
{
  snprintf(key, cap, ",\"k%d\":\"", i);
  buf_puts(in, key);
  buf_puts(in, pad);
  buf_puts(in, "\"");
  buf_puts(want, key);
  buf_puts(want, pad);
  buf_puts(want, "\"");
}

/* A ~2 MB body with `copies` top-level "stream" members among padded
 * kept ones (where: 0 interleaved, 1 all at the end, 2 all at the start)
 * into *in, and what removing them must give into *want. */
static void many_streams(struct buf *in, struct buf *want, int copies,
                         int where)
{
  char pad[401], key[32];
  memset(pad, 'x', 400);
  pad[400] = '\0';
  buf_puts(in, "{\"model\":\"o3-mini\"");
  buf_puts(want, "{\"model\":\"o3-mini\"");
  for(int i = 0; i < copies; i++) {
    if(where == 2) {
      /* keep "model" first: the removed run follows it */
      buf_puts(in, i % 2 ? ", \"stream\": false" : ",\"stream\":true");
      continue;
    }
    put_kept(in, want, key, sizeof(key), i, pad);
    if(where == 0)  /* a kept gap precedes it: no whitespace to keep */
      buf_puts(in, i % 2 ? ",\"stream\":false" : ",\"stream\":true");
  }
  for(int i = 0; where != 0 && i < copies; i++) {
    if(where == 2)
      put_kept(in, want, key, sizeof(key), i, pad);
    else
      buf_puts(in, i % 2 ? ",\n  \"stream_options\": {}" : ",\"stream\":true");
  }
  buf_puts(in, "}");
  buf_puts(want, "}");
}

/* Compare big outputs, showing where they part rather than all of them. */
static void check_big(const char *got, size_t glen, const char *want,
                      size_t wlen, int line)
{
  size_t i = 0;
  while(i < glen && i < wlen && got[i] == want[i])
    i++;
  if(i == glen && i == wlen)
    return;
  printf("#   line %d: %zu bytes, want %zu; they part at %zu: [%.40s]\n",
         line, glen, wlen, i, got + (i < glen ? i : glen));
  check_failed_case = 1;
}

/* Defect 9: 5,000 "stream" members in a 2 MB body are removed exactly,
 * reading and copying each byte a bounded number of times (the cut-and-
 * restart version read ~5,000 times the body). */
TEST(remove_many_linear)
{
  for(int where = 0; where < 3; where++) {
    struct buf in, want;
    struct body_work w;
    buf_init(&in);
    buf_init(&want);
    many_streams(&in, &want, 5000, where);
    char *out = malloc(in.len);
    if(in.oom || want.oom || !out) {
      free(out);
      buf_free(&in);
      buf_free(&want);
      return;
    }
    CHECK(in.len > 2000000 || where == 1 || where == 2);
    size_t len = body_remove_members_work(in.ptr, in.len, stream_names, 2,
                                          out, &w);
    check_big(out, len, want.ptr, want.len, __LINE__);
    if(w.scanned > 2 * in.len || w.moved > 2 * in.len)
      printf("#   where %d: %zu bytes, scanned %zu, moved %zu\n", where,
             in.len, w.scanned, w.moved);
    CHECK(w.scanned <= 2 * in.len);
    CHECK(w.moved <= 2 * in.len);
    free(out);
    buf_free(&in);
    buf_free(&want);
  }
}

/* The bound above tells the algorithms apart: the reference (cut the
 * first, start over) already exceeds it many times on 200 members. */
TEST(reference_is_quadratic)
{
  struct buf in, want;
  struct body_work w, ref;
  buf_init(&in);
  buf_init(&want);
  many_streams(&in, &want, 200, 0);
  char *out = malloc(in.len), *rout = malloc(in.len);
  if(!in.oom && !want.oom && out && rout) {
    size_t len = body_remove_members_work(in.ptr, in.len, stream_names, 2,
                                          out, &w);
    size_t rlen = body_ref_remove(in.ptr, in.len, stream_names, 2, rout,
                                  &ref);
    check_big(out, len, rout, rlen, __LINE__);
    check_big(out, len, want.ptr, want.len, __LINE__);
    CHECK(ref.scanned > 20 * in.len && ref.moved > 20 * in.len);
    CHECK(w.scanned <= 2 * in.len && w.moved <= 2 * in.len);
  }
  free(out);
  free(rout);
  buf_free(&in);
  buf_free(&want);
}

TEST(property_remove)
{
  for(int round = 0; round < 20000; round++) {
    struct buf b;
    struct json_span in, out;
    struct body_info bi;
    buf_init(&b);
    gen_object(&b);
    if(b.oom)
      break;
    char *res = malloc(b.len + 1);
    if(!res)
      break;
    size_t len = body_remove_members(b.ptr, b.len, stream_names, 2, res);
    CHECK(len <= b.len);
    check_same_as_reference(b.ptr, b.len, res, len);
    CHECK(json_parse(b.ptr, b.len, &in) && in.type == JSON_OBJECT);
    bool ok = json_parse(res, len, &out) && out.type == JSON_OBJECT;
    if(!ok)
      printf("#   in [%.*s]\n#   out [%.*s]\n", (int)b.len, b.ptr, (int)len,
             res);
    CHECK(ok);
    if(ok) {
      CHECK(body_inspect(res, len, &bi));
      CHECK(!bi.has_stream && !bi.has_stream_options);
      check_members(in, out);
      CHECK(subsequence(res, len, b.ptr, b.len));
      /* the bytes around the object are untouched */
      CHECK(in.ptr - b.ptr == out.ptr - res);
      CHECK(b.ptr + b.len - (in.ptr + in.len) ==
            res + len - (out.ptr + out.len));
    }
    free(res);
    buf_free(&b);
  }
}

/* ---- body_edit_members(): set, append and remove in one pass ------------ */

#define SET(name, json) BODY_SET(name, json)
#define DEL(name) BODY_REMOVE(name)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The bytes of the edits' values and names, for the work bound. */
static size_t edits_size(const struct body_edit *e, size_t count)
{
  size_t sum = 0;
  for(size_t i = 0; i < count; i++)
    sum += strlen(e[i].name) + (e[i].value ? e[i].value_len : 0);
  return sum;
}

/* Edit in (appending to a buf that already holds a byte) and compare with
 * want (NULL: the call must fail and leave the buf alone); the result must
 * also pass the reference's rules, and a remove-only list must give what
 * body_remove_members() gives. */
static void check_edit(const char *in, const struct body_edit *e,
                       size_t count, const char *want, int line)
{
  size_t n = strlen(in);
  struct body_work w;
  struct buf out;
  buf_init(&out);
  buf_puts(&out, "#");
  bool ok = body_edit_members_work(in, n, e, count, &out, &w);
  if(!want) {
    CHECK(!ok && !out.oom);
    CHECK_MEM(out.ptr, out.len, "#", 1);
    buf_free(&out);
    return;
  }
  CHECK(ok && !out.oom);
  const char *got = out.ptr + 1;
  size_t len = out.len - 1;
  if(len != strlen(want) || memcmp(got, want, len))
    printf("#   line %d: in  [%s]\n#   got [%.*s]\n#   want [%s]\n", line,
           in, (int)len, got, want);
  CHECK_MEM(got, len, want, strlen(want));
  const char *why = body_ref_check_edit(in, n, e, count, got, len);
  if(why)
    printf("#   line %d: %s\n", line, why);
  CHECK(!why);
  CHECK(w.scanned <= 3 * n + edits_size(e, count));
  CHECK(w.moved <= n && len <= w.moved + w.inserted);
  bool removes = true;
  const char *names[8];
  for(size_t i = 0; i < count && i < 8; i++) {
    removes = removes && !e[i].value;
    names[i] = e[i].name;
  }
  if(removes && count <= 8) {
    char *ref = malloc(n);
    size_t rlen = ref ? body_remove_members(in, n, names, count, ref) : 0;
    if(ref)
      CHECK_MEM(got, len, ref, rlen);
    free(ref);
  }
  buf_free(&out);
}

#define EDIT(in, edits, want) \
  check_edit(in, edits, COUNT(edits), want, __LINE__)

static const struct body_edit to_stream[] = {
  SET("stream", "true"),
  SET("stream_options", "{\"include_usage\":true}"),
};
static const struct body_edit stream_on[] = { SET("stream", "true") };

TEST(edit_append_compact)
{
  EDIT("{\"model\":\"m\",\"messages\":[]}", stream_on,
       "{\"model\":\"m\",\"messages\":[],\"stream\":true}");
  EDIT("{\"model\": \"m\", \"messages\": []}", to_stream,
       "{\"model\": \"m\", \"messages\": [], \"stream\": true, "
       "\"stream_options\": {\"include_usage\":true}}");
  EDIT("{\"model\" : \"m\" , \"n\" : 1}", stream_on,
       "{\"model\" : \"m\" , \"n\" : 1 , \"stream\" : true}");
  /* one member: a comma and the whitespace after '{' */
  EDIT("{ \"model\": \"m\" }", stream_on,
       "{ \"model\": \"m\", \"stream\": true }");
  EDIT("{\"model\":\"m\"}", to_stream,
       "{\"model\":\"m\",\"stream\":true,"
       "\"stream_options\":{\"include_usage\":true}}");
  /* the style is the last member's, whatever the first ones do */
  EDIT("{\"a\":1, \"b\" :2,\"c\": 3}", stream_on,
       "{\"a\":1, \"b\" :2,\"c\": 3,\"stream\": true}");
  EDIT("  {\"model\":\"m\"} \n", stream_on,
       "  {\"model\":\"m\",\"stream\":true} \n");
}

TEST(edit_append_pretty)
{
  EDIT("{\n  \"model\": \"m\",\n  \"messages\": []\n}\n", to_stream,
       "{\n  \"model\": \"m\",\n  \"messages\": [],\n  \"stream\": true,\n"
       "  \"stream_options\": {\"include_usage\":true}\n}\n");
  EDIT("{\n  \"model\": \"m\"\n}", stream_on,
       "{\n  \"model\": \"m\",\n  \"stream\": true\n}");
  EDIT("{\n\t\"model\":\t\"m\",\n\t\"n\":\t1\n}", stream_on,
       "{\n\t\"model\":\t\"m\",\n\t\"n\":\t1,\n\t\"stream\":\ttrue\n}");
  EDIT("{\r\n  \"model\" : \"m\",\r\n  \"n\" : 1\r\n}\r\n", stream_on,
       "{\r\n  \"model\" : \"m\",\r\n  \"n\" : 1,\r\n"
       "  \"stream\" : true\r\n}\r\n");
  EDIT("{\r\n\t\"model\": \"m\"\r\n}", stream_on,
       "{\r\n\t\"model\": \"m\",\r\n\t\"stream\": true\r\n}");
  /* comma-first */
  EDIT("{ \"a\": 1\n, \"b\": 2\n}", stream_on,
       "{ \"a\": 1\n, \"b\": 2\n, \"stream\": true\n}");
  /* nested pretty values: only the top-level style counts */
  EDIT("{\n    \"m\": {\n        \"x\": 1\n    }\n}", stream_on,
       "{\n    \"m\": {\n        \"x\": 1\n    },\n    \"stream\": true\n}");
}

TEST(edit_append_empty)
{
  EDIT("{}", stream_on, "{\"stream\":true}");
  EDIT("{ }", stream_on, "{\"stream\":true }");
  EDIT("{\n}\n", stream_on, "{\"stream\":true\n}\n");
  EDIT(" {\r\n\t} ", stream_on, " {\"stream\":true\r\n\t} ");
  EDIT("{}", to_stream,
       "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
}

TEST(edit_replace)
{
  EDIT("{\"model\":\"m\",\"stream\":false,\"n\":1}", stream_on,
       "{\"model\":\"m\",\"stream\":true,\"n\":1}");
  EDIT("{\n  \"stream\" : false\n}", stream_on,
       "{\n  \"stream\" : true\n}");
  EDIT("{\"str\\u0065am\":false}", stream_on, "{\"str\\u0065am\":true}");
  EDIT("{\"stream\":{\"a\":[1,\"}\"]},\"z\":0}", stream_on,
       "{\"stream\":true,\"z\":0}");
  EDIT("{\"stream\":false,\"stream_options\":null}", to_stream,
       "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
  /* one present, one appended */
  EDIT("{\"stream\": false, \"model\": \"m\"}", to_stream,
       "{\"stream\": true, \"model\": \"m\", "
       "\"stream_options\": {\"include_usage\":true}}");
  static const struct body_edit spaced[] = { SET("stream", " true\n") };
  EDIT("{\"stream\":false}", spaced, "{\"stream\": true\n}");
}

TEST(edit_duplicates)
{
  /* the last occurrence is set, the earlier ones go */
  EDIT("{\"stream\":false,\"model\":\"m\",\"stream\":null}", stream_on,
       "{\"model\":\"m\",\"stream\":true}");
  EDIT("{\"stream\":1,\"stream\":2}", stream_on, "{\"stream\":true}");
  EDIT("{\"stream\":1, \"a\":0, \"str\\u0065am\":2, \"b\":0}", stream_on,
       "{\"a\":0, \"str\\u0065am\":true, \"b\":0}");
  EDIT("{\n  \"stream\": 1,\n  \"stream\": 2,\n  \"stream\": 3\n}", stream_on,
       "{\n  \"stream\": true\n}");
  /* several edits of one name: the last wins */
  static const struct body_edit set_del[] = { SET("stream", "true"),
                                              DEL("stream") };
  static const struct body_edit del_set[] = { DEL("stream"),
                                              SET("stream", "true") };
  static const struct body_edit set_set[] = { SET("stream", "false"),
                                              SET("stream", "true") };
  EDIT("{\"a\":1,\"stream\":false}", set_del, "{\"a\":1}");
  EDIT("{\"a\":1}", set_del, "{\"a\":1}");
  EDIT("{\"stream\":false,\"a\":1}", del_set, "{\"stream\":true,\"a\":1}");
  EDIT("{\"a\":1}", del_set, "{\"a\":1,\"stream\":true}");
  EDIT("{\"a\":1}", set_set, "{\"a\":1,\"stream\":true}");
  EDIT("{\"stream\":0,\"a\":1}", set_set, "{\"stream\":true,\"a\":1}");
}

TEST(edit_nested_untouched)
{
  EDIT("{\"o\":{\"stream\":false},\"a\":[{\"stream\":false}],"
       "\"s\":\"\\\"stream\\\":false\"}", stream_on,
       "{\"o\":{\"stream\":false},\"a\":[{\"stream\":false}],"
       "\"s\":\"\\\"stream\\\":false\",\"stream\":true}");
  EDIT("{\"streams\":false,\"Stream\":false,\"stream \":false}", stream_on,
       "{\"streams\":false,\"Stream\":false,\"stream \":false,"
       "\"stream\":true}");
  EDIT("{\"stream\":{\"stream\":false},\"k\":\"stream\"}", stream_on,
       "{\"stream\":true,\"k\":\"stream\"}");
}

TEST(edit_tricky_values)
{
  /* values with braces, quotes, commas and escapes, in and out */
  static const struct body_edit stop[] = {
    SET("stop", "[\"}\", \"\\\"{\", \",\\\\\", \"\\u007d\"]"),
  };
  EDIT("{\"s\":\"{\\\"a\\\":}\",\"t\":\"\\\\\"}", stop,
       "{\"s\":\"{\\\"a\\\":}\",\"t\":\"\\\\\","
       "\"stop\":[\"}\", \"\\\"{\", \",\\\\\", \"\\u007d\"]}");
  EDIT("{\"stop\":\"}\",\"n\":12345678901234567890}", stop,
       "{\"stop\":[\"}\", \"\\\"{\", \",\\\\\", \"\\u007d\"],"
       "\"n\":12345678901234567890}");
  EDIT("{\"t\":\"\\u00e9\\ud83d\\ude00\\/\",\"z\":\"\xc3\xa9\"}", stream_on,
       "{\"t\":\"\\u00e9\\ud83d\\ude00\\/\",\"z\":\"\xc3\xa9\","
       "\"stream\":true}");
}

TEST(edit_insert_and_remove)
{
  /* a program that does not stream, sent to a model that only streams */
  static const struct body_edit restream[] = {
    SET("stream", "true"), SET("stream_options", "{\"include_usage\":true}"),
    DEL("user"),
  };
  EDIT("{\"model\":\"m\",\"stream\":false,\"messages\":[]}", restream,
       "{\"model\":\"m\",\"stream\":true,\"messages\":[],"
       "\"stream_options\":{\"include_usage\":true}}");
  EDIT("{\"model\":\"m\", \"user\":\"u\"}", restream,
       "{\"model\":\"m\", \"stream\":true, "
       "\"stream_options\":{\"include_usage\":true}}");
  EDIT("{\"user\":\"u\", \"model\":\"m\"}", restream,
       "{\"model\":\"m\", \"stream\":true, "
       "\"stream_options\":{\"include_usage\":true}}");
  EDIT("{\n  \"model\": \"m\",\n  \"user\": \"u\"\n}", restream,
       "{\n  \"model\": \"m\",\n  \"stream\": true,\n"
       "  \"stream_options\": {\"include_usage\":true}\n}");
  /* nothing left before it: the appended member takes the first place */
  static const struct body_edit swap[] = { DEL("a"), SET("b", "2") };
  EDIT("{ \"a\": 1 }", swap, "{ \"b\": 2 }");
  EDIT("{\n  \"a\": 1\n}", swap, "{\n  \"b\": 2\n}");
  EDIT("{\"a\":1,\"a\":1}", swap, "{\"b\":2}");
  static const struct body_edit swap2[] = { DEL("a"), SET("b", "2"),
                                            SET("c", "3") };
  EDIT("{\n  \"a\": 1,\n  \"a\": 0\n}", swap2,
       "{\n  \"b\": 2,\n  \"c\": 3\n}");
  /* remove-only lists cut what body_remove_members() cuts */
  static const struct body_edit destream[] = { DEL("stream"),
                                               DEL("stream_options") };
  EDIT("{\"model\":\"x\" , \"stream\" : true }", destream,
       "{\"model\":\"x\" }");
  EDIT("{\n\t\"stream\": true,\n\t\"stream_options\": {}\n}", destream,
       "{\n\t\n}");
  EDIT("{\"a\":1}", destream, "{\"a\":1}");
  static const struct body_edit none[1] = { DEL("x") };
  check_edit("{\"a\" : 1 }", none, 0, "{\"a\" : 1 }", __LINE__);
}

TEST(edit_rejects)
{
  static const char *bad[] = { "", "[]", "{\"a\":1", "{\"a\":1}x", "1",
                               "{\"a\":tru}" };
  for(size_t i = 0; i < COUNT(bad); i++)
    EDIT(bad[i], stream_on, NULL);
  static const struct body_edit badv[][1] = {
    { SET("stream", "tru") }, { SET("stream", "") }, { SET("stream", "1 2") },
    { SET("stream", "{\"a\":}") }, { SET("st\"ream", "true") },
    { SET("st\\u0065am", "true") }, { SET("str\xc3\xa9", "true") },
    { SET("a\nb", "true") }, { { NULL, NULL, 0 } },
  };
  for(size_t i = 0; i < COUNT(badv); i++)
    check_edit("{\"a\":1}", badv[i], 1, NULL, __LINE__);
  /* a name that is only removed need not be plain */
  static const struct body_edit odd[] = { DEL("str\xc3\xa9") };
  EDIT("{\"str\\u00e9\":1,\"b\":2}", odd, "{\"b\":2}");
  /* a value's length is what counts, not a NUL */
  static const struct body_edit cut[] = { { "stream", "true}", 4 } };
  EDIT("{}", cut, "{\"stream\":true}");
}

/* ---- many edited members: still one pass ---------------------------------- */

/* A ~2 MB body in the style of many_streams(): `copies` padded kept
 * members, each followed by a "stream" or "stream_options" member, so
 * setting them keeps only the last of each; and what the edits below
 * must make of it. copies is even. */
static void many_edits(struct buf *in, struct buf *want, int copies)
{
  char pad[401], key[32];
  memset(pad, 'y', 400);
  pad[400] = '\0';
  buf_puts(in, "{\"model\":\"o3-mini\", ");
  buf_puts(want, "{");
  for(int i = 0; i < copies; i++) {
    snprintf(key, sizeof(key), "%s\"k%d\": \"", i ? ", " : "", i);
    buf_puts(in, key);
    buf_puts(want, key);
    buf_puts(in, pad);
    buf_puts(want, pad);
    buf_puts(in, "\"");
    buf_puts(want, "\"");
    buf_puts(in, i % 2 ? ", \"stream\": false" : ", \"stream_options\": {}");
    if(i == copies - 2)  /* the last occurrences stay where they are */
      buf_puts(want, ", \"stream_options\": {}");
    if(i == copies - 1)
      buf_puts(want, ", \"stream\": true");
  }
  buf_puts(want, ", \"seed\": 1}");
  buf_puts(in, "}");
}

/* 5,000 edited members (and a list of many edits, most naming nothing) in
 * a 2 MB body: the result is right, and each byte is read and copied a
 * bounded number of times. */
TEST(edit_many_linear)
{
  static const struct body_edit e[] = {
    DEL("model"), DEL("user"), SET("stream", "true"), DEL("n"),
    SET("stream_options", "{}"), DEL("stop"), SET("seed", "1"),
    DEL("tools"), DEL("top_p"), DEL("stream_options"),
    SET("stream_options", "{}"),
  };
  struct buf in, want, out;
  struct body_work w;
  buf_init(&in);
  buf_init(&want);
  buf_init(&out);
  many_edits(&in, &want, 5000);
  if(!in.oom && !want.oom) {
    CHECK(in.len > 2000000);
    CHECK(body_edit_members_work(in.ptr, in.len, e, COUNT(e), &out, &w));
    check_big(out.ptr, out.len, want.ptr, want.len, __LINE__);
    if(w.scanned > 3 * in.len + edits_size(e, COUNT(e)) ||
       w.moved > in.len || w.inserted > 100)
      printf("#   %zu bytes, scanned %zu, moved %zu, inserted %zu\n", in.len,
             w.scanned, w.moved, w.inserted);
    CHECK(w.scanned <= 3 * in.len + edits_size(e, COUNT(e)));
    CHECK(w.moved <= in.len && w.inserted <= 100);
    CHECK(!body_ref_check_edit(in.ptr, in.len, e, COUNT(e), out.ptr,
                               out.len));
  }
  buf_free(&in);
  buf_free(&want);
  buf_free(&out);
}

/* ---- property test: random objects, random edit lists ------------------- */

/* Pick 0..5 edits from names and values that hit the generated keys. */
static size_t gen_edits(struct body_edit *e)
{
  static const char *const names[] = { "stream", "stream_options", "model",
                                       "n", "", "seed", "stream_" };
  static const struct body_edit vals[] = {
    BODY_REMOVE(""), BODY_SET("", "true"), BODY_SET("", "false"),
    BODY_SET("", "{\"include_usage\":true}"), BODY_SET("", "\"}\\\"{,\""),
    BODY_SET("", " [1, {\"a\": \"]\"}]\n"), BODY_REMOVE(""),
  };
  size_t count = rnd(6);
  for(size_t i = 0; i < count; i++) {
    e[i] = vals[rnd(COUNT(vals))];
    e[i].name = names[rnd(COUNT(names))];
  }
  return count;
}

TEST(property_edit)
{
  for(int round = 0; round < 20000; round++) {
    struct buf b, out;
    struct body_edit e[5];
    size_t count = gen_edits(e);
    buf_init(&b);
    buf_init(&out);
    gen_object(&b);
    bool ok = !b.oom && body_edit_members(b.ptr, b.len, e, count, &out);
    const char *why = ok ? body_ref_check_edit(b.ptr, b.len, e, count,
                                               out.ptr, out.len)
                         : "failed";
    if(why) {
      printf("#   %s\n#   in [%.*s]\n#   out [%.*s]\n", why, (int)b.len,
             b.ptr, (int)out.len, out.ptr);
      for(size_t i = 0; i < count; i++)
        printf("#   edit %s = %s\n", e[i].name,
               e[i].value ? e[i].value : "(remove)");
      CHECK(!why);
      round = 20000;
    }
    buf_free(&b);
    buf_free(&out);
  }
}

int main(void)
{
  RUN(inspect_basic);
  RUN(inspect_last_wins);
  RUN(inspect_include_usage);
  RUN(inspect_nested_ignored);
  RUN(inspect_rejects);
  RUN(remove_positions);
  RUN(remove_both);
  RUN(remove_pretty);
  RUN(remove_nested_untouched);
  RUN(remove_keeps_bytes);
  RUN(remove_other_names);
  RUN(remove_not_an_object);
  RUN(remove_in_place);
  RUN(remove_exhaustive_small);
  RUN(remove_many_linear);
  RUN(reference_is_quadratic);
  RUN(property_remove);
  RUN(edit_append_compact);
  RUN(edit_append_pretty);
  RUN(edit_append_empty);
  RUN(edit_replace);
  RUN(edit_duplicates);
  RUN(edit_nested_untouched);
  RUN(edit_tricky_values);
  RUN(edit_insert_and_remove);
  RUN(edit_rejects);
  RUN(edit_many_linear);
  RUN(property_edit);
  return check_done();
}
