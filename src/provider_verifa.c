/*
 * provider_verifa.c: Verifa (protocols/verifa.md).
 *
 * X-Verifa-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t "." body)>,
 * the whole "whsec_..." string being the key, as for Kayle.  The body is
 * plain JSON.  Endpoints created before Verifa's timestamped scheme sign
 * with a bare hex HMAC of the body alone: accepted only with
 * legacy_signature = yes, because nothing then stops a replay but the
 * dedup record.
 *
 * The event id is the idempotency_key in whatever key inflection the
 * endpoint uses (snake, camel or kebab case), at the top level or in the
 * legacy {"event", "data": {...}} envelope; else the unsigned
 * X-Verifa-Delivery-Id; else the payload's hash.
 */
#include "compat.h"

#include <string.h>

#include "provider.h"
#include "request.h"

#define VERIFA_SIG	"HTTP_X_VERIFA_SIGNATURE"

static const char *const verifa_sig_params[] = { VERIFA_SIG, NULL };
static const char *const verifa_delivery_params[] = {
	"HTTP_X_VERIFA_DELIVERY_ID", NULL
};
static const char *const verifa_id_paths[] = {
	"idempotency_key", "idempotencyKey", "idempotency-key",
	"data.idempotency_key", "data.idempotencyKey", "data.idempotency-key",
	NULL
};

static int
verifa_verify(const struct provider_input *in)
{
	const char	*hdr;
	size_t		 len;

	hdr = request_param(in->pi_params, VERIFA_SIG, NULL);
	len = hdr != NULL ? strlen(hdr) : 0;
	/* The legacy header is bare hex: it has no "t=" item. */
	if (in->pi_legacy && hdr != NULL && memchr(hdr, '=', len) == NULL)
		return sig_verify_body_hex(hdr, len, in->pi_body, in->pi_len,
		    in->pi_secrets, in->pi_nsecrets);
	return sig_verify_tv1(hdr, len, in->pi_body, in->pi_len,
	    in->pi_secrets, in->pi_nsecrets, in->pi_now, in->pi_tolerance);
}

/* protocols/verifa.md, "Event types" (separators as documented). */
static const char *const verifa_event_types[] = {
	"session.created", "session.started", "session.approved",
	"session.declined", "session.requires-review", "session.expired",
	"session.resubmission-required", "session.redacted",
	"session.retention-expired", "session.link_generated",
	"check.completed", "check.matched", "check.monitoring.new_hits",
	"check.monitoring.clear", "screening.completed",
	"identity.created", "identity.updated", "identity.archived",
	"identity.restored", "identity.tag-added", "identity.tag-removed",
	"identity.flagged",
	"case.created", "case.claimed", "case.approved", "case.rejected",
	"case.escalated",
	"document.uploaded", "document.classified", "document.extracted",
	"document.verified", "document.compared", "document.redacted",
	"consortium.match_found",
	NULL
};

const struct provider provider_verifa = {
	.pv_name = "verifa",
	.pv_sig_params = verifa_sig_params,
	.pv_delivery_params = verifa_delivery_params,
	.pv_encrypted = 0,
	.pv_type_path = "event",
	.pv_id_paths = verifa_id_paths,
	.pv_id_params = verifa_delivery_params,
	.pv_legacy_ok = 1,
	.pv_verify = verifa_verify,
	.pv_event_types = verifa_event_types,
};
