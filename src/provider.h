/*
 * provider.h: what distinguishes one webhook sender from another, as data.
 *
 * A provider says where its signature is and how it is checked, whether
 * the body is encrypted, and where the event type and event id are in the
 * payload.  The pipeline (pipeline.c) is the same for every sender; adding
 * one means one provider_<name>.c with a struct provider and its tests.
 */
#ifndef IDHOOK_PROVIDER_H
#define IDHOOK_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "sig.h"

/* What a provider's verify function sees of one request. */
struct provider_input {
	char *const	*pi_params;	/* CGI/FastCGI parameters */
	const uint8_t	*pi_body;	/* raw body */
	size_t		 pi_len;
	const struct secret *pi_secrets;
	size_t		 pi_nsecrets;
	int64_t		 pi_now;
	unsigned	 pi_tolerance;
};

struct provider {
	const char	*pv_name;		/* config value of provider= */
	/*
	 * Parameters that carry the signature: each must occur at most
	 * once (servers fold X_Foo and X-Foo into one name).  NULL-ended.
	 */
	const char *const *pv_sig_params;
	/* Parameter with the sender's delivery id (unsigned), or NULL. */
	const char	*pv_delivery_param;
	int		 pv_encrypted;		/* body is a compact JWE */
	const char	*pv_type_path;		/* payload path of the type */
	const char	*pv_id_path;		/* payload path of the id */
	/* Returns SIG_OK or a SIG_ERR_* (sig.h). */
	int		(*pv_verify)(const struct provider_input *);
};

extern const struct provider provider_kayle;

/* The provider called name, or NULL. */
const struct provider *provider_find(const char *name);

#endif /* IDHOOK_PROVIDER_H */
