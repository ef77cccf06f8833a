/*
 * runner.c: runs queued jobs (SPEC section 9): claim, run, record, one
 * job at a time per process, so that a running job of our own pid is a
 * leftover (store_pid_alive) and max_running is the number of processes
 * that may hold a job of an endpoint at once.
 */
#include "compat.h"

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dedup.h"
#include "log.h"
#include "pipeline.h"
#include "queue.h"
#include "runner.h"

/* Storing a finished run is retried this often, QUEUE_POLL_MS apart. */
#define RUNNER_FINISH_TRIES	10

static volatile sig_atomic_t	 woken;

static void
on_usr1(int sig)
{
	(void)sig;
	woken = 1;
}

/* Makes SIGUSR1 interrupt the nap (a new job was queued). */
static void
wake_on_usr1(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	(void)sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the nap must end early. */
	(void)sigaction(SIGUSR1, &sa, NULL);
}

static void
nap_ms(long ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	/* EINTR (SIGUSR1: a job was queued) ends the nap. */
	(void)nanosleep(&ts, NULL);
}

/*
 * Until something may change: a job's next run or a lease's end (whole
 * seconds away), or QUEUE_POLL_MS when a job waits only for a slot
 * another process holds.  At most a second, never past the deadline.
 */
static void
nap(int64_t now, int64_t next, int64_t deadline)
{
	long	 ms = 1000;

	if (next <= now + 1)
		ms = QUEUE_POLL_MS;
	if (deadline != 0 && deadline - now < 1)
		ms = QUEUE_POLL_MS;
	if (woken) {
		woken = 0;
		return;
	}
	nap_ms(ms);
	woken = 0;
}

static const char *
finish_word(int fr)
{
	switch (fr) {
	case QUEUE_F_DONE:
		return "done";
	case QUEUE_F_RETRY:
		return "retry";
	case QUEUE_F_DEAD:
		return "dead";
	case QUEUE_F_GONE:
		return "gone";
	}
	return "error";
}

/* One line per run: never a payload value (SPEC section 6). */
static void
log_run(const struct outcome *oc, const struct queue_job *job, int fr,
    long ms)
{
	struct logline	 l;
	int		 level = oc->oc_level;

	if (fr == QUEUE_F_DEAD || fr == QUEUE_F_ERR)
		level = LOG_ERROR;
	else if ((fr == QUEUE_F_RETRY || fr == QUEUE_F_GONE) &&
	    level < LOG_WARN)
		level = LOG_WARN;
	logline_init(&l, level);
	logline_add(&l, "endpoint", oc->oc_endpoint);
	logline_add(&l, "provider", oc->oc_provider);
	logline_add(&l, "event", oc->oc_event);
	logline_add(&l, "id", oc->oc_id);
	if (oc->oc_delivery[0] != '\0')
		logline_add(&l, "delivery", oc->oc_delivery);
	logline_addf(&l, "job", "%u", job->qj_id);
	logline_addf(&l, "attempt", "%u", oc->oc_attempt);
	logline_add(&l, "result", finish_word(fr));
	if (oc->oc_hook_exit != -1)
		logline_addf(&l, "hook_exit", "%d", oc->oc_hook_exit);
	if (fr == QUEUE_F_RETRY)
		logline_addf(&l, "next", "%lld", (long long)job->qj_next_run);
	if (fr == QUEUE_F_DEAD)
		logline_add(&l, "reason", "no attempts left: see idhook queue "
		    "show");
	else if (fr == QUEUE_F_GONE)
		logline_add(&l, "reason", "job was dropped while it ran");
	else
		logline_add(&l, "reason", oc->oc_reason);
	logline_addf(&l, "ms", "%ld", ms);
	logline_emit(&l);
}

/*
 * Stores the result.  A success that cannot be stored is retried for a
 * while: given up, the job stays running under our pid and runs again
 * once it is taken over (after we exit, or its lease ends).
 */
static int
record(struct pipeline_ctx *pc, const struct endpoint *ep,
    struct queue_job *job, const struct outcome *oc)
{
	int	 ok = oc->oc_result == PR_DELIVERED, fr, n;

	for (n = 1; ; n++) {
		fr = queue_finish(pc->pc_dedup, job->qj_id, ok,
		    oc->oc_hook_exit, pc->pc_clock(), ep->ep_max_attempts,
		    ep->ep_retry_backoff, pc->pc_cfg->cf_retention, job);
		if (fr != QUEUE_F_ERR || !ok || n == RUNNER_FINISH_TRIES)
			break;
		nap_ms(QUEUE_POLL_MS);
	}
	if (fr == QUEUE_F_ERR)
		log_error("endpoint %s job %u: the queue could not record "
		    "the run (hook %s): it may run again; stopping this runner",
		    ep->ep_name, job->qj_id, ok ? "succeeded" : "failed");
	return fr;
}

/*
 * Runs the claimed job.  Returns -1 when its result could not be
 * recorded: claiming on would take our own job over (a running job of
 * our pid is a leftover) and run it again at once.
 */
static int
run_one(struct pipeline_ctx *pc, const struct queue_job *claimed,
    const uint8_t *payload, size_t len)
{
	const struct endpoint	*ep;
	struct queue_job	 after = *claimed, *job = &after;
	struct outcome		 oc;
	struct timespec		 t0;
	int			 fr;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* queue_claim only hands out jobs of endpoints cfg has. */
	if ((ep = config_endpoint_named(pc->pc_cfg, job->qj_endpoint)) ==
	    NULL) {
		log_error("job %u: endpoint %s is not configured", job->qj_id,
		    job->qj_endpoint);
		return 0;
	}
	memset(&oc, 0, sizeof(oc));
	oc.oc_endpoint = ep->ep_name;
	oc.oc_provider = ep->ep_provider->pv_name;
	strlcpy(oc.oc_event, job->qj_event, sizeof(oc.oc_event));
	strlcpy(oc.oc_id, job->qj_event_id, sizeof(oc.oc_id));
	strlcpy(oc.oc_delivery, job->qj_delivery, sizeof(oc.oc_delivery));
	oc.oc_attempt = job->qj_attempts;
	oc.oc_job = job->qj_id;
	pipeline_run_job(pc, ep, payload, len, job->qj_queued_at, &oc);
	fr = record(pc, ep, job, &oc);
	/* The log names the job we ran, whatever the store says now. */
	after.qj_id = claimed->qj_id;
	log_run(&oc, job, fr, log_elapsed_ms(&t0));
	return fr == QUEUE_F_ERR ? -1 : 0;
}

long
runner_loop(struct pipeline_ctx *pc, int64_t deadline, int wait,
    void (*leaving)(void *), void *arg)
{
	struct queue_job	 job;
	uint8_t			*payload;
	size_t			 len, orphans, warned = 0;
	int64_t			 now, next;
	long			 n = 0;
	int			 rc, told = 0;

	for (;;) {
		now = pc->pc_clock();
		if (deadline != 0 && now >= deadline)
			break;
		orphans = 0;
		payload = NULL;
		rc = queue_claim(pc->pc_dedup, pc->pc_cfg, now, &job, &payload,
		    &len, &next, &orphans);
		if (rc == QUEUE_CLAIMED) {
			rc = run_one(pc, &job, payload, len);
			freezero(payload, len);
			if (rc == -1)
				return -1;
			n++;
			told = 0;
			continue;
		}
		if (rc == QUEUE_CERR)
			return -1;
		if (orphans > warned) {
			log_warn("%zu queued job(s) of endpoints that are not "
			    "in %s: see idhook queue list", orphans,
			    pc->pc_cfg->cf_path);
			warned = orphans;
		}
		if (rc == QUEUE_IDLE && leaving != NULL && !told) {
			leaving(arg);
			told = 1;
			continue;	/* one more claim: see runner.h */
		}
		if (rc == QUEUE_IDLE || !wait)
			break;
		told = 0;
		nap(now, next, deadline);
	}
	return n;
}

/* The pipe's write end of a runner child (fd RUNNER_LEAVE_FD). */
#define RUNNER_LEAVE_FD	3

static void
say_leaving(void *arg)
{
	static const char	 byte = 'x';

	(void)arg;
	/* EAGAIN: a byte is there already; EPIPE: the parent is gone. */
	if (write(RUNNER_LEAVE_FD, &byte, 1) == -1)
		log_debug("queue runner: %s", strerror(errno));
}

/* fds 0 and 1 on /dev/null, the pipe as fd 3, nothing else above 2. */
static int
child_fds(int leave)
{
	int	 fd, max;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    dup2(fd, 0) == -1 || dup2(fd, 1) == -1 ||
	    dup2(leave, RUNNER_LEAVE_FD) == -1)
		return -1;
	/* dup2 clears close-on-exec: hooks must not get it. */
	if (fcntl(RUNNER_LEAVE_FD, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
#ifdef HAVE_CLOSE_RANGE
	if (close_range(RUNNER_LEAVE_FD + 1, ~0U, 0) == 0)
		return 0;
#endif
	max = (int)sysconf(_SC_OPEN_MAX);
	for (fd = RUNNER_LEAVE_FD + 1; fd < max && fd < 65536; fd++)
		(void)close(fd);
	return 0;
}

static void __attribute__((noreturn))
child_main(const struct pipeline_ctx *parent, int leave)
{
	struct pipeline_ctx	 pc = *parent;
	struct dedup		*d = NULL;
	long			 n;

	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGINT, SIG_DFL);
	(void)signal(SIGHUP, SIG_DFL);
	wake_on_usr1();
	if (child_fds(leave) == -1) {
		log_error("queue runner: cannot set up descriptors: %s",
		    strerror(errno));
		_exit(1);	/* the parent reads EOF: gone */
	}
	/* Never the parent's handle: an LMDB env is not used after fork. */
	if (dedup_open(pc.pc_cfg->cf_state_dir, pc.pc_cfg->cf_map_size,
	    &d) == -1) {
		say_leaving(NULL);
		_exit(1);
	}
	pc.pc_dedup = d;
	memset(&pc.pc_pending, 0, sizeof(pc.pc_pending));
	n = runner_loop(&pc, 0, 1, say_leaving, NULL);
	/* Also after an error: a job queued now needs another runner. */
	say_leaving(NULL);
	dedup_close(d);
	_exit(n < 0 ? 1 : 0);
}

/* Moves *fd above 0-2 (close-on-exec), should stdio have been closed. */
static int
above_stdio(int *fd)
{
	int	 nfd;

	if (*fd > 2)
		return 0;
	if ((nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3)) == -1)
		return -1;
	(void)close(*fd);
	*fd = nfd;
	return 0;
}

pid_t
runner_spawn(const struct pipeline_ctx *pc, int *leavefd)
{
	pid_t	 pid;
	int	 fds[2];

	*leavefd = -1;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_error("queue runner: pipe: %s", strerror(errno));
		return -1;
	}
	if (above_stdio(&fds[0]) == -1 || above_stdio(&fds[1]) == -1) {
		log_error("queue runner: pipe: %s", strerror(errno));
		(void)close(fds[0]);
		(void)close(fds[1]);
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error("queue runner: fork: %s", strerror(errno));
		(void)close(fds[0]);
		(void)close(fds[1]);
		return -1;
	}
	if (pid == 0)
		child_main(pc, fds[1]);
	(void)close(fds[1]);
	*leavefd = fds[0];
	return pid;
}

static int64_t
clock_now(void)
{
	return (int64_t)time(NULL);
}

/* One runner with its own store; the number of jobs run or -1. */
static long
run_here(const struct config *cfg, const char *home, int64_t deadline,
    int wait)
{
	struct pipeline_ctx	 pc;
	long			 n;

	memset(&pc, 0, sizeof(pc));
	pc.pc_cfg = cfg;
	pc.pc_home = home;
	pc.pc_clock = clock_now;
	if (dedup_open(cfg->cf_state_dir, cfg->cf_map_size, &pc.pc_dedup) == -1)
		return -1;
	n = runner_loop(&pc, deadline, wait, NULL, NULL);
	dedup_close(pc.pc_dedup);
	return n;
}

long
runner_run_cli(const struct config *cfg, int64_t max_time, unsigned workers)
{
	struct passwd	*pw = getpwuid(geteuid());
	const char	*home = pw != NULL ? pw->pw_dir : "/";
	int64_t		 deadline = max_time > 0 ? clock_now() + max_time : 0;
	pid_t		 pids[QUEUE_WORKERS_MAX];
	unsigned	 i, started = 0;
	int		 status = 1, failed = 0;
	long		 n;

	wake_on_usr1();
	/* An inherited SIG_IGN would reap the workers behind our back. */
	(void)signal(SIGCHLD, SIG_DFL);
	if (workers <= 1)
		return run_here(cfg, home, deadline, max_time > 0);
	if (workers > QUEUE_WORKERS_MAX)
		workers = QUEUE_WORKERS_MAX;
	for (i = 0; i < workers; i++) {
		if ((pids[i] = fork()) == -1) {
			log_error("queue run: fork: %s", strerror(errno));
			failed = 1;
			break;
		}
		if (pids[i] == 0) {
			n = run_here(cfg, home, deadline, max_time > 0);
			/* Not exit(): the parent's stdio and atexit are its. */
			_exit(n < 0 ? 1 : 0);
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		status = 1;
		while (waitpid(pids[i], &status, 0) == -1 && errno == EINTR)
			continue;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}
	return failed ? -1 : 0;
}
