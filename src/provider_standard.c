/*
 * provider_standard.c: Standard Webhooks (protocols/standard-webhooks.md),
 * also under Svix's header names.
 *
 * webhook-id, webhook-timestamp, webhook-signature: a space-separated list
 * of "v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>", the key
 * being the base64-decoded bytes after "whsec_".  The message id is
 * signed, so it is the event id; the type is the payload's "type".
 */
#include "compat.h"

#include <string.h>

#include "provider.h"
#include "request.h"

static const char *const std_sig_params[] = {
	"HTTP_WEBHOOK_ID", "HTTP_WEBHOOK_TIMESTAMP", "HTTP_WEBHOOK_SIGNATURE",
	"HTTP_SVIX_ID", "HTTP_SVIX_TIMESTAMP", "HTTP_SVIX_SIGNATURE", NULL
};
static const char *const std_id_params[] = {
	"HTTP_WEBHOOK_ID", "HTTP_SVIX_ID", NULL
};
static const char *const no_paths[] = { NULL };

static int
standard_verify(const struct provider_input *in)
{
	const char	*id, *ts, *sig;
	const char	*pfx = "HTTP_WEBHOOK_";

	/* One set of names or the other, never a mix. */
	if (request_param(in->pi_params, "HTTP_WEBHOOK_SIGNATURE", NULL) ==
	    NULL && request_param(in->pi_params, "HTTP_SVIX_SIGNATURE", NULL)
	    != NULL)
		pfx = "HTTP_SVIX_";
	id = request_param(in->pi_params, strcmp(pfx, "HTTP_SVIX_") == 0 ?
	    "HTTP_SVIX_ID" : "HTTP_WEBHOOK_ID", NULL);
	ts = request_param(in->pi_params, strcmp(pfx, "HTTP_SVIX_") == 0 ?
	    "HTTP_SVIX_TIMESTAMP" : "HTTP_WEBHOOK_TIMESTAMP", NULL);
	sig = request_param(in->pi_params, strcmp(pfx, "HTTP_SVIX_") == 0 ?
	    "HTTP_SVIX_SIGNATURE" : "HTTP_WEBHOOK_SIGNATURE", NULL);
	return sig_verify_standard(id, id != NULL ? strlen(id) : 0,
	    ts, ts != NULL ? strlen(ts) : 0, sig, sig != NULL ? strlen(sig) : 0,
	    in->pi_body, in->pi_len, in->pi_secrets, in->pi_nsecrets,
	    in->pi_now, in->pi_tolerance);
}

const struct provider provider_standard = {
	.pv_name = "standard",
	.pv_sig_params = std_sig_params,
	.pv_delivery_params = std_id_params,
	.pv_encrypted = 0,
	.pv_type_path = "type",
	.pv_id_paths = no_paths,
	.pv_id_params = std_id_params,
	.pv_verify = standard_verify,
	.pv_secret = sig_secret_standard,
};
