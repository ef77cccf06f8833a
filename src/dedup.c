/*
 * dedup.c: the LMDB dedup store (SPEC section 5).
 *
 * One named database "dedup" (so that a later queue can live in the same
 * environment) maps "<endpoint>\0<event id>" to a struct dedup_record.
 * Every decision is taken inside one write transaction; LMDB serialises
 * writers across processes, so concurrent deliveries of one event see each
 * other's "running" record.
 *
 * The environment belongs to the process that opened it (lmdb.h caveats:
 * "Use an MDB_env* in the process which opened it, not after fork()"):
 * the forked hook child never touches it and never calls dedup_close().
 */
#include "compat.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "bounds.h"
#include "dedup.h"
#include "log.h"
#include "store.h"

_Static_assert(DEDUP_KEY_MAX <= STORE_LMDB_KEY_MAX,
    "dedup key must fit LMDB's default maximum key size");
/* The record is stored as raw bytes: no padding may leak or shift. */
_Static_assert(sizeof(struct dedup_record) == 48,
    "struct dedup_record must have no padding");

#define DEDUP_MAXDBS		8	/* the five of store.h, and room */
#define DEDUP_MAXREADERS	126
#define DEDUP_OPEN_TRIES	5
#define DEDUP_OPEN_SLEEP_MS	10	/* times the try number */
/* Map growth allowed while pruning a full map (pages). */
#define DEDUP_RESERVE_PAGES	(4 * DEDUP_PRUNE_BATCH)

void
store_line(struct logline *l, int level, const char *msg,
    const struct dedup_key *k)
{
	logline_init(l, level);
	logline_add(l, "msg", msg);
	if (k != NULL) {
		logline_add(l, "endpoint", k->dk_endpoint);
		logline_addn(l, "event_id", k->dk_id, k->dk_idlen);
	}
}

/* Logs msg with the key and LMDB's (or errno's) text for rc. */
void
store_log(int level, const char *msg, const struct dedup_key *k, int rc)
{
	struct logline	 l;

	store_line(&l, level, msg, k);
	if (rc != 0)
		logline_add(&l, "error", mdb_strerror(rc));
	logline_emit(&l);
}

int
store_key_make(struct dedup_key *k, const char *endpoint, const char *id,
    size_t idlen)
{
	size_t	 elen;

	memset(k, 0, sizeof(*k));
	if (endpoint == NULL || id == NULL) {
		log_error("%s: NULL endpoint or event id", __func__);
		return -1;
	}
	elen = strnlen(endpoint, ENDPOINT_NAME_MAX + 1);
	if (elen == 0 || elen > ENDPOINT_NAME_MAX || idlen == 0 ||
	    idlen > EVENT_ID_MAX) {
		log_error("%s: endpoint length %zu or event id length %zu "
		    "out of bounds", __func__, elen, idlen);
		return -1;
	}
	memcpy(k->dk_buf, endpoint, elen);
	k->dk_buf[elen] = '\0';
	memcpy(k->dk_buf + elen + 1, id, idlen);
	k->dk_val.mv_data = k->dk_buf;
	k->dk_val.mv_size = elen + 1 + idlen;
	k->dk_endpoint = endpoint;
	k->dk_id = id;
	k->dk_idlen = idlen;
	return 0;
}

/* t - secs without overflow (secs < 0 counts as 0). */
int64_t
store_time_sub(int64_t t, int64_t secs)
{
	if (secs <= 0)
		return t;
	if (t < INT64_MIN + secs)
		return INT64_MIN;
	return t - secs;
}

/*
 * proc_stat: state (field 3) and starttime (field 22, clock ticks after
 * boot) of pid, from /proc/<pid>/stat (proc(5)).  comm (field 2) is in
 * parentheses and may itself contain spaces and ')', so fields are counted
 * from the last ')'.  Returns 0, or -1 when unknown (no /proc, process
 * gone, malformed line).
 */
static int
proc_stat(pid_t pid, char *state, uint64_t *start)
{
	char		 path[64], buf[2048];
	const char	*p, *end, *tok;
	size_t		 len = 0;
	ssize_t		 n;
	uint64_t	 v = 0;
	int		 fd, field;

	n = snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	if (n == -1)
		return -1;
	for (p = buf + len; p > buf && p[-1] != ')'; p--)
		;
	if (p == buf)
		return -1;
	end = buf + len;
	for (field = 3; field <= 22; field++) {
		if (p >= end || *p++ != ' ')
			return -1;
		for (tok = p; p < end && *p != ' ' && *p != '\n'; p++)
			;
		if (p == tok)
			return -1;
		if (field == 3)
			*state = *tok;
	}
	for (; tok < p; tok++) {
		if (*tok < '0' || *tok > '9' ||
		    v > (UINT64_MAX - (uint64_t)(*tok - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*tok - '0');
	}
	*start = v;
	return 0;
}

uint64_t
store_proc_start(pid_t pid)
{
	uint64_t	 start;
	char		 state;

	return proc_stat(pid, &state, &start) == 0 ? start : 0;
}

int
store_pid_alive(int32_t pid, uint64_t pid_start, const char **why)
{
	uint64_t	 start;
	char		 state;

	*why = NULL;
	if (pid <= 0 || pid == getpid()) {
		*why = "leftover of this process";
		return 0;
	}
	if (kill(pid, 0) == -1 && errno == ESRCH) {
		*why = "process is gone";
		return 0;
	}
	if (proc_stat(pid, &state, &start) == -1)
		return 1;
	if (state == 'Z' || state == 'X') {
		*why = "process is a zombie";
		return 0;
	}
	if (pid_start != 0 && start != pid_start) {
		*why = "pid was reused";
		return 0;
	}
	return 1;
}

/* Copies a stored value into *r; an unknown layout is an error. */
static int
record_decode(const MDB_val *v, struct dedup_record *r)
{
	if (v->mv_size != sizeof(*r))
		return -1;
	memcpy(r, v->mv_data, sizeof(*r));
	if (r->dr_version != DEDUP_RECORD_VERSION ||
	    r->dr_state < DEDUP_STATE_RUNNING ||
	    r->dr_state > DEDUP_STATE_QUEUED)
		return -1;
	return 0;
}

/* Returns 0 found, 1 absent, -1 error (logged). */
int
store_record_get(struct dedup *d, MDB_txn *txn, const struct dedup_key *k,
    struct dedup_record *r)
{
	MDB_val	 key = k->dk_val, val;
	int	 rc;

	rc = mdb_get(txn, d->dd_dbi, &key, &val);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0) {
		store_log(LOG_ERROR, "dedup: mdb_get failed", k, rc);
		return -1;
	}
	if (record_decode(&val, r) == -1) {
		store_log(LOG_ERROR, "dedup: corrupt or unknown record", k, 0);
		return -1;
	}
	return 0;
}

int
store_record_put(struct dedup *d, MDB_txn *txn, const struct dedup_key *k,
    const struct dedup_record *r)
{
	MDB_val	 key = k->dk_val, val;

	val.mv_size = sizeof(*r);
	val.mv_data = (void *)(uintptr_t)r;	/* LMDB only reads it */
	return mdb_put(txn, d->dd_dbi, &key, &val, 0);
}

/*
 * Puts r and commits *txnp (which is gone afterwards, even on failure).
 * Returns 0, DEDUP_FULL for the caller to prune and retry, or -1 after
 * logging what.
 */
static int
record_store(struct dedup *d, MDB_txn **txnp, const struct dedup_key *k,
    const struct dedup_record *r, const char *what)
{
	int	 rc;

	if ((rc = store_record_put(d, *txnp, k, r)) == 0) {
		rc = mdb_txn_commit(*txnp);
		*txnp = NULL;	/* freed by commit, even on failure */
	}
	if (rc == 0)
		return 0;
	if (rc == MDB_MAP_FULL)
		return DEDUP_FULL;
	store_log(LOG_ERROR, what, k, rc);
	return -1;
}

/*
 * Begins a transaction.  MDB_MAP_RESIZED (lmdb.h mdb_txn_begin): another
 * process grew the map; re-setting our configured size makes LMDB round
 * it up to the pages in use, without adopting the other's reserve.
 */
int
store_txn_begin(struct dedup *d, unsigned flags, MDB_txn **txn)
{
	int	 rc;

	rc = mdb_txn_begin(d->dd_env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED &&
	    (rc = mdb_env_set_mapsize(d->dd_env, d->dd_mapsize)) == 0)
		rc = mdb_txn_begin(d->dd_env, NULL, flags, txn);
	if (rc != 0) {
		*txn = NULL;
		store_log(LOG_ERROR, "dedup: mdb_txn_begin failed", NULL, rc);
	}
	return rc;
}

static int
dedup_check_dir(const char *dir)
{
	struct stat	 st;

	if (stat(dir, &st) == -1) {
		log_error("state_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error("state_dir %s: %s", dir, strerror(ENOTDIR));
		return -1;
	}
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == -1) {
		log_error("state_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int
env_open_once(const char *dir, size_t mapsize, MDB_env **envp)
{
	MDB_env	*env = NULL;
	int	 rc;

	*envp = NULL;
	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	if ((rc = mdb_env_set_mapsize(env, mapsize)) != 0 ||
	    (rc = mdb_env_set_maxreaders(env, DEDUP_MAXREADERS)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, DEDUP_MAXDBS)) != 0 ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)) != 0) {
		/* lmdb.h: after a failed open the handle must be closed. */
		mdb_env_close(env);
		return rc;
	}
	*envp = env;
	return 0;
}

/*
 * lmdb.h caveats: "Opening a database can fail if another process is
 * opening or closing it at exactly the same time" (every CGI request
 * opens).  Those races show as EAGAIN/EBUSY on the lock file, or as
 * MDB_INVALID when a header is read while its creator is writing it.
 */
static int
open_transient(int rc)
{
	return rc == EAGAIN || rc == EBUSY || rc == MDB_INVALID;
}

static int
env_open_retry(const char *dir, size_t mapsize, MDB_env **envp)
{
	struct timespec	 ts;
	int		 rc, n;

	for (n = 1; ; n++) {
		rc = env_open_once(dir, mapsize, envp);
		if (rc == 0)
			return 0;
		if (!open_transient(rc) || n == DEDUP_OPEN_TRIES)
			break;
		log_debug("state_dir %s: %s, retrying", dir, mdb_strerror(rc));
		ts.tv_sec = 0;
		ts.tv_nsec = (long)n * DEDUP_OPEN_SLEEP_MS * 1000000L;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	log_error("state_dir %s: mdb_env_open: %s (%d tries)", dir,
	    mdb_strerror(rc), n);
	return -1;
}

/* Opens (creating) the named databases of store.h in one transaction. */
static int
dbi_open(struct dedup *d)
{
	const struct {
		const char	*name;
		MDB_dbi		*dbi;
	} dbs[] = {
		{ "dedup", &d->dd_dbi },
		{ "queue", &d->dd_queue },
		{ "dead", &d->dd_dead },
		{ "payload", &d->dd_payload },
		{ "meta", &d->dd_meta },
	};
	MDB_txn	*txn = NULL;
	size_t	 i;
	int	 rc;

	if (store_txn_begin(d, 0, &txn) != 0)
		return -1;
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
		if ((rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE,
		    dbs[i].dbi)) != 0) {
			mdb_txn_abort(txn);
			store_log(LOG_ERROR, "dedup: mdb_dbi_open failed",
			    NULL, rc);
			return -1;
		}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		store_log(LOG_ERROR, "dedup: mdb_txn_commit failed", NULL, rc);
		return -1;
	}
	return 0;
}

int
dedup_open(const char *dir, size_t mapsize, struct dedup **dp)
{
	struct dedup	*d = NULL;
	int		 dead = 0, rc;

	*dp = NULL;
	if (dedup_check_dir(dir) == -1)
		goto fail;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		log_error("%s: %s", __func__, strerror(errno));
		goto fail;
	}
	d->dd_mapsize = mapsize;
	if (env_open_retry(dir, mapsize, &d->dd_env) == -1)
		goto fail;
	if (mdb_env_get_maxkeysize(d->dd_env) < DEDUP_KEY_MAX) {
		log_error("%s: LMDB max key size %d < %d", __func__,
		    mdb_env_get_maxkeysize(d->dd_env), DEDUP_KEY_MAX);
		goto fail;
	}
	/* Killed CGIs leave reader slots that pin old pages (lmdb.h). */
	if ((rc = mdb_reader_check(d->dd_env, &dead)) != 0)
		store_log(LOG_WARN, "dedup: mdb_reader_check failed", NULL,
		    rc);
	else if (dead > 0)
		log_info("state_dir %s: cleared %d stale reader slot(s)", dir,
		    dead);
	if (dbi_open(d) == -1)
		goto fail;
	*dp = d;
	return 0;
fail:
	dedup_close(d);
	return -1;
}

void
dedup_close(struct dedup *d)
{
	if (d == NULL)
		return;
	if (d->dd_env != NULL)
		mdb_env_close(d->dd_env);
	free(d);
}

/* Decides on an existing record: DEDUP_DONE, DEDUP_BUSY or DEDUP_CLAIMED. */
static int
claim_decide(const struct dedup_record *r, int64_t now, unsigned stale_after,
    const struct dedup_key *k)
{
	if (r->dr_state == DEDUP_STATE_DONE)
		return DEDUP_DONE;
	if (r->dr_state == DEDUP_STATE_FAILED)
		return DEDUP_CLAIMED;
	if (r->dr_state == DEDUP_STATE_QUEUED)
		return DEDUP_QUEUED;
	return store_running_live(r, now, stale_after, k, "dedup") ?
	    DEDUP_BUSY : DEDUP_CLAIMED;
}

int
store_running_live(const struct dedup_record *r, int64_t now,
    unsigned stale_after, const struct dedup_key *k, const char *who)
{
	struct logline	 l;
	const char	*why;
	char		 msg[64];

	if (store_pid_alive(r->dr_pid, r->dr_pid_start, &why)) {
		if (r->dr_updated >= store_time_sub(now, stale_after))
			return 1;
		why = "stale";
	}
	snprintf(msg, sizeof(msg), "%s: taking over a running record", who);
	store_line(&l, LOG_WARN, msg, k);
	logline_add(&l, "reason", why);
	logline_addf(&l, "pid", "%ld", (long)r->dr_pid);
	logline_addf(&l, "updated", "%lld", (long long)r->dr_updated);
	logline_emit(&l);
	return 0;
}

/*
 * One claim transaction.  Returns a dedup_claim_result; DEDUP_FULL means
 * MDB_MAP_FULL, for the caller to prune and retry.
 */
static int
claim_txn(struct dedup *d, const struct dedup_key *k, int64_t now,
    unsigned stale_after, unsigned *attempt)
{
	struct dedup_record	 r;
	MDB_txn			*txn = NULL;
	int			 rc, res = DEDUP_ERR;

	if (store_txn_begin(d, 0, &txn) != 0)
		goto out;
	if ((rc = store_record_get(d, txn, k, &r)) == -1)
		goto out;
	if (rc == 1) {
		memset(&r, 0, sizeof(r));
		r.dr_first_seen = now;
	} else if ((rc = claim_decide(&r, now, stale_after, k)) !=
	    DEDUP_CLAIMED) {
		res = rc;
		goto out;
	}
	r.dr_version = DEDUP_RECORD_VERSION;
	r.dr_state = DEDUP_STATE_RUNNING;
	r.dr_updated = now;
	if (r.dr_attempts < UINT32_MAX)
		r.dr_attempts++;
	r.dr_pid = (int32_t)getpid();
	r.dr_pid_start = store_proc_start(getpid());
	if ((res = record_store(d, &txn, k, &r,
	    "dedup: storing claim failed")) == 0) {
		*attempt = r.dr_attempts;
		res = DEDUP_CLAIMED;
	}
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return res;
}

/* Done or failed, and last updated before cutoff. */
static int
prunable(const MDB_val *key, const MDB_val *val, int64_t cutoff)
{
	struct dedup_record	 r;

	if (record_decode(val, &r) == -1) {
		log_warn("dedup: prune skips a corrupt record (key %zu "
		    "bytes, value %zu bytes)", key->mv_size, val->mv_size);
		return 0;
	}
	/* Running and queued records are live: a job still needs them. */
	return (r.dr_state == DEDUP_STATE_DONE ||
	    r.dr_state == DEDUP_STATE_FAILED) && r.dr_updated < cutoff;
}

/* Positions cur on the first key after pos (the first key if !poslen). */
static int
seek_after(MDB_cursor *cur, const uint8_t *pos, size_t poslen,
    MDB_val *key, MDB_val *val)
{
	int	 rc;

	if (poslen == 0)
		return mdb_cursor_get(cur, key, val, MDB_FIRST);
	key->mv_size = poslen;
	key->mv_data = (void *)(uintptr_t)pos;	/* LMDB only reads it */
	rc = mdb_cursor_get(cur, key, val, MDB_SET_RANGE);
	if (rc == 0 && key->mv_size == poslen &&
	    memcmp(key->mv_data, pos, poslen) == 0)
		rc = mdb_cursor_get(cur, key, val, MDB_NEXT);
	return rc;
}

/*
 * prune_walk: in one write transaction, walks the records after pos
 * (pos[*poslen], the last key examined; 0 = from the first), examining at
 * most examine (0 = no limit) and deleting at most del (0 = no limit).
 * Updates pos; *poslen = 0 when the end was reached.  After a delete the
 * cursor is re-seeked from the saved key rather than trusting its
 * position.  Returns 0 or an LMDB error (the transaction is aborted).
 */
static int
prune_walk(struct dedup *d, int64_t cutoff, uint8_t *pos, size_t *poslen,
    size_t examine, size_t del, size_t *ndel)
{
	MDB_txn		*txn = NULL;
	MDB_cursor	*cur = NULL;
	MDB_val		 key, val;
	size_t		 nexam = 0;
	int		 deleted, rc;

	*ndel = 0;
	if ((rc = store_txn_begin(d, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, d->dd_dbi, &cur)) != 0)
		goto out;
	for (rc = seek_after(cur, pos, *poslen, &key, &val); rc == 0;) {
		if (key.mv_size > STORE_LMDB_KEY_MAX) {
			rc = MDB_BAD_VALSIZE;
			goto out;
		}
		memcpy(pos, key.mv_data, key.mv_size);
		*poslen = key.mv_size;
		deleted = prunable(&key, &val, cutoff);
		if (deleted) {
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				goto out;
			++*ndel;
		}
		if ((examine != 0 && ++nexam >= examine) ||
		    (del != 0 && *ndel >= del))
			break;
		if (deleted)
			rc = seek_after(cur, pos, *poslen, &key, &val);
		else
			rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND) {
		*poslen = 0;
		rc = 0;
	}
	if (rc != 0)
		goto out;
	mdb_cursor_close(cur);
	cur = NULL;
	rc = mdb_txn_commit(txn);
	txn = NULL;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

/*
 * Opportunistic prune after each finish: examines DEDUP_PRUNE_BATCH
 * records from where the previous call stopped, wrapping at the end, so
 * that the cost per request stays bounded and the whole store is covered.
 */
long
store_prune_round(struct dedup *d, int64_t cutoff)
{
	size_t	 n;
	int	 rc;

	rc = prune_walk(d, cutoff, d->dd_pos, &d->dd_poslen,
	    DEDUP_PRUNE_BATCH, 0, &n);
	if (rc != 0) {
		d->dd_poslen = 0;
		store_log(LOG_WARN, "dedup: prune failed", NULL, rc);
		return -1;
	}
	if (n > 0)
		log_debug("dedup: pruned %zu record(s)", n);
	return (long)n;
}

/*
 * Deletes in transactions of at most DEDUP_PRUNE_BATCH records: each
 * commit frees pages the next one can reuse, which matters when the map
 * is full and a large delete would itself need new pages.
 */
long
dedup_prune(struct dedup *d, int64_t cutoff, size_t max)
{
	uint8_t	 pos[STORE_LMDB_KEY_MAX];
	size_t	 poslen = 0, total = 0, want, n;
	int	 rc;

	do {
		want = DEDUP_PRUNE_BATCH;
		if (max != 0 && max - total < want)
			want = max - total;
		rc = prune_walk(d, cutoff, pos, &poslen, 0, want, &n);
		if (rc != 0) {
			log_error("dedup: prune failed after %zu record(s): "
			    "%s", total, mdb_strerror(rc));
			return -1;
		}
		total += n;
	} while (poslen != 0 && (max == 0 || total < max));
	return total > LONG_MAX ? LONG_MAX : (long)total;
}

/*
 * Map full (SPEC section 5: "prune and retry").  In a full map even a
 * delete fails: a write transaction copies the pages it touches (leaf,
 * branches, the DB's root record, the freelist) before it frees any.  So
 * clear stale readers (they pin freed pages), grow the map by a reserve
 * for the prune only, and restore the configured size (LMDB rounds it up
 * to the pages in use) before the caller retries: records never get the
 * reserve, so the map cannot creep.
 */
void
store_make_room(struct dedup *d, const struct dedup_key *k, int64_t cutoff)
{
	struct logline	 l;
	MDB_envinfo	 info;
	MDB_stat	 st;
	long		 n;
	int		 dead = 0, rc;

	(void)mdb_reader_check(d->dd_env, &dead);
	if ((rc = mdb_env_info(d->dd_env, &info)) != 0 ||
	    (rc = mdb_env_stat(d->dd_env, &st)) != 0 ||
	    (rc = mdb_env_set_mapsize(d->dd_env, info.me_mapsize +
	    (size_t)st.ms_psize * DEDUP_RESERVE_PAGES)) != 0)
		store_log(LOG_WARN, "dedup: growing the map failed", k, rc);
	n = dedup_prune(d, cutoff, 0);
	/* LMDB rounds this up to the pages in use. */
	if ((rc = mdb_env_set_mapsize(d->dd_env, d->dd_mapsize)) != 0)
		store_log(LOG_ERROR, "dedup: restoring the map size failed",
		    k, rc);
	store_line(&l, LOG_WARN, "dedup: map full, pruned", k);
	logline_addf(&l, "pruned", "%ld", n);
	logline_addf(&l, "stale_readers", "%d", dead);
	logline_emit(&l);
}

int
dedup_claim(struct dedup *d, const char *endpoint, const char *id,
    size_t idlen, int64_t now, unsigned stale_after, int64_t retention,
    unsigned *attempt)
{
	struct dedup_key	 k;
	int			 res;

	if (store_key_make(&k, endpoint, id, idlen) == -1)
		return DEDUP_ERR;
	res = claim_txn(d, &k, now, stale_after, attempt);
	if (res == DEDUP_FULL) {
		store_make_room(d, &k, store_time_sub(now, retention));
		res = claim_txn(d, &k, now, stale_after, attempt);
	}
	if (res == DEDUP_FULL)
		store_log(LOG_ERROR, "dedup: map full after pruning "
		    "(raise map_size or lower retention)", &k,
		    MDB_MAP_FULL);
	return res;
}

/* One finish transaction: 0, -1 (logged) or DEDUP_FULL. */
static int
finish_txn(struct dedup *d, const struct dedup_key *k, int success,
    int exit_code, int64_t now)
{
	struct dedup_record	 r;
	MDB_txn			*txn = NULL;
	int			 rc, res = -1;

	if (store_txn_begin(d, 0, &txn) != 0)
		goto out;
	if ((rc = store_record_get(d, txn, k, &r)) == -1)
		goto out;
	if (rc == 1) {
		/* Forgotten while running: the hook ran, so record it. */
		store_log(LOG_WARN, "dedup: finishing an absent record", k, 0);
		memset(&r, 0, sizeof(r));
		r.dr_version = DEDUP_RECORD_VERSION;
		r.dr_first_seen = now;
		r.dr_attempts = 1;
	} else if (r.dr_state != DEDUP_STATE_RUNNING ||
	    r.dr_pid != (int32_t)getpid()) {
		/*
		 * Another process took the record over (ours looked stale).
		 * Never undo its work: "done" is never downgraded, and its
		 * "running" is replaced only by our success, as done, which
		 * is the truth that retries must see.
		 */
		store_log(LOG_WARN, "dedup: finishing a record another "
		    "process took over", k, 0);
		if (r.dr_state == DEDUP_STATE_DONE || !success) {
			res = 0;
			goto out;
		}
	}
	r.dr_state = success ? DEDUP_STATE_DONE : DEDUP_STATE_FAILED;
	r.dr_exit = exit_code;
	r.dr_updated = now;
	r.dr_pid = 0;
	r.dr_pid_start = 0;
	r.dr_job = 0;
	res = record_store(d, &txn, k, &r, "dedup: storing result failed");
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return res;
}

int
dedup_finish(struct dedup *d, const char *endpoint, const char *id,
    size_t idlen, int success, int exit_code, int64_t now,
    int64_t retention)
{
	struct dedup_key	 k;
	int			 rc;

	if (store_key_make(&k, endpoint, id, idlen) == -1)
		return -1;
	rc = finish_txn(d, &k, success, exit_code, now);
	if (rc == DEDUP_FULL) {
		store_make_room(d, &k, store_time_sub(now, retention));
		rc = finish_txn(d, &k, success, exit_code, now);
	}
	if (rc == DEDUP_FULL)
		store_log(LOG_ERROR, "dedup: map full after pruning", &k,
		    MDB_MAP_FULL);
	if (rc != 0)
		return -1;
	(void)store_prune_round(d, store_time_sub(now, retention));
	return 0;
}

int
dedup_get(struct dedup *d, const char *endpoint, const char *id,
    size_t idlen, struct dedup_record *rec)
{
	struct dedup_key	 k;
	MDB_txn			*txn = NULL;
	int			 rc;

	if (store_key_make(&k, endpoint, id, idlen) == -1)
		return -1;
	if (store_txn_begin(d, MDB_RDONLY, &txn) != 0)
		return -1;
	rc = store_record_get(d, txn, &k, rec);
	mdb_txn_abort(txn);
	return rc;
}

int
dedup_forget(struct dedup *d, const char *endpoint, const char *id,
    size_t idlen)
{
	struct dedup_key	 k;
	MDB_txn			*txn = NULL;
	MDB_val			 key;
	int			 rc;

	if (store_key_make(&k, endpoint, id, idlen) == -1)
		return -1;
	if (store_txn_begin(d, 0, &txn) != 0)
		return -1;
	key = k.dk_val;
	rc = mdb_del(txn, d->dd_dbi, &key, NULL);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return 1;
	}
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc != 0) {
		store_log(LOG_ERROR, "dedup: delete failed", &k, rc);
		return -1;
	}
	return 0;
}

/* Splits a key "<endpoint>\0<id>" into NUL-terminated copies. */
static int
key_split(const MDB_val *key, char *ep, char *id, size_t *idlen)
{
	const char	*p = key->mv_data, *nul;
	size_t		 elen;

	if ((nul = memchr(p, '\0', key->mv_size)) == NULL)
		return -1;
	elen = (size_t)(nul - p);
	*idlen = key->mv_size - elen - 1;
	if (elen == 0 || elen > ENDPOINT_NAME_MAX || *idlen == 0 ||
	    *idlen > EVENT_ID_MAX)
		return -1;
	memcpy(ep, p, elen + 1);
	memcpy(id, nul + 1, *idlen);
	id[*idlen] = '\0';
	return 0;
}

long
dedup_each(struct dedup *d, int (*fn)(const char *, const char *, size_t,
    const struct dedup_record *, void *), void *arg)
{
	struct dedup_record	 r;
	MDB_txn			*txn = NULL;
	MDB_cursor		*cur = NULL;
	MDB_val			 key, val;
	char			 ep[ENDPOINT_NAME_MAX + 1];
	char			 id[EVENT_ID_MAX + 1];
	size_t			 idlen;
	long			 n = 0;
	int			 rc;

	if (store_txn_begin(d, MDB_RDONLY, &txn) != 0)
		return -1;
	if ((rc = mdb_cursor_open(txn, d->dd_dbi, &cur)) != 0)
		goto fail;
	rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
	while (rc == 0) {
		if (key_split(&key, ep, id, &idlen) == 0) {
			n++;
			if (fn(ep, id, idlen, record_decode(&val, &r) == 0 ?
			    &r : NULL, arg) != 0)
				break;
		}
		rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return n;
fail:
	store_log(LOG_ERROR, "dedup: walk failed", NULL, rc);
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return -1;
}

int
dedup_space(struct dedup *d, size_t *used, size_t *size)
{
	MDB_envinfo	 info;
	MDB_stat	 st;
	int		 rc;

	if ((rc = mdb_env_info(d->dd_env, &info)) != 0 ||
	    (rc = mdb_env_stat(d->dd_env, &st)) != 0) {
		store_log(LOG_ERROR, "dedup: mdb_env_info failed", NULL, rc);
		return -1;
	}
	*used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
	*size = info.me_mapsize;
	return 0;
}
