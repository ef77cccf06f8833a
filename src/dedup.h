/*
 * dedup.h: exactly-once effect over at-least-once delivery (SPEC section 5),
 * in an LMDB environment.  Opened once per process; the hook child never
 * touches it.
 *
 * Key: "<endpoint>\0<event id>".  Value: struct dedup_record, versioned.
 * States: running -> done | failed.  A running record whose process is
 * gone (kill(pid, 0) fails with ESRCH, or its /proc start time differs:
 * the pid was reused), or that is our own pid (a process handles one
 * request at a time, so a running record of ours is a leftover), or that
 * was not updated for stale_after seconds, may be taken over.
 */
#ifndef IDHOOK_DEDUP_H
#define IDHOOK_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

enum dedup_state {
	DEDUP_STATE_RUNNING = 1,
	DEDUP_STATE_DONE = 2,
	DEDUP_STATE_FAILED = 3,
	DEDUP_STATE_QUEUED = 4	/* a queue job (dr_job) owns the event */
};

struct dedup_record {
	uint32_t	dr_version;	/* DEDUP_RECORD_VERSION */
	uint32_t	dr_state;	/* enum dedup_state */
	int64_t		dr_first_seen;	/* unix seconds */
	int64_t		dr_updated;
	uint32_t	dr_attempts;
	int32_t		dr_pid;		/* process running it (running) */
	uint64_t	dr_pid_start;	/* /proc starttime, 0 = unknown */
	int32_t		dr_exit;	/* hook_exit_code of the last run */
	uint32_t	dr_job;		/* queued: its job id; else 0 */
};
#define DEDUP_RECORD_VERSION	1

struct dedup;

/*
 * dedup_open: opens (creating) the LMDB environment in directory dir
 * (which must exist), files mode 0600, map size mapsize bytes, with
 * MDB_NOTLS; then clears stale reader slots (mdb_reader_check).
 * Retries a few times on the transient errors LMDB documents for
 * concurrent open.  Returns 0 and *dp, or -1 (logged with the reason).
 */
int	 dedup_open(const char *dir, size_t mapsize, struct dedup **dp);
/* Closes the environment.  NULL is ok.  Never call in a forked child. */
void	 dedup_close(struct dedup *);

enum dedup_claim_result {
	DEDUP_CLAIMED = 0,	/* record is now running/ours: run the hook */
	DEDUP_DONE = 1,		/* already done: answer duplicate */
	DEDUP_BUSY = 2,		/* running in a live process: 409 */
	DEDUP_QUEUED = 3,	/* a queue job owns it: 202 */
	DEDUP_ERR = -1,		/* store error (logged): 503 */
	DEDUP_FULL = -2		/* map full even after pruning: 503 */
};

/*
 * dedup_claim: in one write transaction: absent/failed/dead-or-stale
 * running -> store running (attempts + 1, our pid, now) and commit,
 * DEDUP_CLAIMED with *attempt = new attempt count (1 on first run);
 * done -> DEDUP_DONE; live running -> DEDUP_BUSY; queued (a queue job
 * owns the event, whatever the job's own state) -> DEDUP_QUEUED.
 * id/idlen: event id (1..EVENT_ID_MAX bytes), endpoint: NUL-terminated name
 * (1..ENDPOINT_NAME_MAX).  On MDB_MAP_FULL, prunes records older than
 * now - retention and retries once, else DEDUP_FULL.
 */
int	 dedup_claim(struct dedup *, const char *endpoint, const char *id,
	    size_t idlen, int64_t now, unsigned stale_after, int64_t retention,
	    unsigned *attempt);

/*
 * dedup_finish: stores done (success != 0) or failed with exit_code and
 * now, keeping first_seen and attempts.  If another process took the
 * record over meanwhile, its work is not undone: a done record stays
 * done, and its running record is replaced only by our success (as
 * done).  Then prunes up to DEDUP_PRUNE_BATCH records older than now -
 * retention (its own txn; failure there is only logged).  Returns 0 or
 * -1 (logged).
 */
int	 dedup_finish(struct dedup *, const char *endpoint, const char *id,
	    size_t idlen, int success, int exit_code, int64_t now,
	    int64_t retention);

/*
 * dedup_get: copies the record of endpoint/id into *rec.
 * Returns 0 found, 1 absent, -1 error.
 */
int	 dedup_get(struct dedup *, const char *endpoint, const char *id,
	    size_t idlen, struct dedup_record *rec);

/*
 * dedup_prune: deletes up to max records (0 = no limit) whose last update
 * is before cutoff, that are done or failed.  Returns the number deleted, or
 * -1.
 */
long	 dedup_prune(struct dedup *, int64_t cutoff, size_t max);

/*
 * dedup_forget: deletes the record of endpoint/id, whatever its state
 * (the next delivery of the event runs its hook again).  Returns 0
 * deleted, 1 absent, -1 error.
 */
int	 dedup_forget(struct dedup *, const char *endpoint, const char *id,
	    size_t idlen);

/*
 * dedup_each: calls fn for every record in key order (endpoint, then
 * event id; id is NUL-terminated, idlen bytes), inside one read-only
 * transaction, so fn must not call other dedup functions.  A record that
 * cannot be decoded is passed with rec NULL.  fn returning non-zero stops
 * the walk.  Returns the number of records visited, or -1 (logged).
 */
long	 dedup_each(struct dedup *, int (*fn)(const char *endpoint,
	    const char *id, size_t idlen, const struct dedup_record *rec,
	    void *arg), void *arg);

/*
 * dedup_space: bytes of the map in use (pages of the last transaction)
 * and the map's size.  0 or -1.
 */
int	 dedup_space(struct dedup *, size_t *used, size_t *size);

#endif /* IDHOOK_DEDUP_H */
