/*
 * queue.c: queue mode (SPEC section 9) in the dedup store's LMDB
 * environment (store.h).
 *
 * A job is stored under its id, 4 bytes big-endian, so that LMDB's
 * default byte order is the order of ids, which is the order of arrival.
 * Its value is a fixed header (struct job_hdr) followed by the endpoint,
 * event type, event id and delivery id, without NULs, their lengths in
 * the header.  The payload (decrypted: personal data) lives in its own
 * database under the same key, so that walking the jobs never touches
 * it; it is never logged, and our copies are wiped with freezero.
 *
 * Deleting a payload is a plain mdb_del: LMDB reuses the freed pages but
 * does not scrub them, so the bytes stay in the file until overwritten
 * (the state directory is 0700 and its files 0600 for that reason).
 */
#include "compat.h"

#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "bounds.h"
#include "config.h"
#include "dedup.h"
#include "log.h"
#include "queue.h"
#include "store.h"

#define JOB_VERSION	1
#define JOB_TXN_FULL	(-2)	/* MDB_MAP_FULL: make room and retry */
/* claim_txn: a job was moved to the dead ones; claim again. */
#define JOB_TXN_AGAIN	(-101)
#define JOB_NEW		10	/* queue_add: store a new job */

/* The stored header: raw bytes, so no padding may leak or shift. */
struct job_hdr {
	uint32_t	 jh_version;	/* JOB_VERSION */
	uint32_t	 jh_state;	/* enum queue_state */
	int64_t		 jh_queued_at;
	int64_t		 jh_next_run;
	int64_t		 jh_updated;
	int64_t		 jh_lease_until;
	uint32_t	 jh_attempts;
	int32_t		 jh_exit;
	int32_t		 jh_pid;
	uint32_t	 jh_payload_len;
	uint64_t	 jh_pid_start;
	uint16_t	 jh_eplen;
	uint16_t	 jh_evlen;
	uint16_t	 jh_idlen;
	uint16_t	 jh_dlen;
};
_Static_assert(sizeof(struct job_hdr) == 72,
    "struct job_hdr must have no padding");

#define JOB_VAL_MAX	(sizeof(struct job_hdr) + ENDPOINT_NAME_MAX + \
    EVENT_TYPE_MAX + EVENT_ID_MAX + DELIVERY_ID_MAX)

static const char	 next_key[] = "next_job";

struct job_key {
	uint8_t		 jk_buf[4];
	MDB_val		 jk_val;
};

static void
job_key(struct job_key *k, uint32_t id)
{
	k->jk_buf[0] = (uint8_t)(id >> 24);
	k->jk_buf[1] = (uint8_t)(id >> 16);
	k->jk_buf[2] = (uint8_t)(id >> 8);
	k->jk_buf[3] = (uint8_t)id;
	k->jk_val.mv_data = k->jk_buf;
	k->jk_val.mv_size = sizeof(k->jk_buf);
}

static int
key_id(const MDB_val *key, uint32_t *id)
{
	const uint8_t	*p = key->mv_data;

	if (key->mv_size != 4)
		return -1;
	*id = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	return 0;
}

/* The id in the first (up to) 4 bytes of a key, zero-padded. */
static uint32_t
key_prefix(const MDB_val *key)
{
	const uint8_t	*p = key->mv_data;
	uint32_t	 id = 0;
	size_t		 i;

	for (i = 0; i < 4; i++)
		id = id << 8 | (i < key->mv_size ? p[i] : 0);
	return id;
}

/*
 * The id of the first job key that can follow key in LMDB's order: a
 * job's id + 1; for a corrupt key of another size, key_prefix (a shorter
 * key sorts before its zero padding) or key_prefix + 1 (a longer one
 * sorts after its prefix).  -1: no job key can follow.
 */
static int
key_after(const MDB_val *key, uint32_t *next)
{
	uint32_t	 id = key_prefix(key);

	if (key->mv_size < 4) {
		*next = id;
		return 0;
	}
	if (id == UINT32_MAX)
		return -1;
	*next = id + 1;
	return 0;
}

/* A logline with msg, the job's id, endpoint and event id. */
static void
job_line(struct logline *l, int level, const char *msg,
    const struct queue_job *j)
{
	logline_init(l, level);
	logline_add(l, "msg", msg);
	logline_addf(l, "job", "%lu", (unsigned long)j->qj_id);
	logline_add(l, "endpoint", j->qj_endpoint);
	logline_add(l, "event_id", j->qj_event_id);
}

static void
job_log(int level, const char *msg, const struct queue_job *j, int rc)
{
	struct logline	 l;

	job_line(&l, level, msg, j);
	if (rc != 0)
		logline_add(&l, "error", mdb_strerror(rc));
	logline_emit(&l);
}

/* Copies len bytes at *p to a NUL-terminated dst; 0 or -1 on a NUL. */
static int
str_take(char *dst, const uint8_t **p, size_t len)
{
	if (memchr(*p, '\0', len) != NULL)
		return -1;
	memcpy(dst, *p, len);
	dst[len] = '\0';
	*p += len;
	return 0;
}

static int
hdr_valid(const struct job_hdr *h, size_t size)
{
	return h->jh_version == JOB_VERSION &&
	    h->jh_state >= QUEUE_QUEUED && h->jh_state <= QUEUE_DEAD &&
	    h->jh_eplen >= 1 && h->jh_eplen <= ENDPOINT_NAME_MAX &&
	    h->jh_evlen <= EVENT_TYPE_MAX &&
	    h->jh_idlen >= 1 && h->jh_idlen <= EVENT_ID_MAX &&
	    h->jh_dlen <= DELIVERY_ID_MAX &&
	    h->jh_payload_len <= BODY_MAX &&
	    size == sizeof(*h) + h->jh_eplen + h->jh_evlen + h->jh_idlen +
	    h->jh_dlen;
}

/* Decodes a stored job defensively.  Returns 0 or -1 (not logged). */
static int
job_decode(const MDB_val *key, const MDB_val *val, struct queue_job *j)
{
	struct job_hdr	 h;
	const uint8_t	*p;

	memset(j, 0, sizeof(*j));
	if (key_id(key, &j->qj_id) == -1 || val->mv_size < sizeof(h))
		return -1;
	memcpy(&h, val->mv_data, sizeof(h));
	if (!hdr_valid(&h, val->mv_size))
		return -1;
	p = (const uint8_t *)val->mv_data + sizeof(h);
	if (str_take(j->qj_endpoint, &p, h.jh_eplen) == -1 ||
	    str_take(j->qj_event, &p, h.jh_evlen) == -1 ||
	    str_take(j->qj_event_id, &p, h.jh_idlen) == -1 ||
	    str_take(j->qj_delivery, &p, h.jh_dlen) == -1)
		return -1;
	j->qj_state = h.jh_state;
	j->qj_queued_at = h.jh_queued_at;
	j->qj_next_run = h.jh_next_run;
	j->qj_updated = h.jh_updated;
	j->qj_lease_until = h.jh_lease_until;
	j->qj_attempts = h.jh_attempts;
	j->qj_exit = h.jh_exit;
	j->qj_pid = h.jh_pid;
	j->qj_pid_start = h.jh_pid_start;
	j->qj_payload_len = h.jh_payload_len;
	return 0;
}

static void
bytes_put(uint8_t **p, const char *s, uint16_t len)
{
	memcpy(*p, s, len);
	*p += len;
}

/* Encodes j (whose strings were validated) into buf[JOB_VAL_MAX]. */
static void
job_encode(const struct queue_job *j, uint8_t *buf, MDB_val *val)
{
	struct job_hdr	 h;
	uint8_t		*p = buf + sizeof(h);

	memset(&h, 0, sizeof(h));
	h.jh_version = JOB_VERSION;
	h.jh_state = j->qj_state;
	h.jh_queued_at = j->qj_queued_at;
	h.jh_next_run = j->qj_next_run;
	h.jh_updated = j->qj_updated;
	h.jh_lease_until = j->qj_lease_until;
	h.jh_attempts = j->qj_attempts;
	h.jh_exit = j->qj_exit;
	h.jh_pid = j->qj_pid;
	h.jh_pid_start = j->qj_pid_start;
	h.jh_payload_len = j->qj_payload_len;
	h.jh_eplen = (uint16_t)strlen(j->qj_endpoint);
	h.jh_evlen = (uint16_t)strlen(j->qj_event);
	h.jh_idlen = (uint16_t)strlen(j->qj_event_id);
	h.jh_dlen = (uint16_t)strlen(j->qj_delivery);
	memcpy(buf, &h, sizeof(h));
	bytes_put(&p, j->qj_endpoint, h.jh_eplen);
	bytes_put(&p, j->qj_event, h.jh_evlen);
	bytes_put(&p, j->qj_event_id, h.jh_idlen);
	bytes_put(&p, j->qj_delivery, h.jh_dlen);
	val->mv_data = buf;
	val->mv_size = (size_t)(p - buf);
}

/* The strings of a job from a caller: NUL-terminated and in bounds. */
static int
job_strings_ok(const struct queue_job *j)
{
	size_t	 ep, ev, id, dl;

	ep = strnlen(j->qj_endpoint, sizeof(j->qj_endpoint));
	ev = strnlen(j->qj_event, sizeof(j->qj_event));
	id = strnlen(j->qj_event_id, sizeof(j->qj_event_id));
	dl = strnlen(j->qj_delivery, sizeof(j->qj_delivery));
	return ep >= 1 && ep <= ENDPOINT_NAME_MAX && ev <= EVENT_TYPE_MAX &&
	    id >= 1 && id <= EVENT_ID_MAX && dl <= DELIVERY_ID_MAX;
}

static void
undecodable(const char *db, const MDB_val *key, const MDB_val *val)
{
	log_error("queue: skipping an undecodable job in %s (job %lu, key "
	    "%zu bytes, value %zu bytes)", db, (unsigned long)key_prefix(key),
	    key->mv_size, val->mv_size);
}

/* Loads job id from dbi.  Returns 0 found, 1 absent, -1 error (logged). */
static int
job_load(struct dedup *d, MDB_txn *txn, MDB_dbi dbi, uint32_t id,
    struct queue_job *j)
{
	struct job_key	 k;
	MDB_val		 val;
	int		 rc;

	job_key(&k, id);
	rc = mdb_get(txn, dbi, &k.jk_val, &val);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0) {
		store_log(LOG_ERROR, "queue: mdb_get failed", NULL, rc);
		return -1;
	}
	if (job_decode(&k.jk_val, &val, j) == -1) {
		undecodable(dbi == d->dd_dead ? "dead" : "queue", &k.jk_val,
		    &val);
		return -1;
	}
	return 0;
}

/* Job id live or dead: 0 (*dbi says which), 1 absent, -1 error. */
static int
job_find(struct dedup *d, MDB_txn *txn, uint32_t id, struct queue_job *j,
    MDB_dbi *dbi)
{
	int	 rc;

	*dbi = d->dd_queue;
	if ((rc = job_load(d, txn, d->dd_queue, id, j)) != 1)
		return rc;
	*dbi = d->dd_dead;
	return job_load(d, txn, d->dd_dead, id, j);
}

static int
job_put(MDB_txn *txn, MDB_dbi dbi, const struct queue_job *j)
{
	uint8_t		 buf[JOB_VAL_MAX];
	struct job_key	 k;
	MDB_val		 val;

	job_key(&k, j->qj_id);
	job_encode(j, buf, &val);
	return mdb_put(txn, dbi, &k.jk_val, &val, 0);
}

/* Deletes job id from dbi, and its payload when payload is set. */
static int
job_del(struct dedup *d, MDB_txn *txn, MDB_dbi dbi, uint32_t id,
    int payload)
{
	struct job_key	 k;
	int		 rc;

	job_key(&k, id);
	if ((rc = mdb_del(txn, dbi, &k.jk_val, NULL)) != 0 || !payload)
		return rc;
	/* Not scrubbed: see the top of this file. */
	rc = mdb_del(txn, d->dd_payload, &k.jk_val, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Moves j (already changed) from dbi from to dbi to. */
static int
job_move(struct dedup *d, MDB_txn *txn, MDB_dbi from, MDB_dbi to,
    const struct queue_job *j)
{
	int	 rc;

	if (from != to && (rc = job_del(d, txn, from, j->qj_id, 0)) != 0)
		return rc;
	return job_put(txn, to, j);
}

/* Copies the payload of j into a new buffer.  0, 1 absent, -1 error. */
static int
payload_copy(struct dedup *d, MDB_txn *txn, const struct queue_job *j,
    uint8_t **payload, size_t *len)
{
	struct job_key	 k;
	MDB_val		 val;
	int		 rc;

	*payload = NULL;
	*len = 0;
	job_key(&k, j->qj_id);
	rc = mdb_get(txn, d->dd_payload, &k.jk_val, &val);
	if (rc == MDB_NOTFOUND ||
	    (rc == 0 && val.mv_size != j->qj_payload_len)) {
		job_log(LOG_ERROR, "queue: payload missing or of the wrong "
		    "length", j, 0);
		return 1;
	}
	if (rc != 0) {
		job_log(LOG_ERROR, "queue: reading the payload failed", j, rc);
		return -1;
	}
	/* One spare byte: malloc(0) may return NULL. */
	if ((*payload = malloc(val.mv_size + 1)) == NULL) {
		log_error("%s: %s", __func__, strerror(errno));
		return -1;
	}
	memcpy(*payload, val.mv_data, val.mv_size);
	*len = val.mv_size;
	return 0;
}

/* Commits *txnp (gone afterwards).  0, JOB_TXN_FULL or -1 (logged). */
static int
txn_commit(MDB_txn **txnp, const char *what)
{
	int	 rc;

	rc = mdb_txn_commit(*txnp);
	*txnp = NULL;
	if (rc == 0)
		return 0;
	if (rc == MDB_MAP_FULL)
		return JOB_TXN_FULL;
	store_log(LOG_ERROR, what, NULL, rc);
	return -1;
}

/* An LMDB error of a put or delete: JOB_TXN_FULL or -1 (logged). */
static int
put_fail(int rc, const char *what, const struct queue_job *j)
{
	if (rc == MDB_MAP_FULL)
		return JOB_TXN_FULL;
	job_log(LOG_ERROR, what, j, rc);
	return -1;
}

static void
txn_end(MDB_txn *txn)
{
	if (txn != NULL)
		mdb_txn_abort(txn);
}

static int
job_dkey(struct dedup_key *k, const struct queue_job *j)
{
	return store_key_make(k, j->qj_endpoint, j->qj_event_id,
	    strlen(j->qj_event_id));
}

/* Takes the next job id from meta.  0 or an LMDB error; -1 exhausted. */
static int
next_id(struct dedup *d, MDB_txn *txn, uint32_t *id)
{
	struct job_key	 k;
	MDB_val		 key, val;
	int		 rc;

	key.mv_data = (void *)(uintptr_t)next_key;	/* LMDB only reads */
	key.mv_size = sizeof(next_key) - 1;
	rc = mdb_get(txn, d->dd_meta, &key, &val);
	if (rc == MDB_NOTFOUND)
		*id = 1;
	else if (rc != 0)
		return rc;
	else if (key_id(&val, id) == -1 || *id == 0)
		return MDB_CORRUPTED;
	if (*id == UINT32_MAX) {
		log_error("queue: job ids exhausted");
		return -1;
	}
	job_key(&k, *id + 1);
	return mdb_put(txn, d->dd_meta, &key, &k.jk_val, 0);
}

/* Liveness of a running job; *why says why not. */
static int
job_alive(const struct queue_job *j, int64_t now, const char **why)
{
	if (!store_pid_alive(j->qj_pid, j->qj_pid_start, why))
		return 0;
	if (now >= j->qj_lease_until) {
		*why = "lease expired";
		return 0;
	}
	return 1;
}

/* Queues j again from scratch (queue_retry, and a redelivery). */
static void
job_revive(struct queue_job *j, int64_t now)
{
	j->qj_state = QUEUE_QUEUED;
	j->qj_attempts = 0;
	j->qj_next_run = now;
	j->qj_updated = now;
	j->qj_lease_until = 0;
	j->qj_pid = 0;
	j->qj_pid_start = 0;
}

/* Stores payload (len bytes) as the payload of job id. */
static int
payload_put(struct dedup *d, MDB_txn *txn, uint32_t id,
    const uint8_t *payload, size_t len)
{
	struct job_key	 k;
	MDB_val		 val;

	job_key(&k, id);
	val.mv_size = len;
	val.mv_data = (void *)(uintptr_t)payload;	/* LMDB only reads */
	return mdb_put(txn, d->dd_payload, &k.jk_val, &val, 0);
}

/*
 * A queued dedup record: its job is live (QUEUE_ALREADY), dead (queued
 * again: QUEUE_REVIVED), or gone (JOB_NEW: the caller queues a new one).
 * A revived job takes the redelivery's payload and delivery id (nj): the
 * stored payload may be the reason it died (bury), and the redelivery
 * is of the same event.
 */
static int
add_existing(struct dedup *d, MDB_txn *txn, const struct dedup_record *r,
    const struct queue_job *nj, const uint8_t *payload, size_t len,
    int64_t now, uint32_t *id)
{
	struct queue_job	 j;
	MDB_dbi			 dbi;
	int			 rc;

	if ((rc = job_find(d, txn, r->dr_job, &j, &dbi)) == -1)
		return QUEUE_ERR;
	if (rc == 1) {
		log_warn("queue: job %lu of a queued event is gone, queueing "
		    "a new one", (unsigned long)r->dr_job);
		return JOB_NEW;
	}
	*id = j.qj_id;
	if (dbi == d->dd_queue)
		return QUEUE_ALREADY;
	job_revive(&j, now);
	j.qj_payload_len = (uint32_t)len;
	memcpy(j.qj_delivery, nj->qj_delivery, sizeof(j.qj_delivery));
	if ((rc = job_move(d, txn, d->dd_dead, d->dd_queue, &j)) != 0 ||
	    (rc = payload_put(d, txn, j.qj_id, payload, len)) != 0)
		return put_fail(rc, "queue: reviving a dead job failed", &j);
	job_log(LOG_INFO, "queue: dead job queued again", &j, 0);
	return QUEUE_REVIVED;
}

/* Like claim_decide of dedup.c: QUEUE_DONE, QUEUE_BUSY or JOB_NEW. */
static int
add_decide(const struct dedup_record *r, int64_t now, unsigned stale_after,
    const struct dedup_key *k)
{
	if (r->dr_state == DEDUP_STATE_DONE)
		return QUEUE_DONE;
	if (r->dr_state != DEDUP_STATE_RUNNING)
		return JOB_NEW;
	return store_running_live(r, now, stale_after, k, "queue") ?
	    QUEUE_BUSY : JOB_NEW;
}

/* Stores a new job, its payload and its queued dedup record. */
static int
add_new(struct dedup *d, MDB_txn *txn, struct queue_job *j,
    const uint8_t *payload, size_t len, struct dedup_record *r,
    const struct dedup_key *k)
{
	int	 rc;

	if ((rc = next_id(d, txn, &j->qj_id)) != 0)
		return rc == -1 ? -1 : put_fail(rc, "queue: next id", j);
	if ((rc = job_put(txn, d->dd_queue, j)) != 0 ||
	    (rc = payload_put(d, txn, j->qj_id, payload, len)) != 0)
		return put_fail(rc, "queue: storing the job failed", j);
	r->dr_version = DEDUP_RECORD_VERSION;
	r->dr_state = DEDUP_STATE_QUEUED;
	r->dr_job = j->qj_id;
	r->dr_updated = j->qj_updated;
	if (r->dr_attempts < UINT32_MAX)
		r->dr_attempts++;
	r->dr_pid = 0;
	r->dr_pid_start = 0;
	if ((rc = store_record_put(d, txn, k, r)) != 0)
		return put_fail(rc, "queue: storing the dedup record failed",
		    j);
	return QUEUE_ADDED;
}

/* One queue_add transaction; JOB_TXN_FULL for the caller to retry. */
static int
add_txn(struct dedup *d, struct queue_job *j, const uint8_t *payload,
    size_t len, int64_t now, unsigned stale_after, const struct dedup_key *k,
    uint32_t *id)
{
	struct dedup_record	 r;
	MDB_txn			*txn = NULL;
	int			 rc, res = QUEUE_ERR;

	if (store_txn_begin(d, 0, &txn) != 0)
		goto out;
	if ((rc = store_record_get(d, txn, k, &r)) == -1)
		goto out;
	if (rc == 1) {
		memset(&r, 0, sizeof(r));
		r.dr_first_seen = now;
		res = JOB_NEW;
	} else if (r.dr_state == DEDUP_STATE_QUEUED)
		res = add_existing(d, txn, &r, j, payload, len, now, id);
	else
		res = add_decide(&r, now, stale_after, k);
	if (res == JOB_NEW &&
	    (res = add_new(d, txn, j, payload, len, &r, k)) == QUEUE_ADDED)
		*id = j->qj_id;
	if (res == QUEUE_ADDED || res == QUEUE_REVIVED)
		if ((rc = txn_commit(&txn, "queue: commit failed")) != 0)
			res = rc == JOB_TXN_FULL ? JOB_TXN_FULL : QUEUE_ERR;
out:
	txn_end(txn);
	return res;
}

int
queue_add(struct dedup *d, const struct queue_job *job,
    const uint8_t *payload, size_t len, int64_t now, unsigned stale_after,
    int64_t retention, uint32_t *id)
{
	struct queue_job	 j;
	struct dedup_key	 k;
	int			 res;

	if (!job_strings_ok(job) || len > BODY_MAX ||
	    (payload == NULL && len != 0)) {
		log_error("%s: job fields or payload length out of bounds",
		    __func__);
		return QUEUE_ERR;
	}
	memset(&j, 0, sizeof(j));
	memcpy(j.qj_endpoint, job->qj_endpoint, sizeof(j.qj_endpoint));
	memcpy(j.qj_event, job->qj_event, sizeof(j.qj_event));
	memcpy(j.qj_event_id, job->qj_event_id, sizeof(j.qj_event_id));
	memcpy(j.qj_delivery, job->qj_delivery, sizeof(j.qj_delivery));
	j.qj_state = QUEUE_QUEUED;
	j.qj_queued_at = j.qj_next_run = j.qj_updated = now;
	j.qj_exit = -1;
	j.qj_payload_len = (uint32_t)len;
	if (job_dkey(&k, &j) == -1)
		return QUEUE_ERR;
	res = add_txn(d, &j, payload, len, now, stale_after, &k, id);
	if (res == JOB_TXN_FULL) {
		store_make_room(d, &k, store_time_sub(now, retention));
		res = add_txn(d, &j, payload, len, now, stale_after, &k, id);
	}
	if (res == JOB_TXN_FULL) {
		store_log(LOG_ERROR, "queue: map full after pruning (raise "
		    "the map size or lower retention)", &k, MDB_MAP_FULL);
		res = QUEUE_FULL;
	}
	return res;
}

/* The endpoint of cfg named name, and its index in cf_endpoints. */
static const struct endpoint *
ep_find(const struct config *cfg, const char *name, size_t *idx)
{
	const struct endpoint	*ep;

	if ((ep = config_endpoint_named(cfg, name)) != NULL)
		*idx = (size_t)(ep - cfg->cf_endpoints);
	return ep;
}

static void
min_next(int64_t *next, int64_t t)
{
	if (*next == 0 || t < *next)
		*next = t;
}

struct claim_scan {
	const struct config	*cs_cfg;
	int64_t			 cs_now;
	unsigned		 cs_running[ENDPOINTS_MAX];
	int64_t			 cs_next;	/* 0: none yet */
	size_t			 cs_orphans;
	int			 cs_waiting;	/* a job of ours waits */
	int			 cs_dry;	/* read-only: change nothing */
};

/* Counts the running, alive jobs of each endpoint over the whole DB. */
static int
claim_count(struct dedup *d, MDB_txn *txn, struct claim_scan *cs)
{
	struct queue_job	 j;
	MDB_cursor		*cur = NULL;
	MDB_val			 key, val;
	const char		*why;
	size_t			 i;
	int			 rc;

	if ((rc = mdb_cursor_open(txn, d->dd_queue, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		if (job_decode(&key, &val, &j) == -1 ||
		    j.qj_state != QUEUE_RUNNING ||
		    ep_find(cs->cs_cfg, j.qj_endpoint, &i) == NULL ||
		    !job_alive(&j, cs->cs_now, &why))
			continue;
		cs->cs_running[i]++;
		cs->cs_waiting = 1;
		min_next(&cs->cs_next, j.qj_lease_until);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The first live job with an id >= id.  0, MDB_NOTFOUND or an error. */
static int
job_seek(MDB_cursor *cur, uint32_t id, MDB_val *key, MDB_val *val)
{
	struct job_key	 k;

	job_key(&k, id);
	*key = k.jk_val;
	return mdb_cursor_get(cur, key, val, MDB_SET_RANGE);
}

/*
 * Whether j may run now: 1 yes, 0 no (a reason to wait noted in cs).
 * A running job that is not alive is due at once.
 */
static int
claim_due(struct claim_scan *cs, const struct queue_job *j)
{
	const struct endpoint	*ep;
	const char		*why;
	unsigned		 max;
	size_t			 i;

	if ((ep = ep_find(cs->cs_cfg, j->qj_endpoint, &i)) == NULL) {
		cs->cs_orphans++;
		return 0;
	}
	if (j->qj_state == QUEUE_RUNNING && job_alive(j, cs->cs_now, &why))
		return 0;	/* counted by claim_count */
	cs->cs_waiting = 1;
	if (j->qj_state == QUEUE_QUEUED && j->qj_next_run > cs->cs_now) {
		min_next(&cs->cs_next, j->qj_next_run);
		return 0;
	}
	/* A config that did not set it gets the default. */
	max = ep->ep_max_running != 0 ? ep->ep_max_running :
	    MAX_RUNNING_DEFAULT;
	if (cs->cs_running[i] >= max) {
		min_next(&cs->cs_next, cs->cs_now + 1);
		return 0;
	}
	return 1;
}

/* A due job: its dedup record done?  1 yes, 0 no, -1 error. */
static int
claim_done(struct dedup *d, MDB_txn *txn, const struct queue_job *j)
{
	struct dedup_record	 r;
	struct dedup_key	 k;
	int			 rc;

	if (job_dkey(&k, j) == -1)
		return -1;
	if ((rc = store_record_get(d, txn, &k, &r)) == -1)
		return -1;
	return rc == 0 && r.dr_state == DEDUP_STATE_DONE;
}

/* Marks j running as ours (logging a takeover). */
static void
claim_take(struct queue_job *j, const struct config *cfg, int64_t now)
{
	struct logline	 l;
	const char	*why = NULL;
	int64_t		 lease;

	if (j->qj_state == QUEUE_RUNNING) {
		(void)job_alive(j, now, &why);
		job_line(&l, LOG_WARN, "queue: taking over a running job", j);
		logline_add(&l, "reason", why != NULL ? why : "unknown");
		logline_addf(&l, "pid", "%ld", (long)j->qj_pid);
		logline_emit(&l);
	}
	lease = (int64_t)cfg->cf_hook_timeout + HOOK_KILL_GRACE +
	    QUEUE_LEASE_EXTRA;
	j->qj_state = QUEUE_RUNNING;
	if (j->qj_attempts < UINT32_MAX)
		j->qj_attempts++;
	j->qj_updated = now;
	j->qj_lease_until = now > INT64_MAX - lease ? INT64_MAX : now + lease;
	j->qj_pid = (int32_t)getpid();
	j->qj_pid_start = store_proc_start(getpid());
}

/*
 * Walks the live jobs in id order for the first we may run.  Returns 0
 * (*j chosen), 1 none, or an LMDB error / -1.  Jobs whose event is done
 * are deleted on the way (re-seeking by id rather than trusting the
 * cursor after a delete).  Undecodable jobs, and keys that are not job
 * ids (a damaged store), are logged and skipped: one bad entry must not
 * stop the whole queue.
 */
static int
claim_pick(struct dedup *d, MDB_txn *txn, struct claim_scan *cs,
    struct queue_job *j)
{
	MDB_cursor	*cur = NULL;
	MDB_val		 key, val;
	uint32_t	 id = 0;
	int		 rc, found = 0, last;

	if ((rc = mdb_cursor_open(txn, d->dd_queue, &cur)) != 0)
		return rc;
	while ((rc = job_seek(cur, id, &key, &val)) == 0) {
		/* Before any delete, which may move the key's bytes. */
		last = key_after(&key, &id) == -1;
		if (job_decode(&key, &val, j) == -1)
			undecodable("queue", &key, &val);
		else if (claim_due(cs, j)) {
			/* Dry: any due job means the write pass is needed. */
			if (cs->cs_dry || (rc = claim_done(d, txn, j)) == 0) {
				found = 1;
				break;
			}
			if (rc == 1 && (rc = job_del(d, txn, d->dd_queue,
			    j->qj_id, 1)) == 0)
				job_log(LOG_INFO, "queue: event already done, "
				    "job deleted", j, 0);
		}
		if (rc != 0 || last)
			break;
	}
	mdb_cursor_close(cur);
	if (found)
		return 0;
	return rc == 0 || rc == MDB_NOTFOUND ? 1 : rc;
}

/*
 * The read-only pass of a claim: 0 when a due job may be claimed (the
 * write pass decides), 1 when none is, with *cs filled in.  Waiting
 * runners poll, and a read-only transaction never holds up the writers
 * that answer 202.  -1 on error (logged).
 */
static int
claim_dry(struct dedup *d, struct claim_scan *cs)
{
	struct queue_job	 j;
	MDB_txn			*txn = NULL;
	int			 rc;

	cs->cs_dry = 1;
	if (store_txn_begin(d, MDB_RDONLY, &txn) != 0)
		return -1;
	if ((rc = claim_count(d, txn, cs)) == 0)
		rc = claim_pick(d, txn, cs, &j);
	mdb_txn_abort(txn);
	cs->cs_dry = 0;
	if (rc == 0 || rc == 1)
		return rc;
	if (rc != -1)
		store_log(LOG_ERROR, "queue: claim scan failed", NULL, rc);
	return -1;
}

/*
 * A live job without its payload (a damaged store) can never run: it is
 * moved to the dead jobs, where an operator sees it, rather than failing
 * every claim after it.  Commits *txnp.  0, JOB_TXN_FULL or -1.
 */
static int
bury(struct dedup *d, MDB_txn **txnp, struct queue_job *j)
{
	int	 rc;

	j->qj_state = QUEUE_DEAD;
	j->qj_exit = -1;
	j->qj_pid = 0;
	j->qj_pid_start = 0;
	if ((rc = job_move(d, *txnp, d->dd_queue, d->dd_dead, j)) != 0)
		return put_fail(rc, "queue: moving a job to dead failed", j);
	job_log(LOG_ERROR, "queue: job without its payload moved to dead", j,
	    0);
	return txn_commit(txnp, "queue: commit failed");
}

/*
 * One claim transaction: a queue_claim_result, JOB_TXN_FULL or
 * JOB_TXN_AGAIN.
 */
static int
claim_txn(struct dedup *d, struct claim_scan *cs, struct queue_job *job,
    uint8_t **payload, size_t *len)
{
	struct queue_job	 j;
	MDB_txn			*txn = NULL;
	int			 rc, res = QUEUE_CERR;

	memset(&j, 0, sizeof(j));

	if (store_txn_begin(d, 0, &txn) != 0)
		goto out;
	if ((rc = claim_count(d, txn, cs)) != 0 ||
	    (rc = claim_pick(d, txn, cs, &j)) < 0 || rc > 1) {
		if (rc != -1)
			res = put_fail(rc, "queue: claim failed", &j);
		goto out;
	}
	if (rc == 1) {
		/* Deleted done jobs must stay deleted. */
		if ((rc = txn_commit(&txn, "queue: commit failed")) != 0)
			res = rc;
		else
			res = cs->cs_waiting ? QUEUE_WAIT : QUEUE_IDLE;
		goto out;
	}
	claim_take(&j, cs->cs_cfg, cs->cs_now);
	if ((rc = job_put(txn, d->dd_queue, &j)) != 0) {
		res = put_fail(rc, "queue: storing the claim failed", &j);
		goto out;
	}
	if ((rc = payload_copy(d, txn, &j, payload, len)) != 0) {
		if (rc == 1 && (res = bury(d, &txn, &j)) == 0)
			res = JOB_TXN_AGAIN;
		goto out;
	}
	if ((res = txn_commit(&txn, "queue: commit failed")) != 0) {
		freezero(*payload, *len);
		*payload = NULL;
		*len = 0;
		goto out;
	}
	*job = j;
	res = QUEUE_CLAIMED;
out:
	txn_end(txn);
	return res;
}

int
queue_claim(struct dedup *d, const struct config *cfg, int64_t now,
    struct queue_job *job, uint8_t **payload, size_t *len, int64_t *next,
    size_t *orphans)
{
	struct claim_scan	 cs;
	int			 res, tries, full;

	*payload = NULL;
	*len = 0;
	for (tries = 0, full = 0; tries < QUEUE_CLAIM_TRIES; tries++) {
		memset(&cs, 0, sizeof(cs));
		cs.cs_cfg = cfg;
		cs.cs_now = now;
		if ((res = claim_dry(d, &cs)) == 1) {
			res = cs.cs_waiting ? QUEUE_WAIT : QUEUE_IDLE;
			break;
		}
		if (res == -1) {
			res = QUEUE_CERR;
			break;
		}
		memset(&cs, 0, sizeof(cs));
		cs.cs_cfg = cfg;
		cs.cs_now = now;
		res = claim_txn(d, &cs, job, payload, len);
		if (res == JOB_TXN_AGAIN)
			continue;
		if (res != JOB_TXN_FULL || full++ > 0)
			break;
		store_make_room(d, NULL,
		    store_time_sub(now, cfg->cf_retention));
	}
	if (res == JOB_TXN_AGAIN)
		res = QUEUE_WAIT;
	if (res == JOB_TXN_FULL) {
		store_log(LOG_ERROR, "queue: map full after pruning", NULL,
		    MDB_MAP_FULL);
		res = QUEUE_CERR;
	}
	if (res == QUEUE_WAIT)
		*next = cs.cs_next != 0 ? cs.cs_next : now + 1;
	if (orphans != NULL)
		*orphans = cs.cs_orphans;
	return res;
}

/*
 * now + backoff * 2^(attempts - 1), at most max(backoff, the cap), plus
 * a second: times are whole seconds, and a run that failed at 10.9 s
 * must not run again at 11.0 s when the backoff says 1 s.
 */
static int64_t
backoff_next(int64_t now, unsigned backoff, uint32_t attempts)
{
	uint64_t	 cap, delay = backoff;
	uint32_t	 i;

	cap = backoff > QUEUE_BACKOFF_CAP ? backoff : QUEUE_BACKOFF_CAP;
	for (i = 1; i < attempts && delay != 0 && delay < cap; i++)
		delay *= 2;	/* delay < cap <= UINT_MAX: cannot wrap */
	if (delay > cap)
		delay = cap;
	if (delay > 0)
		delay++;
	if (now > INT64_MAX - (int64_t)delay)
		return INT64_MAX;
	return now + (int64_t)delay;
}

/* Marks the event of j done: the hook ran (unless it is done already). */
static int
event_done(struct dedup *d, MDB_txn *txn, const struct queue_job *j,
    int exit_code, int64_t now)
{
	struct dedup_record	 r;
	struct dedup_key	 k;
	int			 rc;

	if (job_dkey(&k, j) == -1 ||
	    (rc = store_record_get(d, txn, &k, &r)) == -1)
		return -1;
	if (rc == 1) {
		memset(&r, 0, sizeof(r));
		r.dr_version = DEDUP_RECORD_VERSION;
		r.dr_first_seen = j->qj_queued_at;
		r.dr_attempts = 1;
	} else if (r.dr_state == DEDUP_STATE_DONE)
		return 0;
	r.dr_state = DEDUP_STATE_DONE;
	r.dr_exit = exit_code;
	r.dr_updated = now;
	r.dr_pid = 0;
	r.dr_pid_start = 0;
	r.dr_job = 0;
	if ((rc = store_record_put(d, txn, &k, &r)) != 0)
		return put_fail(rc, "queue: storing done failed", j);
	return 0;
}

/* A failed run of our job j (in the live DB): retry or dead. */
static int
finish_failed(struct dedup *d, MDB_txn *txn, struct queue_job *j,
    int exit_code, int64_t now, unsigned max_attempts, unsigned backoff)
{
	MDB_dbi	 to = d->dd_queue;
	int	 rc;

	j->qj_exit = exit_code;
	j->qj_updated = now;
	j->qj_lease_until = 0;
	j->qj_pid = 0;
	j->qj_pid_start = 0;
	if (j->qj_attempts >= max_attempts) {
		j->qj_state = QUEUE_DEAD;
		to = d->dd_dead;
	} else {
		j->qj_state = QUEUE_QUEUED;
		j->qj_next_run = backoff_next(now, backoff, j->qj_attempts);
	}
	if ((rc = job_move(d, txn, d->dd_queue, to, j)) != 0)
		return put_fail(rc, "queue: storing the result failed", j);
	return to == d->dd_dead ? QUEUE_F_DEAD : QUEUE_F_RETRY;
}

/*
 * The result of a job that is not (or no longer) ours, as stored.  A job
 * that is gone has nothing stored: *j tells only what we know.
 */
static int
finish_foreign(int found, MDB_dbi dbi, const struct dedup *d,
    struct queue_job *j, uint32_t id, int exit_code, int64_t now)
{
	if (found != 0) {
		memset(j, 0, sizeof(*j));
		j->qj_id = id;
		j->qj_exit = exit_code;
		j->qj_updated = now;
		return QUEUE_F_GONE;
	}
	return dbi == d->dd_dead ? QUEUE_F_DEAD : QUEUE_F_RETRY;
}

/* One finish transaction: a queue_finish_result or JOB_TXN_FULL. */
static int
finish_txn(struct dedup *d, uint32_t id, int success, int exit_code,
    int64_t now, unsigned max_attempts, unsigned backoff,
    struct queue_job *j)
{
	MDB_txn	*txn = NULL;
	MDB_dbi	 dbi;
	int	 rc, res = QUEUE_F_ERR, ours;

	if (store_txn_begin(d, 0, &txn) != 0)
		goto out;
	if ((rc = job_find(d, txn, id, j, &dbi)) == -1)
		goto out;
	ours = rc == 0 && dbi == d->dd_queue &&
	    j->qj_state == QUEUE_RUNNING && j->qj_pid == (int32_t)getpid();
	if (!ours) {
		log_warn("queue: finishing job %lu that is not ours (%s)",
		    (unsigned long)id, rc == 1 ? "gone" : "taken over");
		if (rc == 1 || !success) {
			res = finish_foreign(rc, dbi, d, j, id, exit_code,
			    now);
			goto out;
		}
	}
	if (success) {
		/* The event ran: done, whoever holds the job now. */
		if ((rc = job_del(d, txn, dbi, id, 1)) != 0)
			res = put_fail(rc, "queue: deleting the job failed", j);
		else if ((res = event_done(d, txn, j, exit_code, now)) == 0)
			res = QUEUE_F_DONE;
		j->qj_exit = exit_code;
	} else
		res = finish_failed(d, txn, j, exit_code, now, max_attempts,
		    backoff);
	if (res >= 0 && (rc = txn_commit(&txn, "queue: commit failed")) != 0)
		res = rc == JOB_TXN_FULL ? JOB_TXN_FULL : QUEUE_F_ERR;
out:
	txn_end(txn);
	return res;
}

int
queue_finish(struct dedup *d, uint32_t id, int success, int exit_code,
    int64_t now, unsigned max_attempts, unsigned backoff, int64_t retention,
    struct queue_job *job)
{
	struct queue_job	 j;
	int			 res;

	memset(&j, 0, sizeof(j));
	res = finish_txn(d, id, success, exit_code, now, max_attempts,
	    backoff, &j);
	if (res == JOB_TXN_FULL) {
		store_make_room(d, NULL, store_time_sub(now, retention));
		res = finish_txn(d, id, success, exit_code, now, max_attempts,
		    backoff, &j);
	}
	if (res == JOB_TXN_FULL) {
		job_log(LOG_ERROR, "queue: map full after pruning", &j,
		    MDB_MAP_FULL);
		res = QUEUE_F_ERR;
	}
	if (job != NULL && res != QUEUE_F_ERR)
		*job = j;
	if (res == QUEUE_F_DONE)
		(void)store_prune_round(d, store_time_sub(now, retention));
	return res;
}

int
queue_get(struct dedup *d, uint32_t id, struct queue_job *job,
    uint8_t **payload, size_t *len)
{
	MDB_txn	*txn = NULL;
	MDB_dbi	 dbi;
	int	 rc;

	if (payload != NULL) {
		*payload = NULL;
		*len = 0;
	}
	if (store_txn_begin(d, MDB_RDONLY, &txn) != 0)
		return -1;
	rc = job_find(d, txn, id, job, &dbi);
	if (rc == 0 && payload != NULL &&
	    payload_copy(d, txn, job, payload, len) != 0)
		rc = -1;
	mdb_txn_abort(txn);
	return rc;
}

/* Walks one DB for queue_each.  Returns 0, 1 stopped, or an error. */
static int
each_db(MDB_txn *txn, MDB_dbi dbi, const char *name,
    int (*fn)(const struct queue_job *, void *), void *arg, long *n)
{
	struct queue_job	 j;
	MDB_cursor		*cur = NULL;
	MDB_val			 key, val;
	int			 rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		if (job_decode(&key, &val, &j) == -1) {
			undecodable(name, &key, &val);
			continue;
		}
		++*n;
		if (fn(&j, arg) != 0) {
			rc = 1;
			break;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

long
queue_each(struct dedup *d, int (*fn)(const struct queue_job *, void *),
    void *arg)
{
	MDB_txn	*txn = NULL;
	long	 n = 0;
	int	 rc;

	if (store_txn_begin(d, MDB_RDONLY, &txn) != 0)
		return -1;
	rc = each_db(txn, d->dd_queue, "queue", fn, arg, &n);
	if (rc == 0)
		rc = each_db(txn, d->dd_dead, "dead", fn, arg, &n);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != 1) {
		store_log(LOG_ERROR, "queue: walk failed", NULL, rc);
		return -1;
	}
	return n;
}

/* Commits an operator's change: 0 or -1 (logged). */
static int
admin_commit(MDB_txn **txnp, int rc, const struct queue_job *j)
{
	if (rc != 0) {
		job_log(LOG_ERROR, "queue: storing the change failed", j, rc);
		return -1;
	}
	return txn_commit(txnp, "queue: commit failed") == 0 ? 0 : -1;
}

/*
 * An operator's change to a running job: refused (1) while its runner is
 * alive; a job whose runner is gone (dead, or its lease expired) is left
 * as queue_claim would take it over (logged), 0.
 */
static int
admin_running(const struct queue_job *j, int64_t now, const char *what)
{
	struct logline	 l;
	const char	*why = NULL;

	if (j->qj_state != QUEUE_RUNNING)
		return 0;
	if (job_alive(j, now, &why))
		return 1;
	job_line(&l, LOG_WARN, what, j);
	logline_add(&l, "reason", why != NULL ? why : "unknown");
	logline_addf(&l, "pid", "%ld", (long)j->qj_pid);
	logline_emit(&l);
	return 0;
}

int
queue_retry(struct dedup *d, uint32_t id, int64_t now)
{
	struct queue_job	 j;
	MDB_txn			*txn = NULL;
	MDB_dbi			 dbi;
	int			 rc;

	if (store_txn_begin(d, 0, &txn) != 0)
		return -1;
	if ((rc = job_find(d, txn, id, &j, &dbi)) != 0)
		goto out;
	if (admin_running(&j, now, "queue: retrying a job whose runner is "
	    "gone")) {
		rc = 2;
		goto out;
	}
	/* A gone runner's job starts afresh, like a dead one. */
	if (dbi == d->dd_dead || j.qj_state == QUEUE_RUNNING)
		job_revive(&j, now);
	else {
		j.qj_next_run = now;
		j.qj_updated = now;
	}
	rc = admin_commit(&txn, job_move(d, txn, dbi, d->dd_queue, &j), &j);
out:
	txn_end(txn);
	return rc;
}

/* Marks the event of j failed if j still owns it. */
static int
event_failed(struct dedup *d, MDB_txn *txn, const struct queue_job *j,
    int64_t now)
{
	struct dedup_record	 r;
	struct dedup_key	 k;
	int			 rc;

	if (job_dkey(&k, j) == -1)
		return MDB_INVALID;
	if ((rc = store_record_get(d, txn, &k, &r)) == -1)
		return MDB_CORRUPTED;
	if (rc == 1 || r.dr_state != DEDUP_STATE_QUEUED ||
	    r.dr_job != j->qj_id)
		return 0;
	r.dr_state = DEDUP_STATE_FAILED;
	r.dr_exit = j->qj_exit;
	r.dr_updated = now;
	r.dr_job = 0;
	return store_record_put(d, txn, &k, &r);
}

/*
 * A job that cannot be decoded (a damaged store) cannot be run, shown or
 * retried, and a delivery of its event gets 503 until it is gone: drop
 * deletes it by key from wherever it is, with its payload, and commits.
 * Its event's dedup record still names it; the next delivery finds the
 * job gone and queues a new one.  Returns 3 (deleted; *txnp committed),
 * 1 no such key, -1 error.
 */
static int
drop_undecodable(struct dedup *d, MDB_txn **txnp, uint32_t id)
{
	const MDB_dbi	 dbis[] = { d->dd_queue, d->dd_dead, d->dd_payload };
	struct job_key	 k;
	size_t		 i;
	int		 rc, n = 0;

	job_key(&k, id);
	for (i = 0; i < sizeof(dbis) / sizeof(dbis[0]); i++) {
		rc = mdb_del(*txnp, dbis[i], &k.jk_val, NULL);
		if (rc == 0 && i < 2)
			n++;
		else if (rc != 0 && rc != MDB_NOTFOUND) {
			store_log(LOG_ERROR, "queue: deleting a job failed",
			    NULL, rc);
			return -1;
		}
	}
	if (n == 0)
		return 1;
	if (txn_commit(txnp, "queue: commit failed") != 0)
		return -1;
	log_warn("queue: undecodable job %lu deleted", (unsigned long)id);
	return 3;
}

int
queue_drop(struct dedup *d, uint32_t id, int64_t now)
{
	struct queue_job	 j;
	MDB_txn			*txn = NULL;
	MDB_dbi			 dbi;
	int			 rc;

	if (store_txn_begin(d, 0, &txn) != 0)
		return -1;
	if ((rc = job_find(d, txn, id, &j, &dbi)) == -1)
		rc = drop_undecodable(d, &txn, id);
	if (rc != 0)
		goto out;
	if (admin_running(&j, now, "queue: dropping a job whose runner is "
	    "gone")) {
		rc = 2;
		goto out;
	}
	if ((rc = job_del(d, txn, dbi, id, 1)) == 0)
		rc = event_failed(d, txn, &j, now);
	if ((rc = admin_commit(&txn, rc, &j)) == 0)
		job_log(LOG_INFO, "queue: job dropped", &j, 0);
out:
	txn_end(txn);
	return rc == 3 ? 0 : rc;
}

/* The live jobs of endpoints cfg has (undecodable ones not counted). */
static int
live_count(struct dedup *d, MDB_txn *txn, const struct config *cfg,
    long *n)
{
	struct queue_job	 j;
	MDB_cursor		*cur = NULL;
	MDB_val			 key, val;
	size_t			 i;
	int			 rc;

	if ((rc = mdb_cursor_open(txn, d->dd_queue, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
		if (job_decode(&key, &val, &j) == 0 &&
		    j.qj_state != QUEUE_DEAD &&
		    ep_find(cfg, j.qj_endpoint, &i) != NULL && *n < LONG_MAX)
			++*n;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

long
queue_live(struct dedup *d, const struct config *cfg)
{
	MDB_txn	*txn = NULL;
	MDB_stat st;
	long	 n = 0;
	int	 rc;

	if (store_txn_begin(d, MDB_RDONLY, &txn) != 0)
		return -1;
	if (cfg != NULL)
		rc = live_count(d, txn, cfg, &n);
	else if ((rc = mdb_stat(txn, d->dd_queue, &st)) == 0)
		n = st.ms_entries > LONG_MAX ? LONG_MAX : (long)st.ms_entries;
	mdb_txn_abort(txn);
	if (rc != 0) {
		store_log(LOG_ERROR, "queue: counting live jobs failed", NULL,
		    rc);
		return -1;
	}
	return n;
}

const char *
queue_state_name(uint32_t state)
{
	switch (state) {
	case QUEUE_QUEUED:
		return "queued";
	case QUEUE_RUNNING:
		return "running";
	case QUEUE_DEAD:
		return "dead";
	default:
		return "unknown";
	}
}
