/*
 * t_sig.c: sig_verify_tv1, sig_verify_standard, sig_secret_standard and
 * sig_verify_body_hex against vectors made outside this code base
 * (tests/vectors/kayle-e2e: the sender's algorithm, checked with Python's
 * hmac; protocols/standard-webhooks.md: the reference libraries' vectors;
 * the extra MACs below come from Python's hmac and base64 modules).
 */
#include "compat.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"
#include "t.h"

#define SMALL_T		1742404800
#define SMALL_V1	"4e4a7ec092b53b027f0b504e4f1c0383" \
			"af4dc960d2a869d9961d50586f46105b"
#define SMALL_V1_UC	"4E4A7EC092B53B027F0B504E4F1C0383" \
			"AF4DC960D2A869D9961D50586F46105B"
/* Same secret and body, t text "01742404800" (Python hmac). */
#define ZERO_T_V1	"7c489691c6c11ff4c8d320facd3fabaa" \
			"c1478a85f26f35a7cdd1284a99f50c3d"
/* Same secret and t, empty body; and body "a\0b". */
#define EMPTY_V1	"c1b2c0a6a19c19a1ea9e66bc0064c073" \
			"91a113ef347b2ffca28d3631acedcf22"
#define NUL_V1		"a6b9de016d13ef1ea02d1c9ac9ba7f29" \
			"a9f8d20793ee639360930f361aacb516"
/* Same t and body, an empty key: must never verify. */
#define EMPTYKEY_V1	"1d90761e863276c91cb148aff4911520" \
			"8e63348875d50da574b78d526cf6f2e2"
#define SMALL_HDR	"t=1742404800,v1=" SMALL_V1
#define BOGUS_V1	"00000000000000000000000000000000" \
			"00000000000000000000000000000000"

static const uint8_t small_body[] = "encrypted-payload";
#define SMALL_BLEN	(sizeof(small_body) - 1)

static uint8_t	 s_test[] = "whsec_test_secret";
static uint8_t	 s_wrong1[] = "whsec_wrong_secret";
static uint8_t	 s_wrong2[] = "whsec_test_secreT";
static uint8_t	 s_stripped[] = "test_secret";
static uint8_t	 s_longer[] = "whsec_test_secret ";

#define SECRET(a)	{ (a), sizeof(a) - 1 }

static const struct secret one[] = { SECRET(s_test) };

static int
vsmall(const char *hdr, int64_t now)
{
	return sig_verify_tv1(hdr, strlen(hdr), small_body, SMALL_BLEN, one, 1,
	    now, 300);
}

static uint8_t *
slurp(const char *rel, size_t *lenp)
{
	char		 path[4096];
	FILE		*f;
	uint8_t		*buf;
	long		 n;
	int		 r;

	r = snprintf(path, sizeof(path), "%s/%s", t_srcdir(), rel);
	CHECK(r > 0 && (size_t)r < sizeof(path));
	CHECK((f = fopen(path, "rb")) != NULL);
	CHECK(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0);
	rewind(f);
	CHECK((buf = malloc((size_t)n + 1)) != NULL);
	CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*lenp = (size_t)n;
	return buf;
}

/* The small README vector, its time window and its MAC input. */
static void
test_small(void)
{
	CHECK(vsmall(SMALL_HDR, SMALL_T) == SIG_OK);
	CHECK(vsmall("t=1742404800,v1=" SMALL_V1_UC, SMALL_T) == SIG_OK);
	/* Exactly the tolerance is accepted, one second more is not. */
	CHECK(vsmall(SMALL_HDR, SMALL_T + 300) == SIG_OK);
	CHECK(vsmall(SMALL_HDR, SMALL_T - 300) == SIG_OK);
	CHECK(vsmall(SMALL_HDR, SMALL_T + 301) == SIG_ERR_STALE);
	CHECK(vsmall(SMALL_HDR, SMALL_T - 301) == SIG_ERR_FUTURE);
	CHECK(sig_verify_tv1(SMALL_HDR, strlen(SMALL_HDR), small_body,
	    SMALL_BLEN, one, 1, SMALL_T + 1, 0) == SIG_ERR_STALE);
	CHECK(sig_verify_tv1(SMALL_HDR, strlen(SMALL_HDR), small_body,
	    SMALL_BLEN, one, 1, SMALL_T, 0) == SIG_OK);
	/* The timestamp is checked before (and without) any MAC. */
	CHECK(vsmall("t=1742404800,v1=" BOGUS_V1, SMALL_T - 301) ==
	    SIG_ERR_FUTURE);
	CHECK(vsmall("t=1742404800,v1=" BOGUS_V1, SMALL_T) ==
	    SIG_ERR_MISMATCH);
	/* t is MAC'd as text: a leading zero is another message. */
	CHECK(vsmall("t=01742404800,v1=" ZERO_T_V1, SMALL_T) == SIG_OK);
	CHECK(vsmall("t=01742404800,v1=" SMALL_V1, SMALL_T) ==
	    SIG_ERR_MISMATCH);
	CHECK(sig_verify_tv1("t=1742404800,v1=" EMPTY_V1, 80, NULL, 0, one, 1,
	    SMALL_T, 300) == SIG_OK);
	CHECK(sig_verify_tv1("t=1742404800,v1=" NUL_V1, 80,
	    (const uint8_t *)"a\0b", 3, one, 1, SMALL_T, 300) == SIG_OK);
	CHECK(sig_verify_tv1("t=1742404800,v1=" NUL_V1, 80,
	    (const uint8_t *)"a\0c", 3, one, 1, SMALL_T, 300) ==
	    SIG_ERR_MISMATCH);
}

/* Every single-byte change of the body, truncation and extension. */
static void
test_body_changes(const char *hdr, const uint8_t *body, size_t blen,
    const struct secret *sec, int64_t now, int all_values)
{
	uint8_t		*b;
	size_t		 i, hl = strlen(hdr);
	unsigned	 d;

	CHECK((b = malloc(blen + 1)) != NULL);
	memcpy(b, body, blen);
	CHECK(sig_verify_tv1(hdr, hl, b, blen, sec, 1, now, 300) == SIG_OK);
	for (i = 0; i < blen; i++) {
		for (d = 1; d < 256; d++) {
			if (!all_values && d != 0x01 && d != 0x80)
				continue;
			b[i] = body[i] ^ (uint8_t)d;
			CHECK(sig_verify_tv1(hdr, hl, b, blen, sec, 1, now,
			    300) == SIG_ERR_MISMATCH);
		}
		b[i] = body[i];
	}
	CHECK(sig_verify_tv1(hdr, hl, b, blen - 1, sec, 1, now, 300) ==
	    SIG_ERR_MISMATCH);
	b[blen] = '\n';
	CHECK(sig_verify_tv1(hdr, hl, b, blen + 1, sec, 1, now, 300) ==
	    SIG_ERR_MISMATCH);
	free(b);
}

/* The end-to-end vector: header and secret from headers.txt. */
static void
test_e2e(void)
{
	static const char pfx_h[] = "X-Kayle-Signature: ";
	static const char pfx_s[] = "\nsecret: ";
	struct secret	 sec;
	uint8_t		*body, *txt;
	char		*hdr, *s, *nl;
	size_t		 blen, tlen;

	body = slurp("tests/vectors/kayle-e2e/body.jwe", &blen);
	txt = slurp("tests/vectors/kayle-e2e/headers.txt", &tlen);
	CHECK(strncmp((char *)txt, pfx_h, strlen(pfx_h)) == 0);
	hdr = (char *)txt + strlen(pfx_h);
	CHECK((s = strstr(hdr, pfx_s)) != NULL);
	*s = '\0';
	s += strlen(pfx_s);
	if ((nl = strchr(s, '\n')) != NULL)
		*nl = '\0';
	CHECK(strcmp(s, "whsec_0123456789abcdefghijklmnopqrstuv") == 0);
	sec.s_buf = (uint8_t *)s;
	sec.s_len = strlen(s);
	test_body_changes(hdr, body, blen, &sec, 1767225600, 0);
	CHECK(sig_verify_tv1(hdr, strlen(hdr), body, blen, &sec, 1,
	    1767225600 + 300, 300) == SIG_OK);
	CHECK(sig_verify_tv1(hdr, strlen(hdr), body, blen, &sec, 1,
	    1767225600 + 301, 300) == SIG_ERR_STALE);
	CHECK(sig_verify_tv1(hdr, strlen(hdr), body, blen, &sec, 1,
	    1767225600 - 301, 300) == SIG_ERR_FUTURE);
	/* Key = the whole secret with its prefix, not the part after it. */
	sec.s_buf += strlen("whsec_");
	sec.s_len -= strlen("whsec_");
	CHECK(sig_verify_tv1(hdr, strlen(hdr), body, blen, &sec, 1,
	    1767225600, 300) == SIG_ERR_MISMATCH);
	free(txt);
	free(body);
}

static void
test_secrets(void)
{
	/* The four wrong ones, then the right one. */
	const struct secret wrong[] = { SECRET(s_wrong1), SECRET(s_wrong2),
	    SECRET(s_stripped), SECRET(s_longer), SECRET(s_test) };
	const struct secret rot[] = { SECRET(s_wrong1), SECRET(s_test),
	    SECRET(s_wrong2) };
	const struct secret empty[] = { { s_test, 0 } };
	size_t		 i;

	for (i = 0; i < 4; i++)
		CHECK(sig_verify_tv1(SMALL_HDR, strlen(SMALL_HDR), small_body,
		    SMALL_BLEN, &wrong[i], 1, SMALL_T, 300) ==
		    SIG_ERR_MISMATCH);
	CHECK(sig_verify_tv1(SMALL_HDR, strlen(SMALL_HDR), small_body,
	    SMALL_BLEN, wrong, 4, SMALL_T, 300) == SIG_ERR_MISMATCH);
	CHECK(sig_verify_tv1(SMALL_HDR, strlen(SMALL_HDR), small_body,
	    SMALL_BLEN, rot, 3, SMALL_T, 300) == SIG_OK);
	CHECK(sig_verify_tv1(SMALL_HDR, strlen(SMALL_HDR), small_body,
	    SMALL_BLEN, rot, 1, SMALL_T, 300) == SIG_ERR_MISMATCH);
	CHECK(sig_verify_tv1(SMALL_HDR, strlen(SMALL_HDR), small_body,
	    SMALL_BLEN, wrong, 5, SMALL_T, 300) == SIG_OK);
	CHECK(sig_verify_tv1(SMALL_HDR, strlen(SMALL_HDR), small_body,
	    SMALL_BLEN, NULL, 0, SMALL_T, 300) == SIG_ERR_MISMATCH);
	CHECK(sig_verify_tv1(SMALL_HDR, strlen(SMALL_HDR), small_body,
	    SMALL_BLEN, empty, 1, SMALL_T, 300) == SIG_ERR_MISMATCH);
	CHECK(vsmall("t=1742404800,v1=" EMPTYKEY_V1, SMALL_T) ==
	    SIG_ERR_MISMATCH);
	CHECK(sig_verify_tv1("t=1742404800,v1=" EMPTYKEY_V1, 80, small_body,
	    SMALL_BLEN, empty, 1, SMALL_T, 300) == SIG_ERR_MISMATCH);
	test_body_changes(SMALL_HDR, small_body, SMALL_BLEN, one, SMALL_T, 1);
}

/* Tolerated variations of a header that must still verify. */
static void
test_tolerant(void)
{
	static const char *const ok[] = {
		" t=1742404800 ,\tv1=" SMALL_V1 "\t ",
		"v1=" SMALL_V1 ",t=1742404800",
		"v0=abc,t=1742404800,foo=bar,v1=" SMALL_V1 ",x",
		"t=1742404800,,v1=" SMALL_V1 ",",
		"t=1742404800,v1=" BOGUS_V1 ",v1=" SMALL_V1,
		"t=1742404800,v1=" SMALL_V1 ",v1=" BOGUS_V1,
		"t=1742404800,v1=" SMALL_V1 ",V1=zz,T=x,v2=1,t1=2,v12=zz",
		"tt=x,t=1742404800,v1=" SMALL_V1,
	};
	size_t		 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK(vsmall(ok[i], SMALL_T) == SIG_OK);
	/* Bytes after a NUL still count: the length is what matters. */
	CHECK(sig_verify_tv1(SMALL_HDR ",\0junk", strlen(SMALL_HDR) + 6,
	    small_body, SMALL_BLEN, one, 1, SMALL_T, 300) == SIG_OK);
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
		"", " ", ",", "garbage",
		"v1=" SMALL_V1,					/* no t */
		"t=1742404800",					/* no v1 */
		"t=1742404800,v1=",
		"t=1742404800,t=1742404800,v1=" SMALL_V1,	/* two t */
		"t=1742404800,v1=" SMALL_V1 ",t=1742404801",
		"t=1742404800,v1=4e4a7ec092b53b027f0b504e4f1c0383af4dc960"
		    "d2a869d9961d50586f46105",			/* 63 hex */
		"t=1742404800,v1=" SMALL_V1 "0",		/* 65 hex */
		"t=1742404800,v1=" SMALL_V1 ",v1=abc",		/* one bad v1 */
		"t=1742404800,v1=ge4a7ec092b53b027f0b504e4f1c0383af4dc960"
		    "d2a869d9961d50586f46105b",			/* non-hex */
		"t=1742404800,v1=0x4e4a7ec092b53b027f0b504e4f1c0383af4dc960"
		    "d2a869d9961d50586f4610",
		"t=1742404800,v1= " SMALL_V1,
		"t=,v1=" SMALL_V1,
		"t=+1742404800,v1=" SMALL_V1,
		"t=-1742404800,v1=" SMALL_V1,
		"t=174240480O,v1=" SMALL_V1,
		"t=1742404800.0,v1=" SMALL_V1,
		"t= 1742404800,v1=" SMALL_V1,
		"t =1742404800,v1=" SMALL_V1,			/* key "t " */
		"t=0x67db6c40,v1=" SMALL_V1,
		"t=00000000001742404800,v1=" SMALL_V1,		/* 20 digits */
		"t=1742404800;v1=" SMALL_V1,
	};
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(vsmall(bad[i], SMALL_T) == SIG_ERR_MALFORMED);
	CHECK(sig_verify_tv1(NULL, 0, small_body, SMALL_BLEN, one, 1,
	    SMALL_T, 300) == SIG_ERR_MISSING);
	CHECK(sig_verify_tv1(NULL, 10, small_body, SMALL_BLEN, one, 1,
	    SMALL_T, 300) == SIG_ERR_MISSING);
	/* Embedded NUL bytes are just bytes, inside t or v1 they are bad. */
	CHECK(sig_verify_tv1("t=1742404800\0,v1=" SMALL_V1,
	    strlen(SMALL_HDR) + 1, small_body, SMALL_BLEN, one, 1, SMALL_T,
	    300) == SIG_ERR_MALFORMED);
	CHECK(sig_verify_tv1(SMALL_HDR "\0", strlen(SMALL_HDR) + 1,
	    small_body, SMALL_BLEN, one, 1, SMALL_T, 300) ==
	    SIG_ERR_MALFORMED);
	CHECK(sig_verify_tv1("t=\0" "1742404800,v1=" SMALL_V1,
	    strlen(SMALL_HDR) + 1, small_body, SMALL_BLEN, one, 1, SMALL_T,
	    300) == SIG_ERR_MALFORMED);
	/* A length shorter than the string cuts the v1. */
	CHECK(sig_verify_tv1(SMALL_HDR, strlen(SMALL_HDR) - 1, small_body,
	    SMALL_BLEN, one, 1, SMALL_T, 300) == SIG_ERR_MALFORMED);
}

/* SIGHDR_MAX bytes are read; one more is refused before parsing. */
static void
test_length(void)
{
	char		 h[SIGHDR_MAX + 2];
	size_t		 n = strlen(SMALL_HDR);

	memcpy(h, SMALL_HDR ",x=", n + 3);
	memset(h + n + 3, 'a', sizeof(h) - n - 3);
	CHECK(sig_verify_tv1(h, SIGHDR_MAX, small_body, SMALL_BLEN, one, 1,
	    SMALL_T, 300) == SIG_OK);
	CHECK(sig_verify_tv1(h, SIGHDR_MAX + 1, small_body, SMALL_BLEN, one,
	    1, SMALL_T, 300) == SIG_ERR_MALFORMED);
	/* As many v1 as fit, the good one last. */
	memcpy(h, "t=1742404800", 12);
	for (n = 12; n + 68 + 68 <= SIGHDR_MAX; n += 68)
		memcpy(h + n, ",v1=" BOGUS_V1, 68);
	memcpy(h + n, ",v1=" SMALL_V1, 68);
	n += 68;
	CHECK(sig_verify_tv1(h, n, small_body, SMALL_BLEN, one, 1, SMALL_T,
	    300) == SIG_OK);
}

/* Timestamps at the ends of their ranges; MISMATCH = the window passed. */
static void
test_extremes(void)
{
	static const char h0[] = "t=0,v1=" BOGUS_V1;
	static const char hmax[] = "t=9999999999999999999,v1=" BOGUS_V1;
	static const char h63[] = "t=9223372036854775808,v1=" BOGUS_V1;
	const struct secret *s = one;

	CHECK(sig_verify_tv1(h0, strlen(h0), NULL, 0, s, 1, INT64_MAX, 300) ==
	    SIG_ERR_STALE);
	CHECK(sig_verify_tv1(h0, strlen(h0), NULL, 0, s, 1, -300, 300) ==
	    SIG_ERR_MISMATCH);
	CHECK(sig_verify_tv1(h0, strlen(h0), NULL, 0, s, 1, -301, 300) ==
	    SIG_ERR_FUTURE);
	CHECK(sig_verify_tv1(h0, strlen(h0), NULL, 0, s, 1, INT64_MIN, 300) ==
	    SIG_ERR_FUTURE);
	CHECK(sig_verify_tv1(hmax, strlen(hmax), NULL, 0, s, 1, INT64_MAX,
	    300) == SIG_ERR_FUTURE);
	CHECK(sig_verify_tv1(hmax, strlen(hmax), NULL, 0, s, 1, INT64_MIN,
	    300) == SIG_ERR_FUTURE);
	/* t + |now| = 2^64 exactly, which must not wrap to 0. */
	CHECK(sig_verify_tv1(h63, strlen(h63), NULL, 0, s, 1, INT64_MIN,
	    UINT32_MAX) == SIG_ERR_FUTURE);
	CHECK(sig_verify_tv1(hmax, strlen(hmax), NULL, 0, s, 1, 0,
	    UINT32_MAX) == SIG_ERR_FUTURE);
	CHECK(sig_verify_tv1(h0, strlen(h0), NULL, 0, s, 1, INT64_MAX,
	    UINT32_MAX) == SIG_ERR_STALE);
}

/*
 * Standard Webhooks: the vectors of protocols/standard-webhooks.md (from
 * the reference libraries, rechecked with Python's hmac + base64), and
 * others made with /usr/bin/python3 as noted.  K1, K2 are the decoded
 * secrets whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw and
 * whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD:
 * python3 -c 'import base64;print(base64.b64decode("MfKQ...aSw").hex())'
 */
static uint8_t	 k1[] = "\x31\xf2\x90\xf6\xbf\x06\x29\x8a\xab\x4f\x08\xd4"
		    "\x3c\x3f\x08\x2c\xf6\x48\xa3\x62\xda\x2d\xa4\xb0";
static uint8_t	 k2[] = "\x0b\x61\x55\xb0\x14\x08\x86\xbb\x1c\x0a\x19\x50"
		    "\x20\xc5\x7e\x6f\x9b\x12\x62\xca\x68\x6f\xba\x03";
#define ID1	"msg_p5jXN8AQM9LWM0D4loKWxJek"
#define TS1	"1614265330"
#define T1	1614265330
#define BODY1	"{\"test\": 2432232314}"
#define SIG1	"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define ID2	"msg_27UH4WbU6Z5A5EzD8u03UvzRbpk"
#define TS2	"1649367553"
#define BODY2	"{\"email\":\"test@example.com\",\"username\":\"test_user\"}"
#define SIG2	"v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
/*
 * ID1, TS1, BODY1 under the 25-byte key 01 02 .. 19, whose base64 needs
 * "==": python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(
 * hmac.new(bytes(range(1,26)),b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.
 * {\"test\": 2432232314}",hashlib.sha256).digest()).decode())'
 */
#define SIG_K25	"v1,E66iNThOi5VLPl6P+8zeD3KwGKDpvfs9x2fVwYmgGhc="
#define B64_K25	"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGQ=="
/* The same with K1 and id "a" * 256 (b"a"*256+b".1614265330.{...}"). */
#define SIG_ID256 "v1,I2dgKrB+MtiIt2WqpCJ6EmCdZPCW8ziqjHXe6t1gHLo="
/* K1, ID1, timestamp text "0001614265330" (b"msg_...Jek.0001614265330.") */
#define SIG_TS0	"v1,yjWnRvXy7hJbevQEBEQXk/vMJi2RdIU6jmmvJQ5QUM0="
/* K1, ID1, TS1, an empty body (b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.") */
#define SIG_E	"v1,v48jdbgvh29KJz2Qc+ghw8G6vG3nAKnujWBg8oM/62A="

static const struct secret sk1[] = { { k1, sizeof(k1) - 1 } };

static int
vstd(const char *id, const char *ts, const char *sigs, const char *body,
    const struct secret *sec, size_t nsec, int64_t now)
{
	return sig_verify_standard(id, id != NULL ? strlen(id) : 0, ts,
	    ts != NULL ? strlen(ts) : 0, sigs, sigs != NULL ? strlen(sigs) : 0,
	    (const uint8_t *)body, body != NULL ? strlen(body) : 0, sec, nsec,
	    now, 300);
}

static int
v1std(const char *sigs, int64_t now)
{
	return vstd(ID1, TS1, sigs, BODY1, sk1, 1, now);
}

static void
test_std_vectors(void)
{
	const struct secret sk2[] = { { k2, sizeof(k2) - 1 } };
	const struct secret rot[] = { { k2, sizeof(k2) - 1 },
	    { k1, sizeof(k1) - 1 } };

	CHECK(v1std(SIG1, T1) == SIG_OK);
	CHECK(vstd(ID2, TS2, SIG2, BODY2, sk2, 1, 1649367553) == SIG_OK);
	CHECK(v1std("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", T1) ==
	    SIG_ERR_MISMATCH);
	CHECK(v1std("v2,abc v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "
	    SIG1, T1) == SIG_OK);
	CHECK(v1std("v1,bm9wZQ== " SIG1, T1) == SIG_OK);
	/* Wrong key, the other vector's key, rotation. */
	CHECK(vstd(ID1, TS1, SIG1, BODY1, sk2, 1, T1) == SIG_ERR_MISMATCH);
	CHECK(vstd(ID2, TS2, SIG2, BODY2, sk1, 1, 1649367553) ==
	    SIG_ERR_MISMATCH);
	CHECK(vstd(ID1, TS1, SIG1, BODY1, rot, 2, T1) == SIG_OK);
	CHECK(vstd(ID1, TS1, SIG1, BODY1, rot, 1, T1) == SIG_ERR_MISMATCH);
	CHECK(vstd(ID1, TS1, SIG1, BODY1, NULL, 0, T1) == SIG_ERR_MISMATCH);
	/* The key is the decoded bytes, not the whsec_ text. */
	{
		uint8_t txt[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
		const struct secret st[] = { SECRET(txt) };

		CHECK(vstd(ID1, TS1, SIG1, BODY1, st, 1, T1) ==
		    SIG_ERR_MISMATCH);
	}
	/* Id at its limit, timestamp text with leading zeros, empty body. */
	{
		char	 id[SIG_ID_MAX + 2];

		memset(id, 'a', sizeof(id) - 1);
		id[SIG_ID_MAX] = '\0';
		CHECK(vstd(id, TS1, SIG_ID256, BODY1, sk1, 1, T1) == SIG_OK);
		id[SIG_ID_MAX] = 'a';
		id[SIG_ID_MAX + 1] = '\0';
		CHECK(vstd(id, TS1, SIG_ID256, BODY1, sk1, 1, T1) ==
		    SIG_ERR_MALFORMED);
	}
	CHECK(vstd(ID1, "0001614265330", SIG_TS0, BODY1, sk1, 1, T1) ==
	    SIG_OK);
	CHECK(vstd(ID1, TS1, SIG_TS0, BODY1, sk1, 1, T1) == SIG_ERR_MISMATCH);
	CHECK(vstd(ID1, "0001614265330", SIG1, BODY1, sk1, 1, T1) ==
	    SIG_ERR_MISMATCH);
	CHECK(vstd(ID1, TS1, SIG_E, "", sk1, 1, T1) == SIG_OK);
	CHECK(sig_verify_standard(ID1, strlen(ID1), TS1, strlen(TS1), SIG_E,
	    strlen(SIG_E), NULL, 0, sk1, 1, T1, 300) == SIG_OK);
	CHECK(vstd(ID1, TS1, SIG_E, BODY1, sk1, 1, T1) == SIG_ERR_MISMATCH);
}

/* Window edges; the time is checked before the list is even parsed. */
static void
test_std_time(void)
{
	CHECK(v1std(SIG1, T1 + 300) == SIG_OK);
	CHECK(v1std(SIG1, T1 - 300) == SIG_OK);
	CHECK(v1std(SIG1, T1 + 301) == SIG_ERR_STALE);
	CHECK(v1std(SIG1, T1 - 301) == SIG_ERR_FUTURE);
	CHECK(v1std("garbage", T1 + 301) == SIG_ERR_STALE);
	CHECK(v1std("v1,!!!!", T1 - 301) == SIG_ERR_FUTURE);
	CHECK(sig_verify_standard(ID1, strlen(ID1), TS1, strlen(TS1), SIG1,
	    strlen(SIG1), (const uint8_t *)BODY1, strlen(BODY1), sk1, 1,
	    T1 + 1, 0) == SIG_ERR_STALE);
	CHECK(vstd(ID1, "0", SIG1, BODY1, sk1, 1, INT64_MAX) ==
	    SIG_ERR_STALE);
	CHECK(vstd(ID1, "9999999999999999999", SIG1, BODY1, sk1, 1,
	    INT64_MIN) == SIG_ERR_FUTURE);
}

/* Headers that are absent, or present but not what the spec sends. */
static void
test_std_malformed(void)
{
	static const char *const bad_ts[] = {
		"", " 1614265330", "1614265330 ", "+1614265330", "-1614265330",
		"161426533O", "1614265330.0", "0x6037a8f2",
		"00000000001614265330",				/* 20 digits */
	};
	static const char *const bad_id[] = {
		"", "msg p5j", " msg", "msg\t", "msg\x7f", "msg\x80", "msg\n",
	};
	/* No entry of the "<version>,<signature>" shape at all. */
	static const char *const bad_sig[] = {
		"", " ", "  \t ", "garbage", "v1", ",abc", "v1:" "g0hM9SsE",
	};
	/*
	 * A v1 that is not canonical base64 matches nothing, and does not
	 * spoil the list for another entry that does match.
	 */
	static const char *const bad_b64[] = {
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",  /* no pad */
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=", /* bits */
		"v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=", /* url */
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE==",
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O=E",
		SIG1 ",v1,abc=",		/* one entry, bad base64 */
		SIG1 "," SIG1,
	};
	size_t		 i;

	for (i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++)
		CHECK(vstd(ID1, bad_ts[i], SIG1, BODY1, sk1, 1, T1) ==
		    SIG_ERR_MALFORMED);
	for (i = 0; i < sizeof(bad_id) / sizeof(bad_id[0]); i++)
		CHECK(vstd(bad_id[i], TS1, SIG1, BODY1, sk1, 1, T1) ==
		    SIG_ERR_MALFORMED);
	for (i = 0; i < sizeof(bad_sig) / sizeof(bad_sig[0]); i++)
		CHECK(v1std(bad_sig[i], T1) == SIG_ERR_MALFORMED);
	for (i = 0; i < sizeof(bad_b64) / sizeof(bad_b64[0]); i++)
		CHECK(v1std(bad_b64[i], T1) == SIG_ERR_MISMATCH);
	CHECK(v1std(SIG1 " v1,!!!!", T1) == SIG_OK);
	CHECK(v1std("v1,!!!! " SIG1, T1) == SIG_OK);
	CHECK(vstd(NULL, TS1, SIG1, BODY1, sk1, 1, T1) == SIG_ERR_MISSING);
	CHECK(vstd(ID1, NULL, SIG1, BODY1, sk1, 1, T1) == SIG_ERR_MISSING);
	CHECK(vstd(ID1, TS1, NULL, BODY1, sk1, 1, T1) == SIG_ERR_MISSING);
	CHECK(vstd(NULL, NULL, NULL, BODY1, sk1, 1, T1) == SIG_ERR_MISSING);
	/* A NUL inside the id or timestamp is a byte like any other. */
	CHECK(sig_verify_standard(ID1 "\0", strlen(ID1) + 1, TS1, strlen(TS1),
	    SIG1, strlen(SIG1), (const uint8_t *)BODY1, strlen(BODY1), sk1, 1,
	    T1, 300) == SIG_ERR_MALFORMED);
	CHECK(sig_verify_standard(ID1, strlen(ID1), TS1 "\0", strlen(TS1) + 1,
	    SIG1, strlen(SIG1), (const uint8_t *)BODY1, strlen(BODY1), sk1, 1,
	    T1, 300) == SIG_ERR_MALFORMED);
}

/* Lists that parse but hold no matching v1; white space tolerated. */
static void
test_std_lists(void)
{
	static const char *const ok[] = {
		"  " SIG1 "  ", "\t" SIG1, SIG1 "\t \t",
		"v1a,bm9wZQ== \t  v2,x,y  " SIG1 " v0,",
		"x v1a " SIG1, "v1,bm9wZQ== v1, " SIG1,
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA= " SIG1,
	};
	static const char *const none[] = {
		"v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		"v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,abc",
		"V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		"v11,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		"v1,", "v1,bm9wZQ==", "x,y garbage",
		/* 33 bytes: the MAC and one more. */
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OEA",
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=v1",
	};
	char		 h[SIGHDR_MAX + 2];
	size_t		 i, n;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK(v1std(ok[i], T1) == SIG_OK);
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		CHECK(v1std(none[i], T1) != SIG_OK);
	for (i = 0; i < 7; i++)
		CHECK(v1std(none[i], T1) == SIG_ERR_MISMATCH);
	CHECK(v1std(none[7], T1) == SIG_ERR_MISMATCH);
	CHECK(v1std(none[8], T1) == SIG_ERR_MISMATCH);
	/* SIGHDR_MAX bytes of decoys with the right one last; one more. */
	n = strlen(SIG1);
	memset(h, ' ', sizeof(h));
	for (i = 0; i + 2 * (n + 1) <= SIGHDR_MAX; i += n + 1)
		memcpy(h + i, SIG_E, n);
	memcpy(h + SIGHDR_MAX - n, SIG1, n);
	CHECK(sig_verify_standard(ID1, strlen(ID1), TS1, strlen(TS1), h,
	    SIGHDR_MAX, (const uint8_t *)BODY1, strlen(BODY1), sk1, 1, T1,
	    300) == SIG_OK);
	CHECK(sig_verify_standard(ID1, strlen(ID1), TS1, strlen(TS1), h,
	    SIGHDR_MAX + 1, (const uint8_t *)BODY1, strlen(BODY1), sk1, 1, T1,
	    300) == SIG_ERR_MALFORMED);
}

static int
is_idbyte(unsigned c)
{
	return c > ' ' && c < 0x7f;
}

/* Every single-byte change of body, id and timestamp is refused. */
static void
test_std_changes(void)
{
	char		 id[] = ID1, ts[] = TS1, body[] = BODY1;
	size_t		 i;
	unsigned	 d;
	int		 r;

	for (i = 0; i < strlen(BODY1); i++)
		for (d = 1; d < 256; d++) {
			body[i] = (char)(BODY1[i] ^ d);
			CHECK(sig_verify_standard(ID1, strlen(ID1), TS1,
			    strlen(TS1), SIG1, strlen(SIG1),
			    (const uint8_t *)body, strlen(BODY1), sk1, 1, T1,
			    300) == SIG_ERR_MISMATCH);
			body[i] = BODY1[i];
		}
	for (i = 0; i < strlen(ID1); i++)
		for (d = 1; d < 256; d++) {
			id[i] = (char)(ID1[i] ^ d);
			r = sig_verify_standard(id, strlen(ID1), TS1,
			    strlen(TS1), SIG1, strlen(SIG1),
			    (const uint8_t *)BODY1, strlen(BODY1), sk1, 1, T1,
			    300);
			CHECK(r == (is_idbyte((unsigned char)id[i]) ?
			    SIG_ERR_MISMATCH : SIG_ERR_MALFORMED));
			id[i] = ID1[i];
		}
	/* Other digits move the time; with a wide window they still fail. */
	for (i = 0; i < strlen(TS1); i++)
		for (d = 1; d < 256; d++) {
			ts[i] = (char)(TS1[i] ^ d);
			r = sig_verify_standard(ID1, strlen(ID1), ts,
			    strlen(TS1), SIG1, strlen(SIG1),
			    (const uint8_t *)BODY1, strlen(BODY1), sk1, 1, T1,
			    UINT32_MAX);
			if (ts[i] < '0' || ts[i] > '9')
				CHECK(r == SIG_ERR_MALFORMED);
			else if (i == 0 && ts[0] >= '6')
				CHECK(r == SIG_ERR_FUTURE);
			else
				CHECK(r == SIG_ERR_MISMATCH);
			ts[i] = TS1[i];
		}
	CHECK(vstd(ID1, "1614265331", SIG1, BODY1, sk1, 1, T1) ==
	    SIG_ERR_MISMATCH);
	CHECK(sig_verify_standard(ID1, strlen(ID1) - 1, TS1, strlen(TS1), SIG1,
	    strlen(SIG1), (const uint8_t *)BODY1, strlen(BODY1), sk1, 1, T1,
	    300) == SIG_ERR_MISMATCH);
	CHECK(sig_verify_standard(ID1, strlen(ID1), TS1, strlen(TS1), SIG1,
	    strlen(SIG1), (const uint8_t *)BODY1, strlen(BODY1) - 1, sk1, 1,
	    T1, 300) == SIG_ERR_MISMATCH);
}

static int
sec_std(const char *line, uint8_t *out, size_t outsz, size_t *outlen)
{
	return sig_secret_standard((const uint8_t *)line, strlen(line), out,
	    outsz, outlen);
}

static void
test_std_secret(void)
{
	static const char *const bad[] = {
		"", "whsec_", "whsec", "=", "==", "A", "AA=", "AAA==", "AA===",
		"AQ==AQ==", "AQ=A", "AAAAA", "whsec_AAAAA====",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwA",	/* 4n + 1 */
		"whsec_ MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa Sw",
		"whsec_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGQ=",
		"whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGR==",	/* bits */
		/* The protocol file's "unpadded" example is a truncation. */
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
		"whsec_C2FVsBQIhrscChlQIMV-b5sSYspob7oD",	/* url-safe */
	};
	uint8_t		 out[SECRET_LEN_MAX + 8];
	char		 line[400];
	size_t		 i, n;
	const struct secret k25[] = { { out, 25 } };

	CHECK(sec_std("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", out,
	    sizeof(out), &n) == 0);
	CHECK(n == 24 && memcmp(out, k1, 24) == 0);
	CHECK(sec_std("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", out, sizeof(out),
	    &n) == 0 && n == 24 && memcmp(out, k1, 24) == 0);
	CHECK(sec_std("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", out,
	    sizeof(out), &n) == 0 && n == 24 && memcmp(out, k2, 24) == 0);
	/* Padded and unpadded give the same key, which signs SIG_K25. */
	CHECK(sec_std("whsec_" B64_K25, out, sizeof(out), &n) == 0 && n == 25);
	for (i = 0; i < 25; i++)
		CHECK(out[i] == i + 1);
	CHECK(vstd(ID1, TS1, SIG_K25, BODY1, k25, 1, T1) == SIG_OK);
	memset(out, 0, sizeof(out));
	CHECK(sec_std("whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGQ", out,
	    sizeof(out), &n) == 0 && n == 25);
	CHECK(vstd(ID1, TS1, SIG_K25, BODY1, k25, 1, T1) == SIG_OK);
	/*
	 * python3 -c 'import base64;print(base64.b64encode(
	 * bytes(range(1,27))))'
	 */
	CHECK(sec_std("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRo=", out, sizeof(out),
	    &n) == 0 && n == 26 && out[25] == 26);
	CHECK(sec_std("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRo", out, sizeof(out),
	    &n) == 0 && n == 26 && out[25] == 26);
	CHECK(sec_std("/w==", out, sizeof(out), &n) == 0 && n == 1 &&
	    out[0] == 0xff);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(sec_std(bad[i], out, sizeof(out), &n) == -1);
	/* SECRET_LEN_MAX zero bytes are 344 "A"s less padding; one more. */
	memset(line, 'A', sizeof(line));
	CHECK(sig_secret_standard((uint8_t *)line, 4 * SECRET_LEN_MAX / 3 + 1,
	    out, sizeof(out), &n) == 0 && n == SECRET_LEN_MAX);
	CHECK(sig_secret_standard((uint8_t *)line, 4 * SECRET_LEN_MAX / 3 + 3,
	    out, sizeof(out), &n) == -1);
	CHECK(sig_secret_standard((uint8_t *)line, 8, out, 5, &n) == -1);
	CHECK(sig_secret_standard((uint8_t *)line, 8, out, 6, &n) == 0 &&
	    n == 6);
	/* A failure leaves no partial key behind. */
	memset(out, 0xaa, sizeof(out));
	CHECK(sec_std("QUJDRA!!", out, sizeof(out), &n) == -1);
	for (i = 0; i < sizeof(out); i++)
		CHECK(out[i] == 0 || i >= SECRET_LEN_MAX);
}

/*
 * Verifa legacy: python3 -c 'import hmac,hashlib;print(hmac.new(
 * b"whsec_verifa_legacy_test",b"{\"event\":\"session.approved\",
 * \"idempotency_key\":\"idk_7f3a91c2d4e5\"}",hashlib.sha256).hexdigest())'
 */
#define LEG_BODY "{\"event\":\"session.approved\"," \
		"\"idempotency_key\":\"idk_7f3a91c2d4e5\"}"
#define LEG_HEX	"edf19a40c343d9b5c26dbccd230a210f" \
		"cb9d30043b253f8236efb83ccb82c792"
#define LEG_HEX_UC "EDF19A40C343D9B5C26DBCCD230A210F" \
		"CB9D30043B253F8236EFB83CCB82C792"

static uint8_t	 s_leg[] = "whsec_verifa_legacy_test";

static int
vleg(const char *hdr, const char *body, const struct secret *sec,
    size_t nsec)
{
	return sig_verify_body_hex(hdr, hdr != NULL ? strlen(hdr) : 0,
	    (const uint8_t *)body, strlen(body), sec, nsec);
}

static void
test_body_hex(void)
{
	const struct secret leg[] = { SECRET(s_leg) };
	const struct secret rot[] = { SECRET(s_test), SECRET(s_leg) };
	static const char *const bad[] = {
		"", " ", LEG_HEX "0", "0" LEG_HEX,
		"edf19a40c343d9b5c26dbccd230a210f"
		    "cb9d30043b253f8236efb83ccb82c79",		/* 63 */
		"gdf19a40c343d9b5c26dbccd230a210f"
		    "cb9d30043b253f8236efb83ccb82c792",
		"t=1742404800,v1=" LEG_HEX, "sha256=" LEG_HEX,
		LEG_HEX ",", "0x" LEG_HEX,
		"edf19a40c343d9b5c26dbccd230a210f "
		    "cb9d30043b253f8236efb83ccb82c792",
	};
	char		 body[] = LEG_BODY, h[SIGHDR_MAX + 2];
	size_t		 i;

	CHECK(vleg(LEG_HEX, LEG_BODY, leg, 1) == SIG_OK);
	CHECK(vleg(LEG_HEX_UC, LEG_BODY, leg, 1) == SIG_OK);
	CHECK(vleg(" \t" LEG_HEX "  ", LEG_BODY, leg, 1) == SIG_OK);
	CHECK(vleg(LEG_HEX, LEG_BODY, rot, 2) == SIG_OK);
	CHECK(vleg(LEG_HEX, LEG_BODY, rot, 1) == SIG_ERR_MISMATCH);
	CHECK(vleg(LEG_HEX, LEG_BODY, one, 1) == SIG_ERR_MISMATCH);
	CHECK(vleg(LEG_HEX, LEG_BODY, NULL, 0) == SIG_ERR_MISMATCH);
	CHECK(vleg(BOGUS_V1, LEG_BODY, leg, 1) == SIG_ERR_MISMATCH);
	CHECK(vleg(NULL, LEG_BODY, leg, 1) == SIG_ERR_MISSING);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(vleg(bad[i], LEG_BODY, leg, 1) == SIG_ERR_MALFORMED);
	for (i = 0; i < strlen(LEG_BODY); i++) {
		body[i] ^= 0x01;
		CHECK(vleg(LEG_HEX, body, leg, 1) == SIG_ERR_MISMATCH);
		body[i] = LEG_BODY[i];
	}
	CHECK(sig_verify_body_hex(LEG_HEX, 64, (const uint8_t *)LEG_BODY,
	    strlen(LEG_BODY) - 1, leg, 1) == SIG_ERR_MISMATCH);
	CHECK(sig_verify_body_hex(LEG_HEX, 63, (const uint8_t *)LEG_BODY,
	    strlen(LEG_BODY), leg, 1) == SIG_ERR_MALFORMED);
	/* Blanks count against SIGHDR_MAX too. */
	memset(h, ' ', sizeof(h));
	memcpy(h + 10, LEG_HEX, 64);
	CHECK(sig_verify_body_hex(h, SIGHDR_MAX, (const uint8_t *)LEG_BODY,
	    strlen(LEG_BODY), leg, 1) == SIG_OK);
	CHECK(sig_verify_body_hex(h, SIGHDR_MAX + 1, (const uint8_t *)LEG_BODY,
	    strlen(LEG_BODY), leg, 1) == SIG_ERR_MALFORMED);
}

static void
test_strerror(void)
{
	int	 r;

	for (r = -8; r <= 1; r++)
		CHECK(sig_strerror(r) != NULL && sig_strerror(r)[0] != '\0');
	CHECK(strcmp(sig_strerror(SIG_ERR_MISMATCH), "signature mismatch") ==
	    0);
}

int
main(void)
{
	test_small();
	test_e2e();
	test_secrets();
	test_tolerant();
	test_malformed();
	test_length();
	test_extremes();
	test_std_vectors();
	test_std_time();
	test_std_malformed();
	test_std_lists();
	test_std_changes();
	test_std_secret();
	test_body_hex();
	test_strerror();
	return 0;
}
