/*
 * runner.h: runs queued jobs (SPEC section 9).  A runner claims a job,
 * runs its hook the way sync mode does (plus IDHOOK_QUEUED_AT), records
 * the result, and goes on until nothing is left for it.  Runners are the
 * FastCGI processes' runner children and `idhook queue run`.
 */
#ifndef IDHOOK_RUNNER_H
#define IDHOOK_RUNNER_H

#include <sys/types.h>

#include <stdint.h>

#include "config.h"
#include "pipeline.h"

/*
 * runner_loop: claims and runs jobs with pc (its store, config, HOME and
 * clock).  When nothing can be claimed now: returns if the queue is idle
 * (no job queued or running), or if wait is 0, or if deadline (unix
 * seconds, 0 = none) has passed; otherwise sleeps until something may
 * change (at most a second; in runner children and idhook queue run,
 * SIGUSR1 wakes it) and tries again.  No job is claimed after the deadline.
 * Before returning because the queue is idle, leaving (if not NULL) is
 * called and the queue is claimed from once more: a job committed after
 * that call is one the caller knows to start another runner for, and one
 * committed before it is seen by the last claim.  Every run is logged as
 * one line.  Returns the number of jobs run, or -1 when the store failed
 * (including a success that could not be recorded: the job may run
 * again).
 */
long	 runner_loop(struct pipeline_ctx *, int64_t deadline, int wait,
	    void (*leaving)(void *), void *arg);

/*
 * runner_spawn: forks a runner child for pc's config (FastCGI, after a
 * response).  The child puts /dev/null on fds 0 and 1 (fd 0 is the
 * FastCGI listen socket), keeps the write end of a pipe as fd 3 and
 * closes every other descriptor above 2 (the parent's LMDB files and
 * connections), resets SIGTERM/SIGINT/SIGHUP to their defaults, opens its
 * own store in the config's state_dir, runs runner_loop until the queue
 * is idle and exits with _exit.  When it is about to leave it writes a
 * byte to the pipe: *leavefd is the read end (non-blocking, close-on-
 * exec; the caller closes it), so that a job queued after that byte gets
 * a new runner.  The parent's store handle is never touched in the child
 * (lmdb.h: not after fork).  Returns the child's pid, or -1 (logged).
 */
pid_t	 runner_spawn(const struct pipeline_ctx *, int *leavefd);

/*
 * runner_run_cli: `idhook queue run`: opens cfg's store and runs
 * runner_loop in this process (workers 1) or in workers forked children,
 * each with its own store.  max_time 0: run what can run now and return;
 * else keep waiting for jobs that become due, for at most max_time
 * seconds.  Returns the number of jobs run (0 with workers > 1), or -1
 * if a store or a worker failed.
 */
long	 runner_run_cli(const struct config *cfg, int64_t max_time,
	    unsigned workers);

#endif /* IDHOOK_RUNNER_H */
