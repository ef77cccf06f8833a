/*
 * b64.h: strict base64 decoding (RFC 4648), standard or URL-safe.
 *
 * Strict means canonical: only the alphabet, '=' only as padding at the
 * end and only where padding is allowed, and the unused bits of the last
 * character zero (section 3.5 allows refusing them), so that every byte
 * string has exactly one accepted encoding and a changed character always
 * changes the bytes or is refused.
 */
#ifndef IDHOOK_B64_H
#define IDHOOK_B64_H

#include <stddef.h>
#include <stdint.h>

enum b64_alphabet {
	B64_STD,	/* section 4: "+/" */
	B64_URL		/* section 5: "-_" */
};

enum b64_pad {
	B64_PAD_NONE,		/* '=' refused (JWE, RFC 7515 section 2) */
	B64_PAD_OPTIONAL,	/* absent or correct */
	B64_PAD_REQUIRED
};

/*
 * b64_decode: decodes in/n into out (at most outsz bytes, else -1).
 * Returns 0 with *outlen set, or -1 on anything not canonical.
 */
int	 b64_decode(const char *in, size_t n, int alphabet, int pad,
	    uint8_t *out, size_t outsz, size_t *outlen);

/*
 * b64_declen: bytes that n characters (padding excluded) decode to, or
 * -1 when no encoding has n characters (n % 4 == 1).
 */
int	 b64_declen(size_t n, size_t *outlen);

#endif /* IDHOOK_B64_H */
