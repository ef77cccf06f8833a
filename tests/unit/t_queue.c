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

#define MAPSIZE		(1024 * 1024)
#define STALE		40
#define RETAIN		1000
#define TIMEOUT		20
#define LEASE		(TIMEOUT + HOOK_KILL_GRACE + QUEUE_LEASE_EXTRA)

static char		 base[PATH_MAX];
static pid_t		 parent;
static int		 ndirs;
static pid_t		 holders[4];	/* killed at exit if a CHECK failed */
static struct config	 cfg;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)chmod(path, 0700);
	return remove(path) == -1 ? -1 : 0;
}

static void
cleanup(void)
{
	size_t	 i;

	if (getpid() != parent)
		return;
	for (i = 0; i < sizeof(holders) / sizeof(holders[0]); i++)
		if (holders[i] > 0 && kill(holders[i], SIGKILL) == 0)
			(void)waitpid(holders[i], NULL, 0);
	if (base[0] != '\0')
		(void)nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
xwait(pid_t pid)
{
	int	 st;

	CHECK(waitpid(pid, &st, 0) == pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
holder_kill(pid_t pid)
{
	size_t	 i;

	for (i = 0; i < sizeof(holders) / sizeof(holders[0]); i++)
		if (holders[i] == pid)
			holders[i] = 0;
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(xwait(pid) == 128 + SIGKILL);
}

static const char *
tdir(char *buf, size_t len)
{
	int	 n;

	n = snprintf(buf, len, "%s/d%d", base, ndirs++);
	CHECK(n > 0 && (size_t)n < len);
	CHECK(mkdir(buf, 0700) == 0);
	return buf;
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
	CHECK(queue_live(d) == 0);
	CHECK(add(d, "a", "e1", "{\"x\":1}", t, &id) == QUEUE_ADDED);
	CHECK(id == 1 && queue_live(d) == 1);
	CHECK(add(d, "a", "e1", "{\"x\":1}", t + 1, &id2) == QUEUE_ALREADY);
	CHECK(id2 == 1 && queue_live(d) == 1);
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
	CHECK(queue_live(d) == 0);
	CHECK(dedup_get(d, "a", "e1", 2, &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_DONE && r.dr_job == 0);
	CHECK(add(d, "a", "e1", "{}", t + 2, &id) == QUEUE_DONE);
	CHECK(queue_live(d) == 0);

	/* a live sync run of the event: busy; once it is gone: queued */
	pid = holder(dir, 0, "s1", t, NULL);
	CHECK(add(d, "a", "s1", "{}", t, &id) == QUEUE_BUSY);
	CHECK(add(d, "a", "s1", "{}", t + STALE + 1, &id) == QUEUE_ADDED);
	CHECK(id == 2);
	holder_kill(pid);
	pid = holder(dir, 0, "s2", t, NULL);
	CHECK(add(d, "a", "s2", "{}", t, &id) == QUEUE_BUSY);
	holder_kill(pid);
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
	CHECK(queue_live(d) == 3);
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
	CHECK(queue_live(d) == 0);
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
	holder_kill(pa);
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
	holder_kill(pb);
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
	CHECK(finish(d, 1, 0, t, NULL) == QUEUE_F_DONE);
	holder_kill(pa);
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
	CHECK(queue_live(d) == 0);
	CHECK(claim(d, t + 9999, &id, NULL) == QUEUE_IDLE);
	CHECK(add(d, "a", "e2", "x", t, &id) == QUEUE_ADDED && id == 2);
	CHECK(queue_each(d, each_fn, seen) == 2);
	CHECK(strcmp(seen, "2q1d") == 0);
	CHECK(dedup_get(d, "a", "e1", 2, &r) == 0);
	CHECK(r.dr_state == DEDUP_STATE_QUEUED && r.dr_job == 1);

	/* a redelivery revives it */
	CHECK(add(d, "a", "e1", "ignored", t + 40, &id) == QUEUE_REVIVED);
	CHECK(id == 1 && queue_live(d) == 2);
	CHECK(queue_get(d, 1, &j, &p, &len) == 0);
	CHECK(j.qj_state == QUEUE_QUEUED && j.qj_attempts == 0);
	CHECK(j.qj_next_run == t + 40);
	CHECK(len == 9 && memcmp(p, "payload-1", 9) == 0);
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
	/* our own running job: still refused */
	CHECK(queue_retry(d, 1, t) == 2 && queue_drop(d, 1, t) == 2);
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
	CHECK(queue_live(d) == 1);

	/* drop: gone, event failed, a redelivery is a new job */
	CHECK(queue_drop(d, 1, t + 3) == 0);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 1 && queue_live(d) == 0);
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
	CHECK(queue_live(d) == 2);
	dedup_close(d);
}

/* Corrupt jobs are skipped, never fatal. */
static void
t_corrupt(void)
{
	static const uint8_t	 key[4] = { 0, 0, 0, 9 }, junk[80] = { 1 };
	struct queue_job	 j;
	struct dedup		*d;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k = { 4, (void *)(uintptr_t)key };
	MDB_val			 v = { sizeof(junk), (void *)(uintptr_t)junk };
	char			 dir[PATH_MAX], seen[64] = "";
	uint32_t		 id;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	dedup_close(d);
	CHECK(mdb_env_create(&env) == 0);
	CHECK(mdb_env_set_maxdbs(env, 8) == 0);
	CHECK(mdb_env_open(env, dir, MDB_NOTLS, 0600) == 0);
	CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	CHECK(mdb_dbi_open(txn, "queue", 0, &dbi) == 0);
	CHECK(mdb_put(txn, dbi, &k, &v, 0) == 0);
	CHECK(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(queue_get(d, 9, &j, NULL, NULL) == -1);
	CHECK(claim(d, 0, &id, NULL) == QUEUE_IDLE);
	CHECK(add(d, "a", "e1", "x", 0, &id) == QUEUE_ADDED && id == 1);
	CHECK(queue_each(d, each_fn, seen) == 1 && strcmp(seen, "1q") == 0);
	CHECK(claim(d, 0, &id, NULL) == QUEUE_CLAIMED && id == 1);
	CHECK(finish(d, 1, 1, 0, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, 0, &id, NULL) == QUEUE_IDLE);
	CHECK(queue_live(d) == 1);
	dedup_close(d);
}

/* A live job whose payload is gone moves to dead; later jobs still run. */
static void
t_no_payload(void)
{
	static const uint8_t	 key[4] = { 0, 0, 0, 1 };
	struct queue_job	 j;
	struct dedup		*d;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k = { 4, (void *)(uintptr_t)key };
	char			 dir[PATH_MAX];
	uint32_t		 id;

	CHECK(dedup_open(tdir(dir, sizeof(dir)), MAPSIZE, &d) == 0);
	CHECK(add(d, "a", "e1", "x", 0, &id) == QUEUE_ADDED && id == 1);
	CHECK(add(d, "a", "e2", "y", 0, &id) == QUEUE_ADDED && id == 2);
	dedup_close(d);
	CHECK(mdb_env_create(&env) == 0);
	CHECK(mdb_env_set_maxdbs(env, 8) == 0);
	CHECK(mdb_env_open(env, dir, MDB_NOTLS, 0600) == 0);
	CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	CHECK(mdb_dbi_open(txn, "payload", 0, &dbi) == 0);
	CHECK(mdb_del(txn, dbi, &k, NULL) == 0);
	CHECK(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
	CHECK(dedup_open(dir, MAPSIZE, &d) == 0);
	CHECK(claim(d, 0, &id, NULL) == QUEUE_CLAIMED && id == 2);
	CHECK(queue_get(d, 1, &j, NULL, NULL) == 0);
	CHECK(j.qj_state == QUEUE_DEAD);
	CHECK(finish(d, 2, 1, 0, NULL) == QUEUE_F_DONE);
	CHECK(claim(d, 0, &id, NULL) == QUEUE_IDLE);
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
	CHECK(queue_live(d) == i - 1);
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
	const char	*tmp = getenv("TMPDIR");
	int		 n;

	parent = getpid();
	n = snprintf(base, sizeof(base), "%s/t_queue.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	CHECK(n > 0 && (size_t)n < sizeof(base));
	CHECK(mkdtemp(base) != NULL);
	CHECK(atexit(cleanup) == 0);
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
	return 0;
}
