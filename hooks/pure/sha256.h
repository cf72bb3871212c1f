/* sha256.h - SHA-256 (FIPS 180-4), small and self-contained. Pure.
 *
 * Used to fingerprint credentials (learned.h): the fingerprint names an
 * account without storing its secret. Not constant-time, not for keys. */
#ifndef SS_SHA256_H
#define SS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32

struct sha256 {
  uint32_t h[8];          /* the chaining state */
  uint64_t bytes;         /* message length so far */
  unsigned char blk[64];  /* a partial block */
  size_t fill;            /* bytes used in blk */
};

void sha256_init(struct sha256 *s);
/* Hash n more bytes of the message. */
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* Finish: write the 32-byte digest; s must be re-initialised to reuse. */
void sha256_final(struct sha256 *s, unsigned char out[SHA256_DIGEST_LEN]);
/* The digest of [p, p+n) in one call. */
void sha256(const void *p, size_t n, unsigned char out[SHA256_DIGEST_LEN]);

#endif
