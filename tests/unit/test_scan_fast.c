/* test_scan_fast.c - unit tests for the one-walk and word-at-a-time
 * paths of the replay's readers: json_pick and json_name_in (json.h),
 * string skipping by memchr, json_parse's and json_end's 8-byte steps
 * (byte_scan.h), piece_next's window (sse_piece.h) and buf_reserve. Each
 * is checked against the plain byte-at-a-time rule it replaces, at every
 * offset around the 8-byte boundaries. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "byte_scan.h"
#include "check.h"
#include "json.h"
#include "sse_piece.h"

static struct json_span parsed(const char *s)
{
  struct json_span v;
  CHECK(json_parse(s, strlen(s), &v));
  return v;
}

TEST(pick_one_walk)
{
  static const char *const names[] = {"a", "bb", "c", NULL};
  struct json_span v[3];
  struct json_span o = parsed("{\"bb\":1,\"x\":[\"]\"],\"a\":\"s\\\"\",\"bb\":22}");
  CHECK(json_pick(o, names, v) == 1);  /* "x" is not named */
  CHECK(v[0].type == JSON_STRING && v[0].len == 5);
  CHECK(v[1].type == JSON_NUMBER && v[1].len == 2);  /* the last "bb" */
  CHECK(v[2].type == JSON_NONE && !v[2].ptr);
  CHECK(json_pick(parsed("[1]"), names, v) == -1);
  CHECK(v[0].type == JSON_NONE && v[1].type == JSON_NONE);
  CHECK(json_pick(parsed("{}"), names, v) == 0);
}

TEST(name_in_escapes_and_prefixes)
{
  static const char *const names[] = {"ab", "a", "", "\xc3\xa9", NULL};
  struct json_span k = {"\"a\"", 3, JSON_STRING};
  CHECK(json_name_in(k, names) == 1);
  k = (struct json_span){"\"abc\"", 5, JSON_STRING};
  CHECK(json_name_in(k, names) == -1);
  k = (struct json_span){"\"\\u0061b\"", 9, JSON_STRING};  /* escaped "ab" */
  CHECK(json_name_in(k, names) == 0);
  k = (struct json_span){"\"\"", 2, JSON_STRING};
  CHECK(json_name_in(k, names) == 2);
  k = (struct json_span){"\"\\u00e9\"", 8, JSON_STRING};
  CHECK(json_name_in(k, names) == 3);
  k = (struct json_span){"\"\\u0000\"", 8, JSON_STRING};
  CHECK(json_name_in(k, names) == -1);
  k = (struct json_span){NULL, 0, JSON_NONE};
  CHECK(json_name_in(k, names) == -1);
  CHECK(json_key_is((struct json_span){"\"ab\"", 4, JSON_STRING}, "ab"));
  CHECK(!json_key_is((struct json_span){"\"ab\"", 4, JSON_STRING}, "a"));
  CHECK(!json_key_is((struct json_span){"\"a\"", 3, JSON_STRING}, "ab"));
}

/* Strings ending in runs of backslashes: the quote after an even run
 * closes the string, after an odd run it is escaped. */
TEST(skip_backslash_runs)
{
  for(int run = 0; run <= 6; run++) {
    char text[64];
    int n = 0;
    n += sprintf(text + n, "{\"k\":\"x");
    for(int i = 0; i < run; i++)
      text[n++] = '\\';
    if(run & 1)
      text[n++] = '"';  /* escaped: the string goes on */
    n += sprintf(text + n, "\",\"z\":1}");
    struct json_span o = parsed(text), v;
    CHECK(json_get(o, "z", &v) && v.type == JSON_NUMBER);
    CHECK(json_get(o, "k", &v) && v.type == JSON_STRING);
    CHECK(v.len == (size_t)(3 + run + (run & 1)));
  }
}

/* One bad byte (or a quote, an escape) at every offset of a long ASCII
 * string: json_parse's 8-byte steps must stop at it as the byte loop. */
TEST(parse_bad_byte_every_offset)
{
  static const char bad[] = {0x01, 0x1f, (char)0x80, (char)0xff, '"'};
  char s[80];
  for(size_t at = 0; at < 40; at++) {
    for(size_t b = 0; b < sizeof(bad); b++) {
      memset(s, 'a', sizeof(s));
      s[0] = '"';
      s[at + 1] = bad[b];
      s[60] = '"';
      struct json_span v;
      CHECK(!json_parse(s, 61, &v));
    }
    memset(s, 'a', sizeof(s));
    s[0] = '"';
    memcpy(s + at + 1, "\\n\xc3\xa9", 4);  /* escape and UTF-8: fine */
    s[60] = '"';
    struct json_span v;
    CHECK(json_parse(s, 61, &v) && v.len == 61);
  }
}

/* json_end: a value fed in pieces of every size ends where it ends, with
 * quotes, escapes and brackets inside its strings at every offset. */
TEST(end_every_split)
{
  char s[120];
  for(size_t at = 0; at < 30; at++) {
    memset(s, 'b', sizeof(s));
    memcpy(s, "{\"k\":\"", 6);
    memcpy(s + 6 + at, "}\\\"]", 4);
    memcpy(s + 70, "\"}  ", 4);
    for(size_t piece = 1; piece <= 17; piece += 4) {
      struct json_end d;
      size_t off = 0, start = 0, where = 0;
      enum json_end_result r = JSON_END_MORE;
      json_end_init(&d);
      while(r == JSON_END_MORE && off < 74) {
        size_t k = 74 - off < piece ? 74 - off : piece;
        start = off;
        r = json_end_feed(&d, s + off, k, &where);
        off += k;
      }
      CHECK(r == JSON_END_DONE);
      CHECK(start + where == 72);  /* just after the closing brace */
    }
  }
}

/* piece_next with its window against the per-character rule it skips. */
static const char *piece_ref(const char *p, const char *end, size_t max)
{
  const char *q = p, *cut = NULL;
  size_t n = 0;
  while(q < end && n < max) {
    size_t len = piece_char_len(q, end);
    bool space = (len == 1 && q[0] == ' ') ||
                 (len == 2 && q[0] == '\\' && q[1] == 'n');
    q += len;
    n++;
    if(space)
      cut = q;
  }
  return (q == end || !cut) ? q : cut;
}

TEST(piece_window_matches_rule)
{
  static const char *const alphabet[] = {"a", " ", "\\n", "\\\"", "\xc3\xa9",
                                         "\\ud83d\\ude00", "xyz"};
  uint64_t r = 88172645463325252ull;
  for(int round = 0; round < 3000; round++) {
    char s[200];
    size_t n = 0;
    r ^= r << 13; r ^= r >> 7; r ^= r << 17;
    int len = (int)(r % 20);
    for(int i = 0; i < len; i++) {
      r ^= r << 13; r ^= r >> 7; r ^= r << 17;
      /* mostly ASCII, sometimes not: both paths */
      const char *a = alphabet[(round & 1) ? r % 3 == 0 ? 1 : 0 : r % 7];
      memcpy(s + n, a, strlen(a));
      n += strlen(a);
    }
    for(size_t max = 1; max <= 30; max += 3) {
      const char *p = s;
      while(p < s + n) {
        const char *want = piece_ref(p, s + n, max);
        CHECK(piece_next(p, s + n, max) == want);
        p = want;
      }
    }
  }
}

TEST(byte_scan_stops)
{
  char s[40];
  for(size_t at = 0; at < 32; at++) {
    memset(s, 'q', sizeof(s));
    s[at] = '\\';
    CHECK(bs_skip_unquoted(s, s + 40) <= s + at);
    CHECK(bs_skip_unquoted(s, s + 40) + 8 > s + at);
    CHECK(bs_skip_ascii(s, s + 40) <= s + at);
    s[at] = 0x7f;  /* DEL is plain in a JSON string */
    CHECK(bs_skip_plain(s, s + 40) >= s + 33);
    s[at] = 0x1f;
    CHECK(bs_skip_plain(s, s + 40) <= s + at);
  }
}

/* sse_put_value's rule byte by byte: whitespace outside strings dropped. */
static size_t compact_ref(const char *p, size_t n, char *out)
{
  size_t o = 0;
  bool in_str = false;
  for(size_t i = 0; i < n; i++) {
    if(in_str) {
      if(p[i] == '\\' && i + 1 < n) {
        out[o++] = p[i++];
      }
      else if(p[i] == '"')
        in_str = false;
    }
    else if(p[i] == '"')
      in_str = true;
    else if(p[i] == ' ' || p[i] == '\n' || p[i] == '\t' || p[i] == '\r')
      continue;
    out[o++] = p[i];
  }
  return o;
}

TEST(put_value_strings_every_offset)
{
  /* a long string with a quote escape, a backslash pair and spaces,
   * moved across the 8-byte steps, between spaced members */
  for(size_t at = 0; at < 24; at++) {
    char s[160], want[160];
    struct buf b;
    size_t n = 0;
    n += (size_t)snprintf(s + n, sizeof(s) - n, "{ \"k\" : \"");
    memset(s + n, 'w', at);
    n += at;
    n += (size_t)snprintf(s + n, sizeof(s) - n,
                          "a \\\" b\\\\ c   de fghijklmnop\" ,\n\"z\": [ 1 , \"%.*s\" ] }",
                          (int)(at % 9), "qqqqqqqqq");
    buf_init(&b);
    sse_put_value(&b, parsed(s));
    CHECK_MEM(b.ptr, b.len, want, compact_ref(s, n, want));
    buf_free(&b);
  }
}

TEST(reserve_exact_then_doubling)
{
  struct buf b;
  buf_init(&b);
  CHECK(buf_reserve(&b, 100000));
  CHECK(b.cap == 100001);
  char chunk[1000];
  memset(chunk, 'z', sizeof(chunk));
  for(int i = 0; i < 100; i++)
    CHECK(buf_append(&b, chunk, sizeof(chunk)));
  CHECK(b.cap == 100001 && b.len == 100000);
  CHECK(buf_append(&b, "!", 1));
  CHECK(b.cap == 200002 && b.len == 100001);
  buf_free(&b);
  CHECK(buf_puts(&b, "small") && b.cap == 64);
  CHECK(!buf_reserve(&b, (size_t)-1 / 2));
  CHECK(b.oom);
  buf_free(&b);
}

int main(void)
{
  RUN(pick_one_walk);
  RUN(name_in_escapes_and_prefixes);
  RUN(skip_backslash_runs);
  RUN(parse_bad_byte_every_offset);
  RUN(end_every_split);
  RUN(piece_window_matches_rule);
  RUN(byte_scan_stops);
  RUN(put_value_strings_every_offset);
  RUN(reserve_exact_then_doubling);
  return check_done();
}
