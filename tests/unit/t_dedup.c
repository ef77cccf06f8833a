/*
 * t_dedup.c: the LMDB dedup store (SPEC section 5), with real processes
 * for liveness, concurrency and stale reader slots.
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

#include "dedup.h"
#include "log.h"
#include "t.h"
#include "t_store.h"

#define MAPSIZE		(1024 * 1024)
#define STALE		40
#define RETAIN		1000
#define EP		"kayle"
#define NCHILD		20

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static void
msleep(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
claim(struct dedup *d, const char *ep, const char *id, int64_t now,
    unsigned *att)
{
	return dedup_claim(d, ep, id, strlen(id), now, STALE, RETAIN, att);
}

static int
finish(struct dedup *d, const char *ep, const char *id, int ok, int ex,
    int64_t now)
{
	return dedup_finish(d, ep, id, strlen(id), ok, ex, now, RETAIN);
}

static int
get(struct dedup *d, const char *ep, const char *id, struct dedup_record *r)
{
	return dedup_get(d, ep, id, strlen(id), r);
}

/*
 * A child that opens its own env, claims ids at now, reports through a
 * pipe and sleeps until killed: a live process running these records.
 */
static pid_t
holder(const char *dir, const char *const *ids, int n, int64_t now)
{
	struct dedup	*d;
	unsigned	 att;
	pid_t		 pid;
	char		 c = 1;
	int		 p[2], i;

	CHECK(pipe(p) == 0);
	CHECK((pid = fork()) != -1);
	if (pid == 0) {
		(void)close(p[0]);
		if (dedup_open(dir, MAPSIZE, &d) == -1)
			_exit(1);
		for (i = 0; i < n; i++)
			if (claim(d, EP, ids[i], now, &att) != DEDUP_CLAIMED)
				c = 0;
		(void)write(p[1], &c, 1);
		for (;;)
			pause();
	}
	for (i = 0; holders[i] != 0; i++)
		CHECK(i + 1 < (int)(sizeof(holders) / sizeof(holders[0])));
	holders[i] = pid;
	(void)close(p[1]);
	CHECK(read(p[0], &c, 1) == 1 && c == 1);
	(void)close(p[0]);
	return pid;
}

static void
t_basic(void)
{
	struct dedup_record	 r;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	unsigned		 att = 0;
	int64_t			 t = now_s();

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(get(d, EP, "e1", &r) == 1);
	CHECK(claim(d, EP, "e1", t, &att) == DEDUP_CLAIMED && att == 1);
	CHECK(get(d, EP, "e1", &r) == 0);
	CHECK(r.dr_version == DEDUP_RECORD_VERSION);
	CHECK(r.dr_state == DEDUP_STATE_RUNNING && r.dr_attempts == 1);
	CHECK(r.dr_pid == getpid() && r.dr_first_seen == t);
	CHECK(finish(d, EP, "e1", 1, 0, t + 1) == 0);
	CHECK(get(d, EP, "e1", &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_DONE && r.dr_pid == 0);
	CHECK(r.dr_updated == t + 1 && r.dr_first_seen == t);
	CHECK(claim(d, EP, "e1", t + 2, &att) == DEDUP_DONE);
	{
		size_t	 used, size;

		CHECK(dedup_space(d, &used, &size) == 0);
		CHECK(size == MAPSIZE && used > 0 && used < size);
	}

	/* failed -> retried, attempts and first_seen kept */
	CHECK(claim(d, EP, "e2", t, &att) == DEDUP_CLAIMED && att == 1);
	CHECK(finish(d, EP, "e2", 0, 7, t + 1) == 0);
	CHECK(get(d, EP, "e2", &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_FAILED && r.dr_exit == 7);
	CHECK(claim(d, EP, "e2", t + 5, &att) == DEDUP_CLAIMED && att == 2);
	CHECK(get(d, EP, "e2", &r) == 0);
	CHECK(r.dr_first_seen == t && r.dr_updated == t + 5);

	/* our own running record is a leftover (one request at a time) */
	CHECK(claim(d, EP, "e2", t + 6, &att) == DEDUP_CLAIMED && att == 3);

	/* finishing a record that vanished still records the effect */
	CHECK(finish(d, EP, "e3", 1, 0, t) == 0);
	CHECK(get(d, EP, "e3", &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_DONE && r.dr_attempts == 1);

	/* endpoints are separate namespaces */
	CHECK(claim(d, "other", "e1", t, &att) == DEDUP_CLAIMED && att == 1);
	CHECK(claim(d, "kayl", "e\0" "e1", t, &att) == DEDUP_CLAIMED);
	dedup_close(d);
	dedup_close(NULL);
}

static void
t_live_stale(void)
{
	static const char *const ids[] = { "live", "stale" };
	struct dedup	*d;
	char		 dir[PATH_MAX];
	unsigned	 att = 0;
	int64_t		 t = now_s();
	pid_t		 pid;

	tdir(dir, sizeof(dir));
	pid = holder(dir, ids, 2, t);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(claim(d, EP, "live", t, &att) == DEDUP_BUSY);
	CHECK(claim(d, EP, "stale", t + STALE, &att) == DEDUP_BUSY);
	CHECK(claim(d, EP, "stale", t + STALE + 1, &att) == DEDUP_CLAIMED);
	CHECK(att == 2);
	holder_kill(pid);
	CHECK(xwait(pid) == 128 + SIGKILL);
	CHECK(claim(d, EP, "live", t, &att) == DEDUP_CLAIMED && att == 2);

	/* killed but not reaped: a zombie is not alive either */
	CHECK(finish(d, EP, "live", 0, 1, t) == 0);
	dedup_close(d);
	pid = holder(dir, ids, 1, t);
	holder_kill(pid);
	msleep(100);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(claim(d, EP, "live", t, &att) == DEDUP_CLAIMED && att == 4);
	CHECK(xwait(pid) == 128 + SIGKILL);
	dedup_close(d);
}

/*
 * A finish never undoes another process's work: a "done" written by the
 * process that took over a stale record stays done when the first
 * process's hook then fails, and a live taker's "running" is not
 * replaced by our failure (only by our success, as done).
 */
static void
t_finish_foreign(void)
{
	struct dedup_record	 r;
	struct dedup		*d, *d2;
	char			 dir[PATH_MAX];
	const char		*ids[] = { "taken" };
	unsigned		 att;
	int64_t			 t = now_s(), later = t + STALE + 1;
	pid_t			 pid;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(claim(d, EP, "slow", t, &att) == DEDUP_CLAIMED);
	CHECK((pid = fork()) != -1);
	if (pid == 0) {
		if (dedup_open(dir, MAPSIZE, &d2) == -1 ||
		    claim(d2, EP, "slow", later, &att) != DEDUP_CLAIMED ||
		    finish(d2, EP, "slow", 1, 0, later) != 0)
			_exit(1);
		_exit(0);
	}
	CHECK(xwait(pid) == 0);
	CHECK(finish(d, EP, "slow", 0, 1, later) == 0);
	CHECK(get(d, EP, "slow", &r) == 0 && r.dr_state == DEDUP_STATE_DONE);
	CHECK(r.dr_exit == 0 && r.dr_attempts == 2);
	CHECK(claim(d, EP, "slow", later, &att) == DEDUP_DONE);

	CHECK(claim(d, EP, "taken", t, &att) == DEDUP_CLAIMED);
	pid = holder(dir, ids, 1, later);
	CHECK(finish(d, EP, "taken", 0, 1, later) == 0);
	CHECK(get(d, EP, "taken", &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_RUNNING && r.dr_pid == (int32_t)pid);
	CHECK(claim(d, EP, "taken", later, &att) == DEDUP_BUSY);
	CHECK(finish(d, EP, "taken", 1, 0, later) == 0);
	CHECK(get(d, EP, "taken", &r) == 0 && r.dr_state == DEDUP_STATE_DONE);
	holder_kill(pid);
	CHECK(xwait(pid) == 128 + SIGKILL);
	dedup_close(d);
}

/* Writes key -> val with plain LMDB, as a foreign or older writer would. */
static void
raw_put(const char *dir, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_val		 k = { klen, (void *)(uintptr_t)key };
	MDB_val		 v = { vlen, (void *)(uintptr_t)val };

	CHECK(mdb_env_create(&env) == 0);
	CHECK(mdb_env_set_maxdbs(env, 4) == 0);
	CHECK(mdb_env_open(env, dir, MDB_NOTLS, 0600) == 0);
	CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	CHECK(mdb_dbi_open(txn, "dedup", MDB_CREATE, &dbi) == 0);
	CHECK(mdb_put(txn, dbi, &k, &v, 0) == 0);
	CHECK(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
}

static uint64_t
start_of(pid_t pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long long v;
	FILE		*f;
	size_t		 n;
	int		 i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	CHECK((p = strrchr(buf, ')')) != NULL);
	for (i = 2; i < 22; i++)
		CHECK((p = strchr(p + 1, ' ')) != NULL);
	CHECK(sscanf(p + 1, "%llu", &v) == 1);
	return v;
}

/* A live process whose start time differs is a reused pid. */
static void
t_pid_reuse(void)
{
	struct dedup_record	 r;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	const char		 key[] = EP "\0" "reuse";
	unsigned		 att;
	pid_t			 other = getppid();

	if (start_of(other) == 0) {
		fprintf(stderr, "t_pid_reuse: no /proc, skipped\n");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.dr_version = DEDUP_RECORD_VERSION;
	r.dr_state = DEDUP_STATE_RUNNING;
	r.dr_first_seen = r.dr_updated = now_s();
	r.dr_attempts = 1;
	r.dr_pid = other;
	r.dr_pid_start = start_of(other);
	tdir(dir, sizeof(dir));
	raw_put(dir, key, sizeof(key) - 1, &r, sizeof(r));
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(claim(d, EP, "reuse", now_s(), &att) == DEDUP_BUSY);
	dedup_close(d);
	r.dr_pid_start += 1;
	raw_put(dir, key, sizeof(key) - 1, &r, sizeof(r));
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(claim(d, EP, "reuse", now_s(), &att) == DEDUP_CLAIMED);
	CHECK(att == 2);
	dedup_close(d);
}

/* NCHILD processes claim one id at once: exactly one runs it. */
static void
t_concurrent(void)
{
	struct dedup	*d;
	char		 dir[PATH_MAX], c;
	unsigned	 att;
	pid_t		 pids[NCHILD];
	int		 ready[2], go[2], i, n, res, count[16] = { 0 };

	tdir(dir, sizeof(dir));
	CHECK(pipe(ready) == 0 && pipe(go) == 0);
	for (i = 0; i < NCHILD; i++) {
		CHECK((pids[i] = fork()) != -1);
		if (pids[i] != 0)
			continue;
		(void)close(ready[0]);
		(void)close(go[1]);
		if (dedup_open(dir, MAPSIZE, &d) == -1)
			_exit(1);
		(void)write(ready[1], "x", 1);
		(void)read(go[0], &c, 1);	/* EOF: go */
		res = claim(d, EP, "same", now_s(), &att);
		if (res == DEDUP_CLAIMED) {
			msleep(300);
			if (finish(d, EP, "same", 1, 0, now_s()) == -1)
				res = 5;
		}
		dedup_close(d);
		_exit(10 + res);
	}
	(void)close(ready[1]);
	(void)close(go[0]);
	for (n = 0; n < NCHILD && read(ready[0], &c, 1) == 1; n++)
		;
	CHECK(n == NCHILD);
	(void)close(go[1]);
	for (i = 0; i < NCHILD; i++) {
		res = xwait(pids[i]);
		CHECK(res >= 10 && res < 16);
		count[res - 10]++;
	}
	CHECK(count[DEDUP_CLAIMED] == 1);
	CHECK(count[DEDUP_DONE] + count[DEDUP_BUSY] == NCHILD - 1);
	(void)close(ready[0]);
}

static void
t_modes(void)
{
	struct dedup	*d;
	struct stat	 st;
	char		 dir[PATH_MAX], path[PATH_MAX + 16];
	mode_t		 old;

	old = umask(0);
	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	umask(old);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	dedup_close(d);
}

static void
t_bounds(void)
{
	struct dedup_record	 r;
	struct dedup		*d;
	char			 dir[PATH_MAX], ep[ENDPOINT_NAME_MAX + 2];
	char			 id[EVENT_ID_MAX + 1];
	unsigned		 att;
	int64_t			 t = now_s();

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	memset(ep, 'e', sizeof(ep) - 1);
	ep[sizeof(ep) - 1] = '\0';
	memset(id, 'i', sizeof(id));
	CHECK(dedup_claim(d, ep, "x", 1, t, STALE, RETAIN, &att) == DEDUP_ERR);
	CHECK(dedup_claim(d, "", "x", 1, t, STALE, RETAIN, &att) == DEDUP_ERR);
	CHECK(dedup_claim(d, EP, id, 0, t, STALE, RETAIN, &att) == DEDUP_ERR);
	CHECK(dedup_claim(d, EP, id, EVENT_ID_MAX + 1, t, STALE, RETAIN,
	    &att) == DEDUP_ERR);
	CHECK(dedup_claim(d, NULL, id, 1, t, STALE, RETAIN, &att) ==
	    DEDUP_ERR);
	CHECK(dedup_finish(d, ep, "x", 1, 1, 0, t, RETAIN) == -1);
	CHECK(dedup_finish(d, EP, id, EVENT_ID_MAX + 1, 1, 0, t, RETAIN) ==
	    -1);
	CHECK(dedup_get(d, EP, id, 0, &r) == -1);
	/* the largest key fits */
	ep[ENDPOINT_NAME_MAX] = '\0';
	CHECK(dedup_claim(d, ep, id, EVENT_ID_MAX, t, STALE, RETAIN, &att) ==
	    DEDUP_CLAIMED);
	CHECK(dedup_get(d, ep, id, EVENT_ID_MAX, &r) == 0);
	dedup_close(d);
}

static void
t_corrupt(void)
{
	struct dedup_record	 r;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	const char		 k1[] = EP "\0" "short", k2[] = EP "\0" "ver";
	unsigned		 att;

	tdir(dir, sizeof(dir));
	raw_put(dir, k1, sizeof(k1) - 1, "garbage", 7);
	memset(&r, 0, sizeof(r));
	r.dr_version = 99;
	r.dr_state = DEDUP_STATE_DONE;
	raw_put(dir, k2, sizeof(k2) - 1, &r, sizeof(r));
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(claim(d, EP, "short", now_s(), &att) == DEDUP_ERR);
	CHECK(claim(d, EP, "ver", now_s(), &att) == DEDUP_ERR);
	CHECK(get(d, EP, "short", &r) == -1);
	CHECK(finish(d, EP, "ver", 1, 0, now_s()) == -1);
	/* prune walks past them without deleting */
	CHECK(dedup_prune(d, INT64_MAX, 0) == 0);
	CHECK(get(d, EP, "ver", &r) == -1);
	dedup_close(d);
}

static int
count_present(struct dedup *d, const char *ep, int n)
{
	struct dedup_record	 r;
	char			 id[16];
	int			 i, c = 0;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "id%03d", i);
		if (get(d, ep, id, &r) == 0)
			c++;
	}
	return c;
}

static void
fill(struct dedup *d, const char *ep, int n, int64_t t, int ok)
{
	char		 id[16];
	unsigned	 att;
	int		 i;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "id%03d", i);
		CHECK(claim(d, ep, id, t, &att) == DEDUP_CLAIMED);
		CHECK(finish(d, ep, id, ok, 0, t) == 0);
	}
}

static void
t_prune(void)
{
	struct dedup_record	 r;
	struct dedup		*d;
	char			 dir[PATH_MAX];
	unsigned		 att;
	int64_t			 t = now_s(), old = t - 2 * RETAIN;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	/* fresh first: finish at t would prune the old ones itself */
	fill(d, "fresh", 4, t, 1);
	fill(d, "done", 5, old, 1);
	fill(d, "failed", 3, old, 0);
	CHECK(claim(d, EP, "running", old, &att) == DEDUP_CLAIMED);
	CHECK(dedup_prune(d, t - RETAIN, 2) == 2);
	CHECK(count_present(d, "done", 5) + count_present(d, "failed", 3) ==
	    6);
	CHECK(dedup_prune(d, t - RETAIN, 0) == 6);
	CHECK(count_present(d, "done", 5) == 0);
	CHECK(count_present(d, "failed", 3) == 0);
	CHECK(count_present(d, "fresh", 4) == 4);
	CHECK(get(d, EP, "running", &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_RUNNING);
	CHECK(dedup_prune(d, INT64_MAX, 0) == 4);
	CHECK(get(d, EP, "running", &r) == 0);
	dedup_close(d);
}

/*
 * dedup_finish prunes DEDUP_PRUNE_BATCH records per call, continuing
 * where the last call stopped: old records behind a run of fresh ones
 * are reached.
 */
static void
t_prune_round(void)
{
	struct dedup	*d;
	char		 dir[PATH_MAX], id[16];
	unsigned	 att;
	int64_t		 t = now_s();
	int		 i;

	CHECK(DEDUP_PRUNE_BATCH == 64);
	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	fill(d, "a", 100, t, 1);
	fill(d, "b", 50, t - 2 * RETAIN, 1);
	dedup_close(d);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		CHECK(claim(d, "c", id, t, &att) == DEDUP_CLAIMED);
		CHECK(finish(d, "c", id, 1, 0, t) == 0);
		if (i == 0)	/* a000..a063 examined */
			CHECK(count_present(d, "b", 50) == 50);
		if (i == 1)	/* a064..a099, b000..b027 */
			CHECK(count_present(d, "b", 50) == 22);
	}
	CHECK(count_present(d, "b", 50) == 0);
	CHECK(count_present(d, "a", 100) == 100);
	dedup_close(d);
}

/* Fills a tiny map; returns how many records went in before full. */
static int
fill_full(struct dedup *d, int64_t t)
{
	char		 id[32];
	unsigned	 att;
	int		 i, res;

	for (i = 0; i < 100000; i++) {
		snprintf(id, sizeof(id), "full-%06d", i);
		res = claim(d, EP, id, t, &att);
		if (res == DEDUP_FULL)
			return i;
		CHECK(res == DEDUP_CLAIMED);
		if (finish(d, EP, id, 1, 0, t) == -1)
			return i;
	}
	CHECK(!"map never filled");
	return -1;
}

static void
t_map_full(void)
{
	struct dedup_record	 r;
	struct dedup		*d;
	char			 dir[PATH_MAX], id[32];
	unsigned		 att;
	int64_t			 t = now_s();
	int			 n;

	/* old records: the claim prunes them and succeeds */
	CHECK(dedup_open(tdir(dir, sizeof(dir)), 64 * 1024, &d) == 0);
	CHECK((n = fill_full(d, t - 2 * RETAIN)) > 50);
	CHECK(get(d, EP, "full-000000", &r) == 0);
	CHECK(claim(d, EP, "new", t, &att) == DEDUP_CLAIMED);
	CHECK(get(d, EP, "full-000000", &r) == 1);
	CHECK(finish(d, EP, "new", 1, 0, t) == 0);
	/* the reserve used for pruning did not become room for records */
	CHECK(fill_full(d, t) <= n + n / 4);
	dedup_close(d);

	/*
	 * few old records (one prune transaction): the pages it frees are
	 * not reusable by the very next transaction, the claim still fits
	 */
	CHECK(dedup_open(tdir(dir, sizeof(dir)), 64 * 1024, &d) == 0);
	fill(d, "fresh", n - 20, t, 1);
	CHECK((n = fill_full(d, t - 2 * RETAIN)) < DEDUP_PRUNE_BATCH);
	/* retry the very claim that failed */
	snprintf(id, sizeof(id), "full-%06d", n);
	CHECK(claim(d, EP, id, t, &att) == DEDUP_CLAIMED);
	CHECK(get(d, EP, "full-000000", &r) == 1);
	dedup_close(d);

	/* fresh records: nothing to prune, DEDUP_FULL, nothing lost */
	CHECK(dedup_open(tdir(dir, sizeof(dir)), 64 * 1024, &d) == 0);
	CHECK((n = fill_full(d, t)) > 50);
	CHECK(claim(d, EP, "new", t, &att) == DEDUP_FULL);
	CHECK(get(d, EP, "full-000000", &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_DONE);
	CHECK(get(d, EP, "new", &r) == 1);
	dedup_close(d);
}

static void
t_open_fail(void)
{
	struct dedup	*d = (struct dedup *)&d;
	char		 dir[PATH_MAX], path[PATH_MAX + 16];
	pid_t		 pid;
	FILE		*f;

	snprintf(path, sizeof(path), "%s/missing", base);
	CHECK(dedup_open(path, MAPSIZE, &d) == -1 && d == NULL);
	snprintf(path, sizeof(path), "%s/file", base);
	CHECK((f = fopen(path, "w")) != NULL && fclose(f) == 0);
	CHECK(dedup_open(path, MAPSIZE, &d) == -1 && d == NULL);

	if (geteuid() != 0) {
		CHECK(chmod(tdir(dir, sizeof(dir)), 0500) == 0);
		CHECK(dedup_open(dir, MAPSIZE, &d) == -1 && d == NULL);
		return;
	}
	/* root ignores modes: try as nobody, in a directory it owns */
	snprintf(path, sizeof(path), "/tmp/t_dedup_ro.XXXXXX");
	CHECK(mkdtemp(path) != NULL);
	CHECK(chown(path, 65534, 65534) == 0 && chmod(path, 0500) == 0);
	CHECK((pid = fork()) != -1);
	if (pid == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(2);
		_exit(dedup_open(path, MAPSIZE, &d) == -1 && d == NULL ? 0 : 1);
	}
	CHECK(xwait(pid) == 0);
	CHECK(rmdir(path) == 0);
}

struct readers {
	pid_t	 pid;
	int	 found;
};

/* mdb_reader_list lines: "%10d %zx %s\n" after a header line. */
static int
reader_line(const char *msg, void *ctx)
{
	struct readers	*rd = ctx;
	long		 v = 0;

	while (*msg == ' ')
		msg++;
	if (*msg < '0' || *msg > '9')
		return 0;
	for (; *msg >= '0' && *msg <= '9' && v < 1000000000; msg++)
		v = v * 10 + (*msg - '0');
	if (v == rd->pid)
		rd->found = 1;
	return 0;
}

/* In a child, with plain LMDB: is pid's reader slot still in the table? */
static int
slot_present(const char *dir, pid_t pid)
{
	struct readers	 rd = { pid, 0 };
	MDB_env		*env;
	pid_t		 c;

	CHECK((c = fork()) != -1);
	if (c == 0) {
		if (mdb_env_create(&env) != 0 ||
		    mdb_env_set_maxdbs(env, 4) != 0 ||
		    mdb_env_open(env, dir, MDB_NOTLS, 0600) != 0 ||
		    mdb_reader_list(env, reader_line, &rd) < 0)
			_exit(2);
		mdb_env_close(env);
		_exit(rd.found);
	}
	return xwait(c);
}

/*
 * A process killed inside a read transaction leaves its reader slot
 * (lmdb.h caveats); dedup_open clears it.  A holder keeps the env open
 * meanwhile, or the next opener would reset the lock file anyway.
 */
static void
t_reader_check(void)
{
	static const char *const ids[] = { "held" };
	struct dedup	*d;
	MDB_env		*env;
	MDB_txn		*txn;
	char		 dir[PATH_MAX];
	unsigned	 att;
	pid_t		 hold, pid;

	tdir(dir, sizeof(dir));
	hold = holder(dir, ids, 1, now_s());
	CHECK((pid = fork()) != -1);
	if (pid == 0) {
		/* die inside a read transaction */
		if (mdb_env_create(&env) != 0 ||
		    mdb_env_set_maxdbs(env, 4) != 0 ||
		    mdb_env_open(env, dir, MDB_NOTLS, 0600) != 0 ||
		    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
			_exit(1);
		(void)raise(SIGKILL);
		_exit(1);
	}
	CHECK(xwait(pid) == 128 + SIGKILL);
	CHECK(slot_present(dir, pid) == 1);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(claim(d, EP, "after", now_s(), &att) == DEDUP_CLAIMED);
	dedup_close(d);
	CHECK(slot_present(dir, pid) == 0);
	holder_kill(hold);
	CHECK(xwait(hold) == 128 + SIGKILL);
}

struct walk {
	int	 n;
	int	 stop_at;	/* stop after this many (0: never) */
	char	 seen[8][32];
};

static int
walk_fn(const char *ep, const char *id, size_t idlen,
    const struct dedup_record *r, void *arg)
{
	struct walk	*w = arg;

	CHECK(r != NULL && strlen(id) == idlen && idlen < 20);
	CHECK(w->n < 8);
	(void)snprintf(w->seen[w->n], sizeof(w->seen[0]), "%s/%s", ep, id);
	w->n++;
	return w->stop_at != 0 && w->n == w->stop_at;
}

/* dedup_each walks every record in key order; dedup_forget re-arms one. */
static void
t_each_forget(void)
{
	struct dedup_record	 r;
	struct dedup		*d;
	struct walk		 w;
	char			 dir[PATH_MAX];
	unsigned		 att = 0;
	int64_t			 t = now_s();

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	memset(&w, 0, sizeof(w));
	CHECK(dedup_each(d, walk_fn, &w) == 0 && w.n == 0);
	CHECK(claim(d, "b", "e2", t, &att) == DEDUP_CLAIMED);
	CHECK(claim(d, "a", "e9", t, &att) == DEDUP_CLAIMED);
	CHECK(claim(d, "b", "e1", t, &att) == DEDUP_CLAIMED);
	CHECK(finish(d, "b", "e1", 1, 0, t + 1) == 0);
	CHECK(dedup_each(d, walk_fn, &w) == 3 && w.n == 3);
	CHECK(strcmp(w.seen[0], "a/e9") == 0);
	CHECK(strcmp(w.seen[1], "b/e1") == 0);
	CHECK(strcmp(w.seen[2], "b/e2") == 0);
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	CHECK(dedup_each(d, walk_fn, &w) == 2 && w.n == 2);

	/* forget: done -> absent -> claimed again as attempt 1 */
	CHECK(claim(d, "b", "e1", t + 2, &att) == DEDUP_DONE);
	CHECK(dedup_forget(d, "b", "e1", 2) == 0);
	CHECK(get(d, "b", "e1", &r) == 1);
	CHECK(dedup_forget(d, "b", "e1", 2) == 1);
	CHECK(dedup_forget(d, "a", "e1", 2) == 1);	/* other endpoint */
	CHECK(get(d, "a", "e9", &r) == 0);
	CHECK(claim(d, "b", "e1", t + 3, &att) == DEDUP_CLAIMED && att == 1);
	/* bounds: empty id, empty endpoint */
	CHECK(dedup_forget(d, "b", "", 0) == -1);
	CHECK(dedup_forget(d, "", "e1", 2) == -1);
	memset(&w, 0, sizeof(w));
	CHECK(dedup_each(d, walk_fn, &w) == 3);
	dedup_close(d);
}

int
main(void)
{
	t_store_init("t_dedup");

	t_basic();
	t_live_stale();
	t_pid_reuse();
	t_finish_foreign();
	t_concurrent();
	t_modes();
	t_bounds();
	t_corrupt();
	t_prune();
	t_prune_round();
	t_map_full();
	t_open_fail();
	t_reader_check();
	t_each_forget();
	return 0;
}
