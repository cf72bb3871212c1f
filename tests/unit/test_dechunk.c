/* Unit tests for hooks/pure/dechunk.c. */
#include <string.h>

#include "buf.h"
#include "check.h"
#include "dechunk.h"

static void collect(void *arg, const char *p, size_t n)
{
  buf_append(arg, p, n);
}

/* Feed in pieces of `step` bytes; the payload must be want. */
static bool decodes(const char *in, size_t step, const char *want, bool bad)
{
  struct dechunk d;
  struct buf b;
  buf_init(&b);
  dechunk_init(&d);
  size_t n = strlen(in);
  for(size_t i = 0; i < n; i += step)
    dechunk_feed(&d, in + i, n - i < step ? n - i : step, collect, &b);
  bool ok = b.len == strlen(want) && !memcmp(b.ptr ? b.ptr : "", want, b.len) &&
            d.bad == bad;
  buf_free(&b);
  return ok;
}

TEST(whole_and_in_every_split)
{
  const char *in = "c\r\npassword=x&y\r\n4;ext=1\r\nabcd\r\n0\r\nX-T: 1\r\n\r\n";
  for(size_t step = 1; step < 60; step++)
    CHECK(decodes(in, step, "password=x&yabcd", false));
  CHECK(decodes("1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n", 3,
                "abcdefghijklmnopqrstuvwxyz", false));
  CHECK(decodes("3\nabc\n0\n\n", 1, "abc", false));  /* bare LF */
}

TEST(broken_framing_stops)
{
  CHECK(decodes("zz\r\nabc", 1, "", true));
  CHECK(decodes("3\r\nabcX\r\n", 1, "abc", true));
  CHECK(decodes("ffffffffffffffffff\r\n", 1, "", true));
}

int main(void)
{
  RUN(whole_and_in_every_split);
  RUN(broken_framing_stops);
  return check_done();
}
