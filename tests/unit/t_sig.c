/*
 * t_sig.c: sig_verify_tv1 against vectors made outside this code base
 * (tests/vectors/kayle-e2e: the sender's algorithm, checked with Python's
 * hmac; the extra MACs below come from Python's hmac module too).
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
	test_strerror();
	return 0;
}
