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

/* Short reason for the log ("signature mismatch", ...). Never NULL. */
const char *sig_strerror(int result);

#endif /* IDHOOK_SIG_H */
