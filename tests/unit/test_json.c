/* test_json.c - unit tests for hooks/pure/json.c: validation, spans, iterators,
 * key matching, string decoding and the incremental end detector. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "check.h"
#include "json.h"

/* A text with an explicit length, so tables can hold NUL bytes. */
struct text {
  const char *s;
  size_t len; /* 0: use strlen */
};

#define T(s) { s, 0 }
#define TN(s) { s, sizeof(s) - 1 }

static size_t text_len(const struct text *t)
{
  return t->len ? t->len : strlen(t->s);
}

/* A small deterministic PRNG (xorshift64*) for the property tests. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return n ? (uint32_t)((rng_state * 2685821657736338717ull) >> 33) % n : 0;
}

/* Parse s (NUL-terminated) and return the result. */
static bool parses(const char *s)
{
  struct json_span v;
  return json_parse(s, strlen(s), &v);
}

static const struct text valid_texts[] = {
  T("{}"), T("[]"), T("0"), T("-0"), T("1"), T("-1"), T("123"),
  T("1.5"), T("-0.0"), T("1e5"), T("1E+5"), T("1e-5"), T("0.1e10"),
  T("12345678901234567890123"), T("true"), T("false"), T("null"),
  T("\"\""), T("\"abc\""), T(" \t\r\n{} \t\r\n"), T("[1,2,3]"),
  T("{\"a\":1}"), T("{\"a\":{\"b\":[1,{\"c\":null}]}}"),
  T("[ 1 , \"x\" , true , false , null , {} , [] ]"),
  T("{ \"a\" : 1 , \"b\" : 2 }"), T("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""),
  T("\"\\u0041\\u00e9\\uFFFF\""), T("\"\\ud83d\\ude00\""),
  T("\"\\ud800\""), T("\"\\udc00\""), T("\"\\u0000\""),
  T("\"\xc3\xa9\""), T("\"\xe2\x82\xac\""), T("\"\xf0\x9f\x98\x80\""),
  T("\"\xef\xbf\xbf\""), T("\"\xf4\x8f\xbf\xbf\""), T("\"\xed\x9f\xbf\""),
  T("\"\xee\x80\x80\""), T("\"\xc2\x80\""), T("\"\xe0\xa0\x80\""),
  T("\"\xf0\x90\x80\x80\""), T("\"\x7f\""), T("{\"\":\"\"}"),
  T("[[[[[[[[]]]]]]]]"), T("{\"a\":\"}]\\\"{[\"}"), T("[1e0,-1.25E-03]"),
  T("{\"a\":1,\"a\":2}"),
};

static const struct text invalid_texts[] = {
  T(""), T(" "), T("{"), T("}"), T("["), T("]"), T("[1,]"), T("[,1]"),
  T("{,}"), T("{\"a\":1,}"), T("{\"a\"}"), T("{\"a\":}"), T("{\"a\" 1}"),
  T("{a:1}"), T("{'a':1}"), T("{1:2}"), T("[1 2]"), T("{\"a\":1 \"b\":2}"),
  T("[}"), T("{]"), T("[[]"), T("[]]"), T("{}{}"), T("{} x"), T("1 2"),
  T("01"), T("-01"), T("00"), T("+1"), T("-"), T("1."), T(".5"), T("1.e5"),
  T("1e"), T("1e+"), T("1E-"), T("0x10"), T("NaN"), T("Infinity"),
  T("-Infinity"), T("1.5.5"), T("tru"), T("truee"), T("True"), T("nul"),
  T("NULL"), T("fals"), T("\""), T("\"abc"), T("\"\\\""), T("\"\\x\""),
  T("\"\\u12\""), T("\"\\u12G4\""), T("\"\\U0041\""), T("\"\\\""),
  T("\"\t\""), T("\"\n\""), T("\"\x01\""), T("\"\x1f\""),
  T("\"\x80\""), T("\"\xbf\""), T("\"\xc0\x80\""), T("\"\xc1\xbf\""),
  T("\"\xc2\""), T("\"\xc2\x41\""), T("\"\xe0\x80\x80\""),
  T("\"\xe0\x9f\xbf\""), T("\"\xed\xa0\x80\""), T("\"\xed\xbf\xbf\""),
  T("\"\xe2\x82\""), T("\"\xf0\x80\x80\x80\""), T("\"\xf0\x8f\xbf\xbf\""),
  T("\"\xf4\x90\x80\x80\""), T("\"\xf5\x80\x80\x80\""), T("\"\xf8\""),
  T("\"\xff\""), T("\"\xfe\""), T("\xef\xbb\xbf{}"), T("[1,2"),
  T("{\"a\":[}"), T("/*c*/1"), T("[1]//"), T("\v1"), T("\f1"),
  TN("\0"), TN("{}\0"), TN("\0{}"), TN("\"a\0b\""), TN("[1,\0 2]"),
  TN("{\"a\"\0:1}"), TN("tr\0e"),
};

TEST(valid_table)
{
  for(size_t i = 0; i < sizeof(valid_texts) / sizeof(valid_texts[0]); i++) {
    struct json_span v;
    const struct text *t = &valid_texts[i];
    bool ok = json_parse(t->s, text_len(t), &v);
    if(!ok)
      printf("#   should be valid: [%s]\n", t->s);
    CHECK(ok);
    CHECK(v.type != JSON_NONE);
  }
}

TEST(invalid_table)
{
  for(size_t i = 0; i < sizeof(invalid_texts) / sizeof(invalid_texts[0]);
      i++) {
    struct json_span v;
    const struct text *t = &invalid_texts[i];
    bool ok = json_parse(t->s, text_len(t), &v);
    if(ok)
      printf("#   should be invalid (#%zu): [%s]\n", i, t->s);
    CHECK(!ok);
    CHECK(v.type == JSON_NONE);
  }
}

TEST(span_and_type)
{
  struct json_span v;
  const char *s = "  \n{\"a\": [1, 2]}\t ";
  CHECK(json_parse(s, strlen(s), &v));
  CHECK(v.type == JSON_OBJECT);
  CHECK_MEM(v.ptr, v.len, "{\"a\": [1, 2]}", 13);
  CHECK(json_parse(" \"x\" ", 5, &v) && v.type == JSON_STRING);
  CHECK_MEM(v.ptr, v.len, "\"x\"", 3);
  CHECK(json_parse("-1.5e3", 6, &v) && v.type == JSON_NUMBER && v.len == 6);
  CHECK(json_parse("[0]", 3, &v) && v.type == JSON_ARRAY);
  CHECK(json_parse("true", 4, &v) && v.type == JSON_TRUE);
  CHECK(json_parse("false", 5, &v) && v.type == JSON_FALSE);
  CHECK(json_parse("null", 4, &v) && v.type == JSON_NULL);
  /* a length shorter than the string: only the prefix counts */
  CHECK(json_parse("1234", 2, &v) && v.len == 2);
  CHECK(!json_parse("[1]", 2, &v));
  CHECK(!json_parse(NULL, 0, &v));
}

/* Build n opening brackets (kind c) followed by n closing ones. */
static char *nested(size_t n, char open, char close)
{
  char *s = malloc(2 * n + 1);
  if(!s)
    return NULL;
  memset(s, open, n);
  memset(s + n, close, n);
  s[2 * n] = '\0';
  return s;
}

TEST(depth_limit)
{
  struct json_span v;
  char *s = nested(JSON_MAX_DEPTH, '[', ']');
  CHECK(s && json_parse(s, 2 * JSON_MAX_DEPTH, &v));
  free(s);
  s = nested(JSON_MAX_DEPTH + 1, '[', ']');
  CHECK(s && !json_parse(s, 2 * (JSON_MAX_DEPTH + 1), &v));
  free(s);
  /* objects at the limit: {"a":{"a":...{}...}} */
  struct buf b;
  buf_init(&b);
  for(int i = 0; i < JSON_MAX_DEPTH - 1; i++)
    buf_puts(&b, "{\"a\":");
  buf_puts(&b, "{}");
  for(int i = 0; i < JSON_MAX_DEPTH - 1; i++)
    buf_puts(&b, "}");
  CHECK(!b.oom && json_parse(b.ptr, b.len, &v) && v.type == JSON_OBJECT);
  buf_free(&b);
}

TEST(hostile_depth)
{
  struct json_span v;
  size_t n = 100000;
  char *s = malloc(n);
  CHECK(s != NULL);
  if(!s)
    return;
  clock_t t0 = clock();
  memset(s, '[', n);
  CHECK(!json_parse(s, n, &v));
  memset(s, '{', n);
  CHECK(!json_parse(s, n, &v));
  for(size_t i = 0; i + 5 <= n; i += 5)
    memcpy(s + i, "{\"\":[", 5);
  CHECK(!json_parse(s, n, &v));
  CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
  free(s);
}

TEST(mixed_nesting_kinds)
{
  /* the bit stack must remember which kind each level is */
  CHECK(parses("[{\"a\":[{\"b\":[]}, 1]}, {\"c\":{}}]"));
  CHECK(!parses("[{\"a\":[{\"b\":[]}, 1]], {\"c\":{}}]"));
  CHECK(!parses("{\"a\":[1}"));
  CHECK(!parses("[{\"a\":1]"));
  CHECK(!parses("[1:2]"));
  CHECK(!parses("{\"a\":1:2}"));
}

TEST(iterate_members)
{
  struct json_span obj, k, v;
  struct json_iter it;
  const char *s = "{ \"a\" : 1 , \"b\":\"x}\\\"\" ,\"c\" :{\"d\":[1,{}]},"
                  "\"e\":[ \"]\" ],\"f\":null, \"g\":-1.5e3 }";
  CHECK(json_parse(s, strlen(s), &obj));
  json_iter_init(&it, obj);
  CHECK(json_next_member(&it, &k, &v));
  CHECK_MEM(k.ptr, k.len, "\"a\"", 3);
  CHECK_MEM(v.ptr, v.len, "1", 1);
  CHECK(v.type == JSON_NUMBER);
  CHECK(json_next_member(&it, &k, &v));
  CHECK_MEM(k.ptr, k.len, "\"b\"", 3);
  CHECK_MEM(v.ptr, v.len, "\"x}\\\"\"", 6);
  CHECK(v.type == JSON_STRING);
  CHECK(json_next_member(&it, &k, &v));
  CHECK_MEM(v.ptr, v.len, "{\"d\":[1,{}]}", 12);
  CHECK(v.type == JSON_OBJECT);
  CHECK(json_next_member(&it, &k, &v));
  CHECK_MEM(v.ptr, v.len, "[ \"]\" ]", 7);
  CHECK(v.type == JSON_ARRAY);
  CHECK(json_next_member(&it, &k, &v) && v.type == JSON_NULL);
  CHECK(json_next_member(&it, &k, &v) && v.type == JSON_NUMBER);
  CHECK_MEM(v.ptr, v.len, "-1.5e3", 6);
  CHECK(!json_next_member(&it, &k, &v));
  CHECK(!json_next_member(&it, &k, &v));
}

TEST(iterate_elements)
{
  struct json_span arr, v;
  struct json_iter it;
  const char *s = "[ true,false , \"a,b\",[[]] ,{\"x\":[1]},0 ]";
  static const char *want[] = { "true", "false", "\"a,b\"", "[[]]",
                                "{\"x\":[1]}", "0" };
  size_t i = 0;
  CHECK(json_parse(s, strlen(s), &arr));
  json_iter_init(&it, arr);
  while(json_next_element(&it, &v)) {
    CHECK(i < 6);
    if(i < 6)
      CHECK_MEM(v.ptr, v.len, want[i], strlen(want[i]));
    i++;
  }
  CHECK(i == 6);
  /* empty containers and non-containers iterate nothing */
  CHECK(json_parse("[ ]", 3, &arr));
  json_iter_init(&it, arr);
  CHECK(!json_next_element(&it, &v));
  CHECK(json_parse("{ }", 3, &arr));
  json_iter_init(&it, arr);
  CHECK(!json_next_member(&it, &v, &v));
  CHECK(json_parse("\"ab\"", 4, &arr));
  json_iter_init(&it, arr);
  CHECK(!json_next_element(&it, &v));
}

TEST(deep_value_skip)
{
  /* skipping a value at the depth limit is iterative and exact */
  struct json_span obj, k, v;
  struct json_iter it;
  struct buf b;
  buf_init(&b);
  buf_puts(&b, "{\"deep\":");
  for(int i = 0; i < JSON_MAX_DEPTH - 1; i++)
    buf_puts(&b, "[\"]\",");
  buf_puts(&b, "1");
  for(int i = 0; i < JSON_MAX_DEPTH - 1; i++)
    buf_puts(&b, "]");
  buf_puts(&b, ",\"after\":true}");
  CHECK(!b.oom);
  if(b.oom)
    return;
  CHECK(json_parse(b.ptr, b.len, &obj));
  json_iter_init(&it, obj);
  CHECK(json_next_member(&it, &k, &v) && v.type == JSON_ARRAY);
  CHECK(json_next_member(&it, &k, &v) && json_key_is(k, "after"));
  CHECK(v.type == JSON_TRUE);
  buf_free(&b);
}

/* Make a string span from a C literal that includes the quotes. */
static struct json_span sspan(const char *s)
{
  struct json_span k = { s, strlen(s), JSON_STRING };
  return k;
}

TEST(key_is)
{
  CHECK(json_key_is(sspan("\"stream\""), "stream"));
  CHECK(json_key_is(sspan("\"str\\u0065am\""), "stream"));
  CHECK(json_key_is(sspan("\"\\u0073\\u0074ream\""), "stream"));
  CHECK(json_key_is(sspan("\"a\\/b\""), "a/b"));
  CHECK(json_key_is(sspan("\"a\\\"b\""), "a\"b"));
  CHECK(json_key_is(sspan("\"\\u00e9\""), "\xc3\xa9"));
  CHECK(json_key_is(sspan("\"\xc3\xa9\""), "\xc3\xa9"));
  CHECK(json_key_is(sspan("\"\\ud83d\\ude00\""), "\xf0\x9f\x98\x80"));
  CHECK(json_key_is(sspan("\"\""), ""));
  CHECK(!json_key_is(sspan("\"stream\""), "strea"));
  CHECK(!json_key_is(sspan("\"stream\""), "streams"));
  CHECK(!json_key_is(sspan("\"strea\""), "stream"));
  CHECK(!json_key_is(sspan("\"Stream\""), "stream"));
  CHECK(!json_key_is(sspan("\"stream\\u0000\""), "stream"));
  CHECK(!json_key_is(sspan("\"\\ud800\""), "\xed\xa0\x80"));
  CHECK(!json_key_is(sspan("\"x\""), NULL));
  CHECK(!json_key_is(sspan("x"), "x"));
}

TEST(get_last_wins)
{
  struct json_span obj, v;
  const char *s = "{\"a\":1,\"b\":{\"a\":9},\"a\":2,\"\\u0061\":3,\"c\":4}";
  CHECK(json_parse(s, strlen(s), &obj));
  CHECK(json_get(obj, "a", &v));
  CHECK_MEM(v.ptr, v.len, "3", 1);
  CHECK(json_get(obj, "b", &v) && v.type == JSON_OBJECT);
  CHECK(json_get(obj, "c", &v));
  CHECK_MEM(v.ptr, v.len, "4", 1);
  CHECK(!json_get(obj, "d", &v) && v.type == JSON_NONE);
  CHECK(json_parse("[1]", 3, &obj));
  CHECK(!json_get(obj, "a", &v) && v.type == JSON_NONE);
  struct json_span none = { NULL, 0, JSON_NONE };
  CHECK(!json_get(none, "a", &v) && v.type == JSON_NONE);
}

TEST(string_decode)
{
  char out[64];
  size_t n = 99;
  CHECK(json_string_decode(sspan("\"abc\""), out, sizeof(out), &n));
  CHECK(n == 3 && !strcmp(out, "abc"));
  CHECK(json_string_decode(sspan("\"\""), out, sizeof(out), &n) && n == 0);
  CHECK(out[0] == '\0');
  CHECK(json_string_decode(sspan("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), out,
                           sizeof(out), &n));
  CHECK_MEM(out, n, "\"\\/\b\f\n\r\t", 8);
  CHECK(json_string_decode(sspan("\"\\u0041\\u00e9\\u20ac\""), out,
                           sizeof(out), &n));
  CHECK_STR(out, "A\xc3\xa9\xe2\x82\xac");
  CHECK(json_string_decode(sspan("\"\\uD83D\\uDE00!\""), out, sizeof(out),
                           &n));
  CHECK_STR(out, "\xf0\x9f\x98\x80!");
  CHECK(json_string_decode(sspan("\"\\udbff\\udfff\""), out, sizeof(out),
                           &n));
  CHECK_STR(out, "\xf4\x8f\xbf\xbf");
  CHECK(json_string_decode(sspan("\"\xf0\x9f\x98\x80\""), out, sizeof(out),
                           &n) && n == 4);
  CHECK(!json_string_decode(sspan("\"a\\u0000b\""), out, sizeof(out), &n));
  CHECK(n == 0);
  CHECK(!json_string_decode(sspan("\"\\ud800\""), out, sizeof(out), &n));
  CHECK(!json_string_decode(sspan("\"\\ud800x\""), out, sizeof(out), &n));
  CHECK(!json_string_decode(sspan("\"\\ud800\\u0041\""), out, sizeof(out),
                            &n));
  CHECK(!json_string_decode(sspan("\"\\udc00\""), out, sizeof(out), &n));
  CHECK(!json_string_decode(sspan("\"\\ude00\\ud83d\""), out, sizeof(out),
                            &n));
  CHECK(!json_string_decode(sspan("abc"), out, sizeof(out), &n));
}

TEST(string_decode_capacity)
{
  char out[8];
  size_t n;
  /* "abcdefg" needs 7 bytes + NUL = 8 */
  CHECK(json_string_decode(sspan("\"abcdefg\""), out, 8, &n) && n == 7);
  CHECK(!json_string_decode(sspan("\"abcdefgh\""), out, 8, &n));
  CHECK(n == 0 && out[0] == '\0');
  CHECK(!json_string_decode(sspan("\"abc\""), out, 3, &n));
  CHECK(json_string_decode(sspan("\"abc\""), out, 4, &n) && n == 3);
  CHECK(!json_string_decode(sspan("\"\""), out, 0, &n));
  CHECK(json_string_decode(sspan("\"\""), out, 1, &n) && n == 0);
  /* a multi-byte unit that does not fit is refused whole */
  CHECK(!json_string_decode(sspan("\"abcde\\u20ac\""), out, 8, &n));
  CHECK(json_string_decode(sspan("\"abcd\\u20ac\""), out, 8, &n) && n == 7);
}

/* Feed s to a fresh detector in pieces whose sizes come from cut(); return
 * the absolute offset just after the value, or (size_t)-1 / -2 for
 * MORE / BAD at the end. */
static size_t end_offset(const char *s, size_t n, size_t maxpiece)
{
  struct json_end d;
  size_t off = 0, at;
  json_end_init(&d);
  while(off < n) {
    size_t piece = maxpiece ? 1 + rnd((uint32_t)maxpiece) : 1;
    if(piece > n - off)
      piece = n - off;
    enum json_end_result r = json_end_feed(&d, s + off, piece, &at);
    if(r == JSON_END_DONE)
      return off + at;
    if(r == JSON_END_BAD)
      return (size_t)-2;
    CHECK(at == piece);
    off += piece;
  }
  return (size_t)-1;
}

TEST(end_basic)
{
  struct json_end d;
  size_t at = 77;
  const char *s = "{\"a\":\"}\\\"]\"}tail";
  json_end_init(&d);
  CHECK(json_end_feed(&d, s, strlen(s), &at) == JSON_END_DONE);
  CHECK(at == 12);
  CHECK(json_end_feed(&d, "more", 4, &at) == JSON_END_DONE && at == 0);
  CHECK(end_offset("  \r\n\t[1,[2],{}] x", 17, 0) == 15);
  CHECK(end_offset("\xef\xbb\xbf{}", 5, 0) == 5);
  CHECK(end_offset("\xef\xbb\xbf \n[\"\\\\\"]", 11, 0) == 11);
  CHECK(end_offset("{\"a\":\"\\\\\"}", 10, 0) == 10);
  CHECK(end_offset("{\"a\":[", 6, 0) == (size_t)-1);
  CHECK(end_offset("", 0, 0) == (size_t)-1);
  CHECK(end_offset("   ", 3, 0) == (size_t)-1);
  CHECK(end_offset("\xef\xbb", 2, 0) == (size_t)-1);
}

TEST(end_bad)
{
  struct json_end d;
  size_t at = 77;
  static const struct text bad[] = {
    T("1"), T("\"a\""), T("true"), T("null"), T(" x{}"), T("\xef\xbb{}"),
    T("\xef{}"), T(" \xef\xbb\xbf{}"), T("\xef\xbb\xbf\xef\xbb\xbf{}"),
    T("}"), T("]"), TN("\0{}"), T("<html>"),
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    size_t n = text_len(&bad[i]);
    CHECK(end_offset(bad[i].s, n, 0) == (size_t)-2);
    CHECK(end_offset(bad[i].s, n, 4) == (size_t)-2);
  }
  json_end_init(&d);
  CHECK(json_end_feed(&d, "  x", 3, &at) == JSON_END_BAD && at == 2);
  CHECK(json_end_feed(&d, "{}", 2, &at) == JSON_END_BAD);
  CHECK(json_end_feed(&d, "{}", 2, NULL) == JSON_END_BAD);
}

TEST(end_split_escapes)
{
  /* an escaped quote or backslash split exactly at a piece boundary */
  struct json_end d;
  size_t at;
  json_end_init(&d);
  CHECK(json_end_feed(&d, "{\"a\":\"x\\", 8, &at) == JSON_END_MORE);
  CHECK(at == 8);
  CHECK(json_end_feed(&d, "\"}", 2, &at) == JSON_END_MORE);
  CHECK(json_end_feed(&d, "\"}", 2, &at) == JSON_END_DONE && at == 2);
  json_end_init(&d);
  CHECK(json_end_feed(&d, "[\"\\", 3, &at) == JSON_END_MORE);
  CHECK(json_end_feed(&d, "\\", 1, &at) == JSON_END_MORE);
  CHECK(json_end_feed(&d, "\"]", 2, &at) == JSON_END_DONE && at == 2);
  json_end_init(&d);
  CHECK(json_end_feed(&d, "\xef", 1, &at) == JSON_END_MORE);
  CHECK(json_end_feed(&d, "\xbb", 1, &at) == JSON_END_MORE);
  CHECK(json_end_feed(&d, "\xbf", 1, &at) == JSON_END_MORE);
  CHECK(json_end_feed(&d, "[]", 2, &at) == JSON_END_DONE && at == 2);
  json_end_init(&d);
  CHECK(json_end_feed(&d, "[", 1, &at) == JSON_END_MORE);
  CHECK(json_end_feed(&d, "", 0, &at) == JSON_END_MORE && at == 0);
  CHECK(json_end_feed(&d, "]", 1, &at) == JSON_END_DONE && at == 1);
}

/* ---- a random JSON generator for property tests ------------------------ */

/* Append a random string with escapes, brackets and UTF-8 inside. */
static void gen_string(struct buf *b)
{
  static const char *parts[] = {
    "a", "{", "}", "[", "]", ",", ":", " ", "\\\"", "\\\\", "\\/", "\\n",
    "\\u0041", "\\ud83d\\ude00", "\\ud800", "\xc3\xa9", "\xf0\x9f\x98\x80",
    "stream", "\\u005c",
  };
  buf_puts(b, "\"");
  for(uint32_t i = rnd(6); i; i--)
    buf_puts(b, parts[rnd(sizeof(parts) / sizeof(parts[0]))]);
  buf_puts(b, "\"");
}

static void gen_ws(struct buf *b)
{
  static const char *ws[] = { "", "", "", " ", "\n  ", "\t", "\r\n" };
  buf_puts(b, ws[rnd(7)]);
}

/* Append a random valid value of nesting at most depth. */
static void gen_value(struct buf *b, int depth)
{
  static const char *scalars[] = {
    "0", "-1", "3.25", "1e10", "-0.5E-3", "12345678901234567890", "true",
    "false", "null",
  };
  uint32_t kind = depth > 0 ? rnd(5) : 2 + rnd(2);
  if(kind < 2 || kind == 4) {
    uint32_t n = rnd(5);
    kind = kind == 4 ? rnd(2) : kind;
    buf_puts(b, kind ? "{" : "[");
    for(uint32_t i = 0; i < n; i++) {
      gen_ws(b);
      if(i)
        buf_puts(b, ",");
      gen_ws(b);
      if(kind) {
        gen_string(b);
        gen_ws(b);
        buf_puts(b, ":");
        gen_ws(b);
      }
      gen_value(b, depth - 1);
    }
    gen_ws(b);
    buf_puts(b, kind ? "}" : "]");
  }
  else if(kind == 2)
    gen_string(b);
  else
    buf_puts(b, scalars[rnd(sizeof(scalars) / sizeof(scalars[0]))]);
}

/* Count the elements/members of a validated container and check each
 * value span parses on its own as exactly that value. */
static size_t walk(struct json_span c)
{
  struct json_iter it;
  struct json_span k, v, again;
  size_t count = 0;
  json_iter_init(&it, c);
  for(;;) {
    bool more = c.type == JSON_OBJECT ? json_next_member(&it, &k, &v)
                                      : json_next_element(&it, &v);
    if(!more)
      break;
    CHECK(json_parse(v.ptr, v.len, &again) && again.len == v.len);
    CHECK(again.type == v.type);
    if(v.type == JSON_OBJECT || v.type == JSON_ARRAY)
      walk(v);
    count++;
  }
  return count;
}

TEST(property_generated)
{
  for(int round = 0; round < 3000; round++) {
    struct buf b;
    struct json_span v;
    buf_init(&b);
    bool obj = rnd(2);
    buf_puts(&b, obj ? "{\"k\":" : "[");
    gen_value(&b, 1 + (int)rnd(5));
    buf_puts(&b, obj ? "}" : "]");
    CHECK(!b.oom && json_parse(b.ptr, b.len, &v));
    CHECK(v.len == b.len);
    walk(v);
    size_t n = b.len;
    buf_puts(&b, " {\"trailing\":1}");
    CHECK(end_offset(b.ptr, b.len, 0) == n);
    CHECK(end_offset(b.ptr, b.len, 1 + rnd(16)) == n);
    CHECK(end_offset(b.ptr, b.len, 4096) == n);
    CHECK(!json_parse(b.ptr, b.len, &v));
    /* every proper prefix is invalid and leaves the detector open */
    size_t cut = rnd((uint32_t)n);
    CHECK(!json_parse(b.ptr, cut, &v));
    CHECK(end_offset(b.ptr, cut, 3) == (size_t)-1);
    buf_free(&b);
  }
}

TEST(property_mutations)
{
  /* random byte edits never crash; any accepted text re-walks cleanly */
  for(int round = 0; round < 20000; round++) {
    struct buf b;
    struct json_span v;
    buf_init(&b);
    gen_value(&b, 4);
    if(b.oom)
      break;
    for(uint32_t k = 1 + rnd(3); k; k--)
      b.ptr[rnd((uint32_t)b.len)] = (char)rnd(256);
    if(json_parse(b.ptr, b.len, &v) &&
       (v.type == JSON_OBJECT || v.type == JSON_ARRAY))
      walk(v);
    end_offset(b.ptr, b.len, 5);
    buf_free(&b);
  }
}

TEST(nul_bytes)
{
  struct json_span v;
  static const char s[] = "{\"a\":\"\\u0000\"}";
  char withnul[] = { '[', '1', ']', '\0' };
  CHECK(json_parse(s, sizeof(s) - 1, &v));
  CHECK(!json_parse(withnul, 4, &v));
  CHECK(json_parse(withnul, 3, &v));
  char nuls[64];
  memset(nuls, 0, sizeof(nuls));
  CHECK(!json_parse(nuls, sizeof(nuls), &v));
  CHECK(end_offset(nuls, sizeof(nuls), 0) == (size_t)-2);
  CHECK(end_offset("[\"\0]\"]", 6, 0) == 6);
}

int main(void)
{
  RUN(valid_table);
  RUN(invalid_table);
  RUN(span_and_type);
  RUN(depth_limit);
  RUN(hostile_depth);
  RUN(mixed_nesting_kinds);
  RUN(iterate_members);
  RUN(iterate_elements);
  RUN(deep_value_skip);
  RUN(key_is);
  RUN(get_last_wins);
  RUN(string_decode);
  RUN(string_decode_capacity);
  RUN(end_basic);
  RUN(end_bad);
  RUN(end_split_escapes);
  RUN(property_generated);
  RUN(property_mutations);
  RUN(nul_bytes);
  return check_done();
}
