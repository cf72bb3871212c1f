/* test_sha256.c - unit tests for hooks/pure/sha256.c: the FIPS 180-4 / NIST
 * example vectors ("", "abc", the 448- and 896-bit messages, a million
 * 'a' fed in uneven pieces) and the padding boundaries around 56 and 64
 * bytes, in one call and byte by byte. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "sha256.h"

/* Lowercase hex of a digest. */
static const char *hex(const unsigned char *d)
{
  static char s[2 * SHA256_DIGEST_LEN + 1];
  for(int i = 0; i < SHA256_DIGEST_LEN; i++)
    snprintf(s + 2 * i, 3, "%02x", d[i]);
  return s;
}

TEST(sha256_vectors)
{
  unsigned char d[SHA256_DIGEST_LEN];
  sha256("", 0, d);
  CHECK_STR(hex(d), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  sha256("abc", 3, d);
  CHECK_STR(hex(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  static const char m448[] =
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  sha256(m448, sizeof(m448) - 1, d);
  CHECK_STR(hex(d), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  static const char m896[] =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
      "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  sha256(m896, sizeof(m896) - 1, d);
  CHECK_STR(hex(d), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  /* One million 'a', fed in uneven pieces. */
  struct sha256 s;
  char a[1024];
  memset(a, 'a', sizeof(a));
  sha256_init(&s);
  for(size_t left = 1000000, step = 1; left;) {
    size_t take = step < left ? step : left;
    sha256_update(&s, a, take);
    left -= take;
    step = step % 997 + 13;
  }
  sha256_final(&s, d);
  CHECK_STR(hex(d), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(sha256_padding_boundaries)
{
  static const struct {
    size_t n;
    const char *want;
  } v[] = {
    {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
    {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
    {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
    {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
    {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
    {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
  };
  char a[128];
  unsigned char d[SHA256_DIGEST_LEN];
  memset(a, 'a', sizeof(a));
  for(size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    sha256(a, v[i].n, d);
    CHECK_STR(hex(d), v[i].want);
    /* byte by byte gives the same */
    struct sha256 s;
    sha256_init(&s);
    for(size_t k = 0; k < v[i].n; k++)
      sha256_update(&s, a + k, 1);
    sha256_final(&s, d);
    CHECK_STR(hex(d), v[i].want);
  }
}

int main(void)
{
  RUN(sha256_vectors);
  RUN(sha256_padding_boundaries);
  return check_done();
}
