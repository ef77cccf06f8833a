/*
 * queue.h: queue mode (SPEC section 9): a delivery is committed to a
 * queue in the dedup store's LMDB environment, answered 202, and its hook
 * runs later from the queue, at most max_running at once per endpoint
 * across all processes, retried with backoff, finally kept as dead.
 *
 * A job is one event: enqueueing it and marking its dedup record
 * "queued" (dr_job = the job id) is one write transaction, so once the
 * caller has answered 202 neither a crash nor a kill -9 can lose it.
 * Job ids are never reused (a counter in the store), and their order is
 * the order in which deliveries were committed: jobs start in that order
 * (a job waiting for its backoff does not hold up later ones).
 *
 * A running job carries its runner's pid and /proc start time and a lease
 * (hook_timeout + HOOK_KILL_GRACE + QUEUE_LEASE_EXTRA, which a hook run
 * can never outlast).  It is taken over when its runner is gone (the same
 * test as a running dedup record) or its lease has expired.
 *
 * Like dedup.h, every function uses the store of the process that opened
 * it; a forked child opens its own.
 */
#ifndef IDHOOK_QUEUE_H
#define IDHOOK_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "config.h"
#include "dedup.h"

enum queue_state {
	QUEUE_QUEUED = 1,	/* waits for qj_next_run and a free slot */
	QUEUE_RUNNING = 2,	/* a runner has it (qj_pid, qj_lease_until) */
	QUEUE_DEAD = 3		/* used max_attempts; kept with its payload */
};

struct queue_job {
	uint32_t	 qj_id;
	uint32_t	 qj_state;	/* enum queue_state */
	int64_t		 qj_queued_at;	/* unix seconds, IDHOOK_QUEUED_AT */
	int64_t		 qj_next_run;	/* queued: not before this */
	int64_t		 qj_updated;	/* last change of state */
	int64_t		 qj_lease_until;	/* running: taken over after */
	uint32_t	 qj_attempts;	/* runs started */
	int32_t		 qj_exit;	/* last run's hook_exit_code, or -1 */
	int32_t		 qj_pid;	/* running: its runner */
	uint64_t	 qj_pid_start;
	uint32_t	 qj_payload_len;
	char		 qj_endpoint[ENDPOINT_NAME_MAX + 1];
	char		 qj_event[EVENT_TYPE_MAX + 1];
	char		 qj_event_id[EVENT_ID_MAX + 1];
	char		 qj_delivery[DELIVERY_ID_MAX + 1];	/* "" if none */
};

enum queue_add_result {
	QUEUE_ADDED = 0,	/* new job, committed: answer 202 */
	QUEUE_ALREADY = 1,	/* its job is queued or running: 202 */
	QUEUE_REVIVED = 2,	/* its dead job is queued again: 202 */
	QUEUE_DONE = 3,		/* already done: duplicate */
	QUEUE_BUSY = 4,		/* a sync run of it is alive: 409 */
	QUEUE_ERR = -1,		/* store error (logged): 503 */
	QUEUE_FULL = -2		/* map full even after pruning: 503 */
};

/*
 * queue_add: in one write transaction, decides on the dedup record of
 * job->qj_endpoint/qj_event_id like dedup_claim does (done: QUEUE_DONE;
 * a live running record: QUEUE_BUSY; queued: QUEUE_ALREADY, or, when its
 * job is dead, that job is queued again with attempts 0 and next_run now,
 * its stored payload and qj_delivery replaced by this delivery's (the
 * old payload may be why it died): QUEUE_REVIVED), else stores a new job
 * (queued, next_run now, attempts 0, queued_at now) with its payload,
 * and the dedup record as queued with the new job id, and commits:
 * QUEUE_ADDED.  Only qj_endpoint, qj_event, qj_event_id and qj_delivery
 * of job are read.  *id is the job's id for every 202 result.  On
 * MDB_MAP_FULL prunes dedup records older than now - retention and tries
 * once more, else QUEUE_FULL.
 */
int	 queue_add(struct dedup *, const struct queue_job *job,
	    const uint8_t *payload, size_t len, int64_t now,
	    unsigned stale_after, int64_t retention, uint32_t *id);

enum queue_claim_result {
	QUEUE_CLAIMED = 0,	/* *job is now running as ours: run it */
	QUEUE_WAIT = 1,		/* jobs are queued or running, none ours now */
	/*
	 * No job is queued or running (jobs of endpoints cfg lacks and
	 * undecodable jobs do not count: a runner would wait for nothing).
	 */
	QUEUE_IDLE = 2,
	QUEUE_CERR = -1		/* store error (logged) */
};

/*
 * queue_claim: in one write transaction, walks the live jobs in id order.
 * A running job counts against its endpoint's max_running while its
 * runner is alive and its lease has not expired; otherwise it is taken
 * over like a queued job that is due (logged).  The first due job whose
 * endpoint (looked up in cfg by name; a job of an endpoint cfg does not
 * have is skipped and counted in *orphans) has a free slot is marked
 * running (our pid, attempts + 1, lease from cfg's hook_timeout) and
 * committed, and its header copied to *job and its payload to a new
 * buffer *payload (*len bytes; the caller wipes and frees it with
 * freezero(*payload, *len)).  A due job whose dedup record is done is
 * deleted, not run (logged): the event ran another way.  Undecodable
 * jobs and keys that are not job ids (a damaged store) are logged and
 * skipped.
 * QUEUE_WAIT: *next is the earliest time something may change
 * (a queued job's next_run, a lease's end; now + 1 when a job waits only
 * for a slot).  Orphans (jobs of endpoints cfg lacks) count for neither
 * WAIT nor IDLE: with only orphans left the result is QUEUE_IDLE, so a
 * runner does not poll for jobs it can never run.  orphans may be NULL.
 */
int	 queue_claim(struct dedup *, const struct config *cfg, int64_t now,
	    struct queue_job *job, uint8_t **payload, size_t *len,
	    int64_t *next, size_t *orphans);

enum queue_finish_result {
	QUEUE_F_DONE = 0,	/* deleted with its payload, dedup done */
	QUEUE_F_RETRY = 1,	/* queued again for job->qj_next_run */
	QUEUE_F_DEAD = 2,	/* moved to the dead jobs, payload kept */
	QUEUE_F_GONE = 3,	/* deleted meanwhile (dropped): nothing kept */
	QUEUE_F_ERR = -1	/* store error (logged); nothing changed */
};

/*
 * queue_finish: records the run of job id that we claimed.  success: the
 * job and its payload are deleted and its dedup record marked done, in
 * one transaction.  Failure: when the job's attempts have reached
 * max_attempts it becomes dead (its dedup record stays queued, pointing
 * at it), else queued again with next_run = now + backoff * 2^(attempts
 * - 1), at most max(backoff, QUEUE_BACKOFF_CAP), plus one second (times
 * are whole seconds: the wait is never shorter than the backoff).  If
 * another runner took the job over meanwhile, our success still completes
 * it (the event did run) and our failure changes nothing.  *job (may be
 * NULL) gets the job as stored (its qj_next_run on retry).  A job that is
 * gone (dropped or completed meanwhile) gives QUEUE_F_DONE and a *job
 * that is zero but for qj_id = id, qj_exit = exit_code and qj_updated =
 * now: qj_state 0 ("unknown"), qj_attempts 0 and the strings "" are not
 * known any more.  Prunes a batch of old dedup records afterwards.
 */
int	 queue_finish(struct dedup *, uint32_t id, int success, int exit_code,
	    int64_t now, unsigned max_attempts, unsigned backoff,
	    int64_t retention, struct queue_job *job);

/*
 * queue_get: job id (live or dead) into *job; with payload not NULL also
 * its payload in a new buffer (freezero(*payload, *len)).
 * Returns 0 found, 1 absent, -1 error.
 */
int	 queue_get(struct dedup *, uint32_t id, struct queue_job *job,
	    uint8_t **payload, size_t *len);

/*
 * queue_each: calls fn for every live job in id order, then every dead
 * one, inside one read-only transaction (fn must not call other store
 * functions).  fn returning non-zero stops the walk.  Returns the number
 * of jobs visited, or -1 (logged).  A job that cannot be decoded is
 * logged and skipped.
 */
long	 queue_each(struct dedup *, int (*fn)(const struct queue_job *,
	    void *), void *arg);

/*
 * queue_retry: a dead job, or a running job whose runner is gone (dead,
 * or its lease expired: see queue_claim), is queued again with attempts
 * 0 and next_run now; a queued job has its next_run set to now.  Returns
 * 0, 1 no such job, 2 running with its runner alive (refused), -1 error.
 */
int	 queue_retry(struct dedup *, uint32_t id, int64_t now);

/*
 * queue_drop: deletes a queued or dead job, or a running one whose runner
 * is gone, and its payload, and marks its dedup record failed (a new
 * delivery of the event runs it again).  A job that cannot be decoded
 * (a damaged store) is deleted by key.  Returns 0, 1 no such job, 2
 * running with its runner alive (refused), -1 error.
 */
int	 queue_drop(struct dedup *, uint32_t id, int64_t now);

/*
 * queue_live: with cfg, the number of live (queued or running) jobs of
 * endpoints cfg has (what a runner of cfg would run or wait for; jobs
 * that cannot be decoded do not count); with cfg NULL, every entry of
 * the live jobs.  -1 on error (logged).  A read-only transaction.
 */
long	 queue_live(struct dedup *, const struct config *cfg);

/* "queued", "running", "dead", or "unknown". */
const char *queue_state_name(uint32_t state);

#endif /* IDHOOK_QUEUE_H */
