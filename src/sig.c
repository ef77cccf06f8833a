/*
 * sig.c: HMAC-SHA256 webhook signatures over the raw body.  Three
 * schemes share one core (a list of candidate MACs from the header, the
 * MAC input as pieces, every secret against every candidate):
 * - "t=<unix seconds>,v1=<hex>" over t "." body (protocols/kayle.md,
 *   protocols/verifa.md "Signature");
 * - Standard Webhooks: "v1,<base64>" entries over id "." t "." body
 *   (protocols/standard-webhooks.md);
 * - Verifa's legacy bare hex over the body alone.
 *
 * Headers are parsed completely and timestamps checked before any MAC
 * is computed, so a stale or garbled request costs no HMAC over a large
 * body.  The MAC input is fed to OpenSSL in pieces: the body, which may
 * be many MiB, is never copied.
 */
#include "compat.h"

#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "b64.h"
#include "log.h"
#include "sig.h"

#define SIG_HEX_LEN	(2 * SIG_MAC_LEN)
#define SIG_B64_LEN	44	/* padded base64 of 32 bytes */
/*
 * The shortest header entry that yields a candidate is "v1,<44 base64>"
 * plus a separator (a t=,v1= item takes 68): no more fit into
 * SIGHDR_MAX.
 */
#define SIG_CAND_MAX	(SIGHDR_MAX / (3 + SIG_B64_LEN + 1) + 1)
#define SIG_PIECES_MAX	5	/* id "." t "." body */

/* The MACs a header offers, decoded; any one matching is success. */
struct sig_cand {
	size_t		 sc_n;
	uint8_t		 sc_mac[SIG_CAND_MAX][SIG_MAC_LEN];
};

/* The MAC input, in pieces fed to HMAC in order. */
struct sig_msg {
	size_t		 sm_n;
	struct {
		const uint8_t	*p;
		size_t		 n;
	}		 sm_piece[SIG_PIECES_MAX];
};

/* A parsed t=,v1= header. */
struct sig_hdr {
	const char	*sh_t;		/* t as received, for the MAC input */
	size_t		 sh_tlen;
	uint64_t	 sh_tval;
	struct sig_cand	 sh_cand;
};

static void
msg_add(struct sig_msg *m, const void *p, size_t n)
{
	m->sm_piece[m->sm_n].p = p;
	m->sm_piece[m->sm_n].n = n;
	m->sm_n++;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

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
parse_hex(const char *v, size_t n, uint8_t out[SIG_MAC_LEN])
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

/* HMAC-SHA256(key = secret, the pieces of m in order) into out. */
static int
mac_msg(EVP_MAC_CTX *ctx, const struct secret *s, const struct sig_msg *m,
    uint8_t out[SIG_MAC_LEN])
{
	static char	 digest[] = "SHA256";
	OSSL_PARAM	 params[2];
	size_t		 i, outlen = 0;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, s->s_buf, s->s_len, params))
		return -1;
	for (i = 0; i < m->sm_n; i++)
		if (m->sm_piece[i].n > 0 && !EVP_MAC_update(ctx,
		    m->sm_piece[i].p, m->sm_piece[i].n))
			return -1;
	if (!EVP_MAC_final(ctx, out, &outlen, SIG_MAC_LEN) ||
	    outlen != SIG_MAC_LEN)
		return -1;
	return 0;
}

/*
 * Any secret against any candidate; every comparison is CRYPTO_memcmp.
 * No candidate means nothing can match, and no MAC is computed.
 */
static int
match_secrets(const struct sig_msg *m, const struct sig_cand *sc,
    const struct secret *secrets, size_t nsecrets)
{
	EVP_MAC		*mac = NULL;
	EVP_MAC_CTX	*ctx = NULL;
	uint8_t		 out[SIG_MAC_LEN];
	size_t		 i, j;
	int		 rv = SIG_ERR_INTERNAL;

	if (sc->sc_n == 0)
		return SIG_ERR_MISMATCH;
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto fail;
	rv = SIG_ERR_MISMATCH;
	for (i = 0; i < nsecrets && rv == SIG_ERR_MISMATCH; i++) {
		/* An empty key is a config error; never let it verify. */
		if (secrets[i].s_len == 0)
			continue;
		if (mac_msg(ctx, &secrets[i], m, out) == -1) {
			rv = SIG_ERR_INTERNAL;
			break;
		}
		for (j = 0; j < sc->sc_n; j++)
			if (CRYPTO_memcmp(out, sc->sc_mac[j], SIG_MAC_LEN) == 0)
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

/* One "key=value" item, already trimmed.  Unknown keys are ignored. */
static int
tv1_item(struct sig_hdr *sh, const char *item, size_t n)
{
	struct sig_cand	*sc = &sh->sh_cand;
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
		if (sc->sc_n >= SIG_CAND_MAX ||
		    parse_hex(v, vlen, sc->sc_mac[sc->sc_n]) == -1)
			return -1;
		sc->sc_n++;
	}
	return 0;
}

/* Splits on ',' and trims blanks around each item; empty items are skipped. */
static int
tv1_header(const char *hdr, size_t hlen, struct sig_hdr *sh)
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
		if (e > b && tv1_item(sh, b, (size_t)(e - b)) == -1)
			return -1;
		p = comma + 1;
	}
	if (sh->sh_t == NULL || sh->sh_cand.sc_n == 0)
		return -1;
	return 0;
}

int
sig_verify_tv1(const char *hdr, size_t hlen, const uint8_t *body,
    size_t blen, const struct secret *secrets, size_t nsecrets,
    int64_t now, unsigned tolerance)
{
	struct sig_hdr	 sh;
	struct sig_msg	 m = { 0 };
	int		 rv;

	if (hdr == NULL)
		return SIG_ERR_MISSING;
	if (hlen > SIGHDR_MAX) {
		log_debug("%s: signature header too long", __func__);
		return SIG_ERR_MALFORMED;
	}
	if (tv1_header(hdr, hlen, &sh) == -1) {
		log_debug("%s: signature header unparseable", __func__);
		return SIG_ERR_MALFORMED;
	}
	if ((rv = check_time(sh.sh_tval, now, tolerance)) != SIG_OK)
		return rv;
	msg_add(&m, sh.sh_t, sh.sh_tlen);
	msg_add(&m, ".", 1);
	msg_add(&m, body, blen);
	return match_secrets(&m, &sh.sh_cand, secrets, nsecrets);
}

/* webhook-id: it is signed and logged, so printable ASCII, no space. */
static int
std_id_ok(const char *id, size_t n)
{
	size_t	 i;

	if (n == 0 || n > SIG_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (id[i] < '!' || id[i] > '~')
			return 0;
	return 1;
}

/*
 * One "<version>,<signature>" entry.  *seen is set when it has that
 * shape.  Only v1 is used; other versions are skipped, as the spec asks
 * of versions a receiver does not know.  XXX: v1a (Ed25519, whpk_ keys)
 * is not implemented and skipped the same way, so a delivery signed
 * with v1a alone fails as a mismatch.
 */
static int
std_entry(struct sig_cand *sc, const char *e, size_t n, int *seen)
{
	const char	*comma;
	uint8_t		 buf[SIGHDR_MAX / 4 * 3];	/* any v1 in a header */
	size_t		 vlen, blen;

	if ((comma = memchr(e, ',', n)) == NULL || comma == e)
		return 0;
	*seen = 1;
	vlen = (size_t)(comma - e);
	if (vlen != 2 || e[0] != 'v' || e[1] != '1')
		return 0;
	/*
	 * A v1 that is not canonical base64, or not 32 bytes, matches
	 * nothing; another entry may still (the spec: genuine if any v1
	 * entry matches).
	 */
	if (b64_decode(comma + 1, n - vlen - 1, B64_STD, B64_PAD_REQUIRED, buf,
	    sizeof(buf),
	    &blen) == -1 || blen != SIG_MAC_LEN)
		return 0;
	if (sc->sc_n >= SIG_CAND_MAX)
		return -1;
	memcpy(sc->sc_mac[sc->sc_n++], buf, SIG_MAC_LEN);
	return 0;
}

/*
 * Entries separated by runs of blanks.  A list without any entry of the
 * "<version>,<signature>" shape is malformed rather than a mismatch:
 * it cannot come from a sender that follows the spec.
 */
static int
std_list(const char *sigs, size_t siglen, struct sig_cand *sc)
{
	const char	*p = sigs, *end = sigs + siglen, *e;
	int		 seen = 0;

	memset(sc, 0, sizeof(*sc));
	while (p < end) {
		for (; p < end && is_blank(*p); p++)
			;
		for (e = p; e < end && !is_blank(*e); e++)
			;
		if (e > p && std_entry(sc, p, (size_t)(e - p), &seen) == -1)
			return -1;
		p = e;
	}
	return seen ? 0 : -1;
}

int
sig_verify_standard(const char *id, size_t idlen, const char *ts,
    size_t tslen, const char *sigs, size_t siglen, const uint8_t *body,
    size_t blen, const struct secret *secrets, size_t nsecrets,
    int64_t now, unsigned tolerance)
{
	struct sig_cand	 sc;
	struct sig_msg	 m = { 0 };
	uint64_t	 t;
	int		 rv;

	if (id == NULL || ts == NULL || sigs == NULL)
		return SIG_ERR_MISSING;
	if (!std_id_ok(id, idlen) || parse_t(ts, tslen, &t) == -1 ||
	    siglen > SIGHDR_MAX) {
		log_debug("%s: bad id, timestamp or signature length",
		    __func__);
		return SIG_ERR_MALFORMED;
	}
	if ((rv = check_time(t, now, tolerance)) != SIG_OK)
		return rv;
	if (std_list(sigs, siglen, &sc) == -1) {
		log_debug("%s: signature header unparseable", __func__);
		return SIG_ERR_MALFORMED;
	}
	msg_add(&m, id, idlen);
	msg_add(&m, ".", 1);
	msg_add(&m, ts, tslen);
	msg_add(&m, ".", 1);
	msg_add(&m, body, blen);
	return match_secrets(&m, &sc, secrets, nsecrets);
}

int
sig_secret_standard(const uint8_t *line, size_t len, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	static const char	 pfx[] = "whsec_";
	size_t			 n, cap;

	if (len >= sizeof(pfx) - 1 && memcmp(line, pfx, sizeof(pfx) - 1) == 0) {
		line += sizeof(pfx) - 1;
		len -= sizeof(pfx) - 1;
	}
	/* b64_decode refuses, before writing, what would not fit in cap. */
	cap = outsz < SECRET_LEN_MAX ? outsz : SECRET_LEN_MAX;
	if (b64_decode((const char *)line, len, B64_STD, B64_PAD_OPTIONAL,
	    out, cap, &n) == -1 ||
	    n == 0) {
		explicit_bzero(out, cap);
		return -1;
	}
	*outlen = n;
	return 0;
}

int
sig_verify_body_hex(const char *hdr, size_t hlen, const uint8_t *body,
    size_t blen, const struct secret *secrets, size_t nsecrets)
{
	struct sig_cand	 sc;
	struct sig_msg	 m = { 0 };
	const char	*b, *e;

	if (hdr == NULL)
		return SIG_ERR_MISSING;
	if (hlen > SIGHDR_MAX) {
		log_debug("%s: signature header too long", __func__);
		return SIG_ERR_MALFORMED;
	}
	for (b = hdr; b < hdr + hlen && is_blank(*b); b++)
		;
	for (e = hdr + hlen; e > b && is_blank(e[-1]); e--)
		;
	if (parse_hex(b, (size_t)(e - b), sc.sc_mac[0]) == -1) {
		log_debug("%s: signature header is not 64 hex digits",
		    __func__);
		return SIG_ERR_MALFORMED;
	}
	sc.sc_n = 1;
	msg_add(&m, body, blen);
	return match_secrets(&m, &sc, secrets, nsecrets);
}

int
sig_hmac_parts(const struct secret *key, const uint8_t *const *p,
    const size_t *len, size_t n, uint8_t out[SIG_MAC_LEN])
{
	struct sig_msg	 m;
	EVP_MAC		*mac = NULL;
	EVP_MAC_CTX	*ctx = NULL;
	size_t		 i;
	int		 rv = -1;

	if (n > SIG_PIECES_MAX || key->s_len == 0)
		return -1;
	memset(&m, 0, sizeof(m));
	for (i = 0; i < n; i++)
		msg_add(&m, p[i], len[i]);
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL &&
	    (ctx = EVP_MAC_CTX_new(mac)) != NULL)
		rv = mac_msg(ctx, key, &m, out);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	ERR_clear_error();
	return rv;
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
