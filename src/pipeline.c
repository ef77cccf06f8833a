/*
 * pipeline.c: one delivery, in the order SPEC section 3 makes a security
 * property: nothing of the body is parsed before its signature verifies,
 * no dedup record is written for an unauthenticated delivery, and the
 * hook runs only after a record says this process owns the event.
 */
#include "compat.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "flatten.h"
#include "hook.h"
#include "jwe.h"
#include "log.h"
#include "pipeline.h"
#include "queue.h"
#include "sig.h"

static void
set(struct outcome *oc, int result, int level, const char *reason)
{
	oc->oc_result = result;
	oc->oc_level = level;
	oc->oc_reason = reason;
}

/* Step 1: method, endpoint, repeated signature headers, body size. */
static const struct endpoint *
bound(struct pipeline_ctx *pc, struct request *rq, struct outcome *oc)
{
	const struct endpoint	*ep;
	const char		*method, *const *sp;
	int			 n, rv;

	method = request_param(rq->rq_params, "REQUEST_METHOD", NULL);
	if (method == NULL || strcmp(method, "POST") != 0) {
		set(oc, PR_BAD_METHOD, LOG_WARN, "method is not POST");
		return NULL;
	}
	ep = config_endpoint(pc->pc_cfg,
	    request_param(rq->rq_params, "PATH_INFO", NULL));
	if (ep == NULL) {
		set(oc, PR_NOT_FOUND, LOG_WARN, "no endpoint for PATH_INFO");
		return NULL;
	}
	oc->oc_endpoint = ep->ep_name;
	oc->oc_provider = ep->ep_provider->pv_name;
	for (sp = ep->ep_provider->pv_sig_params; *sp != NULL; sp++) {
		(void)request_param(rq->rq_params, *sp, &n);
		if (n > 1) {
			set(oc, PR_BAD_SIGNATURE, LOG_WARN,
			    "signature header sent more than once");
			return NULL;
		}
	}
	switch ((rv = request_read_body(rq, pc->pc_cfg->cf_max_body))) {
	case REQ_OK:
		return ep;
	case REQ_TOO_BIG:
		set(oc, PR_TOO_LARGE, LOG_WARN, "body larger than max_body");
		break;
	case REQ_SHORT:
		set(oc, PR_BAD_REQUEST, LOG_WARN, "body shorter than "
		    "CONTENT_LENGTH");
		break;
	case REQ_BAD_LENGTH:
		set(oc, PR_BAD_REQUEST, LOG_WARN, "invalid CONTENT_LENGTH");
		break;
	default:
		set(oc, PR_ERROR, LOG_ERROR, "cannot read the body");
		break;
	}
	return NULL;
}

/* The first of names that is present in the request, or NULL. */
static const char *
first_param(struct request *rq, const char *const *names)
{
	const char	*v;

	for (; *names != NULL; names++)
		if ((v = request_param(rq->rq_params, *names, NULL)) != NULL)
			return v;
	return NULL;
}

/* The sender's delivery id is unsigned: kept only if it looks sane. */
static void
delivery_id(const struct endpoint *ep, struct request *rq,
    struct outcome *oc)
{
	const char	*d;
	size_t		 n;

	if ((d = first_param(rq, ep->ep_provider->pv_delivery_params)) ==
	    NULL)
		return;
	n = strlen(d);
	if (n > 0 && n <= DELIVERY_ID_MAX && strspn(d, "abcdefghijklmnopqrstu"
	    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n)
		memcpy(oc->oc_delivery, d, n + 1);
}

/* Steps 2 and 3: signature over the raw body, then the JWE if any. */
static int
open_body(const struct endpoint *ep, struct request *rq, int64_t now,
    uint8_t **ptp, size_t *ptlenp, struct outcome *oc)
{
	struct provider_input	 in;
	int			 rv;

	memset(&in, 0, sizeof(in));
	in.pi_params = rq->rq_params;
	in.pi_body = rq->rq_body;
	in.pi_len = rq->rq_len;
	in.pi_secrets = ep->ep_secrets;
	in.pi_nsecrets = ep->ep_nsecrets;
	in.pi_now = now;
	in.pi_tolerance = ep->ep_tolerance;
	in.pi_legacy = ep->ep_legacy;
	if ((rv = ep->ep_provider->pv_verify(&in)) != SIG_OK) {
		set(oc, rv == SIG_ERR_INTERNAL ? PR_ERROR : PR_BAD_SIGNATURE,
		    rv == SIG_ERR_INTERNAL ? LOG_ERROR : LOG_WARN,
		    sig_strerror(rv));
		return -1;
	}
	if (!ep->ep_provider->pv_encrypted) {
		if ((*ptp = malloc(rq->rq_len + 1)) == NULL) {
			set(oc, PR_ERROR, LOG_ERROR, "out of memory");
			return -1;
		}
		memcpy(*ptp, rq->rq_body, rq->rq_len + 1);
		*ptlenp = rq->rq_len;
		return 0;
	}
	rv = jwe_decrypt(rq->rq_body, rq->rq_len, ep->ep_keys, ep->ep_nkeys,
	    ptp, ptlenp, oc->oc_kid, sizeof(oc->oc_kid));
	switch (rv) {
	case JWE_OK:
		return 0;
	case JWE_ERR_MALFORMED:
	case JWE_ERR_DECRYPT:
		set(oc, PR_BAD_PAYLOAD, LOG_WARN, jwe_strerror(rv));
		break;
	case JWE_ERR_NOKEY:
		/* The operator's problem: 500 so the sender retries. */
		set(oc, PR_ERROR, LOG_ERROR, "no decryption_key decrypts this "
		    "delivery: add the private key for its kid");
		break;
	default:
		set(oc, PR_ERROR, LOG_ERROR, jwe_strerror(rv));
		break;
	}
	return -1;
}

/*
 * Step 4: the event type, and the id: the first payload path the provider
 * names, else its first id parameter, else the payload's SHA-256.
 */
static int
identify(const struct endpoint *ep, struct request *rq, const json_t *root,
    const uint8_t *pt, size_t ptlen, struct outcome *oc)
{
	const struct provider	*pv = ep->ep_provider;
	const char *const	*path;
	unsigned char		 md[SHA256_DIGEST_LENGTH];
	const char		*v = NULL;
	size_t			 n = 0, i;

	v = payload_get(root, pv->pv_type_path, &n);
	if (v == NULL || !event_type_valid(v, n)) {
		set(oc, PR_BAD_PAYLOAD, LOG_WARN, v == NULL ?
		    "payload has no event type" : "invalid event type");
		return -1;
	}
	memcpy(oc->oc_event, v, n);
	oc->oc_event[n] = '\0';
	for (v = NULL, path = pv->pv_id_paths; v == NULL && *path != NULL;
	    path++)
		v = payload_get(root, *path, &n);
	if (v == NULL && (v = first_param(rq, pv->pv_id_params)) != NULL)
		n = strlen(v);
	if (v != NULL && (n == 0 || n > EVENT_ID_MAX ||
	    memchr(v, '\0', n) != NULL)) {
		set(oc, PR_BAD_PAYLOAD, LOG_WARN, "invalid event id");
		return -1;
	}
	if (v != NULL) {
		memcpy(oc->oc_id, v, n);
		oc->oc_id[n] = '\0';
		return 0;
	}
	SHA256(pt, ptlen, md);
	memcpy(oc->oc_id, "sha256:", 7);
	for (i = 0; i < sizeof(md); i++)
		snprintf(oc->oc_id + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* The value of name in env, writable, or NULL. */
static char *
getenv_in(struct envbuf *env, const char *name)
{
	size_t	 i, n = strlen(name);

	for (i = 0; i < env->eb_count; i++)
		if (strncmp(env->eb_vars[i], name, n) == 0 &&
		    env->eb_vars[i][n] == '=')
			return env->eb_vars[i] + n + 1;
	return NULL;
}

static int
env_fixed(struct pipeline_ctx *pc, const struct endpoint *ep,
    struct envbuf *env, const struct outcome *oc, int64_t queued_at)
{
	const struct config	*cf = pc->pc_cfg;
	char			 attempt[16], qat[24];
	const char		*eq;
	size_t			 i;
	int			 rv = 0;

	/* Operator's hook_env first: it may set PATH, HOME or LANG. */
	for (i = 0; i < cf->cf_nhook_env; i++) {
		char		 name[ENV_NAME_MAX + 1];
		const char	*v = cf->cf_hook_env[i];

		/* config.c made sure of "NAME=" with NAME <= ENV_NAME_MAX. */
		eq = strchr(v, '=');
		memcpy(name, v, (size_t)(eq - v));
		name[eq - v] = '\0';
		rv |= envbuf_add(env, name, eq + 1, strlen(eq + 1)) < 0;
	}
	snprintf(attempt, sizeof(attempt), "%u", oc->oc_attempt);
#define ADD(n, v) rv |= envbuf_add(env, (n), (v), strlen(v)) < 0
	ADD("PATH", "/usr/local/bin:/usr/bin:/bin");
	ADD("HOME", pc->pc_home);
	ADD("LANG", "C.UTF-8");
	ADD("IDHOOK_PROVIDER", ep->ep_provider->pv_name);
	ADD("IDHOOK_ENDPOINT", ep->ep_name);
	ADD("IDHOOK_EVENT", oc->oc_event);
	ADD("IDHOOK_EVENT_ID", oc->oc_id);
	if (oc->oc_delivery[0] != '\0')
		ADD("IDHOOK_DELIVERY_ID", oc->oc_delivery);
	ADD("IDHOOK_ATTEMPT", attempt);
	if (queued_at >= 0) {
		snprintf(qat, sizeof(qat), "%lld", (long long)queued_at);
		ADD("IDHOOK_QUEUED_AT", qat);
	}
	/* Last, so that no payload can crowd it out; "1" once we know. */
	ADD("IDHOOK_TRUNCATED", "0");
#undef ADD
	return rv ? -1 : 0;
}

/*
 * Stores the result of a run.  When "done" cannot be stored the hook has
 * still done its work: answering 500 would run it again, so the answer
 * stays 200 and this process keeps the result to store before its next
 * claim.  A failure that cannot be stored needs nothing: the record says
 * running with our pid, which the next claim takes over.
 */
static void
record(struct pipeline_ctx *pc, const char *endpoint, const char *id,
    int ok, int exit_code)
{
	struct pending_done	*pd = &pc->pc_pending;

	if (dedup_finish(pc->pc_dedup, endpoint, id, strlen(id), ok,
	    exit_code, pc->pc_clock(), pc->pc_cfg->cf_retention) == 0 || !ok)
		return;
	log_error("endpoint %s id %s: hook succeeded but the dedup record "
	    "could not be marked done; will retry", endpoint, id);
	strlcpy(pd->pd_endpoint, endpoint, sizeof(pd->pd_endpoint));
	strlcpy(pd->pd_id, id, sizeof(pd->pd_id));
	pd->pd_exit = exit_code;
}

/* Returns 1 if the pending result is for endpoint/id and still unstored. */
static int
flush_pending(struct pipeline_ctx *pc, const char *endpoint, const char *id)
{
	struct pending_done	*pd = &pc->pc_pending;

	if (pd->pd_id[0] == '\0')
		return 0;
	if (dedup_finish(pc->pc_dedup, pd->pd_endpoint, pd->pd_id,
	    strlen(pd->pd_id), 1, pd->pd_exit, pc->pc_clock(),
	    pc->pc_cfg->cf_retention) == 0) {
		log_info("endpoint %s id %s: dedup record marked done",
		    pd->pd_endpoint, pd->pd_id);
		pd->pd_id[0] = '\0';
		return 0;
	}
	return strcmp(pd->pd_endpoint, endpoint) == 0 &&
	    strcmp(pd->pd_id, id) == 0;
}

/* Step 6: build the environment and run the hook.  Records nothing. */
static void
act(struct pipeline_ctx *pc, const struct endpoint *ep, const char *path,
    const json_t *root, const uint8_t *pt, size_t ptlen, int64_t queued_at,
    struct outcome *oc)
{
	const struct config	*cf = pc->pc_cfg;
	struct hook_result	 hr;
	struct envbuf		 env;
	char			*marker;

	envbuf_init(&env);
	if (env_fixed(pc, ep, &env, oc, queued_at) == -1 ||
	    flatten_payload(root, &env) == -1) {
		set(oc, PR_ERROR, LOG_ERROR, "cannot build the hook "
		    "environment");
		goto out;
	}
	if (env.eb_truncated && (marker = getenv_in(&env,
	    "IDHOOK_TRUNCATED")) != NULL)
		*marker = '1';
	if (hook_run(path, oc->oc_event, ep->ep_hooks_dir, envbuf_envp(&env),
	    pt, ptlen, cf->cf_hook_timeout, &hr) == -1) {
		set(oc, PR_ERROR, LOG_ERROR, "cannot start the hook");
		goto out;
	}
	oc->oc_hook_exit = hook_exit_code(&hr);
	if (hook_succeeded(&hr))
		set(oc, PR_DELIVERED, LOG_INFO, NULL);
	else
		set(oc, PR_HOOK_FAILED, LOG_ERROR, !hr.hr_started ?
		    "hook could not be executed" : hr.hr_timed_out ?
		    "hook timed out" : "hook failed");
out:
	envbuf_free(&env);
}

void
pipeline_run_job(struct pipeline_ctx *pc, const struct endpoint *ep,
    const uint8_t *pt, size_t ptlen, int64_t queued_at, struct outcome *oc)
{
	char		 path[PATH_MAX], err[128];
	json_t		*root;
	int		 found;

	oc->oc_hook_exit = -1;
	if ((root = payload_parse(pt, ptlen, err, sizeof(err))) == NULL) {
		/* It parsed when it was queued: the store is damaged. */
		set(oc, PR_ERROR, LOG_ERROR, "stored payload is not a valid "
		    "JSON object");
		log_debug("endpoint %s: %s", ep->ep_name, err);
		return;
	}
	if ((found = hook_find(ep->ep_hooks_dir, oc->oc_event, path,
	    sizeof(path))) == -1)
		set(oc, PR_ERROR, LOG_ERROR, "hook is not usable");
	else if (found == 1)
		set(oc, PR_DELIVERED, LOG_INFO, "no hook");
	else
		act(pc, ep, path, root, pt, ptlen, queued_at, oc);
	json_decref(root);
}

/*
 * Queue mode: commit the event to the queue (with its dedup record, in
 * one transaction) and answer 202; a runner runs the hook later.
 */
static void
enqueue(struct pipeline_ctx *pc, const struct endpoint *ep,
    const uint8_t *pt, size_t ptlen, struct outcome *oc)
{
	const struct config	*cf = pc->pc_cfg;
	struct queue_job	 job;

	memset(&job, 0, sizeof(job));
	strlcpy(job.qj_endpoint, ep->ep_name, sizeof(job.qj_endpoint));
	strlcpy(job.qj_event, oc->oc_event, sizeof(job.qj_event));
	strlcpy(job.qj_event_id, oc->oc_id, sizeof(job.qj_event_id));
	strlcpy(job.qj_delivery, oc->oc_delivery, sizeof(job.qj_delivery));
	switch (queue_add(pc->pc_dedup, &job, pt, ptlen, pc->pc_clock(),
	    cf->cf_hook_timeout + HOOK_KILL_GRACE + DEDUP_STALE_EXTRA,
	    cf->cf_retention, &oc->oc_job)) {
	case QUEUE_ADDED:
		set(oc, PR_QUEUED, LOG_INFO, NULL);
		break;
	case QUEUE_ALREADY:
		set(oc, PR_QUEUED, LOG_INFO, "already queued");
		break;
	case QUEUE_REVIVED:
		set(oc, PR_QUEUED, LOG_WARN, "dead job queued again");
		break;
	case QUEUE_DONE:
		set(oc, PR_DUPLICATE, LOG_INFO, NULL);
		break;
	case QUEUE_BUSY:
		set(oc, PR_IN_PROGRESS, LOG_INFO, NULL);
		break;
	default:
		set(oc, PR_UNAVAILABLE, LOG_ERROR, "queue store error");
		break;
	}
}

/* Steps 5 and 6. */
static void
dedup_and_act(struct pipeline_ctx *pc, const struct endpoint *ep,
    const json_t *root, const uint8_t *pt, size_t ptlen, struct outcome *oc)
{
	const struct config	*cf = pc->pc_cfg;
	char			 path[PATH_MAX];
	int			 found;

	/* A broken hook is the operator's problem: 500, nothing recorded. */
	if ((found = hook_find(ep->ep_hooks_dir, oc->oc_event, path,
	    sizeof(path))) == -1) {
		set(oc, PR_ERROR, LOG_ERROR, "hook is not usable");
		return;
	}
	if (pc->pc_dedup == NULL) {
		set(oc, PR_UNAVAILABLE, LOG_ERROR, "dedup store unavailable");
		return;
	}
	if (flush_pending(pc, ep->ep_name, oc->oc_id)) {
		set(oc, PR_DUPLICATE, LOG_INFO, NULL);
		return;
	}
	if (ep->ep_mode == ENDPOINT_QUEUE && found == 0) {
		enqueue(pc, ep, pt, ptlen, oc);
		return;
	}
	switch (dedup_claim(pc->pc_dedup, ep->ep_name, oc->oc_id,
	    strlen(oc->oc_id), pc->pc_clock(), cf->cf_hook_timeout +
	    HOOK_KILL_GRACE + DEDUP_STALE_EXTRA, cf->cf_retention,
	    &oc->oc_attempt)) {
	case DEDUP_CLAIMED:
		break;
	case DEDUP_DONE:
		set(oc, PR_DUPLICATE, LOG_INFO, NULL);
		return;
	case DEDUP_BUSY:
		set(oc, PR_IN_PROGRESS, LOG_INFO, NULL);
		return;
	case DEDUP_QUEUED:
		/* Queued before (in queue mode): a runner will run it. */
		set(oc, PR_QUEUED, LOG_INFO, "already queued");
		return;
	default:
		set(oc, PR_UNAVAILABLE, LOG_ERROR, "dedup store error");
		return;
	}
	if (found == 1) {
		set(oc, PR_DELIVERED, LOG_INFO, "no hook");
		record(pc, ep->ep_name, oc->oc_id, 1, 0);
		return;
	}
	act(pc, ep, path, root, pt, ptlen, -1, oc);
	record(pc, ep->ep_name, oc->oc_id, oc->oc_result == PR_DELIVERED,
	    oc->oc_hook_exit);
}

void
pipeline_handle(struct pipeline_ctx *pc, struct request *rq,
    struct outcome *oc)
{
	const struct endpoint	*ep;
	uint8_t			*pt = NULL;
	size_t			 ptlen = 0;
	json_t			*root = NULL;
	char			 err[128];

	memset(oc, 0, sizeof(*oc));
	set(oc, PR_ERROR, LOG_ERROR, "internal error");
	oc->oc_hook_exit = -1;
	if ((ep = bound(pc, rq, oc)) == NULL)
		goto out;
	delivery_id(ep, rq, oc);
	/* The signature's clock starts when the whole body is here. */
	if (open_body(ep, rq, pc->pc_clock(), &pt, &ptlen, oc) == -1)
		goto out;
	if ((root = payload_parse(pt, ptlen, err, sizeof(err))) == NULL) {
		set(oc, PR_BAD_PAYLOAD, LOG_WARN, "payload is not a valid "
		    "JSON object");
		log_debug("endpoint %s: %s", ep->ep_name, err);
		goto out;
	}
	if (identify(ep, rq, root, pt, ptlen, oc) == -1)
		goto out;
	dedup_and_act(pc, ep, root, pt, ptlen, oc);
out:
	json_decref(root);
	if (pt != NULL)
		freezero(pt, ptlen + 1);
	request_free_body(rq);
}
