/* Unit tests for hooks/pure/json_write.c. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "json_write.h"

static void expect_string(const char *in, size_t n, const char *want)
{
  struct buf b;
  buf_init(&b);
  json_put_string(&b, in, n);
  CHECK_MEM(b.ptr, b.len, want, strlen(want));
  buf_free(&b);
}

static void expect_base64(const char *in, const char *want)
{
  struct buf b;
  buf_init(&b);
  json_put_base64(&b, in, strlen(in));
  CHECK_MEM(b.ptr, b.len, want, strlen(want));
  buf_free(&b);
}

TEST(strings_escaped_as_rfc8259_asks)
{
  expect_string("plain", 5, "\"plain\"");
  expect_string("q\"b\\", 4, "\"q\\\"b\\\\\"");
  expect_string("a\nb\r\tc", 6, "\"a\\nb\\r\\tc\"");
  expect_string("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"");
  expect_string("\0x", 2, "\"\\u0000x\"");
  expect_string("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15,
                "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"");
  expect_string("bad\xff", 4, "\"bad\\ufffd\"");
  expect_string("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");          /* overlong */
  expect_string("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
  expect_string("\xe2\x82", 2, "\"\\ufffd\\ufffd\"");          /* cut */
}

TEST(utf8_prefixes)
{
  CHECK(utf8_valid_prefix("abc", 3) == 3);
  CHECK(utf8_valid_prefix("ab\xe2\x82", 4) == 2);
  CHECK(utf8_valid_prefix("\xf4\x90\x80\x80", 4) == 0);  /* > U+10FFFF */
  CHECK(utf8_valid_prefix("\xe2\x82\xac", 3) == 3);
}

TEST(base64_and_numbers)
{
  expect_base64("", "\"\"");
  expect_base64("f", "\"Zg==\"");
  expect_base64("fo", "\"Zm8=\"");
  expect_base64("foo", "\"Zm9v\"");
  expect_base64("foobar", "\"Zm9vYmFy\"");
  struct buf b;
  buf_init(&b);
  json_put_int(&b, -42);
  json_put_cstring(&b, NULL);
  CHECK(b.len == 7 && !memcmp(b.ptr, "-42null", 7));
  buf_free(&b);
}

/* The escaping rule byte by byte, as json_write.h states it: the
 * reference the block-wise writer must equal. */
static void ref_string(struct buf *b, const unsigned char *p, size_t n)
{
  buf_append(b, "\"", 1);
  for(size_t i = 0; i < n;) {
    unsigned c = p[i];
    size_t k = utf8_valid_prefix((const char *)p + i, n - i < 4 ? n - i : 4);
    char esc[8];
    if(c >= 0x80 && k) {  /* the first character of the rest is valid */
      size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      buf_append(b, p + i, len);
      i += len;
      continue;
    }
    if(c >= 0x80)
      buf_puts(b, "\\ufffd");
    else if(c == '"' || c == '\\')
      buf_append(b, (const char[]){'\\', (char)c}, 2);
    else if(c == '\n' || c == '\r' || c == '\t')
      buf_append(b, (const char[]){'\\', c == '\n' ? 'n' : c == '\r' ? 'r' : 't'}, 2);
    else if(c < 0x20) {
      snprintf(esc, sizeof(esc), "\\u%04x", c);
      buf_puts(b, esc);
    }
    else
      buf_append(b, p + i, 1);
    i++;
  }
  buf_append(b, "\"", 1);
}

TEST(long_strings_as_byte_by_byte)
{
  /* every length around the 16-byte blocks and the 4096-byte chunks, with
   * escapes, characters and bad bytes at every offset (a character cut by
   * a chunk's end included) */
  static const char *const pieces[] = { "a", "\"", "\\", "\n", "\x01",
    "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xe2\x82",
    "\x7f", "0123456789abcdef" };
  static unsigned char in[9000];
  unsigned seed = 7;
  for(size_t n = 0; n < sizeof(in);) {
    seed = seed * 1103515245u + 12345u;
    const char *pc = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
    size_t len = strlen(pc);
    if(!strcmp(pc, "\x01"))
      len = 1;
    if(n + len > sizeof(in))
      break;
    memcpy(in + n, pc, len);
    n += len;
  }
  for(size_t n = 0; n <= sizeof(in); n += n < 80 ? 1 : n < 4200 && n > 4000 ? 1 : 97) {
    struct buf got, want;
    buf_init(&got);
    buf_init(&want);
    buf_append(&got, "x", 1);  /* after what the buffer held */
    buf_append(&want, "x", 1);
    json_put_string(&got, (const char *)in, n);
    ref_string(&want, in, n);
    CHECK_MEM(got.ptr, got.len, want.ptr, want.len);
    buf_free(&got);
    buf_free(&want);
  }
  struct buf b;
  buf_init(&b);
  json_put_int(&b, INT64_MIN);
  json_put_int(&b, INT64_MAX);
  json_put_int(&b, 0);
  CHECK_MEM(b.ptr, b.len, "-9223372036854775808" "9223372036854775807" "0", 40);
  buf_free(&b);
}

int main(void)
{
  RUN(strings_escaped_as_rfc8259_asks);
  RUN(utf8_prefixes);
  RUN(base64_and_numbers);
  RUN(long_strings_as_byte_by_byte);
  return check_done();
}
