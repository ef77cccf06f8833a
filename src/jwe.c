/*
 * jwe.c: compact JWE, RSA-OAEP-256 + A256GCM only (RFC 7516 section 5.2,
 * RFC 7518 sections 4.3 and 5.3; protocols/kayle.md "Encryption").
 *
 * Order: split and size every segment, decode the protected header and
 * check alg/enc against the allowlist, then decode the rest, and only
 * then touch a key.  Everything is rejected whole; nothing is repaired.
 * The ciphertext (up to the body limit) is decoded into one malloc'd
 * buffer and decrypted in place; on success that buffer is the result.
 */
#include "compat.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/jwk.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "b64.h"
#include "jwe.h"
#include "log.h"

#define JWE_NSEG	5
enum { SEG_HDR, SEG_EK, SEG_IV, SEG_CT, SEG_TAG };

struct jwe_parts {
	const char	*jp_seg[JWE_NSEG];	/* into the input */
	size_t		 jp_seglen[JWE_NSEG];
	size_t		 jp_declen[JWE_NSEG];
	uint8_t		 jp_hdr[JWE_HEADER_MAX];
	uint8_t		 jp_ek[JWE_EK_MAX];
	uint8_t		 jp_iv[JWE_IV_LEN];
	uint8_t		 jp_tag[JWE_TAG_LEN];
	uint8_t		*jp_ct;		/* declen + 1 bytes, malloc'd */
	int		 jp_haskid;
	char		 jp_kid[KID_MAX + 1];
};

/* Exactly five segments (four dots), RFC 7516 section 7.1. */
static int
jwe_split(const uint8_t *in, size_t len, struct jwe_parts *jp)
{
	const char	*p = (const char *)in, *end = p + len, *dot;
	int		 i;

	for (i = 0; i < JWE_NSEG; i++) {
		dot = memchr(p, '.', (size_t)(end - p));
		if ((dot == NULL) != (i == JWE_NSEG - 1))
			return -1;
		if (dot == NULL)
			dot = end;
		jp->jp_seg[i] = p;
		jp->jp_seglen[i] = (size_t)(dot - p);
		p = dot + 1;
	}
	return 0;
}

/*
 * Segment seg into out (jp_declen[seg] bytes): strict unpadded base64url
 * (RFC 7515 section 2), canonical, so that a changed character always
 * changes the decoded bytes or is refused.
 */
static int
seg_decode(const struct jwe_parts *jp, int seg, uint8_t *out)
{
	size_t	 n;

	return b64_decode(jp->jp_seg[seg], jp->jp_seglen[seg], B64_URL,
	    B64_PAD_NONE, out, jp->jp_declen[seg], &n);
}

/* Bounds on the decoded sizes, checked before anything is decoded. */
static int
jwe_sizes(struct jwe_parts *jp)
{
	size_t	*d = jp->jp_declen;
	int	 i;

	for (i = 0; i < JWE_NSEG; i++)
		if (b64_declen(jp->jp_seglen[i], &d[i]) == -1)
			return -1;
	if (d[SEG_HDR] == 0 || d[SEG_HDR] > JWE_HEADER_MAX ||
	    d[SEG_EK] == 0 || d[SEG_EK] > JWE_EK_MAX ||
	    d[SEG_IV] != JWE_IV_LEN || d[SEG_TAG] != JWE_TAG_LEN)
		return -1;
	/* EVP lengths are int; +1 for the NUL after the plaintext. */
	if (d[SEG_CT] >= INT_MAX)
		return -1;
	return 0;
}

static int
json_str_is(const json_t *v, const char *want)
{
	return json_is_string(v) && json_string_length(v) == strlen(want) &&
	    memcmp(json_string_value(v), want, strlen(want)) == 0;
}

/* A "kid" member, if any: a string of at most KID_MAX bytes. */
static int
jwe_header_kid(const json_t *root, struct jwe_parts *jp)
{
	const json_t	*v;
	size_t		 n;

	if ((v = json_object_get(root, "kid")) == NULL)
		return 0;
	if (!json_is_string(v) || (n = json_string_length(v)) > KID_MAX)
		return -1;
	/* No JSON_ALLOW_NUL: the kid cannot contain a NUL byte. */
	memcpy(jp->jp_kid, json_string_value(v), n);
	jp->jp_kid[n] = '\0';
	jp->jp_haskid = 1;
	return 0;
}

/*
 * The protected header: a JSON object, no duplicate members, alg and enc
 * exactly as allowed.  "zip" would mean inflating attacker-chosen data
 * and "crit" extensions we do not implement (RFC 7515 section 4.1.11):
 * both are refused.  Other members are ignored.
 */
static int
jwe_header(struct jwe_parts *jp)
{
	json_t		*root = NULL;
	json_error_t	 jerr;
	int		 rv = JWE_ERR_MALFORMED;

	if (seg_decode(jp, SEG_HDR, jp->jp_hdr) == -1)
		goto fail;
	root = json_loadb((const char *)jp->jp_hdr, jp->jp_declen[SEG_HDR],
	    JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			rv = JWE_ERR_INTERNAL;
		goto fail;
	}
	if (!json_is_object(root) || jwe_header_kid(root, jp) == -1 ||
	    !json_str_is(json_object_get(root, "alg"), "RSA-OAEP-256") ||
	    !json_str_is(json_object_get(root, "enc"), "A256GCM") ||
	    json_object_get(root, "zip") != NULL ||
	    json_object_get(root, "crit") != NULL)
		goto fail;
	rv = JWE_OK;
 fail:
	json_decref(root);
	return rv;
}

/* Segments 2 to 5, once the header has passed. */
static int
jwe_decode_rest(struct jwe_parts *jp)
{
	size_t	 ctlen = jp->jp_declen[SEG_CT];

	if (seg_decode(jp, SEG_EK, jp->jp_ek) == -1 ||
	    seg_decode(jp, SEG_IV, jp->jp_iv) == -1 ||
	    seg_decode(jp, SEG_TAG, jp->jp_tag) == -1)
		return JWE_ERR_MALFORMED;
	if ((jp->jp_ct = malloc(ctlen + 1)) == NULL) {
		log_error("%s: out of memory", __func__);
		return JWE_ERR_INTERNAL;
	}
	if (seg_decode(jp, SEG_CT, jp->jp_ct) == -1)
		return JWE_ERR_MALFORMED;
	return JWE_OK;
}

/*
 * RSAES-OAEP, SHA-256 as hash and MGF1 hash, empty label (RFC 7518
 * section 4.3).  A CEK of any length but 32 is reported exactly like a
 * failed unwrap, so the two cannot be told apart.
 */
static int
jwe_unwrap(const struct jwe_key *k, const struct jwe_parts *jp,
    uint8_t cek[JWE_CEK_LEN])
{
	EVP_PKEY_CTX	*ctx = NULL;
	uint8_t		 out[JWE_EK_MAX];	/* >= modulus of any key */
	size_t		 outlen = sizeof(out);
	int		 rv = JWE_ERR_INTERNAL;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->jk_pkey, NULL)) ==
	    NULL || EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0) {
		log_error("%s: OpenSSL RSA setup failed", __func__);
		goto fail;
	}
	rv = JWE_ERR_NOKEY;
	if (EVP_PKEY_decrypt(ctx, out, &outlen, jp->jp_ek,
	    jp->jp_declen[SEG_EK]) <= 0 || outlen != JWE_CEK_LEN)
		goto fail;
	memcpy(cek, out, JWE_CEK_LEN);
	rv = JWE_OK;
 fail:
	explicit_bzero(out, sizeof(out));
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return rv;
}

/* AES-256-GCM in place over jp_ct; AAD = segment 1 as received. */
static int
jwe_gcm(const uint8_t cek[JWE_CEK_LEN], struct jwe_parts *jp)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	const char	*aad = jp->jp_seg[SEG_HDR];
	int		 aadlen = (int)jp->jp_seglen[SEG_HDR];
	int		 n, ctlen = (int)jp->jp_declen[SEG_CT];
	int		 rv = JWE_ERR_INTERNAL;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, JWE_IV_LEN,
	    NULL) ||
	    !EVP_DecryptInit_ex(ctx, NULL, NULL, cek, jp->jp_iv) ||
	    !EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)aad, aadlen) ||
	    (ctlen > 0 &&
	    !EVP_DecryptUpdate(ctx, jp->jp_ct, &n, jp->jp_ct, ctlen)) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, JWE_TAG_LEN,
	    jp->jp_tag)) {
		log_error("%s: OpenSSL AES-GCM setup failed", __func__);
		goto fail;
	}
	rv = JWE_ERR_DECRYPT;
	if (EVP_DecryptFinal_ex(ctx, jp->jp_ct + ctlen, &n) <= 0)
		goto fail;
	rv = JWE_OK;
 fail:
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	return rv;
}

/*
 * Candidates: the keys carrying the header's kid; if there is no kid or
 * no key carries it, every key (kayle.md: old events come encrypted to
 * old keys).  A kid that names a key which then fails is not retried
 * with the others.  The first 32-byte CEK decides: an OAEP unwrap with a
 * wrong key succeeding by chance is negligible.
 */
static int
jwe_try_keys(struct jwe_parts *jp, const struct jwe_key *keys, size_t nkeys)
{
	uint8_t		 cek[JWE_CEK_LEN];
	size_t		 i;
	int		 bykid = 0, r, rv = JWE_ERR_NOKEY;

	for (i = 0; jp->jp_haskid && i < nkeys; i++)
		if (keys[i].jk_kid[0] != '\0' &&
		    strcmp(keys[i].jk_kid, jp->jp_kid) == 0)
			bykid = 1;
	for (i = 0; i < nkeys; i++) {
		if (bykid && strcmp(keys[i].jk_kid, jp->jp_kid) != 0)
			continue;
		if ((r = jwe_unwrap(&keys[i], jp, cek)) == JWE_ERR_NOKEY)
			continue;
		rv = r == JWE_OK ? jwe_gcm(cek, jp) : r;
		break;
	}
	explicit_bzero(cek, sizeof(cek));
	return rv;
}

int
jwe_decrypt(const uint8_t *in, size_t len, const struct jwe_key *keys,
    size_t nkeys, uint8_t **ptp, size_t *ptlenp, char *kid_out,
    size_t kidsz)
{
	struct jwe_parts	 jp;
	size_t			 ctlen = 0;
	int			 rv = JWE_ERR_MALFORMED;

	memset(&jp, 0, sizeof(jp));
	*ptp = NULL;
	*ptlenp = 0;
	if (in == NULL || jwe_split(in, len, &jp) == -1 ||
	    jwe_sizes(&jp) == -1)
		goto fail;
	ctlen = jp.jp_declen[SEG_CT];
	if ((rv = jwe_header(&jp)) != JWE_OK ||
	    (rv = jwe_decode_rest(&jp)) != JWE_OK ||
	    (rv = jwe_try_keys(&jp, keys, nkeys)) != JWE_OK)
		goto fail;
	jp.jp_ct[ctlen] = '\0';
	*ptp = jp.jp_ct;
	*ptlenp = ctlen;
	jp.jp_ct = NULL;
 fail:
	if (rv != JWE_OK)
		log_debug("%s: %s", __func__, jwe_strerror(rv));
	/* On failure jp_ct may hold unauthenticated plaintext. */
	if (jp.jp_ct != NULL)
		freezero(jp.jp_ct, ctlen + 1);
	if (kid_out != NULL && kidsz > 0)
		strlcpy(kid_out, jp.jp_kid, kidsz);
	return rv;
}

const char *
jwe_strerror(int result)
{
	switch (result) {
	case JWE_OK:
		return "decrypted";
	case JWE_ERR_MALFORMED:
		return "malformed or disallowed JWE";
	case JWE_ERR_NOKEY:
		return "no key decrypts the JWE content key";
	case JWE_ERR_DECRYPT:
		return "JWE content authentication failed";
	case JWE_ERR_INTERNAL:
		return "JWE decryption failed (internal error)";
	default:
		return "unknown JWE result";
	}
}

/* Keys. */

/* Encrypted PEM is refused here instead of prompting on a terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static EVP_PKEY *
key_from_pem(const uint8_t *buf, size_t len, const char **why)
{
	BIO		*bio;
	EVP_PKEY	*pkey = NULL;

	*why = "not an unencrypted PEM private key";
	if (len > INT_MAX)
		return NULL;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	return pkey;
}

/*
 * cjose hands out its RSA key as an OpenSSL RSA *, an API deprecated
 * since OpenSSL 3.0 with no EVP equivalent in cjose; this one function
 * is the only user of it.  cjose_jwk_import also accepts public-only or
 * partial JWKs, so every private component is required here.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static EVP_PKEY *
rsa_to_pkey(RSA *rsa, const char **why)
{
	const BIGNUM	*n, *e, *d, *p, *q, *dp, *dq, *qi;
	EVP_PKEY	*pkey;

	*why = "JWK is not a complete RSA private key (d p q dp dq qi)";
	if (rsa == NULL)
		return NULL;
	RSA_get0_key(rsa, &n, &e, &d);
	RSA_get0_factors(rsa, &p, &q);
	RSA_get0_crt_params(rsa, &dp, &dq, &qi);
	if (n == NULL || e == NULL || d == NULL || p == NULL || q == NULL ||
	    dp == NULL || dq == NULL || qi == NULL)
		return NULL;
	if ((pkey = EVP_PKEY_new()) == NULL ||
	    EVP_PKEY_set1_RSA(pkey, rsa) != 1) {
		*why = "out of memory";
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}
#pragma GCC diagnostic pop

/*
 * The JWK's kid goes to kid (size KID_MAX + 2, so that a longer one
 * shows as KID_MAX + 1 bytes).  XXX: cjose and jansson free their
 * copies of the JSON text without wiping them.
 */
static EVP_PKEY *
key_from_jwk(const uint8_t *buf, size_t len, char *kid, size_t kidsz,
    const char **why)
{
	cjose_jwk_t	*jwk;
	cjose_err	 cerr;
	const char	*jkid;
	EVP_PKEY	*pkey = NULL;

	if ((jwk = cjose_jwk_import((const char *)buf, len, &cerr)) == NULL) {
		*why = "not a valid JWK";
		return NULL;
	}
	if (cjose_jwk_get_kty(jwk, &cerr) != CJOSE_JWK_KTY_RSA) {
		*why = "JWK is not an RSA key";
		goto out;
	}
	if ((jkid = cjose_jwk_get_kid(jwk, &cerr)) != NULL)
		strlcpy(kid, jkid, kidsz);
	pkey = rsa_to_pkey(cjose_jwk_get_keydata(jwk, &cerr), why);
 out:
	cjose_jwk_release(jwk);
	ERR_clear_error();
	return pkey;
}

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A JWK is a JSON object: its first non-space byte is '{'. */
static int
is_jwk(const uint8_t *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i < len && is_space(buf[i]); i++)
		;
	return i < len && buf[i] == '{';
}

int
jwe_key_parse(const uint8_t *buf, size_t len, const char *kid_override,
    struct jwe_key *key, char *err, size_t errlen)
{
	EVP_PKEY	*pkey = NULL;
	char		 jkid[KID_MAX + 2] = "", msg[80];
	const char	*why = msg, *kid;
	int		 bits;

	memset(key, 0, sizeof(*key));
	if (is_jwk(buf, len))
		pkey = key_from_jwk(buf, len, jkid, sizeof(jkid), &why);
	else
		pkey = key_from_pem(buf, len, &why);
	if (pkey == NULL)
		goto fail;
	kid = kid_override != NULL && kid_override[0] != '\0' ?
	    kid_override : jkid;
	bits = EVP_PKEY_get_bits(pkey);
	if (!EVP_PKEY_is_a(pkey, "RSA")) {
		why = "not an RSA key";
		goto fail;
	}
	if (bits < KEY_BITS_MIN || bits > KEY_BITS_MAX) {
		(void)snprintf(msg, sizeof(msg), "RSA key of %d bits, not %d "
		    "to %d", bits, KEY_BITS_MIN, KEY_BITS_MAX);
		goto fail;
	}
	if (strlen(kid) > KID_MAX) {
		(void)snprintf(msg, sizeof(msg), "kid longer than %d bytes",
		    KID_MAX);
		goto fail;
	}
	memcpy(key->jk_kid, kid, strlen(kid) + 1);
	key->jk_pkey = pkey;
	key->jk_bits = bits;
	return 0;
 fail:
	errbuf_set(err, errlen, "%s", why);
	EVP_PKEY_free(pkey);
	return -1;
}

void
jwe_key_free(struct jwe_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->jk_pkey);
	explicit_bzero(key, sizeof(*key));
}

/* Encryption, for "idhook sign" and "idhook keygen". */

/* Unpadded base64url (RFC 7515 section 2) of in/n at out; returns length. */
static size_t
b64u_encode(const uint8_t *in, size_t n, char *out)
{
	size_t	 o;
	int	 m;

	m = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	for (o = 0; o < (size_t)m && out[o] != '='; o++) {
		if (out[o] == '+')
			out[o] = '-';
		else if (out[o] == '/')
			out[o] = '_';
	}
	out[o] = '\0';
	return o;
}

/* Room for the base64 of n bytes plus a NUL. */
#define B64_ROOM(n)	(((n) + 2) / 3 * 4 + 1)

static int
enc_header(const char *kid, char *out, size_t outsz)
{
	json_t	*h;
	char	*s;
	int	 rv = -1;

	h = json_pack("{s:s,s:s}", "alg", "RSA-OAEP-256", "enc", "A256GCM");
	if (h != NULL && kid != NULL && kid[0] != '\0' &&
	    json_object_set_new(h, "kid", json_string(kid)) == -1) {
		json_decref(h);
		return -1;
	}
	if (h == NULL || (s = json_dumps(h, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	if (B64_ROOM(strlen(s)) <= outsz) {
		b64u_encode((const uint8_t *)s, strlen(s), out);
		rv = 0;
	}
	free(s);
 out:
	json_decref(h);
	return rv;
}

static int
enc_wrap(EVP_PKEY *pub, const uint8_t *cek, uint8_t *ek, size_t *eklen)
{
	EVP_PKEY_CTX	*ctx;
	int		 ok;

	ok = (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL)) != NULL &&
	    EVP_PKEY_encrypt_init(ctx) > 0 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0 &&
	    EVP_PKEY_encrypt(ctx, ek, eklen, cek, JWE_CEK_LEN) > 0;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int
enc_gcm(const uint8_t *cek, const uint8_t *iv, const char *aad,
    const uint8_t *pt, size_t len, uint8_t *ct, uint8_t *tag)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n, ok;

	ok = (ctx = EVP_CIPHER_CTX_new()) != NULL &&
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, JWE_IV_LEN,
	    NULL) &&
	    EVP_EncryptInit_ex(ctx, NULL, NULL, cek, iv) &&
	    EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)aad,
	    (int)strlen(aad)) &&
	    (len == 0 || EVP_EncryptUpdate(ctx, ct, &n, pt, (int)len)) &&
	    EVP_EncryptFinal_ex(ctx, ct + len, &n) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, JWE_TAG_LEN, tag);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Joins the five segments into one malloc'd string. */
static int
enc_join(const char *hdr, const uint8_t *ek, size_t eklen,
    const uint8_t *iv, const uint8_t *ct, size_t len, const uint8_t *tag,
    char **out, size_t *outlen)
{
	size_t	 room, o;
	char	*s;

	room = strlen(hdr) + B64_ROOM(eklen) + B64_ROOM(JWE_IV_LEN) +
	    B64_ROOM(len) + B64_ROOM(JWE_TAG_LEN) + 4;
	if ((s = malloc(room)) == NULL)
		return -1;
	o = strlcpy(s, hdr, room);
	s[o++] = '.';
	o += b64u_encode(ek, eklen, s + o);
	s[o++] = '.';
	o += b64u_encode(iv, JWE_IV_LEN, s + o);
	s[o++] = '.';
	o += b64u_encode(ct, len, s + o);
	s[o++] = '.';
	o += b64u_encode(tag, JWE_TAG_LEN, s + o);
	*out = s;
	*outlen = o;
	return 0;
}

int
jwe_encrypt(const uint8_t *pt, size_t len, EVP_PKEY *pub, const char *kid,
    char **out, size_t *outlen)
{
	char		 hdr[B64_ROOM(JWE_HEADER_MAX)];
	uint8_t		 cek[JWE_CEK_LEN], iv[JWE_IV_LEN], tag[JWE_TAG_LEN];
	uint8_t		 ek[JWE_EK_MAX], *ct = NULL;
	size_t		 eklen = sizeof(ek);
	int		 rv = -1;

	*out = NULL;
	*outlen = 0;
	if (len >= INT_MAX / 2 || (ct = malloc(len + 1)) == NULL ||
	    enc_header(kid, hdr, sizeof(hdr)) == -1 ||
	    RAND_bytes(cek, sizeof(cek)) != 1 ||
	    RAND_bytes(iv, sizeof(iv)) != 1 ||
	    enc_wrap(pub, cek, ek, &eklen) == -1 ||
	    enc_gcm(cek, iv, hdr, pt, len, ct, tag) == -1 ||
	    enc_join(hdr, ek, eklen, iv, ct, len, tag, out, outlen) == -1) {
		log_error("%s: encryption failed", __func__);
		goto fail;
	}
	rv = 0;
 fail:
	explicit_bzero(cek, sizeof(cek));
	if (ct != NULL)
		freezero(ct, len + 1);
	ERR_clear_error();
	return rv;
}

/* One RSA parameter ("n" or "e") as unpadded base64url, malloc'd. */
static char *
jwk_bn(EVP_PKEY *pkey, const char *name)
{
	BIGNUM	*bn = NULL;
	uint8_t	*bin = NULL;
	char	*s = NULL;
	int	 n;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1 ||
	    (n = BN_num_bytes(bn)) <= 0 || (bin = malloc((size_t)n)) == NULL ||
	    BN_bn2bin(bn, bin) != n ||
	    (s = malloc(B64_ROOM((size_t)n))) == NULL)
		goto out;
	b64u_encode(bin, (size_t)n, s);
 out:
	free(bin);
	BN_free(bn);
	return s;
}

int
jwe_public_jwk(EVP_PKEY *pkey, const char *kid, char **json)
{
	json_t	*j = NULL;
	char	*n = NULL, *e = NULL;

	*json = NULL;
	if (!EVP_PKEY_is_a(pkey, "RSA") ||
	    (n = jwk_bn(pkey, "n")) == NULL ||
	    (e = jwk_bn(pkey, "e")) == NULL ||
	    (j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "RSA", "n", n,
	    "e", e, "alg", "RSA-OAEP-256", "use", "enc")) == NULL)
		goto out;
	if (kid != NULL && kid[0] != '\0' &&
	    json_object_set_new(j, "kid", json_string(kid)) == -1)
		goto out;
	*json = json_dumps(j, JSON_PRESERVE_ORDER);
 out:
	json_decref(j);
	free(n);
	free(e);
	ERR_clear_error();
	return *json != NULL ? 0 : -1;
}
