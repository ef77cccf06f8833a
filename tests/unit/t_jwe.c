/*
 * t_jwe.c: jwe_key_parse and jwe_decrypt against vectors made outside
 * this code base: tests/vectors/kayle-e2e (the sender's own algorithm)
 * and tests/vectors/jwe (tests/tools/make_jwe_vectors.py, Python
 * cryptography).  The 1 MiB case is encrypted here with OpenSSL EVP
 * directly under a CEK that the Python side wrapped.
 * jwe_encrypt ("idhook sign") is checked here for its exact header bytes
 * (computed by Python), fresh CEK/IV, and that it decrypts; that an
 * independent implementation decrypts it is tests/integration/keygen.sh.
 * jwe_public_jwk must give the n and e of the JWKs the sender's code
 * (kayle-e2e) and Python (jwe/b.pub.jwk.json) wrote for the same keys.
 */
#include "compat.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "jwe.h"
#include "t.h"

#define VEC		"tests/vectors/jwe/"
#define E2E		"tests/vectors/kayle-e2e/"
#define E2E_PT		"{\"data\":{},\"metadata\":{\"contract_version\":1," \
	"\"event_id\":\"evt_live_abc\",\"verification_session_id\"" \
	":\"vs_live_def\"},\"type\":\"verification.session.expired\"}"

static const char b64u_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct buf {
	uint8_t	*b;
	size_t	 n;
};

/* The file's exact bytes, without a NUL after them (ASan sees overreads). */
static struct buf
slurp(const char *rel)
{
	char		 path[4096];
	struct buf	 r;
	FILE		*f;
	long		 n;
	int		 len;

	len = snprintf(path, sizeof(path), "%s/%s", t_srcdir(), rel);
	CHECK(len > 0 && (size_t)len < sizeof(path));
	if ((f = fopen(path, "rb")) == NULL)
		fprintf(stderr, "cannot open %s\n", path);
	CHECK(f != NULL);
	CHECK(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0);
	rewind(f);
	r.n = (size_t)n;
	CHECK((r.b = malloc(r.n > 0 ? r.n : 1)) != NULL);
	CHECK(fread(r.b, 1, r.n, f) == r.n);
	fclose(f);
	return r;
}

static struct buf
dup_str(const char *s)
{
	struct buf	 r;

	r.n = strlen(s);
	CHECK((r.b = malloc(r.n > 0 ? r.n : 1)) != NULL);
	memcpy(r.b, s, r.n);
	return r;
}

static int
key_load(const char *rel, const char *kid, struct jwe_key *k)
{
	struct buf	 f = slurp(rel);
	char		 err[256] = "";
	int		 r;

	r = jwe_key_parse(f.b, f.n, kid, k, err, sizeof(err));
	CHECK(r == 0 || r == -1);
	if (r == -1) {
		/* A reason, and no key left behind. */
		CHECK(err[0] != '\0' && k->jk_pkey == NULL);
	} else
		CHECK(k->jk_pkey != NULL && err[0] == '\0');
	free(f.b);
	return r;
}

/* jwe_decrypt; on success the plaintext must equal want (if non-NULL). */
static int
dec(const struct buf *in, const struct jwe_key *keys, size_t nkeys,
    const struct buf *want, char *kid, size_t kidsz)
{
	static uint8_t	 sentinel[1];
	uint8_t		*pt = sentinel;
	size_t		 ptlen = 12345;
	int		 r;

	r = jwe_decrypt(in->b, in->n, keys, nkeys, &pt, &ptlen, kid, kidsz);
	if (r != JWE_OK) {
		CHECK(pt == NULL && ptlen == 0);
		return r;
	}
	CHECK(pt != NULL && pt[ptlen] == '\0');
	if (want != NULL)
		CHECK(ptlen == want->n && memcmp(pt, want->b, ptlen) == 0);
	freezero(pt, ptlen + 1);
	return r;
}

static int
dec_file(const char *rel, const struct jwe_key *keys, size_t nkeys,
    const struct buf *want, char *kid, size_t kidsz)
{
	struct buf	 in = slurp(rel);
	int		 r;

	r = dec(&in, keys, nkeys, want, kid, kidsz);
	free(in.b);
	return r;
}

static void
test_e2e(void)
{
	struct jwe_key	 k[2];
	struct buf	 want = dup_str(E2E_PT), in = slurp(E2E "body.jwe");
	char		 kid[KID_MAX + 1];

	CHECK(key_load(E2E "private.pem", NULL, &k[0]) == 0);
	CHECK(k[0].jk_kid[0] == '\0' && k[0].jk_bits == 2048);
	CHECK(dec(&in, k, 1, &want, kid, sizeof(kid)) == JWE_OK);
	CHECK(strcmp(kid, "k1") == 0);
	CHECK(dec(&in, k, 1, &want, NULL, 0) == JWE_OK);
	CHECK(dec(&in, k, 1, &want, kid, 2) == JWE_OK && strcmp(kid, "k") == 0);
	CHECK(dec(&in, k, 0, NULL, kid, sizeof(kid)) == JWE_ERR_NOKEY);
	CHECK(strcmp(kid, "k1") == 0);
	jwe_key_free(&k[0]);
	/* The same key as a private JWK (kid from the JWK), behind another. */
	CHECK(key_load(VEC "a.pem", "a", &k[0]) == 0);
	CHECK(key_load(VEC "e2e.jwk.json", NULL, &k[1]) == 0);
	CHECK(strcmp(k[1].jk_kid, "k1") == 0 && k[1].jk_bits == 2048);
	CHECK(dec(&in, k, 2, &want, NULL, 0) == JWE_OK);
	CHECK(dec(&in, k, 1, NULL, NULL, 0) == JWE_ERR_NOKEY);
	jwe_key_free(&k[0]);
	jwe_key_free(&k[1]);
	free(want.b);
	free(in.b);
}

/*
 * Every character of segments 1, 2, 3 and 5 and a sample of segment 4
 * changed to another base64url character: value ^ 0x20 changes a data
 * bit, value ^ 0x01 in a last character changes only unused bits (which
 * the decoder refuses).  Nothing may decrypt.
 */
static void
test_flips(void)
{
	struct jwe_key	 k;
	struct buf	 in = slurp(E2E "body.jwe");
	size_t		 i, seg, start, end, step;
	const char	*p;
	uint8_t		 orig;
	int		 m, r;
	static const int masks[] = { 0x01, 0x20 };

	CHECK(key_load(E2E "private.pem", NULL, &k) == 0);
	for (seg = 0, start = 0; seg < 5; seg++, start = end + 1) {
		p = memchr(in.b + start, '.', in.n - start);
		end = p != NULL ? (size_t)((const uint8_t *)p - in.b) : in.n;
		step = seg == 3 ? 7 : 1;
		for (i = start; i < end; i += (i + 3 < end ? step : 1)) {
			orig = in.b[i];
			for (m = 0; m < 2; m++) {
				p = strchr(b64u_chars, orig);
				CHECK(p != NULL);
				in.b[i] = (uint8_t)b64u_chars[(p - b64u_chars) ^
				    masks[m]];
				r = dec(&in, &k, 1, NULL, NULL, 0);
				CHECK(r != JWE_OK);
				if (i + 1 == end || seg == 0)
					continue;
				CHECK(r == (seg == 1 ? JWE_ERR_NOKEY :
				    JWE_ERR_DECRYPT));
			}
			in.b[i] = orig;
		}
	}
	CHECK(dec(&in, &k, 1, NULL, NULL, 0) == JWE_OK);
	jwe_key_free(&k);
	free(in.b);
}

/* body.jwe edited: the result must be MALFORMED. */
static void
check_edit(const struct buf *orig, size_t at, size_t del, const char *ins,
    const struct jwe_key *k)
{
	struct buf	 e;
	size_t		 il = strlen(ins);

	/* The NUL case passes ins = "" and del = 0 with at = n: see caller. */
	e.n = orig->n - del + il;
	CHECK((e.b = malloc(e.n + 1)) != NULL);
	memcpy(e.b, orig->b, at);
	memcpy(e.b + at, ins, il);
	memcpy(e.b + at + il, orig->b + at + del, orig->n - at - del);
	CHECK(dec(&e, k, 1, NULL, NULL, 0) == JWE_ERR_MALFORMED);
	free(e.b);
}

static size_t
seg_start(const struct buf *in, int seg)
{
	size_t	 i;

	for (i = 0; seg > 0 && i < in->n; i++)
		if (in->b[i] == '.')
			seg--;
	return i;
}

static void
test_syntax(void)
{
	struct jwe_key	 k;
	struct buf	 in = slurp(E2E "body.jwe"), e;
	size_t		 s1 = seg_start(&in, 1), s2 = seg_start(&in, 2);
	size_t		 s3 = seg_start(&in, 3), s4 = seg_start(&in, 4), n;
	static const char *const whole[] = { "", ".", "....", ".....",
	    "a.b.c.d.e",
	    "e30.AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA" };

	CHECK(key_load(E2E "private.pem", NULL, &k) == 0);
	check_edit(&in, s4 - 1, in.n - s4 + 1, "", &k);	/* 4 segments */
	check_edit(&in, in.n, 0, ".AAAA", &k);			/* 6 segments */
	check_edit(&in, in.n, 0, ".", &k);
	check_edit(&in, 0, 0, ".", &k);
	check_edit(&in, in.n, 0, "=", &k);			/* padding */
	check_edit(&in, in.n, 0, "==", &k);
	check_edit(&in, s1 - 1, 0, "==", &k);
	check_edit(&in, in.n, 0, "\n", &k);			/* whitespace */
	check_edit(&in, in.n, 0, " ", &k);
	check_edit(&in, 0, 0, " ", &k);
	check_edit(&in, s2 + 4, 0, " ", &k);
	check_edit(&in, s3 + 8, 0, "\r\n", &k);
	check_edit(&in, s1 + 10, 1, "+", &k);			/* base64 */
	check_edit(&in, s1 + 10, 1, "/", &k);
	check_edit(&in, s3 + 1, 1, "*", &k);
	check_edit(&in, s1, s2 - s1 - 1, "", &k);	/* empty ek */
	check_edit(&in, 0, s1 - 1, "", &k);		/* empty hdr */
	check_edit(&in, s2, 1, "", &k);			/* IV 15 chars */
	check_edit(&in, s2, 0, "AAAA", &k);		/* IV 15 bytes */
	check_edit(&in, s4, 0, "AAAA", &k);		/* tag 19 bytes */
	check_edit(&in, s4, 2, "", &k);			/* tag 15 bytes */
	/* A segment 4 of 4n+1 characters can encode nothing. */
	n = (s4 - 1 - s3) % 4;
	check_edit(&in, s3, 0, n == 0 ? "A" : n == 2 ? "AAA" : n == 3 ?
	    "AA" : "AAAA", &k);
	e.n = in.n + 1;
	CHECK((e.b = malloc(e.n)) != NULL);
	memcpy(e.b, in.b, in.n);
	e.b[in.n] = '\0';
	CHECK(dec(&e, &k, 1, NULL, NULL, 0) == JWE_ERR_MALFORMED);
	e.b[s3 + 2] = '\0';
	e.n = in.n;
	CHECK(dec(&e, &k, 1, NULL, NULL, 0) == JWE_ERR_MALFORMED);
	free(e.b);
	for (n = 0; n < sizeof(whole) / sizeof(whole[0]); n++) {
		e = dup_str(whole[n]);
		CHECK(dec(&e, &k, 1, NULL, NULL, 0) == JWE_ERR_MALFORMED);
		free(e.b);
	}
	e.b = NULL;
	e.n = 0;
	CHECK(dec(&e, &k, 1, NULL, NULL, 0) == JWE_ERR_MALFORMED);
	/* Shorter than it is: the length counts, not a NUL. */
	e = in;
	e.n = in.n - 1;
	CHECK(dec(&e, &k, 1, NULL, NULL, 0) != JWE_OK);
	jwe_key_free(&k);
	free(in.b);
}

/* The Python cases; keys a and b carry the kids "a" and "b". */
static void
test_vectors(void)
{
	static const char *const bad[] = { "hdr_1025", "alg_rsa_oaep",
	    "alg_rsa1_5", "alg_dir", "alg_lower", "alg_missing", "alg_array",
	    "enc_a128gcm", "enc_missing", "zip", "crit", "hdr_array",
	    "hdr_dup", "hdr_trailing", "hdr_notjson", "kid_int", "kid_129",
	    "iv16", "tag12" };
	struct jwe_key	 ab[2], ba[2], aa[2], big[2], nk[2], k128;
	struct buf	 want = slurp(VEC "PLAINTEXT");
	char		 kid[KID_MAX + 1], path[256], kk[KID_MAX + 2];
	size_t		 i;

	CHECK(key_load(VEC "a.pem", "a", &ab[0]) == 0);
	CHECK(key_load(VEC "b.pem", "b", &ab[1]) == 0);
	CHECK(key_load(VEC "b.pem", "b", &ba[0]) == 0);
	CHECK(key_load(VEC "a.pem", "a", &ba[1]) == 0);
	CHECK(key_load(VEC "a.pem", "b", &aa[0]) == 0);	/* mislabelled */
	CHECK(key_load(VEC "b.jwk.json", "b", &aa[1]) == 0);
	CHECK(key_load(VEC "a.pem", "a", &big[0]) == 0);
	CHECK(key_load(VEC "k4096.pem", "k4096", &big[1]) == 0);
	CHECK(big[1].jk_bits == 4096);

	CHECK(dec_file(VEC "nokid.jwe", ab, 2, &want, kid, sizeof(kid)) ==
	    JWE_OK && kid[0] == '\0');
	CHECK(dec_file(VEC "nokid.jwe", ab, 1, NULL, NULL, 0) ==
	    JWE_ERR_NOKEY);
	CHECK(dec_file(VEC "nokid.jwe", ba, 1, &want, NULL, 0) == JWE_OK);
	CHECK(dec_file(VEC "unknownkid.jwe", ab, 2, &want, kid,
	    sizeof(kid)) == JWE_OK && strcmp(kid, "zz") == 0);
	/* The kid names a, which fails: b is not tried. */
	CHECK(dec_file(VEC "wrongkid.jwe", ab, 2, NULL, kid, sizeof(kid)) ==
	    JWE_ERR_NOKEY && strcmp(kid, "a") == 0);
	CHECK(dec_file(VEC "wrongkid.jwe", ba, 1, &want, NULL, 0) == JWE_OK);
	CHECK(dec_file(VEC "kid_b.jwe", ab, 2, &want, NULL, 0) == JWE_OK);
	CHECK(dec_file(VEC "kid_b.jwe", ab, 1, NULL, NULL, 0) ==
	    JWE_ERR_NOKEY);
	CHECK(dec_file(VEC "kid_b.jwe", ba, 1, &want, NULL, 0) == JWE_OK);
	CHECK(dec_file(VEC "kid_b.jwe", aa, 2, &want, NULL, 0) == JWE_OK);
	CHECK(dec_file(VEC "kid_b.jwe", aa, 1, NULL, NULL, 0) ==
	    JWE_ERR_NOKEY);
	/* a without kid, then b: an empty kid selects nothing. */
	CHECK(key_load(VEC "a.pem", NULL, &nk[0]) == 0);
	CHECK(key_load(VEC "b.pem", "b", &nk[1]) == 0);
	CHECK(dec_file(VEC "kid_empty.jwe", nk, 2, &want, kid, sizeof(kid)) ==
	    JWE_OK && kid[0] == '\0');
	CHECK(dec_file(VEC "kid_empty.jwe", nk, 1, NULL, NULL, 0) ==
	    JWE_ERR_NOKEY);
	CHECK(dec_file(VEC "k4096.jwe", big, 2, &want, NULL, 0) == JWE_OK);
	CHECK(dec_file(VEC "k4096.jwe", big, 1, NULL, NULL, 0) ==
	    JWE_ERR_NOKEY);
	CHECK(dec_file(VEC "cek16.jwe", ab, 2, NULL, NULL, 0) ==
	    JWE_ERR_NOKEY);
	CHECK(dec_file(VEC "cek31.jwe", ab, 2, NULL, NULL, 0) ==
	    JWE_ERR_NOKEY);
	CHECK(dec_file(VEC "hdr_1024.jwe", ab, 2, &want, NULL, 0) == JWE_OK);
	want.n = 0;
	CHECK(dec_file(VEC "empty_pt.jwe", ab, 2, &want, NULL, 0) == JWE_OK);
	memset(kk, 'k', KID_MAX);
	kk[KID_MAX] = '\0';
	CHECK(key_load(VEC "a.pem", kk, &k128) == 0);
	CHECK(dec_file(VEC "kid_128.jwe", &k128, 1, NULL, kid, sizeof(kid)) ==
	    JWE_OK && strcmp(kid, kk) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(snprintf(path, sizeof(path), VEC "%s.jwe", bad[i]) > 0);
		CHECK(dec_file(path, ab, 2, NULL, NULL, 0) ==
		    JWE_ERR_MALFORMED);
	}
	for (i = 0; i < 2; i++) {
		jwe_key_free(&ab[i]);
		jwe_key_free(&ba[i]);
		jwe_key_free(&aa[i]);
		jwe_key_free(&big[i]);
		jwe_key_free(&nk[i]);
	}
	jwe_key_free(&k128);
	free(want.b);
}

static size_t
b64u_enc(const uint8_t *in, size_t n, char *out)
{
	size_t		 i, o = 0;
	uint32_t	 v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64u_chars[v >> 18 & 63];
		out[o++] = b64u_chars[v >> 12 & 63];
		out[o++] = b64u_chars[v >> 6 & 63];
		out[o++] = b64u_chars[v & 63];
	}
	if (n - i == 1) {
		out[o++] = b64u_chars[in[i] >> 2];
		out[o++] = b64u_chars[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		out[o++] = b64u_chars[in[i] >> 2];
		out[o++] = b64u_chars[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = b64u_chars[(in[i + 1] & 15) << 2];
	}
	return o;
}

static size_t
hexdec(const char *s, uint8_t *out, size_t max)
{
	size_t		 n;
	unsigned	 x;

	for (n = 0; n < max && sscanf(s + 2 * n, "%2x", &x) == 1; n++)
		out[n] = (uint8_t)x;
	return n;
}

/* A 1 MiB plaintext (1.4 MB of base64url), as a Kayle photo event. */
static void
test_big(void)
{
	enum { PTLEN = 1024 * 1024 + 1 };
	struct jwe_key	 k;
	struct buf	 kc = slurp(VEC "known_cek.txt"), in, want;
	EVP_CIPHER_CTX	*c;
	uint8_t		 cek[32], iv[12] = "0123456789a", tag[16], *ct;
	char		*nl1, *nl2, *o;
	size_t		 i;
	int		 n;

	CHECK((kc.b = realloc(kc.b, kc.n + 1)) != NULL);
	kc.b[kc.n] = '\0';
	CHECK((nl1 = strchr((char *)kc.b, '\n')) != NULL);
	CHECK((nl2 = strchr(nl1 + 1, '\n')) != NULL);
	CHECK(hexdec(nl2 + 1, cek, sizeof(cek)) == sizeof(cek));
	want.n = PTLEN;
	CHECK((want.b = malloc(PTLEN)) != NULL && (ct = malloc(PTLEN)) != NULL);
	for (i = 0; i < PTLEN; i++)
		want.b[i] = (uint8_t)("{\"x\":\"0123456789\"}"[i % 18]);
	CHECK((c = EVP_CIPHER_CTX_new()) != NULL);
	CHECK(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, cek, iv) == 1);
	CHECK(EVP_EncryptUpdate(c, NULL, &n, kc.b, (int)(nl1 - (char *)kc.b))
	    == 1);
	CHECK(EVP_EncryptUpdate(c, ct, &n, want.b, PTLEN) == 1 && n == PTLEN);
	CHECK(EVP_EncryptFinal_ex(c, ct + n, &n) == 1);
	CHECK(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
	EVP_CIPHER_CTX_free(c);
	CHECK((in.b = malloc(kc.n + PTLEN / 3 * 4 + 64)) != NULL);
	/* known_cek.txt: segment 1 "\n" segment 2 "\n" hex CEK. */
	o = (char *)in.b;
	memcpy(o, kc.b, (size_t)(nl2 - (char *)kc.b));
	o[nl1 - (char *)kc.b] = '.';
	o += nl2 - (char *)kc.b;
	*o++ = '.';
	o += b64u_enc(iv, sizeof(iv), o);
	*o++ = '.';
	o += b64u_enc(ct, PTLEN, o);
	*o++ = '.';
	o += b64u_enc(tag, sizeof(tag), o);
	in.n = (size_t)(o - (char *)in.b);
	CHECK(key_load(VEC "a.pem", NULL, &k) == 0);
	CHECK(dec(&in, &k, 1, &want, NULL, 0) == JWE_OK);
	in.b[in.n / 2] = in.b[in.n / 2] == 'A' ? 'B' : 'A';
	CHECK(dec(&in, &k, 1, NULL, NULL, 0) == JWE_ERR_DECRYPT);
	jwe_key_free(&k);
	explicit_bzero(cek, sizeof(cek));
	free(in.b);
	free(ct);
	free(want.b);
	free(kc.b);
}

static int
key_mem(const char *s, const char *kid)
{
	struct jwe_key	 k;
	char		 err[128] = "";
	int		 r;

	r = jwe_key_parse((const uint8_t *)s, strlen(s), kid, &k, err,
	    sizeof(err));
	CHECK(r == -1 ? err[0] != '\0' && k.jk_pkey == NULL : 1);
	jwe_key_free(&k);
	return r;
}

static void
test_keys(void)
{
	static const char *const bad[] = { "b.pub.pem",
	    "b.pub.jwk.json", "b.donly.jwk.json", "b.kidlong.jwk.json",
	    "k1024.pem", "ec.pem", "dsa.pem", "ec.jwk.json", "oct.jwk.json",
	    "encrypted.pem", "PLAINTEXT", "README" };
	struct jwe_key	 k;
	char		 kid[KID_MAX + 2], path[256], err[8];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(snprintf(path, sizeof(path), VEC "%s", bad[i]) > 0);
		CHECK(key_load(path, NULL, &k) == -1);
	}
	CHECK(key_load(E2E "public.jwk.json", NULL, &k) == -1);
	CHECK(key_load(E2E "body.jwe", NULL, &k) == -1);
	CHECK(key_mem("", NULL) == -1);
	CHECK(key_mem("   ", NULL) == -1);
	CHECK(key_mem("{", NULL) == -1);
	CHECK(key_mem(" {}", NULL) == -1);
	CHECK(key_mem("garbage", NULL) == -1);
	CHECK(key_mem("-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n", NULL) == -1);
	/* kid: override, else the JWK's, else none; at most KID_MAX. */
	CHECK(key_load(VEC "b.jwk.json", NULL, &k) == 0);
	CHECK(strcmp(k.jk_kid, "b-jwk") == 0 && k.jk_bits == 2048);
	jwe_key_free(&k);
	CHECK(k.jk_pkey == NULL);
	jwe_key_free(&k);
	jwe_key_free(NULL);
	CHECK(key_load(VEC "b.jwk.json", "", &k) == 0);
	CHECK(strcmp(k.jk_kid, "b-jwk") == 0);
	jwe_key_free(&k);
	CHECK(key_load(VEC "b.jwk.json", "over", &k) == 0);
	CHECK(strcmp(k.jk_kid, "over") == 0);
	jwe_key_free(&k);
	CHECK(key_load(VEC "b.kidlong.jwk.json", "short", &k) == 0);
	CHECK(strcmp(k.jk_kid, "short") == 0);
	jwe_key_free(&k);
	CHECK(key_load(VEC "b.pem", NULL, &k) == 0 && k.jk_kid[0] == '\0');
	jwe_key_free(&k);
	memset(kid, 'k', KID_MAX + 1);
	kid[KID_MAX + 1] = '\0';
	CHECK(key_load(VEC "b.pem", kid, &k) == -1);
	kid[KID_MAX] = '\0';
	CHECK(key_load(VEC "b.pem", kid, &k) == 0);
	CHECK(strcmp(k.jk_kid, kid) == 0);
	jwe_key_free(&k);
	/* A short err buffer is truncated, not overrun; NULL is fine. */
	{
		struct buf	 f = slurp(VEC "k1024.pem");

		CHECK(jwe_key_parse(f.b, f.n, NULL, &k, err, sizeof(err)) ==
		    -1 && strlen(err) == sizeof(err) - 1);
		CHECK(jwe_key_parse(f.b, f.n, NULL, &k, NULL, 0) == -1);
		free(f.b);
	}
}

static void
test_strerror(void)
{
	int	 r;

	for (r = -6; r <= 1; r++)
		CHECK(jwe_strerror(r) != NULL && jwe_strerror(r)[0] != '\0');
}

/* Python: b64url of the exact header bytes. */
#define HDR_KID_B	"eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIiwi" \
			"a2lkIjoiYiJ9."
#define HDR_NOKID	"eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0."

static void
enc_check(const struct jwe_key *k, const char *kid, const char *hdr,
    const struct buf *pt, char **out)
{
	struct buf	 in;
	size_t		 len, i, dots = 0;
	char		 got[KID_MAX + 1];

	CHECK(jwe_encrypt(pt->b, pt->n, k->jk_pkey, kid, out, &len) == 0);
	CHECK(*out != NULL && strlen(*out) == len);
	CHECK(strncmp(*out, hdr, strlen(hdr)) == 0);
	for (i = 0; i < len; i++) {
		dots += (*out)[i] == '.';
		CHECK((*out)[i] == '.' || strchr(b64u_chars, (*out)[i]));
	}
	CHECK(dots == 4);
	in.b = (uint8_t *)*out;
	in.n = len;
	CHECK(dec(&in, k, 1, pt, got, sizeof(got)) == JWE_OK);
	CHECK(strcmp(got, kid != NULL ? kid : "") == 0);
}

static void
test_encrypt(void)
{
	struct jwe_key	 a, b;
	struct buf	 pt = dup_str(E2E_PT), empty = dup_str(""), in;
	char		*o1, *o2, *o3, *o4;
	size_t		 n;

	CHECK(key_load(VEC "a.pem", "a", &a) == 0);
	CHECK(key_load(VEC "b.pem", "b", &b) == 0);
	enc_check(&b, "b", HDR_KID_B, &pt, &o1);
	enc_check(&b, "b", HDR_KID_B, &pt, &o2);
	enc_check(&b, NULL, HDR_NOKID, &pt, &o3);
	enc_check(&b, "b", HDR_KID_B, &empty, &o4);
	/* Fresh CEK (so wrapped key) and IV every time. */
	n = strlen(HDR_KID_B);
	CHECK(strcmp(o1, o2) != 0);
	CHECK(strncmp(o1 + n, o2 + n, 40) != 0);
	CHECK(strncmp(strchr(strchr(o1 + n, '.') + 1, '.'),
	    strchr(strchr(o2 + n, '.') + 1, '.'), 10) != 0);
	/* Encrypted to b: a cannot unwrap it; a flipped tag fails. */
	in.b = (uint8_t *)o1;
	in.n = strlen(o1);
	CHECK(dec(&in, &a, 1, NULL, NULL, 0) == JWE_ERR_NOKEY);
	o1[in.n - 2] = o1[in.n - 2] == 'A' ? 'B' : 'A';
	CHECK(dec(&in, &b, 1, NULL, NULL, 0) == JWE_ERR_DECRYPT);
	free(o1);
	free(o2);
	free(o3);
	free(o4);
	free(pt.b);
	free(empty.b);
	jwe_key_free(&a);
	jwe_key_free(&b);
}

/* Our JWK's n, e against a JWK written by another implementation. */
static void
jwk_check(const char *pem, const char *kid, const char *other)
{
	struct jwe_key	 k;
	struct buf	 f = slurp(other);
	json_t		*mine, *theirs;
	char		*s;
	const char	*m;

	CHECK(key_load(pem, NULL, &k) == 0);
	CHECK(jwe_public_jwk(k.jk_pkey, kid, &s) == 0);
	CHECK((mine = json_loads(s, JSON_REJECT_DUPLICATES, NULL)) != NULL);
	CHECK((theirs = json_loadb((char *)f.b, f.n, 0, NULL)) != NULL);
	CHECK(json_object_size(mine) == (kid != NULL ? 6 : 5));
	CHECK(json_equal(json_object_get(mine, "n"),
	    json_object_get(theirs, "n")));
	CHECK(json_equal(json_object_get(mine, "e"),
	    json_object_get(theirs, "e")));
	CHECK(strcmp(json_string_value(json_object_get(mine, "kty")),
	    "RSA") == 0);
	CHECK(strcmp(json_string_value(json_object_get(mine, "alg")),
	    "RSA-OAEP-256") == 0);
	CHECK(strcmp(json_string_value(json_object_get(mine, "use")),
	    "enc") == 0);
	m = json_string_value(json_object_get(mine, "kid"));
	CHECK(kid == NULL ? m == NULL : m != NULL && strcmp(m, kid) == 0);
	json_decref(mine);
	json_decref(theirs);
	free(s);
	free(f.b);
	jwe_key_free(&k);
}

static void
test_public_jwk(void)
{
	struct jwe_key	 a;
	struct buf	 f = slurp(VEC "b.pub.jwk.json");
	char		*s;

	jwk_check(E2E "private.pem", "kayle-1", E2E "public.jwk.json");
	jwk_check(VEC "b.pem", NULL, VEC "b.pub.jwk.json");
	/* Negative: a's JWK is not b's. */
	CHECK(key_load(VEC "a.pem", NULL, &a) == 0);
	CHECK(jwe_public_jwk(a.jk_pkey, "b", &s) == 0);
	CHECK(strstr(s, "yhgEegF1W80k0mjIDJvJyN9vL9Kd54l6") == NULL);
	CHECK(memmem(f.b, f.n, "yhgEegF1W80k0mjIDJvJyN9vL9Kd54l6", 32) != NULL);
	free(s);
	free(f.b);
	jwe_key_free(&a);
}

int
main(void)
{
	test_e2e();
	test_flips();
	test_syntax();
	test_vectors();
	test_big();
	test_keys();
	test_strerror();
	test_encrypt();
	test_public_jwk();
	return 0;
}
