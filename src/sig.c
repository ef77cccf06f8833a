/*
 * sig.c: the "t=<unix seconds>,v1=<hex HMAC-SHA256>" signature scheme
 * (protocols/kayle.md "Signature").
 *
 * The header is parsed completely and the timestamp checked before any
 * MAC is computed, so a stale or garbled request costs no HMAC over a
 * large body.  The MAC input is fed to OpenSSL in three pieces (t, ".",
 * body): the body, which may be many MiB, is never copied.
 */
#include "compat.h"

#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "log.h"
#include "sig.h"

#define SIG_MAC_LEN	32	/* SHA-256 */
#define SIG_HEX_LEN	(2 * SIG_MAC_LEN)
/* Each v1 takes "v1=" + 64 hex + ",": no more fit into SIGHDR_MAX. */
#define SIG_V1_MAX	(SIGHDR_MAX / (3 + SIG_HEX_LEN + 1) + 1)

struct sig_hdr {
	const char	*sh_t;		/* t as received, for the MAC input */
	size_t		 sh_tlen;
	uint64_t	 sh_tval;
	size_t		 sh_nv1;
	uint8_t		 sh_v1[SIG_V1_MAX][SIG_MAC_LEN];
};

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 64 hex digits, either case, into 32 bytes. */
static int
parse_v1(const char *v, size_t n, uint8_t out[SIG_MAC_LEN])
{
	size_t	 i;
	int	 hi, lo;

	if (n != SIG_HEX_LEN)
		return -1;
	for (i = 0; i < SIG_MAC_LEN; i++) {
		hi = hexval((unsigned char)v[2 * i]);
		lo = hexval((unsigned char)v[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * 1..SIG_T_DIGITS_MAX decimal digits and nothing else (no sign, no
 * space).  Leading zeros are kept: the MAC covers the text as sent.
 * 19 digits always fit in uint64_t.
 */
static int
parse_t(const char *v, size_t n, uint64_t *tp)
{
	uint64_t	 t = 0;
	size_t		 i;

	if (n == 0 || n > SIG_T_DIGITS_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		t = t * 10 + (uint64_t)(v[i] - '0');
	}
	*tp = t;
	return 0;
}

/* One "key=value" item, already trimmed.  Unknown keys are ignored. */
static int
parse_item(struct sig_hdr *sh, const char *item, size_t n)
{
	const char	*eq, *v;
	size_t		 klen, vlen;

	if ((eq = memchr(item, '=', n)) == NULL)
		return 0;
	klen = (size_t)(eq - item);
	v = eq + 1;
	vlen = n - klen - 1;
	if (klen == 1 && item[0] == 't') {
		if (sh->sh_t != NULL || parse_t(v, vlen, &sh->sh_tval) == -1)
			return -1;
		sh->sh_t = v;
		sh->sh_tlen = vlen;
	} else if (klen == 2 && item[0] == 'v' && item[1] == '1') {
		if (sh->sh_nv1 >= SIG_V1_MAX ||
		    parse_v1(v, vlen, sh->sh_v1[sh->sh_nv1]) == -1)
			return -1;
		sh->sh_nv1++;
	}
	return 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits on ',' and trims blanks around each item; empty items are skipped. */
static int
parse_header(const char *hdr, size_t hlen, struct sig_hdr *sh)
{
	const char	*p = hdr, *end = hdr + hlen, *comma, *b, *e;

	memset(sh, 0, sizeof(*sh));
	while (p < end) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		for (b = p; b < comma && is_blank(*b); b++)
			;
		for (e = comma; e > b && is_blank(e[-1]); e--)
			;
		if (e > b && parse_item(sh, b, (size_t)(e - b)) == -1)
			return -1;
		p = comma + 1;
	}
	if (sh->sh_t == NULL || sh->sh_nv1 == 0)
		return -1;
	return 0;
}

/*
 * |now - t| > tolerance, computed in uint64_t so that no value of now
 * or t can overflow (t may be up to 10^19 - 1, now may be negative).
 */
static int
check_time(uint64_t t, int64_t now, unsigned tolerance)
{
	uint64_t	 back;

	if (now >= 0 && t <= (uint64_t)now)
		return (uint64_t)now - t > tolerance ? SIG_ERR_STALE : SIG_OK;
	if (now >= 0)
		return t - (uint64_t)now > tolerance ? SIG_ERR_FUTURE : SIG_OK;
	back = (uint64_t)(-(now + 1)) + 1;	/* -now, without overflow */
	if (t > UINT64_MAX - back || t + back > tolerance)
		return SIG_ERR_FUTURE;
	return SIG_OK;
}

/* HMAC-SHA256(key = secret, t "." body) into out. */
static int
mac_tv1(EVP_MAC_CTX *ctx, const struct secret *s, const struct sig_hdr *sh,
    const uint8_t *body, size_t blen, uint8_t out[SIG_MAC_LEN])
{
	static char	 digest[] = "SHA256";
	OSSL_PARAM	 params[2];
	size_t		 outlen = 0;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, s->s_buf, s->s_len, params) ||
	    !EVP_MAC_update(ctx, (const uint8_t *)sh->sh_t, sh->sh_tlen) ||
	    !EVP_MAC_update(ctx, (const uint8_t *)".", 1) ||
	    (blen > 0 && !EVP_MAC_update(ctx, body, blen)) ||
	    !EVP_MAC_final(ctx, out, &outlen, SIG_MAC_LEN) ||
	    outlen != SIG_MAC_LEN)
		return -1;
	return 0;
}

/* Any secret against any v1; every comparison is CRYPTO_memcmp. */
static int
match_secrets(const struct sig_hdr *sh, const uint8_t *body, size_t blen,
    const struct secret *secrets, size_t nsecrets)
{
	EVP_MAC		*mac = NULL;
	EVP_MAC_CTX	*ctx = NULL;
	uint8_t		 out[SIG_MAC_LEN];
	size_t		 i, j;
	int		 rv = SIG_ERR_INTERNAL;

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto fail;
	rv = SIG_ERR_MISMATCH;
	for (i = 0; i < nsecrets && rv == SIG_ERR_MISMATCH; i++) {
		/* An empty key is a config error; never let it verify. */
		if (secrets[i].s_len == 0)
			continue;
		if (mac_tv1(ctx, &secrets[i], sh, body, blen, out) == -1) {
			rv = SIG_ERR_INTERNAL;
			break;
		}
		for (j = 0; j < sh->sh_nv1; j++)
			if (CRYPTO_memcmp(out, sh->sh_v1[j], SIG_MAC_LEN) == 0)
				rv = SIG_OK;
	}
 fail:
	if (rv == SIG_ERR_INTERNAL) {
		log_error("%s: OpenSSL HMAC failed", __func__);
		ERR_clear_error();
	}
	explicit_bzero(out, sizeof(out));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rv;
}

int
sig_verify_tv1(const char *hdr, size_t hlen, const uint8_t *body,
    size_t blen, const struct secret *secrets, size_t nsecrets,
    int64_t now, unsigned tolerance)
{
	struct sig_hdr	 sh;
	int		 rv;

	if (hdr == NULL)
		return SIG_ERR_MISSING;
	if (hlen > SIGHDR_MAX) {
		log_debug("%s: signature header too long", __func__);
		return SIG_ERR_MALFORMED;
	}
	if (parse_header(hdr, hlen, &sh) == -1) {
		log_debug("%s: signature header unparseable", __func__);
		return SIG_ERR_MALFORMED;
	}
	if ((rv = check_time(sh.sh_tval, now, tolerance)) != SIG_OK)
		return rv;
	return match_secrets(&sh, body, blen, secrets, nsecrets);
}

const char *
sig_strerror(int result)
{
	switch (result) {
	case SIG_OK:
		return "signature ok";
	case SIG_ERR_MISSING:
		return "signature header missing";
	case SIG_ERR_MALFORMED:
		return "signature header malformed";
	case SIG_ERR_STALE:
		return "signature timestamp too old";
	case SIG_ERR_FUTURE:
		return "signature timestamp in the future";
	case SIG_ERR_MISMATCH:
		return "signature mismatch";
	case SIG_ERR_INTERNAL:
		return "signature check failed (internal error)";
	default:
		return "unknown signature result";
	}
}
