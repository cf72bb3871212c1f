/* test_body_scan.c - unit tests for hooks/pure/body_scan.c: the fast pass
 * says what json_parse() and a walk of the members say (body_scan_ref.h),
 * on chosen texts, on every prefix of them, on each one-byte change of
 * them, and on long strings whose stops fall on every offset of a block. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body_scan.h"
#include "body_scan_ref.h"
#include "buf.h"
#include "check.h"
#include "json.h"

static const char *const texts[] = {
  "{}", " { } ", "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[]}",
  "{\"stream\":true,\"stream\":false}", "{\"model\":1,\"model\":\"x\"}",
  "{\"str\\u0065am\":true,\"mod\\u0065l\":\"a\\\"b\"}",
  "{\"stream_options\":{\"include_usage\":true},\"stream\":true}",
  "{\n  \"model\": \"o1\",\n  \"messages\": [\n    {\"role\": \"user\", "
  "\"content\": \"h\\u00e9llo \\ud83d\\ude00 \\n\\t\"}\n  ],\n  \"stream\": "
  "true\n}\n",
  "{\"a\":[1,-2.5e+3,0,true,false,null,{\"b\":[]},[[]]],\"stream\":null}",
  "{\"x\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
  "{\"model\":\"m\"}x", "{\"model\":\"m\"", "{\"model\"}", "{\"a\":01}",
  "{\"a\":1.}", "{\"a\":-}", "{\"a\":tru}", "{\"a\":\"\x01\"}",
  "{\"a\":\"\\x\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":\"\xc0\xaf\"}",
  "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
  "{\"a\":\"\xe2\x82\"}", "{\"a\":1,}", "{,\"a\":1}", "{\"a\":[1,]}",
  "[1]", "\"s\"", "1", "", " ", "{\"a\":1}}", "{\"a\" 1}", "{'a':1}",
  "{\"stream\":tr\"}", "{\"stream\":[}", "{\"model\":\"\\\\\"}",
  "{\"stream_options\":{\"include_usage\":false},\"model\":\"\"}",
  "\xef\xbb\xbf{}",
};

TEST(agrees_on_texts)
{
  for(size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    const char *t = texts[i];
    size_t n = strlen(t);
    if(!body_scan_agrees(t, n))
      printf("#   differs on text %zu\n", i);
    CHECK(body_scan_agrees(t, n));
    for(size_t k = 0; k < n; k++)  /* every prefix */
      CHECK(body_scan_agrees(t, k));
  }
}

TEST(finds_members)
{
  struct body_members m;
  const char *s = "{\"model\":\"gpt-4o\",\"stream\":true,\"stream_options\":"
                  "{\"include_usage\":true},\"stream\":false}";
  CHECK(body_scan(s, strlen(s), &m));
  CHECK_MEM(m.model.ptr, m.model.len, "\"gpt-4o\"", 8);
  CHECK(m.model.type == JSON_STRING);
  CHECK(m.stream.type == JSON_FALSE);  /* the last one */
  CHECK(m.stream_options.type == JSON_OBJECT);
  CHECK_MEM(m.stream_options.ptr, m.stream_options.len,
            "{\"include_usage\":true}", 22);
  CHECK(m.obj.ptr == s && m.obj.len == strlen(s));
  CHECK(!body_scan("[]", 2, &m));
  CHECK(m.model.type == JSON_NONE && m.obj.type == JSON_NONE);
  CHECK(!body_scan(NULL, 0, &m));
}

/* Every one-byte change of every text, with bytes that matter. */
TEST(agrees_on_changes)
{
  static const char bytes[] = "\"\\{}[],: \n0eE.-+tfnu\x01\x7f\x80\xc3\xff";
  char tmp[512];
  for(size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    size_t n = strlen(texts[i]);
    if(n > sizeof(tmp))
      continue;
    for(size_t k = 0; k < n; k++)
      for(size_t b = 0; b < sizeof(bytes) - 1; b++) {
        memcpy(tmp, texts[i], n);
        tmp[k] = bytes[b];
        CHECK(body_scan_agrees(tmp, n));
      }
  }
}

/* Long strings with one stop byte at each offset: the block scan must
 * stop exactly there, and never read past the end. */
TEST(agrees_on_block_edges)
{
  static const char *const stops[] = { "\\n", "\\\"", "\\u00e9", "\xc3\xa9",
                                       "\x01", "\"", "\xff", "\\" };
  for(size_t s = 0; s < sizeof(stops) / sizeof(stops[0]); s++)
    for(size_t at = 0; at < 70; at++) {
      struct buf b;
      buf_init(&b);
      buf_puts(&b, "{\"messages\":\"");
      for(size_t i = 0; i < at; i++)
        buf_append(&b, "x", 1);
      buf_puts(&b, stops[s]);
      for(size_t i = 0; i < 40; i++)
        buf_append(&b, "y", 1);
      buf_puts(&b, "\",\"stream\":true}");
      CHECK(!b.oom);
      /* exact-size copies so that ASan sees any read past the end */
      for(size_t cut = 0; cut <= b.len; cut += cut + 7 < b.len ? 1 : 7) {
        char *c = malloc(cut ? cut : 1);
        memcpy(c, b.ptr, cut);
        CHECK(body_scan_agrees(c, cut));
        free(c);
      }
      char *c = malloc(b.len);
      memcpy(c, b.ptr, b.len);
      CHECK(body_scan_agrees(c, b.len));
      free(c);
      buf_free(&b);
    }
}

/* Nesting up to JSON_MAX_DEPTH is taken, one more is not. */
TEST(agrees_on_depth)
{
  for(size_t depth = JSON_MAX_DEPTH - 2; depth <= JSON_MAX_DEPTH + 1;
      depth++) {
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"a\":");
    for(size_t i = 1; i < depth; i++)
      buf_append(&b, "[", 1);
    for(size_t i = 1; i < depth; i++)
      buf_append(&b, "]", 1);
    buf_puts(&b, "}");
    struct body_members m;
    CHECK(body_scan_agrees(b.ptr, b.len));
    CHECK(body_scan(b.ptr, b.len, &m) == (depth <= JSON_MAX_DEPTH));
    buf_free(&b);
  }
}

/* Random bodies drawn from JSON-ish pieces (a fixed seed). */
TEST(agrees_on_random)
{
  static const char *const pieces[] = {
    "{", "}", "[", "]", ",", ":", " ", "\"model\"", "\"stream\"",
    "\"stream_options\"", "\"m\\u006fdel\"", "\"x\"", "true", "false",
    "null", "1", "-0.5e3", "\"a\\nb\"", "\"\xc3\xa9\"", "\"\\\"\"", "\"",
  };
  uint32_t seed = 12345;
  char tmp[256];
  for(int round = 0; round < 20000; round++) {
    size_t n = 0;
    memcpy(tmp, "{", 1);
    n = 1;
    int k = (int)((seed >> 8) % 12);
    for(int i = 0; i < k; i++) {
      seed = seed * 1103515245u + 12345u;
      const char *pc = pieces[(seed >> 16) % (sizeof(pieces) /
                                              sizeof(pieces[0]))];
      size_t l = strlen(pc);
      if(n + l + 1 >= sizeof(tmp))
        break;
      memcpy(tmp + n, pc, l);
      n += l;
    }
    tmp[n++] = '}';
    CHECK(body_scan_agrees(tmp, n));
    seed = seed * 1103515245u + 12345u;
  }
}

/* Long strings dense with escapes and runs of backslashes, at every
 * length around the 64-byte blocks: the block reader's escape masks
 * (runs of odd and even length, escapes across a block's end, \u, bad
 * letters, control and non-ASCII bytes among them) agree with json.c. */
TEST(escape_runs_across_blocks)
{
  static const char *const pieces[] = {
    "a", "b c", "\\\\", "\\\"", "\\n", "\\t", "\\/", "\\u00e9", "\\",
    "\\u12", "\\x", "\"", "\xc3\xa9", "\x01", "n", "u", "       ",
  };
  uint32_t seed = 777;
  char tmp[600];
  for(int round = 0; round < 40000; round++) {
    size_t n = 0, want;
    seed = seed * 1103515245u + 12345u;
    want = 40 + (seed >> 8) % 400;
    memcpy(tmp, "{\"model\":\"m\",\"p\":\"", 18);
    n = 18;
    while(n < want) {
      seed = seed * 1103515245u + 12345u;
      /* mostly valid text: the rarer pieces only now and then */
      unsigned r = (seed >> 16) % 100;
      const char *pc = pieces[r < 98 ? r % 8 : (seed >> 4) % (sizeof(pieces) /
                                                              sizeof(pieces[0]))];
      size_t l = strlen(pc);
      memcpy(tmp + n, pc, l);
      n += l;
    }
    memcpy(tmp + n, "\",\"stream\":true}", 16);
    n += 16;
    CHECK(body_scan_agrees(tmp, n));
  }
}

/* Each escape at every offset around the block ends, followed by a
 * quote that only the escape's own length keeps inside the string. */
TEST(escape_at_every_offset)
{
  static const char *const escapes[] = {
    "\\\"", "\\\\\\\"", "\\\\", "\\\\\\\\\"", "\\n\"", "\\u00e9", "\\ud83d\\ude00",
    "\\q", "\\u12g4", "\x1f", "\xc3\xa9", "\xc3",
  };
  char tmp[400];
  for(size_t e = 0; e < sizeof(escapes) / sizeof(escapes[0]); e++)
    for(int off = 0; off < 200; off++) {
      int n = snprintf(tmp, sizeof(tmp), "{\"p\":\"%*s%s%s\",\"stream\":true}",
                       off, "", escapes[e], "tail tail tail tail tail tail "
                       "tail tail tail tail tail tail tail tail tail tail");
      CHECK(n > 0 && (size_t)n < sizeof(tmp));
      CHECK(body_scan_agrees(tmp, (size_t)n));
    }
}

/* The block readers this build has. */
TEST(widths)
{
  CHECK(body_scan_width(0) == 0);
#ifdef __SSE2__
  CHECK(body_scan_width(16) == 16);
  CHECK(body_scan_width(32) >= 16);
#endif
  CHECK(body_scan_width(64) == body_scan_width(32));
}

int main(void)
{
  RUN(widths);
  RUN(agrees_on_texts);
  RUN(finds_members);
  RUN(agrees_on_changes);
  RUN(agrees_on_block_edges);
  RUN(agrees_on_depth);
  RUN(agrees_on_random);
  RUN(escape_runs_across_blocks);
  RUN(escape_at_every_offset);
  return check_done();
}
