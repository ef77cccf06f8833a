/*
 * store.h: internals of the one LMDB environment in state_dir, shared by
 * dedup.c (SPEC section 5) and queue.c (SPEC section 9) so that a queued
 * job and its dedup record change in one write transaction.  Not a
 * public contract: only those two files include it.
 *
 * Named databases:
 *   dedup    "<endpoint>\0<event id>" -> struct dedup_record
 *   queue    job id (4 bytes big-endian) -> job header + strings: the
 *            live jobs (queued or running), in arrival order
 *   dead     job id -> the same, for jobs that used all their attempts
 *   payload  job id -> the decrypted payload, deleted with the job
 *   meta     "next_job" -> uint32 (job ids are never reused)
 */
#ifndef IDHOOK_STORE_H
#define IDHOOK_STORE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "bounds.h"
#include "dedup.h"
#include "log.h"

/* LMDB's default MDB_MAXKEYSIZE; dedup_open() also checks the library's. */
#define STORE_LMDB_KEY_MAX	511

struct dedup {
	MDB_env		*dd_env;
	MDB_dbi		 dd_dbi;	/* dedup */
	MDB_dbi		 dd_queue;
	MDB_dbi		 dd_dead;
	MDB_dbi		 dd_payload;
	MDB_dbi		 dd_meta;
	size_t		 dd_mapsize;	/* as configured */
	/* Round-robin prune position: the last key examined, 0 = start. */
	size_t		 dd_poslen;
	uint8_t		 dd_pos[STORE_LMDB_KEY_MAX];
};

struct dedup_key {
	uint8_t		 dk_buf[DEDUP_KEY_MAX];
	MDB_val		 dk_val;
	const char	*dk_endpoint;
	const char	*dk_id;
	size_t		 dk_idlen;
};

/* A logline with msg and, when k is not NULL, its endpoint and id. */
void	 store_line(struct logline *, int level, const char *msg,
	    const struct dedup_key *k);
/* Logs msg with the key and LMDB's (or errno's) text for rc (0: none). */
void	 store_log(int level, const char *msg, const struct dedup_key *k,
	    int rc);
int	 store_key_make(struct dedup_key *, const char *endpoint,
	    const char *id, size_t idlen);
/* t - secs without overflow (secs < 0 counts as 0). */
int64_t	 store_time_sub(int64_t t, int64_t secs);
/* /proc start time of pid, 0 when unknown. */
uint64_t store_proc_start(pid_t pid);
/*
 * store_pid_alive: 0 when the process pid (started at start, 0 =
 * unknown) is surely gone: it is us (a process works on one thing at a
 * time, so a record of ours is a leftover), kill(pid, 0) says ESRCH, it
 * is a zombie, or its start time differs (pid reused).  *why says which.
 */
int	 store_pid_alive(int32_t pid, uint64_t start, const char **why);
/*
 * store_running_live: 1 if the running dedup record r belongs to a live
 * process and was updated within stale_after seconds; else 0, logged
 * (at warn, prefixed with who) as a takeover with the reason.
 */
int	 store_running_live(const struct dedup_record *r, int64_t now,
	    unsigned stale_after, const struct dedup_key *k, const char *who);
/* Returns 0 found, 1 absent, -1 error (logged). */
int	 store_record_get(struct dedup *, MDB_txn *, const struct dedup_key *,
	    struct dedup_record *);
int	 store_record_put(struct dedup *, MDB_txn *, const struct dedup_key *,
	    const struct dedup_record *);
/*
 * store_txn_begin: begins a transaction (flags 0 or MDB_RDONLY), handling
 * MDB_MAP_RESIZED.  Returns 0 or an LMDB error (logged).
 */
int	 store_txn_begin(struct dedup *, unsigned flags, MDB_txn **);
/*
 * store_make_room: on MDB_MAP_FULL: clears stale readers, grows the map
 * by a reserve only while pruning dedup records older than cutoff, and
 * restores the configured size.  k (may be NULL) is for the log line.
 */
void	 store_make_room(struct dedup *, const struct dedup_key *k,
	    int64_t cutoff);
/* Examines DEDUP_PRUNE_BATCH records from the last position.  n or -1. */
long	 store_prune_round(struct dedup *, int64_t cutoff);

#endif /* IDHOOK_STORE_H */
