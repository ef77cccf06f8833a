/*
 * pipeline.h: one delivery through bound -> authenticate -> decrypt ->
 * parse -> dedup -> act (SPEC section 3).  The result is an outcome;
 * main.c turns it into an HTTP status and the delivery's log line.
 */
#ifndef IDHOOK_PIPELINE_H
#define IDHOOK_PIPELINE_H

#include <stdint.h>

#include "bounds.h"
#include "config.h"
#include "dedup.h"
#include "request.h"

enum pipeline_result {
	PR_DELIVERED = 0,	/* hook exited 0, or no hook */
	PR_DUPLICATE,		/* already done */
	PR_IN_PROGRESS,		/* running now in a live process */
	PR_BAD_SIGNATURE,
	PR_BAD_PAYLOAD,
	PR_BAD_REQUEST,		/* short body, bad CONTENT_LENGTH */
	PR_NOT_FOUND,		/* unknown endpoint */
	PR_BAD_METHOD,
	PR_TOO_LARGE,
	PR_HOOK_FAILED,
	PR_ERROR,		/* no key decrypts, internal error */
	PR_UNAVAILABLE,		/* no store, no config */
	PR_COUNT
};

/* Long-lived state of one process, shared by its requests. */
struct pipeline_ctx {
	const struct config	*pc_cfg;
	struct dedup		*pc_dedup;	/* NULL: store unavailable */
	const char		*pc_home;	/* HOME for hooks */
};

/* What happened, for the log line.  Strings are safe to log. */
struct outcome {
	int		 oc_result;	/* enum pipeline_result */
	int		 oc_level;	/* log level of the line */
	const char	*oc_reason;	/* static text or NULL */
	const char	*oc_endpoint;
	const char	*oc_provider;
	char		 oc_event[EVENT_TYPE_MAX + 1];
	char		 oc_id[EVENT_ID_MAX + 1];
	char		 oc_delivery[DELIVERY_ID_MAX + 1];
	char		 oc_kid[KID_MAX + 1];
	int		 oc_hook_exit;	/* -1: no hook ran */
	unsigned	 oc_attempt;
};

/*
 * pipeline_handle: handles rq (parameters set, body not yet read) with
 * the signature clock at now.  Reads and frees the body.  Never writes a
 * response.
 */
void	 pipeline_handle(struct pipeline_ctx *, struct request *rq,
	    int64_t now, struct outcome *oc);

#endif /* IDHOOK_PIPELINE_H */
