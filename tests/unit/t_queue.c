/*
 * t_queue.c: the job queue (SPEC section 9) in the dedup store, with
 * real processes for runners that hold, die or outlive their lease.
 */
#include "compat.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "config.h"
#include "dedup.h"
#include "log.h"
#include "queue.h"
#include "t.h"
#include "t_store.h"

#define MAPSIZE		(1024 * 1024)
#define STALE		40
#define RETAIN		1000
#define TIMEOUT		20
#define LEASE		(TIMEOUT + HOOK_KILL_GRACE + QUEUE_LEASE_EXTRA)

static struct config	 cfg;

/* SIGKILLs a holder and reaps it. */
static void
holder_end(pid_t pid)
{
	holder_kill(pid);
	CHECK(xwait(pid) == 128 + SIGKILL);
}

/* Endpoints "a" and "b", max_running 2, backoff 10 s, 3 attempts. */
static void
cfg_init(void)
{
	static const char *const names[] = { "a", "b" };
	size_t	 i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.cf_hook_timeout = TIMEOUT;
	cfg.cf_retention = RETAIN;
	for (i = 0; i < 2; i++) {
		CHECK(strlcpy(cfg.cf_endpoints[i].ep_name, names[i],
		    sizeof(cfg.cf_endpoints[i].ep_name)) < ENDPOINT_NAME_MAX);
		cfg.cf_endpoints[i].ep_mode = ENDPOINT_QUEUE;
		cfg.cf_endpoints[i].ep_max_running = 2;
		cfg.cf_endpoints[i].ep_retry_backoff = 10;
		cfg.cf_endpoints[i].ep_max_attempts = 3;
	}
	cfg.cf_nendpoints = 2;
}

static int
add(struct dedup *d, const char *ep, const char *id, const char *payload,
    int64_t now, uint32_t *jid)
{
	struct queue_job	 j;

	memset(&j, 0, sizeof(j));
	CHECK(strlcpy(j.qj_endpoint, ep, sizeof(j.qj_endpoint)) <
	    sizeof(j.qj_endpoint));
	CHECK(strlcpy(j.qj_event, "verification.done", sizeof(j.qj_event)) <
	    sizeof(j.qj_event));
	CHECK(strlcpy(j.qj_event_id, id, sizeof(j.qj_event_id)) <
	    sizeof(j.qj_event_id));
	CHECK(strlcpy(j.qj_delivery, "dlv", sizeof(j.qj_delivery)) <
	    sizeof(j.qj_delivery));
	*jid = 0;
	return queue_add(d, &j, (const uint8_t *)payload, strlen(payload),
	    now, STALE, RETAIN, jid);
}

/* Claims at now; returns the result, the job id in *id (0 if none). */
static int
claim(struct dedup *d, int64_t now, uint32_t *id, int64_t *next)
{
	struct queue_job	 j;
	uint8_t			*p = NULL;
	size_t			 len = 0;
	int64_t			 nx = 0;
	int			 res;

	*id = 0;
	res = queue_claim(d, &cfg, now, &j, &p, &len, &nx, NULL);
	if (res == QUEUE_CLAIMED) {
		CHECK(p != NULL && len == j.qj_payload_len);
		CHECK(j.qj_state == QUEUE_RUNNING && j.qj_pid == getpid());
		CHECK(j.qj_lease_until == now + LEASE);
		*id = j.qj_id;
		freezero(p, len);
	} else
		CHECK(p == NULL && len == 0);
	if (next != NULL)
		*next = nx;
	return res;
}

static int
finish(struct dedup *d, uint32_t id, int ok, int64_t now,
    struct queue_job *j)
{
	return queue_finish(d, id, ok, ok ? 0 : 1, now, 3, 10, RETAIN, j);
}

/* A child that opens its own store and holds what fn(d) claimed. */
static pid_t
holder(const char *dir, int queue, const char *id, int64_t now,
    uint32_t *jid)
{
	struct dedup	*d;
	uint32_t	 got = 0;
	unsigned	 att;
	pid_t		 pid;
	int		 p[2], i;

	CHECK(pipe(p) == 0);
	CHECK((pid = fork()) != -1);
	if (pid == 0) {
		(void)close(p[0]);
		if (dedup_open(dir, MAPSIZE, &d) == -1)
			_exit(1);
		if (queue)
			(void)claim(d, now, &got, NULL);
		else if (dedup_claim(d, "a", id, strlen(id), now, STALE,
		    RETAIN, &att) == DEDUP_CLAIMED)
			got = 1;
		(void)write(p[1], &got, sizeof(got));
		for (;;)
			pause();
	}
	for (i = 0; holders[i] != 0; i++)
		CHECK(i + 1 < (int)(sizeof(holders) / sizeof(holders[0])));
	holders[i] = pid;
	(void)close(p[1]);
	CHECK(read(p[0], &got, sizeof(got)) == sizeof(got) && got != 0);
	(void)close(p[0]);
	if (jid != NULL)
		*jid = got;
	return pid;
}

/* Opens the store in dir with raw LMDB (closed with dedup_close first). */
static void
raw_begin(const char *dir, MDB_env **env, MDB_txn **txn)
{
	CHECK(mdb_env_create(env) == 0);
	CHECK(mdb_env_set_maxdbs(*env, 8) == 0);
	CHECK(mdb_env_open(*env, dir, MDB_NOTLS, 0600) == 0);
	CHECK(mdb_txn_begin(*env, NULL, 0, txn) == 0);
}

static void
raw_commit(MDB_env *env, MDB_txn *txn)
{
	CHECK(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
}

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Deletes the payload of job id behind the store's back. */
static void
payload_del(const char *dir, uint32_t id)
{
	MDB_env	*env;
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	MDB_val	 k;
	uint8_t	 key[4];

	be32(key, id);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	raw_begin(dir, &env, &txn);
	CHECK(mdb_dbi_open(txn, "payload", 0, &dbi) == 0);
	CHECK(mdb_del(txn, dbi, &k, NULL) == 0);
	raw_commit(env, txn);
}

static void
t_add(void)
{
	struct dedup_record	 r;
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	uint8_t			*p;
	size_t			 len;
	uint32_t		 id, id2;
	unsigned		 att;
	int64_t			 t = (int64_t)time(NULL);
	pid_t			 pid;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(queue_live(d, NULL) == 0);
	CHECK(add(d, "a", "e1", "{\"x\":1}", t, &id) == QUEUE_ADDED);
	CHECK(id == 1 && queue_live(d, NULL) == 1);
	CHECK(add(d, "a", "e1", "{\"x\":1}", t + 1, &id2) == QUEUE_ALREADY);
	CHECK(id2 == 1 && queue_live(d, NULL) == 1);
	CHECK(dedup_get(d, "a", "e1", 2, &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_QUEUED && r.dr_job == 1);
	CHECK(r.dr_attempts == 1 && r.dr_first_seen == t && r.dr_pid == 0);
	CHECK(dedup_claim(d, "a", "e1", 2, t, STALE, RETAIN, &att) ==
	    DEDUP_QUEUED);
	CHECK(queue_get(d, 1, &j, &p, &len) == 0);
	CHECK(len == 7 && memcmp(p, "{\"x\":1}", 7) == 0);
	freezero(p, len);
	CHECK(j.qj_state == QUEUE_QUEUED && j.qj_attempts == 0);
	CHECK(j.qj_queued_at == t && j.qj_next_run == t && j.qj_exit == -1);
	CHECK(strcmp(j.qj_event, "verification.done") == 0);
	CHECK(strcmp(j.qj_delivery, "dlv") == 0);
	CHECK(strcmp(queue_state_name(j.qj_state), "queued") == 0);
	CHECK(strcmp(queue_state_name(9), "unknown") == 0);
	CHECK(queue_get(d, 2, &j, NULL, NULL) == 1);

	/* success: job and payload gone, event done, a redelivery too */
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 1);
	CHECK(finish(d, 1, 1, t + 1, &j) == QUEUE_F_DONE);
	CHECK(queue_get(d, 1, &j, &p, &len) == 1 && p == NULL);
	CHECK(queue_live(d, NULL) == 0);
	CHECK(dedup_get(d, "a", "e1", 2, &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_DONE && r.dr_job == 0);
	CHECK(add(d, "a", "e1", "{}", t + 2, &id) == QUEUE_DONE);
	CHECK(queue_live(d, NULL) == 0);

	/* a live sync run of the event: busy; once it is gone: queued */
	pid = holder(dir, 0, "s1", t, NULL);
	CHECK(add(d, "a", "s1", "{}", t, &id) == QUEUE_BUSY);
	CHECK(add(d, "a", "s1", "{}", t + STALE + 1, &id) == QUEUE_ADDED);
	CHECK(id == 2);
	holder_end(pid);
	pid = holder(dir, 0, "s2", t, NULL);
	CHECK(add(d, "a", "s2", "{}", t, &id) == QUEUE_BUSY);
	holder_end(pid);
	CHECK(add(d, "a", "s2", "{}", t, &id) == QUEUE_ADDED && id == 3);
	CHECK(dedup_get(d, "a", "s2", 2, &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_QUEUED && r.dr_attempts == 2);

	/* a failed sync run: queued, attempts kept */
	CHECK(dedup_claim(d, "b", "f", 1, t, STALE, RETAIN, &att) ==
	    DEDUP_CLAIMED);
	CHECK(dedup_finish(d, "b", "f", 1, 0, 3, t, RETAIN) == 0);
	CHECK(add(d, "b", "f", "{}", t, &id) == QUEUE_ADDED && id == 4);

	/* bounds */
	CHECK(add(d, "", "x", "{}", t, &id) == QUEUE_ERR);
	CHECK(add(d, "a", "", "{}", t, &id) == QUEUE_ERR);
	CHECK(queue_live(d, NULL) == 3);
	dedup_close(d);
}

static void
t_fifo(void)
{
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	uint32_t		 id;
	int64_t			 t = (int64_t)time(NULL), next;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(claim(d, t, &id, NULL) == QUEUE_IDLE);
	CHECK(add(d, "a", "e1", "1", t, &id) == QUEUE_ADDED && id == 1);
	CHECK(add(d, "b", "e2", "2", t, &id) == QUEUE_ADDED && id == 2);
	CHECK(add(d, "a", "e3", "3", t, &id) == QUEUE_ADDED && id == 3);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 1);
	/* a job waiting for its backoff does not hold up later ones */
	CHECK(finish(d, 1, 0, t, &j) == QUEUE_F_RETRY);
	CHECK(j.qj_next_run == t + 11 && j.qj_state == QUEUE_QUEUED);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 2);
	CHECK(finish(d, 2, 1, t, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 3);
	CHECK(finish(d, 3, 1, t, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, t, &id, &next) == QUEUE_WAIT && next == t + 11);
	CHECK(claim(d, t + 11, &id, NULL) == QUEUE_CLAIMED && id == 1);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 0 && j.qj_attempts == 2);
	CHECK(finish(d, 1, 1, t + 11, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, t + 11, &id, NULL) == QUEUE_IDLE);

	/* ids are never reused, not even after reopening */
	CHECK(queue_live(d, NULL) == 0);
	dedup_close(d);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(add(d, "a", "e4", "4", t, &id) == QUEUE_ADDED && id == 4);
	dedup_close(d);
}

/*
 * max_running across processes; a SIGKILLed runner's job and a job
 * whose lease has expired are taken over.
 */
static void
t_runners(void)
{
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	uint32_t		 id, ida, idb;
	int64_t			 t = (int64_t)time(NULL), next;
	pid_t			 pa, pb;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(add(d, "a", "e1", "1", t, &id) == QUEUE_ADDED);
	CHECK(add(d, "a", "e2", "2", t, &id) == QUEUE_ADDED);
	CHECK(add(d, "a", "e3", "3", t, &id) == QUEUE_ADDED);
	CHECK(add(d, "b", "e4", "4", t + 1, &id) == QUEUE_ADDED && id == 4);
	pa = holder(dir, 1, NULL, t, &ida);
	pb = holder(dir, 1, NULL, t, &idb);
	CHECK(ida == 1 && idb == 2);
	/* "a" is full: its job 3 waits, "b"'s job 4 runs */
	CHECK(claim(d, t + 1, &id, NULL) == QUEUE_CLAIMED && id == 4);
	CHECK(finish(d, 4, 1, t + 1, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, t + 1, &id, &next) == QUEUE_WAIT && next == t + 2);

	/* the killed runner's job is taken over first (arrival order) */
	holder_end(pa);
	CHECK(claim(d, t + 1, &id, NULL) == QUEUE_CLAIMED && id == 1);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 0 && j.qj_attempts == 2);
	CHECK(finish(d, 1, 1, t + 1, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, t + 1, &id, NULL) == QUEUE_CLAIMED && id == 3);
	CHECK(finish(d, 3, 1, t + 1, NULL) == QUEUE_F_DONE);

	/* b is alive, within its lease, then beyond it */
	CHECK(claim(d, t + 1, &id, &next) == QUEUE_WAIT);
	CHECK(next == t + LEASE);
	CHECK(claim(d, t + LEASE - 1, &id, NULL) == QUEUE_WAIT);
	CHECK(claim(d, t + LEASE, &id, NULL) == QUEUE_CLAIMED && id == 2);
	CHECK(finish(d, 2, 1, t + LEASE, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, t + LEASE, &id, NULL) == QUEUE_IDLE);
	holder_end(pb);
	dedup_close(d);
}

/* A foreign runner's failure changes nothing; its success completes. */
static void
t_finish_foreign(void)
{
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	uint32_t		 id;
	int64_t			 t = (int64_t)time(NULL);
	pid_t			 pa;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(add(d, "a", "e1", "1", t, &id) == QUEUE_ADDED);
	pa = holder(dir, 1, NULL, t, &id);
	CHECK(finish(d, 1, 0, t, &j) == QUEUE_F_RETRY);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 0);
	CHECK(j.qj_state == QUEUE_RUNNING && j.qj_pid == pa);
	CHECK(queue_retry(d, 1, t) == 2 && queue_drop(d, 1, t) == 2);
	CHECK(finish(d, 1, 1, t, NULL) == QUEUE_F_DONE);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 1);
	CHECK(finish(d, 1, 0, t, NULL) == QUEUE_F_GONE);
	holder_end(pa);
	dedup_close(d);
}

static int
each_fn(const struct queue_job *j, void *arg)
{
	char	*s = arg;
	size_t	 n = strlen(s);

	CHECK(n + 3 < 64);
	s[n] = (char)('0' + j->qj_id);
	s[n + 1] = queue_state_name(j->qj_state)[0];
	s[n + 2] = '\0';
	return 0;
}

static void
t_retry_dead(void)
{
	struct dedup_record	 r;
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX], seen[64] = "";
	uint8_t			*p;
	size_t			 len;
	uint32_t		 id;
	int64_t			 t = (int64_t)time(NULL), next;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(add(d, "a", "e1", "payload-1", t, &id) == QUEUE_ADDED);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED);
	CHECK(finish(d, 1, 0, t, &j) == QUEUE_F_RETRY);
	/* Whole seconds: a backoff of 10 s waits 11 (never under 10). */
	CHECK(j.qj_next_run == t + 11 && j.qj_exit == 1);
	CHECK(claim(d, t + 10, &id, &next) == QUEUE_WAIT && next == t + 11);
	CHECK(claim(d, t + 11, &id, NULL) == QUEUE_CLAIMED);
	CHECK(finish(d, 1, 0, t + 11, &j) == QUEUE_F_RETRY);
	CHECK(j.qj_next_run == t + 32);
	CHECK(claim(d, t + 32, &id, NULL) == QUEUE_CLAIMED);
	CHECK(finish(d, 1, 0, t + 32, &j) == QUEUE_F_DEAD);
	CHECK(j.qj_state == QUEUE_DEAD && j.qj_attempts == 3);

	/* dead: kept with its payload, listed, never claimed */
	CHECK(queue_get(d, 1, &j, &p, &len) == 0 && j.qj_state == QUEUE_DEAD);
	CHECK(len == 9 && memcmp(p, "payload-1", 9) == 0);
	freezero(p, len);
	CHECK(queue_live(d, NULL) == 0);
	CHECK(claim(d, t + 9999, &id, NULL) == QUEUE_IDLE);
	CHECK(add(d, "a", "e2", "x", t, &id) == QUEUE_ADDED && id == 2);
	CHECK(queue_each(d, each_fn, seen) == 2);
	CHECK(strcmp(seen, "2q1d") == 0);
	CHECK(dedup_get(d, "a", "e1", 2, &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_QUEUED && r.dr_job == 1);

	/* a redelivery revives it, with its own payload */
	CHECK(add(d, "a", "e1", "payload-two", t + 40, &id) ==
	    QUEUE_REVIVED);
	CHECK(id == 1 && queue_live(d, NULL) == 2);
	CHECK(queue_get(d, 1, &j, &p, &len) == 0);
	CHECK(j.qj_state == QUEUE_QUEUED && j.qj_attempts == 0);
	CHECK(j.qj_next_run == t + 40 && j.qj_payload_len == 11);
	CHECK(len == 11 && memcmp(p, "payload-two", 11) == 0);
	freezero(p, len);
	CHECK(add(d, "a", "e1", "x", t + 40, &id) == QUEUE_ALREADY);
	dedup_close(d);
}

static void
t_backoff(void)
{
	/* backoff, expected delay after attempts 1, 2, 3, 4 */
	static const unsigned cases[][5] = {
		{ 1000, 1000, 2000, 3600, 3600 },
		{ 5000, 5000, 5000, 5000, 5000 },
		{ 0, 0, 0, 0, 0 },
	};
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX], ev[16];
	uint32_t		 id;
	int64_t			 t = (int64_t)time(NULL);
	size_t			 c, a;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		snprintf(ev, sizeof(ev), "b%zu", c);
		CHECK(add(d, "a", ev, "x", t, &id) == QUEUE_ADDED);
		for (a = 1; a <= 4; a++) {
			CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED);
			CHECK(queue_finish(d, id, 0, 1, t, 100, cases[c][0],
			    RETAIN, &j) == QUEUE_F_RETRY);
			CHECK(j.qj_attempts == a);
			CHECK(j.qj_next_run == t + (int64_t)cases[c][a] +
			    (cases[c][a] > 0));
			CHECK(queue_retry(d, id, t) == 0);
		}
		CHECK(queue_drop(d, id, t) == 0);
	}
	/* near the end of time */
	CHECK(add(d, "a", "late", "x", t, &id) == QUEUE_ADDED);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED);
	CHECK(queue_finish(d, id, 0, 1, INT64_MAX - 5, 100, 1000, RETAIN,
	    &j) == QUEUE_F_RETRY && j.qj_next_run == INT64_MAX);
	dedup_close(d);
}

static void
t_admin(void)
{
	struct dedup_record	 r;
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	uint32_t		 id;
	int64_t			 t = (int64_t)time(NULL), i;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(queue_retry(d, 1, t) == 1 && queue_drop(d, 1, t) == 1);
	CHECK(add(d, "a", "e1", "x", t, &id) == QUEUE_ADDED);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED);
	CHECK(finish(d, 1, 0, t, &j) == QUEUE_F_RETRY);
	CHECK(queue_retry(d, 1, t + 1) == 0);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 0);
	CHECK(j.qj_next_run == t + 1 && j.qj_attempts == 1);
	CHECK(claim(d, t + 1, &id, NULL) == QUEUE_CLAIMED);
	CHECK(finish(d, 1, 0, t + 1, &j) == QUEUE_F_RETRY);
	CHECK(queue_retry(d, 1, t + 1) == 0);
	CHECK(claim(d, t + 1, &id, NULL) == QUEUE_CLAIMED);
	CHECK(finish(d, 1, 0, t + 1, &j) == QUEUE_F_DEAD);
	CHECK(queue_retry(d, 1, t + 2) == 0);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 0);
	CHECK(j.qj_state == QUEUE_QUEUED && j.qj_attempts == 0);
	CHECK(queue_live(d, NULL) == 1);

	/* drop: gone, event failed, a redelivery is a new job */
	CHECK(queue_drop(d, 1, t + 3) == 0);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 1 && queue_live(d, NULL) == 0);
	CHECK(dedup_get(d, "a", "e1", 2, &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_FAILED && r.dr_job == 0);
	CHECK(add(d, "a", "e1", "x", t + 4, &id) == QUEUE_ADDED && id == 2);
	/* a dead job can be dropped too */
	for (i = 0; i < 3; i++) {
		CHECK(claim(d, t + 100 * (i + 1), &id, NULL) == QUEUE_CLAIMED);
		CHECK(finish(d, 2, 0, t + 100 * (i + 1), &j) != QUEUE_F_ERR);
	}
	CHECK(j.qj_state == QUEUE_DEAD);
	CHECK(queue_drop(d, 2, t) == 0 && queue_get(d, 2, &j, NULL, 0) == 1);
	dedup_close(d);
}

/* Orphans, and a job whose event is done another way. */
static void
t_orphans_done(void)
{
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	uint8_t			*p;
	size_t			 len, orphans;
	uint32_t		 id;
	int64_t			 t = (int64_t)time(NULL), next;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(add(d, "gone", "e1", "x", t, &id) == QUEUE_ADDED);
	CHECK(queue_claim(d, &cfg, t, &j, &p, &len, &next, &orphans) ==
	    QUEUE_IDLE && orphans == 1);
	CHECK(add(d, "a", "e2", "x", t, &id) == QUEUE_ADDED);
	CHECK(add(d, "a", "e3", "x", t, &id) == QUEUE_ADDED);
	/* e2 ran another way (an operator, an old sync process) */
	CHECK(dedup_finish(d, "a", "e2", 2, 1, 0, t, RETAIN) == 0);
	CHECK(queue_claim(d, &cfg, t, &j, &p, &len, &next, &orphans) ==
	    QUEUE_CLAIMED && orphans == 1 && j.qj_id == 3);
	freezero(p, len);
	CHECK(queue_get(d, 2, &j, NULL, NULL) == 1);
	CHECK(queue_live(d, NULL) == 2);
	dedup_close(d);
}

/* Corrupt jobs are skipped, never fatal. */
static void
t_corrupt(void)
{
	static const uint8_t	 key[4] = { 0, 0, 0, 9 }, junk[80] = { 1 };
	static uint8_t		 key2[4];
	struct queue_job	 j;
	struct dedup		*d;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k = { 4, (void *)(uintptr_t)key };
	MDB_val			 v = { sizeof(junk), (void *)(uintptr_t)junk };
	MDB_val			 k2 = { 4, key2 };
	char			 dir[PATH_MAX], seen[64] = "";
	uint32_t		 id;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	dedup_close(d);
	raw_begin(dir, &env, &txn);
	CHECK(mdb_dbi_open(txn, "queue", 0, &dbi) == 0);
	CHECK(mdb_put(txn, dbi, &k, &v, 0) == 0);
	raw_commit(env, txn);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(queue_get(d, 9, &j, NULL, NULL) == -1);
	CHECK(claim(d, 0, &id, NULL) == QUEUE_IDLE);
	CHECK(add(d, "a", "e1", "x", 0, &id) == QUEUE_ADDED && id == 1);
	CHECK(queue_each(d, each_fn, seen) == 1 && strcmp(seen, "1q") == 0);
	CHECK(claim(d, 0, &id, NULL) == QUEUE_CLAIMED && id == 1);
	CHECK(finish(d, 1, 1, 0, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, 0, &id, NULL) == QUEUE_IDLE);
	CHECK(queue_live(d, NULL) == 1);
	/* drop deletes an undecodable job by key */
	CHECK(queue_drop(d, 9, 0) == 0);
	CHECK(queue_get(d, 9, &j, NULL, NULL) == 1 && queue_live(d, NULL) == 0);
	CHECK(queue_drop(d, 9, 0) == 1);

	/*
	 * A queued event whose job went bad: its deliveries get an error
	 * (503) until the job is dropped, then the next one queues anew.
	 */
	CHECK(add(d, "a", "e2", "y", 0, &id) == QUEUE_ADDED && id == 2);
	dedup_close(d);
	key2[3] = 2;
	raw_begin(dir, &env, &txn);
	CHECK(mdb_dbi_open(txn, "queue", 0, &dbi) == 0);
	CHECK(mdb_put(txn, dbi, &k2, &v, 0) == 0);
	raw_commit(env, txn);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(add(d, "a", "e2", "y", 0, &id) == QUEUE_ERR);
	CHECK(queue_drop(d, 2, 0) == 0);
	CHECK(add(d, "a", "e2", "y", 0, &id) == QUEUE_ADDED && id == 3);
	CHECK(claim(d, 0, &id, NULL) == QUEUE_CLAIMED && id == 3);
	dedup_close(d);
}

/* A live job whose payload is gone moves to dead; later jobs still run. */
static void
t_no_payload(void)
{
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	uint32_t		 id;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(add(d, "a", "e1", "x", 0, &id) == QUEUE_ADDED && id == 1);
	CHECK(add(d, "a", "e2", "y", 0, &id) == QUEUE_ADDED && id == 2);
	dedup_close(d);
	payload_del(dir, 1);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(claim(d, 0, &id, NULL) == QUEUE_CLAIMED && id == 2);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 0);
	CHECK(j.qj_state == QUEUE_DEAD);
	CHECK(finish(d, 2, 1, 0, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, 0, &id, NULL) == QUEUE_IDLE);
	dedup_close(d);
}

/*
 * A running job whose runner is gone (dead, or its lease expired) can be
 * retried and dropped; only a live runner's job is refused.
 */
static void
t_admin_gone(void)
{
	struct dedup_record	 r;
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	uint32_t		 id;
	int64_t			 t = (int64_t)time(NULL);
	pid_t			 pa, pb, pc;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(add(d, "a", "e1", "1", t, &id) == QUEUE_ADDED);
	CHECK(add(d, "a", "e2", "2", t, &id) == QUEUE_ADDED);
	CHECK(add(d, "b", "e3", "3", t, &id) == QUEUE_ADDED && id == 3);
	pa = holder(dir, 1, NULL, t, &id);
	pb = holder(dir, 1, NULL, t, &id);
	pc = holder(dir, 1, NULL, t, &id);
	CHECK(id == 3);
	CHECK(queue_retry(d, 1, t) == 2 && queue_drop(d, 2, t) == 2);
	holder_end(pa);
	holder_end(pb);
	CHECK(queue_retry(d, 1, t + 1) == 0);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 0);
	CHECK(j.qj_state == QUEUE_QUEUED && j.qj_attempts == 0);
	CHECK(j.qj_next_run == t + 1 && j.qj_pid == 0);
	CHECK(queue_drop(d, 2, t + 1) == 0);
	CHECK(queue_get(d, 2, &j, NULL, NULL) == 1);
	CHECK(dedup_get(d, "a", "e2", 2, &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_FAILED && r.dr_job == 0);
	/* pc is alive: refused within its lease, not after it */
	CHECK(queue_retry(d, 3, t + LEASE - 1) == 2);
	CHECK(queue_drop(d, 3, t + LEASE - 1) == 2);
	CHECK(queue_retry(d, 3, t + LEASE) == 0);
	CHECK(queue_get(d, 3, &j, NULL, NULL) == 0);
	CHECK(j.qj_state == QUEUE_QUEUED && j.qj_attempts == 0);
	CHECK(claim(d, t + LEASE, &id, NULL) == QUEUE_CLAIMED && id == 1);
	CHECK(finish(d, 1, 1, t + LEASE, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, t + LEASE, &id, NULL) == QUEUE_CLAIMED && id == 3);
	CHECK(finish(d, 3, 1, t + LEASE, NULL) == QUEUE_F_DONE);
	holder_end(pc);
	CHECK(queue_live(d, NULL) == 0);
	dedup_close(d);
}

/*
 * queue_finish of a job deleted meanwhile still names the job.  A running
 * job of this process is a leftover (see store_pid_alive): droppable.
 */
static void
t_finish_gone(void)
{
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	uint32_t		 id;
	int64_t			 t = (int64_t)time(NULL);

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	memset(&j, 0xa5, sizeof(j));
	CHECK(finish(d, 7, 1, t, &j) == QUEUE_F_GONE);
	CHECK(j.qj_id == 7 && j.qj_state == 0 && j.qj_exit == 0);
	CHECK(add(d, "a", "e1", "1", t, &id) == QUEUE_ADDED);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 1);
	CHECK(queue_drop(d, 1, t) == 0);
	memset(&j, 0xa5, sizeof(j));
	CHECK(queue_finish(d, 1, 1, 0, t + 1, 3, 10, RETAIN, &j) ==
	    QUEUE_F_GONE);
	CHECK(j.qj_id == 1 && j.qj_state == 0 && j.qj_attempts == 0);
	CHECK(j.qj_exit == 0 && j.qj_updated == t + 1);
	CHECK(j.qj_endpoint[0] == '\0' && j.qj_payload_len == 0);
	CHECK(strcmp(queue_state_name(j.qj_state), "unknown") == 0);
	CHECK(add(d, "a", "e2", "2", t, &id) == QUEUE_ADDED && id == 2);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 2);
	CHECK(queue_drop(d, 2, t) == 0);
	CHECK(finish(d, 2, 0, t + 1, &j) == QUEUE_F_GONE);
	CHECK(j.qj_id == 2 && j.qj_exit == 1 && j.qj_state == 0);
	dedup_close(d);
}

/* A dead job revived by a redelivery gets the redelivery's payload. */
static void
t_revive_payload(void)
{
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	uint8_t			*p;
	size_t			 len;
	uint32_t		 id;
	int64_t			 t = (int64_t)time(NULL), next;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(add(d, "a", "e1", "old", t, &id) == QUEUE_ADDED && id == 1);
	dedup_close(d);
	payload_del(dir, 1);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(claim(d, t, &id, NULL) == QUEUE_IDLE);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 0);
	CHECK(j.qj_state == QUEUE_DEAD);
	CHECK(add(d, "a", "e1", "new-payload", t + 1, &id) ==
	    QUEUE_REVIVED && id == 1);
	CHECK(queue_claim(d, &cfg, t + 1, &j, &p, &len, &next, NULL) ==
	    QUEUE_CLAIMED && j.qj_id == 1);
	CHECK(j.qj_payload_len == 11);
	CHECK(len == 11 && memcmp(p, "new-payload", 11) == 0);
	freezero(p, len);
	CHECK(finish(d, 1, 1, t + 1, NULL) == QUEUE_F_DONE);
	dedup_close(d);
}

/* queue_live with a config counts only the jobs it can run. */
static void
t_live(void)
{
	struct dedup	*d;
	char		 dir[PATH_MAX];
	uint32_t	 id;
	int64_t		 t = (int64_t)time(NULL), i;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(queue_live(d, &cfg) == 0 && queue_live(d, NULL) == 0);
	CHECK(add(d, "gone", "e1", "x", t, &id) == QUEUE_ADDED);
	CHECK(queue_live(d, &cfg) == 0 && queue_live(d, NULL) == 1);
	CHECK(add(d, "b", "e2", "x", t, &id) == QUEUE_ADDED);
	CHECK(add(d, "a", "e3", "x", t, &id) == QUEUE_ADDED);
	CHECK(queue_live(d, &cfg) == 2 && queue_live(d, NULL) == 3);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 2);
	CHECK(queue_live(d, &cfg) == 2);
	CHECK(finish(d, 2, 1, t, NULL) == QUEUE_F_DONE);
	CHECK(queue_live(d, &cfg) == 1 && queue_live(d, NULL) == 2);
	/* dead jobs are not live */
	for (i = 0; i < 3; i++) {
		CHECK(claim(d, t + 100 * i, &id, NULL) == QUEUE_CLAIMED);
		CHECK(finish(d, id, 0, t + 100 * i, NULL) != QUEUE_F_ERR);
	}
	CHECK(queue_live(d, &cfg) == 0 && queue_live(d, NULL) == 1);
	dedup_close(d);
}

/* Puts val under a key of klen bytes (not a job id) into "queue". */
static void
bad_key_put(MDB_txn *txn, MDB_dbi dbi, const uint8_t *key, size_t klen,
    MDB_val *val)
{
	MDB_val	 k;

	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = klen;
	CHECK(mdb_put(txn, dbi, &k, val, 0) == 0);
}

/*
 * Keys that are not 4 bytes are skipped, not fatal: job 1, a 5-byte key,
 * job 255, a 3-byte key 00 00 01 (just before job 256), job 256.
 */
static void
t_bad_keys(void)
{
	static const uint8_t	 k3[3] = { 0, 0, 1 };
	static const uint8_t	 k5[5] = { 0, 0, 0, 1, 7 };
	struct dedup		*d;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 q, meta;
	MDB_val			 k, v, nk;
	char			 dir[PATH_MAX], seen[64] = "";
	uint8_t			 key[4], next[4];
	uint32_t		 id;
	int64_t			 t = (int64_t)time(NULL);

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(add(d, "a", "e1", "1", t, &id) == QUEUE_ADDED && id == 1);
	dedup_close(d);
	raw_begin(dir, &env, &txn);
	CHECK(mdb_dbi_open(txn, "queue", 0, &q) == 0);
	CHECK(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
	be32(key, 1);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	/* a job's valid value: only the key is wrong */
	CHECK(mdb_get(txn, q, &k, &v) == 0);
	bad_key_put(txn, q, k3, sizeof(k3), &v);
	bad_key_put(txn, q, k5, sizeof(k5), &v);
	be32(next, 255);
	nk.mv_data = (void *)(uintptr_t)"next_job";
	nk.mv_size = 8;
	v.mv_data = next;
	v.mv_size = sizeof(next);
	CHECK(mdb_put(txn, meta, &nk, &v, 0) == 0);
	raw_commit(env, txn);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(add(d, "a", "e2", "2", t, &id) == QUEUE_ADDED && id == 255);
	CHECK(add(d, "b", "e3", "3", t, &id) == QUEUE_ADDED && id == 256);
	CHECK(queue_live(d, &cfg) == 3 && queue_live(d, NULL) == 5);
	CHECK(queue_each(d, each_fn, seen) == 3);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 1);
	CHECK(finish(d, 1, 1, t, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 255);
	CHECK(finish(d, 255, 1, t, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 256);
	CHECK(finish(d, 256, 1, t, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, t, &id, NULL) == QUEUE_IDLE);
	CHECK(queue_live(d, &cfg) == 0 && queue_live(d, NULL) == 2);
	dedup_close(d);
}

static void
t_map_full(void)
{
	static char		 big[2500];
	struct dedup_record	 r;
	struct queue_job	 j;
	struct dedup		*d;
	char			 dir[PATH_MAX], ev[32];
	uint8_t			*p;
	size_t			 len;
	uint32_t		 id;
	int64_t			 t = (int64_t)time(NULL);
	int			 i, res = QUEUE_ADDED;

	memset(big, 'p', sizeof(big) - 1);
	CHECK(dedup_open(tdir(dir, sizeof(dir)), 128 * 1024, &d) == 0);
	for (i = 0; i < 1000 && res == QUEUE_ADDED; i++) {
		snprintf(ev, sizeof(ev), "big-%d", i);
		res = add(d, "a", ev, big, t, &id);
	}
	CHECK(res == QUEUE_FULL && i > 4);
	CHECK(queue_get(d, 1, &j, &p, &len) == 0);
	CHECK(len == sizeof(big) - 1 && memcmp(p, big, len) == 0);
	freezero(p, len);
	CHECK(queue_live(d, NULL) == i - 1);
	/* the event that did not fit was not recorded either */
	CHECK(dedup_get(d, "a", ev, strlen(ev), &r) == 1);
	/* a full map still runs and completes jobs, which makes room */
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 1);
	CHECK(finish(d, 1, 1, t, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, t, &id, NULL) == QUEUE_CLAIMED && id == 2);
	CHECK(finish(d, 2, 1, t, NULL) == QUEUE_F_DONE);
	CHECK(add(d, "a", ev, big, t, &id) == QUEUE_ADDED);
	dedup_close(d);
}

int
main(void)
{
	t_store_init("t_queue");
	log_set_level(LOG_DEBUG);
	cfg_init();

	t_add();
	t_fifo();
	t_runners();
	t_finish_foreign();
	t_retry_dead();
	t_backoff();
	t_admin();
	t_orphans_done();
	t_corrupt();
	t_no_payload();
	t_map_full();
	t_admin_gone();
	t_finish_gone();
	t_revive_payload();
	t_live();
	t_bad_keys();
	return 0;
}
