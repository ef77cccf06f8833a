/*
 * provider.h: what distinguishes one webhook sender from another, as data.
 *
 * A provider says where its signature is and how it is checked, whether
 * the body is encrypted, and where the event type and event id are.  The
 * pipeline (pipeline.c) is the same for every sender; adding one means
 * one provider_<name>.c with a struct provider, a line in provider.c,
 * and its tests.
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
	int		 pi_legacy;	/* endpoint's legacy_signature = yes */
};

struct provider {
	const char	*pv_name;		/* config value of provider= */
	/*
	 * Parameters that carry the signature: each must occur at most
	 * once (servers fold X_Foo and X-Foo into one name).  NULL-ended.
	 */
	const char *const *pv_sig_params;
	/* Parameters with the sender's delivery id, first present wins. */
	const char *const *pv_delivery_params;
	int		 pv_encrypted;		/* body is a compact JWE */
	const char	*pv_type_path;		/* payload path of the type */
	/*
	 * The event id: the first of these payload paths that is present,
	 * else the first of these parameters, else the payload's SHA-256.
	 */
	const char *const *pv_id_paths;
	const char *const *pv_id_params;
	int		 pv_legacy_ok;		/* legacy_signature allowed */
	/* Returns SIG_OK or a SIG_ERR_* (sig.h). */
	int		(*pv_verify)(const struct provider_input *);
	/*
	 * Turns one secret_file line into the HMAC key (out, at most outsz
	 * bytes); NULL: the line itself is the key.  0, or -1 if invalid.
	 */
	int		(*pv_secret)(const uint8_t *line, size_t len,
			    uint8_t *out, size_t outsz, size_t *outlen);
	/*
	 * The event types the sender documents, NULL-ended; NULL: any
	 * (idhook check then does not flag hook names as typos).
	 */
	const char *const *pv_event_types;
};

extern const struct provider provider_kayle;
extern const struct provider provider_verifa;
extern const struct provider provider_standard;

/* "kayle, verifa, standard", for error messages. */
extern const char provider_names[];

/* The provider called name, or NULL. */
const struct provider *provider_find(const char *name);

#endif /* IDHOOK_PROVIDER_H */
