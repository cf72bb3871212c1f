/* Unit tests for hooks/pure/json_write.c. */
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

int main(void)
{
  RUN(strings_escaped_as_rfc8259_asks);
  RUN(utf8_prefixes);
  RUN(base64_and_numbers);
  return check_done();
}
