/*
 * provider_kayle.c: Kayle ID (protocols/kayle.md).
 *
 * X-Kayle-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t "." body)>,
 * the whole "whsec_..." string being the key.  The body is a compact JWE;
 * the event type and id come from the decrypted payload, never from the
 * unsigned X-Kayle-Event / X-Kayle-Delivery-Id headers (the delivery id
 * is only logged and passed to the hook as IDHOOK_DELIVERY_ID).
 */
#include "compat.h"

#include <string.h>

#include "provider.h"
#include "request.h"

static const char *const kayle_sig_params[] = {
	"HTTP_X_KAYLE_SIGNATURE", NULL
};
static const char *const kayle_delivery_params[] = {
	"HTTP_X_KAYLE_DELIVERY_ID", NULL
};
static const char *const kayle_id_paths[] = { "metadata.event_id", NULL };
static const char *const no_params[] = { NULL };

static int
kayle_verify(const struct provider_input *in)
{
	const char	*hdr;

	hdr = request_param(in->pi_params, "HTTP_X_KAYLE_SIGNATURE", NULL);
	return sig_verify_tv1(hdr, hdr != NULL ? strlen(hdr) : 0,
	    in->pi_body, in->pi_len, in->pi_secrets, in->pi_nsecrets,
	    in->pi_now, in->pi_tolerance);
}

/* protocols/kayle.md: every type the sender emits. */
static const char *const kayle_event_types[] = {
	"verification.session.succeeded",
	"verification.session.failed",
	"verification.session.expired",
	"verification.session.cancelled",
	"verification.attempt.succeeded",
	"verification.attempt.failed",
	NULL
};

const struct provider provider_kayle = {
	.pv_name = "kayle",
	.pv_sig_params = kayle_sig_params,
	.pv_delivery_params = kayle_delivery_params,
	.pv_encrypted = 1,
	.pv_type_path = "type",
	.pv_id_paths = kayle_id_paths,
	.pv_id_params = no_params,
	.pv_verify = kayle_verify,
	.pv_event_types = kayle_event_types,
};
