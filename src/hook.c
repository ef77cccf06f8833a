/*
 * hook.c: find and run an operator's hook (SPEC section 4, STYLE.md
 * section 7).  The only module that forks.
 *
 * The child gets a fresh pipe as stdin (the FastCGI listen socket is fd 0
 * in the server and libfcgi never sets FD_CLOEXEC: deploy-notes 1.4), one
 * pipe as stdout and stderr, and nothing else.  execve failure comes back
 * through a CLOEXEC pipe (skalibs cspawn): EOF means exec succeeded.
 */
#include "compat.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#if defined(HAVE_PIDFD_OPEN) && !defined(HOOK_NO_PIDFD)
#include <sys/pidfd.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "hook.h"
#include "log.h"

#define HOOK_TICK_MS	50	/* exit polling without a pidfd */
#define HOOK_READ_CHUNK	8192
#define HOOK_DRAIN_MAX	256	/* reads after exit: about 2 MiB */
#define HOOK_WAIT_MAX_MS 60000	/* one poll(2) wait; fits an int */

/* The child's step that failed, sent with errno over the CLOEXEC pipe. */
#define CHILD_SETUP	1
#define CHILD_CHDIR	2
#define CHILD_EXEC	3

/* Everything the child needs, prepared before fork. */
struct hook_child {
	const char		*hc_path;
	char			*hc_argv[2];
	char *const		*hc_envp;
	const char		*hc_dir;
	int			 hc_in;		/* read end of stdin pipe */
	int			 hc_out;	/* write end of output pipe */
	int			 hc_err;	/* write end of errno pipe */
	int			 hc_maxfd;	/* close_range fallback */
	pid_t			 hc_ppid;	/* getpid() before fork */
	struct sigaction	 hc_dfl;
	sigset_t		 hc_empty;
};

/* The parent's side of a running hook. */
struct hook_io {
	const char		*io_name;
	const uint8_t		*io_in;
	size_t			 io_inlen;
	size_t			 io_inoff;
	int			 io_infd;
	int			 io_outfd;
	int			 io_pidfd;
	pid_t			 io_pid;
	int			 io_exited;	/* reaped, or cannot be */
	int			 io_leader_dead;	/* exited, unreaped */
	long long		 io_term_at;	/* ms, CLOCK_MONOTONIC */
	long long		 io_kill_at;
	int			 io_signalled;	/* 0, SIGTERM or SIGKILL sent */
	size_t			 io_dropped;
	size_t			 io_linelen;
	int			 io_linecut;
	char			 io_line[HOOK_LOG_LINE_MAX];
	struct hook_result	*io_res;
};

/* Signal dispositions hook_run changes while it runs. */
struct hook_sigs {
	struct sigaction	 hs_pipe;
	struct sigaction	 hs_chld;
};

static long long
now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
close_fd(int *fd)
{
	if (*fd != -1) {
		(void)close(*fd);
		*fd = -1;
	}
}

/* 0 found, 1 absent, -1 present but unusable (logged). */
static int
hook_try(const char *dir, const char *file, char *path, size_t pathsz)
{
	struct stat	 st;
	int		 n;

	n = snprintf(path, pathsz, "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= pathsz) {
		log_error("hook: path %s/%s is too long", dir, file);
		return -1;
	}
	/* stat, not lstat: a symlink to a script is a normal hook. */
	if (stat(path, &st) == -1) {
		if (errno != ENOENT) {
			log_error("hook %s: %s", path, strerror(errno));
			return -1;
		}
		if (lstat(path, &st) == 0) {
			log_error("hook %s is a dangling symlink", path);
			return -1;
		}
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error("hook %s is not a regular file", path);
		return -1;
	}
	if (access(path, X_OK) == -1) {
		log_error("hook %s is not executable: chmod +x %s", path, path);
		return -1;
	}
	return 0;
}

int
hook_find(const char *dir, const char *event_type, char *path,
    size_t pathsz)
{
	int	 r;

	if ((r = hook_try(dir, event_type, path, pathsz)) == 1)
		r = hook_try(dir, "default", path, pathsz);
	if (r == 1 && pathsz > 0)
		path[0] = '\0';
	return r;
}

/*
 * The pipe ends the child dup2()s onto 0, 1 and 2 must not be 0, 1 or 2
 * already (a parent started with a closed stdio): dup2(fd, fd) would
 * keep FD_CLOEXEC and the fd would vanish at exec.
 */
static int
fd_above_stdio(int *fd)
{
	int	 nfd;

	if (*fd > STDERR_FILENO)
		return 0;
	if ((nfd = fcntl(*fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1)) == -1)
		return -1;
	(void)close(*fd);
	*fd = nfd;
	return 0;
}

static int
pipe_open(int p[2])
{
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if (fd_above_stdio(&p[0]) == -1 || fd_above_stdio(&p[1]) == -1) {
		close_fd(&p[0]);
		close_fd(&p[1]);
		return -1;
	}
	return 0;
}

static int
set_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Everything from fd 3 up closes at exec; hc_err stays usable until then. */
static void
child_close_fds(const struct hook_child *c)
{
	int	 fd;

#ifdef HAVE_CLOSE_RANGE
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	for (fd = 3; fd < c->hc_maxfd; fd++)
		if (fd != c->hc_err)
			(void)close(fd);
}

/*
 * If idhook dies (SIGKILL, OOM killer) while a hook runs, the hook must
 * not go on as an orphan beside the run the sender's retry starts: that
 * would be two concurrent runs of one event.  So the hook gets SIGTERM
 * when we die, which a script may trap to clean up (e.g. kill 0).  The
 * death signal follows the parent *thread*; idhook is single-threaded.
 * A SIGTERM before execve stays pending in the mask blocked since fork
 * and kills the child once the dispositions are reset.
 * If we died before the prctl, the child was already reparented and no
 * signal will come: getppid() tells, and as nobody is left to read the
 * errno pipe, the child just exits.
 */
static int
child_tie_to_parent(const struct hook_child *c)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1)
		return -1;
	if (getppid() != c->hc_ppid)
		_exit(127);
	return 0;
}

/* Between fork and execve: async-signal-safe calls only. */
static void __attribute__((noreturn))
child_exec(const struct hook_child *c)
{
	int	 sig, e[2] = { CHILD_SETUP, 0 };

	if (setpgid(0, 0) == -1 || child_tie_to_parent(c) == -1 ||
	    dup2(c->hc_in, STDIN_FILENO) == -1 ||
	    dup2(c->hc_out, STDOUT_FILENO) == -1 ||
	    dup2(c->hc_out, STDERR_FILENO) == -1)
		goto fail;
	child_close_fds(c);
	/* The parent blocked every signal before fork: no handler runs. */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &c->hc_dfl, NULL);
	if (sigprocmask(SIG_SETMASK, &c->hc_empty, NULL) == -1)
		goto fail;
	e[0] = CHILD_CHDIR;
	if (c->hc_dir != NULL && chdir(c->hc_dir) == -1)
		goto fail;
	e[0] = CHILD_EXEC;
	execve(c->hc_path, c->hc_argv, c->hc_envp);
fail:
	e[1] = errno;
	/* 8 bytes < PIPE_BUF: one atomic write. */
	if (write(c->hc_err, e, sizeof(e)) == -1)
		_exit(127);
	_exit(127);
}

static pid_t
hook_fork(struct hook_child *c)
{
	sigset_t	 all, old;
	pid_t		 pid;
	long		 max;

	max = sysconf(_SC_OPEN_MAX);
	c->hc_maxfd = max > 0 && max < INT32_MAX ? (int)max : 1024;
	memset(&c->hc_dfl, 0, sizeof(c->hc_dfl));
	c->hc_dfl.sa_handler = SIG_DFL;
	(void)sigemptyset(&c->hc_dfl.sa_mask);
	(void)sigemptyset(&c->hc_empty);
	c->hc_ppid = getpid();
	(void)sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) == -1)
		return -1;
	if ((pid = fork()) == 0)
		child_exec(c);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

/*
 * SIGPIPE: a hook that does not read all of stdin must not kill us, the
 * write gets EPIPE.  SIGCHLD: SIG_IGN would auto-reap the child and make
 * waitpid fail.  Both are put back by sigs_restore.
 */
static void
sigs_enter(struct hook_sigs *hs)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	(void)sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, &hs->hs_pipe);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &sa, &hs->hs_chld);
}

static void
sigs_restore(const struct hook_sigs *hs)
{
	(void)sigaction(SIGPIPE, &hs->hs_pipe, NULL);
	(void)sigaction(SIGCHLD, &hs->hs_chld, NULL);
}

/*
 * EOF on the CLOEXEC pipe: execve succeeded.  Else the child sent the
 * step that failed and its errno; logged here.
 */
static int
child_started(int fd, const struct hook_io *io, const char *path,
    const char *dir)
{
	ssize_t	 n;
	int	 e[2] = { CHILD_SETUP, EIO };

	do
		n = read(fd, e, sizeof(e));
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return 1;
	if (n != (ssize_t)sizeof(e))
		e[1] = EIO;
	io->io_res->hr_errno = e[1];
	if (e[0] == CHILD_EXEC)
		log_error("hook=%s: cannot run %s: %s", io->io_name, path,
		    strerror(e[1]));
	else if (e[0] == CHILD_CHDIR)
		log_error("hook=%s: cannot chdir to %s: %s", io->io_name,
		    dir, strerror(e[1]));
	else
		log_error("hook=%s: cannot set up the child: %s",
		    io->io_name, strerror(e[1]));
	return 0;
}

/* 0 when *status holds the child's status, -1 when it cannot be known. */
static int
reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) == -1)
		if (errno != EINTR) {
			log_error("hook: waitpid: %s", strerror(errno));
			return -1;
		}
	return 0;
}

static int
pidfd_get(pid_t pid)
{
#if defined(HOOK_NO_PIDFD)
	(void)pid;
	return -1;
#elif defined(HAVE_PIDFD_OPEN)
	return pidfd_open(pid, 0);
#elif defined(SYS_pidfd_open)
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/* Escaped size of a byte in a log line (log.c: \" \\ \xNN). */
static size_t
esc_cost(unsigned char c)
{
	if (c == '"' || c == '\\')
		return 2;
	return c >= 0x20 && c < 0x7f ? 1 : 4;
}

/*
 * One line of output as hook=<name> out="<line>".  The line is cut so
 * that its escaped form fits a log line; cut=1 marks any cut.
 */
static void
line_emit(struct hook_io *io)
{
	struct logline	 l;
	size_t		 i, budget = LOG_LINE_MAX - 64, cost = 0;

	for (i = 0; io->io_name[i] != '\0' && cost < budget; i++)
		cost += esc_cost((unsigned char)io->io_name[i]);
	budget = cost < budget / 2 ? budget - cost : budget / 2;
	for (i = 0, cost = 0; i < io->io_linelen; i++) {
		cost += esc_cost((unsigned char)io->io_line[i]);
		if (cost > budget)
			break;
	}
	logline_init(&l, LOG_INFO);
	logline_add(&l, "hook", io->io_name);
	logline_addn(&l, "out", io->io_line, i);
	if (io->io_linecut || i < io->io_linelen)
		logline_add(&l, "cut", "1");
	logline_emit(&l);
	explicit_bzero(io->io_line, io->io_linelen);
	io->io_linelen = 0;
	io->io_linecut = 0;
}

/* Keeps up to HOOK_OUTPUT_MAX bytes in all, logging them line by line. */
static void
output_take(struct hook_io *io, const char *buf, size_t n)
{
	size_t	 i, keep = HOOK_OUTPUT_MAX - io->io_res->hr_output;

	if (keep > n)
		keep = n;
	io->io_res->hr_output += keep;
	io->io_dropped += n - keep;
	for (i = 0; i < keep; i++) {
		if (buf[i] == '\n')
			line_emit(io);
		else if (io->io_linelen < sizeof(io->io_line))
			io->io_line[io->io_linelen++] = buf[i];
		else
			io->io_linecut = 1;
	}
}

/* One read; 0 while the pipe may have more, -1 at EOF or error. */
static int
output_read(struct hook_io *io)
{
	char	 buf[HOOK_READ_CHUNK];
	ssize_t	 n;

	do
		n = read(io->io_outfd, buf, sizeof(buf));
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		output_take(io, buf, (size_t)n);
		return 0;
	}
	if (n == -1 && errno == EAGAIN)
		return -1;
	close_fd(&io->io_outfd);	/* EOF: every writer has gone */
	return -1;
}

/* Feeds stdin; closes it when all is written or the hook stopped reading. */
static void
input_write(struct hook_io *io)
{
	ssize_t	 n;

	if (io->io_inoff < io->io_inlen) {
		do
			n = write(io->io_infd, io->io_in + io->io_inoff,
			    io->io_inlen - io->io_inoff);
		while (n == -1 && errno == EINTR);
		if (n > 0)
			io->io_inoff += (size_t)n;
		else if (n == -1 && errno == EAGAIN)
			return;
		else
			io->io_inoff = io->io_inlen;	/* EPIPE: stop */
	}
	if (io->io_inoff == io->io_inlen)
		close_fd(&io->io_infd);
}

/* SIGTERM to the group at the timeout, SIGKILL HOOK_KILL_GRACE later. */
static void
timeout_check(struct hook_io *io, long long now)
{
	if (io->io_signalled == 0 && now >= io->io_term_at) {
		log_warn("hook=%s: timed out, sending SIGTERM", io->io_name);
		io->io_res->hr_timed_out = 1;
		io->io_signalled = SIGTERM;
		io->io_kill_at = now + HOOK_KILL_GRACE * 1000LL;
		(void)kill(-io->io_pid, SIGTERM);
	} else if (io->io_signalled == SIGTERM && now >= io->io_kill_at) {
		log_warn("hook=%s: still running, sending SIGKILL",
		    io->io_name);
		io->io_signalled = SIGKILL;
		(void)kill(-io->io_pid, SIGKILL);
	}
}

static int
wait_ms(const struct hook_io *io, long long now)
{
	long long	 ms = -1;

	/* Exited and its KILL sent (or never needed): reap now. */
	if (io->io_leader_dead && io->io_signalled != SIGTERM)
		return 0;
	if (io->io_signalled == 0)
		ms = io->io_term_at - now;
	else if (io->io_signalled == SIGTERM)
		ms = io->io_kill_at - now;
	if (ms < 0 && io->io_signalled != SIGKILL)
		ms = 0;
	if (io->io_pidfd == -1 && (ms < 0 || ms > HOOK_TICK_MS))
		ms = HOOK_TICK_MS;
	if (ms > HOOK_WAIT_MAX_MS)
		ms = HOOK_WAIT_MAX_MS;	/* the loop works out the rest */
	return (int)ms;
}

/* 1 when the hook process has exited; it is not reaped here. */
static int
leader_exited(struct hook_io *io, const struct pollfd *pidpfd)
{
	siginfo_t	 si;

	if (io->io_pidfd != -1)
		return pidpfd->revents != 0;
	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)io->io_pid, &si,
	    WEXITED | WNOHANG | WNOWAIT) == -1)
		if (errno != EINTR)
			return 1;	/* ECHILD: nothing left to wait for */
	return si.si_pid == io->io_pid;
}

/*
 * After a timeout the process group gets its SIGKILL at kill_at even if
 * the hook itself died of the SIGTERM: a child that ignores TERM must not
 * outlive it.  Until then the hook stays an unreaped zombie, which keeps
 * its pid, and so the group id, from being reused.
 */
static void
exit_check(struct hook_io *io, const struct pollfd *pidpfd)
{
	if (!io->io_leader_dead && !leader_exited(io, pidpfd))
		return;
	io->io_leader_dead = 1;
	if (io->io_signalled == SIGTERM)
		return;		/* timeout_check sends the KILL */
	io->io_res->hr_reaped = reap(io->io_pid, &io->io_res->hr_status) == 0;
	io->io_exited = 1;
}

/*
 * Feeds stdin, reads output and enforces the timeout until the hook
 * exits; then takes what output is already there and stops, since
 * background children of the hook may hold the pipe open for long.
 */
static int
io_loop(struct hook_io *io)
{
	struct pollfd	 pfd[3];
	long long	 now;
	int		 i;

	while (!io->io_exited) {
		now = now_ms();
		timeout_check(io, now);
		pfd[0].fd = io->io_infd;
		pfd[0].events = POLLOUT;
		pfd[1].fd = io->io_outfd;
		pfd[1].events = POLLIN;
		/* An exited hook's pidfd stays readable: not polled again. */
		pfd[2].fd = io->io_leader_dead ? -1 : io->io_pidfd;
		pfd[2].events = POLLIN;
		for (i = 0; i < 3; i++)
			pfd[i].revents = 0;
		if (poll(pfd, 3, wait_ms(io, now)) == -1 && errno != EINTR) {
			log_error("hook: poll: %s", strerror(errno));
			return -1;
		}
		if (io->io_infd != -1 && pfd[0].revents != 0)
			input_write(io);
		if (io->io_outfd != -1 && pfd[1].revents != 0)
			(void)output_read(io);
		exit_check(io, &pfd[2]);
	}
	for (i = 0; i < HOOK_DRAIN_MAX && io->io_outfd != -1; i++)
		if (output_read(io) == -1)
			break;
	return 0;
}

static void
io_finish(struct hook_io *io)
{
	if (io->io_linelen > 0 || io->io_linecut)
		line_emit(io);
	if (io->io_dropped > 0)
		log_warn("hook=%s: output over %d bytes discarded (%zu bytes)",
		    io->io_name, HOOK_OUTPUT_MAX, io->io_dropped);
}

/* The parent after a successful fork; the child is reaped on every path. */
static void
hook_parent(struct hook_io *io, int errfd, const char *path,
    const char *dir)
{
	struct hook_result	*res = io->io_res;

	(void)setpgid(io->io_pid, io->io_pid);	/* either side may win */
	if (!child_started(errfd, io, path, dir)) {
		res->hr_reaped = reap(io->io_pid, &res->hr_status) == 0;
		return;
	}
	res->hr_started = 1;
	if (set_nonblock(io->io_infd) == -1 ||
	    set_nonblock(io->io_outfd) == -1) {
		log_error("hook: fcntl: %s", strerror(errno));
		(void)kill(-io->io_pid, SIGKILL);
		res->hr_reaped = reap(io->io_pid, &res->hr_status) == 0;
		return;
	}
	io->io_pidfd = pidfd_get(io->io_pid);
	if (io->io_inlen == 0)
		close_fd(&io->io_infd);
	if (io_loop(io) == -1) {
		(void)kill(-io->io_pid, SIGKILL);
		res->hr_reaped = reap(io->io_pid, &res->hr_status) == 0;
	}
	io_finish(io);
}

int
hook_run(const char *path, const char *name, const char *dir,
    char *const envp[], const uint8_t *in, size_t inlen,
    unsigned timeout, struct hook_result *res)
{
	struct hook_child	 c;
	struct hook_io		 io;
	struct hook_sigs	 hs;
	int			 inp[2] = { -1, -1 }, outp[2] = { -1, -1 };
	int			 errp[2] = { -1, -1 }, ret = -1;
	long long		 start = now_ms();

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	memset(&io, 0, sizeof(io));
	io.io_infd = io.io_outfd = io.io_pidfd = -1;
	sigs_enter(&hs);
	if (pipe_open(inp) == -1 || pipe_open(outp) == -1 ||
	    pipe_open(errp) == -1) {
		log_error("hook: pipe: %s", strerror(errno));
		goto fail;
	}
	c.hc_path = path;
	c.hc_argv[0] = (char *)(uintptr_t)path;	/* execve's argv is not const */
	c.hc_envp = envp;
	c.hc_dir = dir;
	c.hc_in = inp[0];
	c.hc_out = outp[1];
	c.hc_err = errp[1];
	if ((io.io_pid = hook_fork(&c)) == -1) {
		log_error("hook: fork: %s", strerror(errno));
		goto fail;
	}
	close_fd(&inp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	io.io_name = name;
	io.io_in = in;
	io.io_inlen = inlen;
	io.io_infd = inp[1];
	io.io_outfd = outp[0];
	inp[1] = outp[0] = -1;
	io.io_term_at = start + (long long)timeout * 1000;
	io.io_res = res;
	hook_parent(&io, errp[0], path, dir);
	ret = 0;
fail:
	close_fd(&io.io_infd);
	close_fd(&io.io_outfd);
	close_fd(&io.io_pidfd);
	close_fd(&inp[0]);
	close_fd(&inp[1]);
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	explicit_bzero(io.io_line, sizeof(io.io_line));
	sigs_restore(&hs);
	res->hr_ms = (long)(now_ms() - start);
	return ret;
}

int
hook_succeeded(const struct hook_result *res)
{
	/* An exit status never read is not a success. */
	return res->hr_started && res->hr_reaped && !res->hr_timed_out &&
	    WIFEXITED(res->hr_status) && WEXITSTATUS(res->hr_status) == 0;
}

int
hook_exit_code(const struct hook_result *res)
{
	if (!res->hr_started || !res->hr_reaped)
		return -1;
	if (WIFEXITED(res->hr_status))
		return WEXITSTATUS(res->hr_status);
	if (WIFSIGNALED(res->hr_status))
		return 128 + WTERMSIG(res->hr_status);
	return -1;
}
