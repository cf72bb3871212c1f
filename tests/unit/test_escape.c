/* test_escape.c - unit tests for hooks/pure/escape.c: what reaches a log
 * line or a terminal (control bytes, C1 controls and bytes that are not
 * UTF-8 escaped; UTF-8 kept; nothing cut in half at the end). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "escape.h"

/* src escaped into a buffer of cap bytes, as a NUL-terminated string. */
static const char *shown(const char *src, size_t n, size_t cap)
{
  static char out[256];
  size_t o = 0;
  escape_shown(out, &o, cap < sizeof(out) ? cap : sizeof(out) - 1, src, n);
  out[o] = '\0';
  return out;
}

#define SHOWN(lit) shown(lit, sizeof(lit) - 1, 200)

TEST(controls_escaped)
{
  CHECK(!strcmp(SHOWN("a\nb\rc\td\\e"), "a\\nb\\rc\\td\\\\e"));
  CHECK(!strcmp(SHOWN("\x1b[31mred"), "\\x1b[31mred"));
  CHECK(!strcmp(SHOWN("x\x7fy\x01"), "x\\x7fy\\x01"));
  CHECK(!strcmp(shown("a\0b", 3, 200), "a\\x00b"));
}

TEST(utf8_kept_c1_and_invalid_escaped)
{
  CHECK(!strcmp(SHOWN("caf\xc3\xa9 \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xf0\x9f\x98\x80"));
  CHECK(!strcmp(SHOWN("\xc2\x9b" "2J"), "\\xc2\\x9b2J"));       /* C1 CSI */
  CHECK(!strcmp(SHOWN("\xc2\x85"), "\\xc2\\x85"));              /* C1 NEL */
  CHECK(!strcmp(SHOWN("\xff\xfe"), "\\xff\\xfe"));
  CHECK(!strcmp(SHOWN("\xc0\xaf"), "\\xc0\\xaf"));              /* overlong */
  CHECK(!strcmp(SHOWN("\xed\xa0\x80"), "\\xed\\xa0\\x80"));     /* surrogate */
  CHECK(!strcmp(SHOWN("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"));
  CHECK(!strcmp(SHOWN("\xe2\x82"), "\\xe2\\x82"));              /* truncated */
}

TEST(nothing_cut_in_half)
{
  CHECK(!strcmp(shown("ab\ncd", 5, 3), "ab"));       /* "\\n" does not fit */
  CHECK(!strcmp(shown("a\xc3\xa9", 3, 2), "a"));      /* nor half of é */
  CHECK(!strcmp(shown("\x1b", 1, 3), ""));            /* nor half of \x1b */
  CHECK(!strcmp(shown("abc", 3, 3), "abc"));
}

TEST(into_a_buffer)
{
  struct buf b;
  buf_init(&b);
  CHECK(escape_shown_buf(&b, "m\n\x1b"));
  CHECK(b.len == 7 && !memcmp(b.ptr, "m\\n\\x1b", 7));
  buf_free(&b);
}

int main(void)
{
  RUN(controls_escaped);
  RUN(utf8_kept_c1_and_invalid_escaped);
  RUN(nothing_cut_in_half);
  RUN(into_a_buffer);
  return check_done();
}
