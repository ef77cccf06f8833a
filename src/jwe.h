/*
 * jwe.h: compact JWE decryption, RSA-OAEP-256 + A256GCM only
 * (RFC 7516 section 5.2, RFC 7518 sections 4.3 and 5.3), through
 * OpenSSL EVP.  cjose is used only to import JWK files: it has no
 * RSA-OAEP-256.
 */
#ifndef IDHOOK_JWE_H
#define IDHOOK_JWE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "bounds.h"

/* One private key.  jk_kid[0] == '\0' means the key has no kid. */
struct jwe_key {
	char		 jk_kid[KID_MAX + 1];
	EVP_PKEY	*jk_pkey;
	int		 jk_bits;
};

/*
 * jwe_key_parse: parses a private RSA key from buf/len, which holds either
 * a PEM private key (PKCS#8 or PKCS#1, unencrypted) or a JWK JSON object
 * (first non-space byte '{'; kty RSA with d, p, q, dp, dq, qi), imported
 * with cjose.  The key's kid is kid_override when that is non-NULL and
 * non-empty, else the JWK's "kid", else none.  Keys below KEY_BITS_MIN or
 * above KEY_BITS_MAX bits, public-only keys and non-RSA keys are refused.
 * buf is not modified; the caller wipes it.  On failure returns -1 and
 * writes a one-line reason (no key material) to err.
 */
int	 jwe_key_parse(const uint8_t *buf, size_t len, const char *kid_override,
	    struct jwe_key *key, char *err, size_t errlen);

/* Releases the key (EVP_PKEY_free) and zeroes the struct.  NULL is ok. */
void	 jwe_key_free(struct jwe_key *key);

/*
 * JWE_ERR_MALFORMED: not 5 base64url segments, header not a JSON object,
 *	alg/enc not allowed, zip/crit present, bad IV/tag length, too large.
 * JWE_ERR_NOKEY: no candidate key unwraps the CEK (or the CEK is not 32
 *	bytes): the operator must add a key.
 * JWE_ERR_DECRYPT: a key unwrapped a CEK but AES-GCM authentication
 *	failed: a corrupt JWE.
 * JWE_ERR_INTERNAL: allocation or OpenSSL failure.
 */
enum jwe_result {
	JWE_OK = 0,
	JWE_ERR_MALFORMED = -1,
	JWE_ERR_NOKEY = -2,
	JWE_ERR_DECRYPT = -3,
	JWE_ERR_INTERNAL = -4
};

/*
 * jwe_decrypt: decrypts the compact JWE in/len (untrusted; any length; no
 * trailing whitespace allowed).  The protected header must be a JSON object
 * whose alg is "RSA-OAEP-256" and enc "A256GCM"; a "kid", if present, must
 * be a string of at most KID_MAX bytes.  Candidate keys: those whose kid
 * equals the header's kid; if the header has no kid or no key carries it,
 * every key, in order.  AAD is segment 1 exactly as received.
 * On JWE_OK, *ptp is a malloc'd buffer of *ptlenp bytes plus a terminating
 * NUL not counted in *ptlenp; the caller must freezero(*ptp, *ptlenp + 1).
 * kid_out (may be NULL) receives the header's kid, or "" when absent or
 * unreadable, truncated to kidsz - 1 bytes, for logging.
 * The CEK is wiped on every path.
 */
int	 jwe_decrypt(const uint8_t *in, size_t len, const struct jwe_key *keys,
	    size_t nkeys, uint8_t **ptp, size_t *ptlenp, char *kid_out,
	    size_t kidsz);

const char *jwe_strerror(int result);

/*
 * jwe_encrypt: the compact JWE of pt/len exactly as Kayle makes it
 * (protocols/kayle.md "Encryption"): protected header
 * {"alg":"RSA-OAEP-256","enc":"A256GCM","kid":kid} (no kid when kid is
 * NULL or ""), a random 32-byte CEK wrapped with RSA-OAEP SHA-256 for
 * pub (a public or private RSA key), a random 12-byte IV, AES-256-GCM
 * with AAD = segment 1.  For "idhook sign".  *out is a malloc'd
 * NUL-terminated string of *outlen bytes.  Returns 0 or -1 (logged).
 */
int	 jwe_encrypt(const uint8_t *pt, size_t len, EVP_PKEY *pub,
	    const char *kid, char **out, size_t *outlen);

/*
 * jwe_public_jwk: the public JWK to register with Kayle,
 * {"kty":"RSA","n":...,"e":...,"alg":"RSA-OAEP-256","use":"enc","kid":...}
 * (kid left out when NULL or "").  *json is malloc'd.  0 or -1.
 */
int	 jwe_public_jwk(EVP_PKEY *pkey, const char *kid, char **json);

#endif /* IDHOOK_JWE_H */
