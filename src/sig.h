/*
 * sig.h: webhook signature verification over the raw body bytes.
 *
 * Nothing of the body is interpreted here: the body is only MAC input.
 * Every MAC comparison is constant time (CRYPTO_memcmp).
 */
#ifndef IDHOOK_SIG_H
#define IDHOOK_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

/* One configured secret: the exact bytes used as HMAC key. Owned by config. */
struct secret {
	uint8_t	*s_buf;
	size_t	 s_len;
};

enum sig_result {
	SIG_OK = 0,
	SIG_ERR_MISSING = -1,	/* no signature header */
	SIG_ERR_MALFORMED = -2,	/* header present but unparseable */
	SIG_ERR_STALE = -3,	/* t < now - tolerance */
	SIG_ERR_FUTURE = -4,	/* t > now + tolerance */
	SIG_ERR_MISMATCH = -5,	/* no secret produces any given v1 */
	SIG_ERR_INTERNAL = -6	/* OpenSSL failure */
};

/*
 * sig_verify_tv1: the "t=<unix seconds>,v1=<64 hex>" scheme of Kayle and
 * Verifa: v1 = hex(HMAC-SHA256(key = secret bytes, msg = t "." body)),
 * where t is the decimal text exactly as it appears in the header.
 *
 * hdr/hlen: header value (not NUL-terminated; hlen <= SIGHDR_MAX, else
 * SIG_ERR_MALFORMED).  Parsed tolerantly: split on ',', spaces/tabs
 * trimmed around each item, "key=value", unknown keys ignored.  Exactly
 * one t (1..SIG_T_DIGITS_MAX digits, nothing else) is required; every v1
 * must be exactly 64 hex digits (either case) and at least one is
 * required; any v1 matching any secret is success.
 * The timestamp is checked first: |now - t| > tolerance fails with
 * SIG_ERR_STALE or SIG_ERR_FUTURE before any MAC is computed.
 * hdr == NULL gives SIG_ERR_MISSING.  Computed MACs are wiped.
 */
int	 sig_verify_tv1(const char *hdr, size_t hlen, const uint8_t *body,
	    size_t blen, const struct secret *secrets, size_t nsecrets,
	    int64_t now, unsigned tolerance);

/*
 * sig_verify_standard: Standard Webhooks (protocols/standard-webhooks.md),
 * also sent under the svix-* names.  v1 = base64(HMAC-SHA256(key = secret
 * bytes, msg = id "." ts "." body)), id and ts exactly as received.  The
 * secrets are the decoded key bytes (see sig_secret_standard).
 *
 * id/idlen: webhook-id, 1..SIG_ID_MAX bytes of printable ASCII without
 * space (0x21..0x7e).  ts/tslen: webhook-timestamp, 1..SIG_T_DIGITS_MAX
 * digits and nothing else.  sigs/siglen: webhook-signature (<=
 * SIGHDR_MAX), entries "<version>,<signature>" separated by runs of
 * spaces/tabs.  Anything else in id, ts or the lengths is
 * SIG_ERR_MALFORMED.  Any of the three NULL gives SIG_ERR_MISSING.
 * The timestamp is checked first (SIG_ERR_STALE, SIG_ERR_FUTURE, as for
 * sig_verify_tv1), then the list:
 * - an entry without ',' or with an empty version is skipped; a list
 *   without any "<version>,..." entry is SIG_ERR_MALFORMED;
 * - versions other than "v1" are skipped (so is "v1a", Ed25519: not
 *   supported, it can only be accepted through a v1 beside it);
 * - a v1 that is not padded, canonical standard base64 (RFC 4648
 *   section 4), or that decodes to other than 32 bytes, matches nothing
 *   (the spec: genuine if any v1 entry matches);
 * - any v1 matching any secret is SIG_OK, else SIG_ERR_MISMATCH (also
 *   when there is no v1 at all).
 * Computed MACs are wiped.
 */
int	 sig_verify_standard(const char *id, size_t idlen, const char *ts,
	    size_t tslen, const char *sigs, size_t siglen, const uint8_t *body,
	    size_t blen, const struct secret *secrets, size_t nsecrets,
	    int64_t now, unsigned tolerance);

/*
 * sig_secret_standard: a Standard Webhooks secret as written in a
 * secret_file line (already trimmed): an optional "whsec_" prefix, then
 * standard base64 of the key, padding optional but right when present,
 * no white space, unused bits of the last character zero (so a truncated
 * secret is often caught).  Writes the key to out (outsz bytes) and its
 * length to *outlen: 1..SECRET_LEN_MAX bytes (the spec says 24..64;
 * any non-empty key is accepted).  Returns 0, or -1 with out wiped.
 */
int	 sig_secret_standard(const uint8_t *line, size_t len, uint8_t *out,
	    size_t outsz, size_t *outlen);

/*
 * sig_verify_body_hex: Verifa's legacy scheme, a bare hex
 * HMAC-SHA256(key = secret bytes, msg = body) with no timestamp, so no
 * replay protection (only when the endpoint has legacy_signature = yes).
 * hdr/hlen: exactly 64 hex digits (either case), spaces/tabs around them
 * allowed; hlen <= SIGHDR_MAX.  NULL gives SIG_ERR_MISSING, anything
 * else SIG_ERR_MALFORMED; any secret matching is SIG_OK, else
 * SIG_ERR_MISMATCH.  Computed MACs are wiped.
 */
int	 sig_verify_body_hex(const char *hdr, size_t hlen, const uint8_t *body,
	    size_t blen, const struct secret *secrets, size_t nsecrets);

/*
 * sig_hmac_parts: HMAC-SHA256(key = the secret's bytes, the n pieces
 * p[i]/len[i] concatenated) into out, for "idhook sign".  0 or -1.
 */
#define SIG_MAC_LEN	32	/* SHA-256 */
int	 sig_hmac_parts(const struct secret *key, const uint8_t *const *p,
	    const size_t *len, size_t n, uint8_t out[SIG_MAC_LEN]);

/* Short reason for the log ("signature mismatch", ...). Never NULL. */
const char *sig_strerror(int result);

#endif /* IDHOOK_SIG_H */
