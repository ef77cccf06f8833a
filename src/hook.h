/*
 * hook.h: find and run an operator's hook script (SPEC section 4).
 * This module alone forks.
 */
#ifndef IDHOOK_HOOK_H
#define IDHOOK_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

/*
 * hook_find: the hook for event_type in dir: <dir>/<event_type> if it
 * exists, else <dir>/default.  event_type must already be valid
 * (event_type_valid).  A hook may be a symlink.  Returns 0 and writes the
 * path when found; 1 when neither file exists (no hook); -1 when a file
 * exists but is not a regular executable file, or the path does not fit
 * (logged with the reason and path).
 */
int	 hook_find(const char *dir, const char *event_type, char *path,
	    size_t pathsz);

struct hook_result {
	int	 hr_started;	/* 0: exec failed, see hr_errno */
	int	 hr_errno;
	int	 hr_status;	/* waitpid(2) status, when hr_reaped */
	int	 hr_reaped;	/* 0: status unknown, counted as failure */
	int	 hr_timed_out;	/* killed after the timeout */
	size_t	 hr_output;	/* bytes of stdout+stderr captured */
	long	 hr_ms;		/* wall time */
};

/*
 * hook_run: runs path (argv = {path, NULL}) with exactly envp, no shell.
 * The child: own process group (setpgid), stdin a pipe fed with in/inlen,
 * stdout and stderr one pipe read by the parent, no other descriptor open
 * (close_range from 3), signal mask and dispositions reset, cwd = dir.
 * The child gets SIGTERM when the calling thread dies (PR_SET_PDEATHSIG;
 * idhook is single-threaded), so a hook does not outlive a killed idhook
 * beside the run of the sender's retry; the hook's own children do not
 * get it (a script may trap TERM and kill 0).  A child whose parent died
 * before that was set up exits 127 without running the hook.
 * exec failure reaches the parent through a CLOEXEC pipe (hr_started 0,
 * hr_errno).  Output: at most HOOK_OUTPUT_MAX bytes are kept; each line is
 * logged at info level as hook=<name> out="<line>" (rest discarded).
 * Timeout: after timeout seconds SIGTERM to the process group, SIGKILL
 * HOOK_KILL_GRACE seconds later.  The child is always reaped.  A hook that
 * exits while its background children keep the pipe open is not waited
 * for beyond its own exit.
 * While it runs, SIGPIPE is ignored (a hook that does not read all of
 * stdin gives EPIPE, not a dead server) and SIGCHLD is SIG_DFL (so the
 * child can be waited for); both dispositions are restored on return.
 * Returns 0 when res is filled in (whatever the hook did), -1 when the
 * hook could not be started for a local reason (pipe/fork failure).
 */
int	 hook_run(const char *path, const char *name, const char *dir,
	    char *const envp[], const uint8_t *in, size_t inlen,
	    unsigned timeout, struct hook_result *res);

/* 1 if the hook exited 0 (success), else 0. */
int	 hook_succeeded(const struct hook_result *res);

/*
 * hook_exit_code: a number for logs and the dedup record: the exit status
 * (0..255), 128+signal when killed by a signal, -1 when it never started
 * or its status could not be read.
 */
int	 hook_exit_code(const struct hook_result *res);

#endif /* IDHOOK_HOOK_H */
