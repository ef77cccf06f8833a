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
	PR_QUEUED,		/* queue mode: committed to the queue */
	PR_COUNT
};

/*
 * A hook succeeded but its "done" could not be stored: kept by the
 * process and stored before its next claim, so that the event is not run
 * again by this process meanwhile (a running record of our own pid would
 * otherwise count as a leftover).
 */
struct pending_done {
	char		 pd_endpoint[ENDPOINT_NAME_MAX + 1];
	char		 pd_id[EVENT_ID_MAX + 1];
	int		 pd_exit;
};

/* Long-lived state of one process, shared by its requests. */
struct pipeline_ctx {
	const struct config	*pc_cfg;
	struct dedup		*pc_dedup;	/* NULL: store unavailable */
	const char		*pc_home;	/* HOME for hooks */
	int64_t			(*pc_clock)(void);	/* unix seconds */
	struct pending_done	 pc_pending;	/* pd_id[0] == 0: none */
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
	uint32_t	 oc_job;	/* queue job id, 0: none */
};

/*
 * pipeline_handle: handles rq (parameters set, body not yet read).  The
 * clock is read after the body has arrived (a slow upload must not make a
 * claim stale before it is made) and again when the hook has finished.
 * Reads and frees the body.  Never writes a response.  oc starts as
 * PR_ERROR: a path that sets no result can never answer 200.
 */
void	 pipeline_handle(struct pipeline_ctx *, struct request *rq,
	    struct outcome *oc);

/*
 * pipeline_run_job: step 6 for an event this process owns (a dedup claim
 * or a queue job): parses the payload pt/ptlen, finds the hook of
 * oc->oc_event in ep's hooks_dir and runs it with the environment of
 * SPEC section 4 built from oc (event, id, delivery, attempt) and, when
 * queued_at >= 0, IDHOOK_QUEUED_AT.  Sets oc's result, level, reason
 * and hook_exit: PR_DELIVERED (exit 0; or no hook, reason "no hook"),
 * PR_HOOK_FAILED, or PR_ERROR (unusable hook or payload, cannot start).
 * Records nothing: the caller owns the claim or job.
 */
void	 pipeline_run_job(struct pipeline_ctx *, const struct endpoint *ep,
	    const uint8_t *pt, size_t ptlen, int64_t queued_at,
	    struct outcome *oc);

#endif /* IDHOOK_PIPELINE_H */
