/*
 * t_hook.c: hook_find and hook_run against real scripts written into a
 * temporary directory (SPEC section 4, STYLE.md section 7).
 *
 * The test process is a child subreaper, so a hook's orphaned background
 * children come back to it and can be checked and reaped here.
 */
#include "compat.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "hook.h"
#include "log.h"
#include "t.h"

static char	 tmpdir[] = "/tmp/t_hook.XXXXXX";
static char	 out_path[512];
static char	 out_env[600];
static char	 path_env[] = "PATH=/usr/bin:/bin";
static char	*std_envp[] = { path_env, out_env, NULL };
static int	 saved_stderr = -1;

static void
tpath(char *buf, size_t len, const char *name)
{
	int	 n = snprintf(buf, len, "%s/%s", tmpdir, name);

	CHECK(n > 0 && (size_t)n < len);
}

static void
write_file(const char *name, const char *body, mode_t mode)
{
	char	 p[512];
	size_t	 len = strlen(body);
	int	 fd;

	tpath(p, sizeof(p), name);
	(void)unlink(p);
	CHECK((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) != -1);
	CHECK(write(fd, body, len) == (ssize_t)len);
	CHECK(close(fd) == 0);
	CHECK(chmod(p, mode) == 0);
}

/* A malloc'd copy of a file's content, NUL-terminated. */
static char *
read_file(const char *p, size_t *lenp)
{
	char	*buf;
	size_t	 cap = 1 << 20, len = 0;
	ssize_t	 n;
	int	 fd;

	CHECK((buf = malloc(cap + 1)) != NULL);
	CHECK((fd = open(p, O_RDONLY | O_CLOEXEC)) != -1);
	while ((n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	CHECK(n == 0);
	CHECK(close(fd) == 0);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

static int
count_fds(void)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	CHECK((d = opendir("/proc/self/fd")) != NULL);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	CHECK(closedir(d) == 0);
	return n - 1;	/* the directory's own fd */
}

/* Runs hook "name" from tmpdir; checks that no descriptor leaks. */
static void
run_env(const char *name, char *const envp[], const void *in, size_t inlen,
    unsigned timeout, struct hook_result *res)
{
	char	 p[512];
	int	 before = count_fds();

	tpath(p, sizeof(p), name);
	CHECK(hook_run(p, name, tmpdir, envp, in, inlen, timeout, res) == 0);
	CHECK(count_fds() == before);
}

static void
run(const char *name, const char *body, struct hook_result *res)
{
	write_file(name, body, 0755);
	run_env(name, std_envp, NULL, 0, 10, res);
}

static void
capture_start(void)
{
	char	 p[512];
	int	 fd;

	tpath(p, sizeof(p), "stderr");
	CHECK((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1);
	CHECK((saved_stderr = dup(STDERR_FILENO)) != -1);
	CHECK(dup2(fd, STDERR_FILENO) != -1);
	CHECK(close(fd) == 0);
}

static char *
capture_end(size_t *lenp)
{
	char	 p[512];

	CHECK(dup2(saved_stderr, STDERR_FILENO) != -1);
	CHECK(close(saved_stderr) == 0);
	tpath(p, sizeof(p), "stderr");
	return read_file(p, lenp);
}

/* memmem: the log of binary output may hold bytes strstr stops at. */
static int
logged(const char *log, size_t len, const char *s)
{
	return memmem(log, len, s, strlen(s)) != NULL;
}

static void
test_exit(void)
{
	struct hook_result	 res;

	run("ok", "#!/bin/sh\nexit 0\n", &res);
	CHECK(res.hr_started && res.hr_errno == 0 && !res.hr_timed_out);
	CHECK(hook_succeeded(&res));
	CHECK(hook_exit_code(&res) == 0);
	CHECK(res.hr_output == 0);
	run("three", "#!/bin/sh\nexit 3\n", &res);
	CHECK(res.hr_started && !hook_succeeded(&res));
	CHECK(hook_exit_code(&res) == 3);
	/* SIGCHLD ignored by the caller must not break the wait. */
	CHECK(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	run("three", "#!/bin/sh\nexit 3\n", &res);
	CHECK(hook_exit_code(&res) == 3);
	CHECK(signal(SIGCHLD, SIG_DFL) == SIG_IGN);
}

/*
 * Ignored and blocked signals are inherited through execve; the child
 * resets both, so a hook can be killed by the signals we ignore.
 */
static void
test_signals(void)
{
	struct hook_result	 res;
	sigset_t		 set, old;

	CHECK(signal(SIGUSR1, SIG_IGN) != SIG_ERR);
	CHECK(sigemptyset(&set) == 0 && sigaddset(&set, SIGUSR2) == 0);
	CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0);
	run("usr1", "#!/bin/sh\nkill -USR1 $$\nexit 0\n", &res);
	CHECK(res.hr_started && WIFSIGNALED(res.hr_status));
	CHECK(WTERMSIG(res.hr_status) == SIGUSR1);
	CHECK(hook_exit_code(&res) == 128 + SIGUSR1);
	CHECK(!hook_succeeded(&res));
	run("usr2", "#!/bin/sh\nkill -USR2 $$\nexit 0\n", &res);
	CHECK(hook_exit_code(&res) == 128 + SIGUSR2);
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
	CHECK(signal(SIGUSR1, SIG_DFL) == SIG_IGN);
	run("kill9", "#!/bin/sh\nkill -KILL $$\n", &res);
	CHECK(hook_exit_code(&res) == 128 + SIGKILL);
}

static void
test_exec_fail(void)
{
	struct hook_result	 res;
	char			 p[512];

	run("badinterp", "#!/nonexistent/interpreter\nexit 0\n", &res);
	CHECK(!res.hr_started && res.hr_errno == ENOENT);
	CHECK(hook_exit_code(&res) == -1 && !hook_succeeded(&res));
	write_file("noexec", "#!/bin/sh\nexit 0\n", 0644);
	run_env("noexec", std_envp, NULL, 0, 10, &res);
	CHECK(!res.hr_started && res.hr_errno == EACCES);
	run_env("absent", std_envp, NULL, 0, 10, &res);
	CHECK(!res.hr_started && res.hr_errno == ENOENT);
	tpath(p, sizeof(p), "ok");
	CHECK(hook_run(p, "ok", "/nonexistent/dir", std_envp, NULL, 0, 10,
	    &res) == 0);
	CHECK(!res.hr_started && res.hr_errno == ENOENT);
}

/*
 * 300 KiB in while tee writes it all back out: more than either pipe
 * holds, so a parent that did not multiplex would deadlock.  Output past
 * HOOK_OUTPUT_MAX is drained and dropped.
 */
static void
test_stdin_output(void)
{
	struct hook_result	 res;
	size_t			 len = 300 * 1024, i, got;
	uint8_t			*in;
	char			*back, *log;
	size_t			 loglen;

	CHECK((in = malloc(len)) != NULL);
	srandom(7);
	for (i = 0; i < len; i++)
		in[i] = (uint8_t)random();
	write_file("tee", "#!/bin/sh\nexec tee \"$OUT\"\n", 0755);
	capture_start();
	run_env("tee", std_envp, in, len, 10, &res);
	log = capture_end(&loglen);
	CHECK(hook_succeeded(&res));
	CHECK(res.hr_output == HOOK_OUTPUT_MAX);
	CHECK(res.hr_ms < 5000);
	back = read_file(out_path, &got);
	CHECK(got == len && memcmp(back, in, len) == 0);
	CHECK(logged(log, loglen, "level=info hook=tee out="));
	CHECK(logged(log, loglen, "output over 65536 bytes discarded"));
	CHECK(loglen < 6 * HOOK_OUTPUT_MAX);
	free(back);
	free(log);

	/* A hook that reads none of it: EPIPE, not SIGPIPE. */
	CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	run_env("ok", std_envp, in, len, 10, &res);
	CHECK(hook_succeeded(&res));
	CHECK(signal(SIGPIPE, SIG_DFL) == SIG_DFL);	/* put back */

	/* Output first, input after: also no deadlock. */
	write_file("late", "#!/bin/sh\nhead -c 200000 /dev/zero\n"
	    "exec cat > \"$OUT\"\n", 0755);
	run_env("late", std_envp, in, len, 10, &res);
	CHECK(hook_succeeded(&res) && res.hr_output == HOOK_OUTPUT_MAX);
	back = read_file(out_path, &got);
	CHECK(got == len && memcmp(back, in, len) == 0);
	free(back);
	free(in);
}

/* With fd 0 closed in the parent, pipe2 hands out fd 0 itself. */
static void
test_closed_stdin(void)
{
	struct hook_result	 res;
	int			 saved;
	char			*back;
	size_t			 got;

	write_file("cat", "#!/bin/sh\nexec cat > \"$OUT\"\n", 0755);
	CHECK((saved = dup(STDIN_FILENO)) != -1);
	CHECK(close(STDIN_FILENO) == 0);
	run_env("cat", std_envp, "payload", 7, 10, &res);
	CHECK(dup2(saved, STDIN_FILENO) == STDIN_FILENO);
	CHECK(close(saved) == 0);
	CHECK(hook_succeeded(&res));
	back = read_file(out_path, &got);
	CHECK(got == 7 && memcmp(back, "payload", 7) == 0);
	free(back);
}

/*
 * The environment is exactly envp: the hook is /usr/bin/env itself (a
 * symlink, so no shell adds PWD/SHLVL/_) and each output line is logged.
 */
static void
test_env(void)
{
	struct hook_result	 res;
	char			 p[512], *log, *s;
	char			 a[] = "A=1", b[] = "B_2=x y", c[] = "EVENT_Z=";
	char			*envp[] = { a, b, c, NULL };
	int			 n = 0;

	tpath(p, sizeof(p), "envhook");
	(void)unlink(p);
	CHECK(symlink("/usr/bin/env", p) == 0);
	capture_start();
	run_env("envhook", envp, NULL, 0, 10, &res);
	log = capture_end(NULL);
	CHECK(hook_succeeded(&res));
	CHECK(res.hr_output == strlen("A=1\nB_2=x y\nEVENT_Z=\n"));
	CHECK(strstr(log, "level=info hook=envhook out=\"A=1\"\n") != NULL);
	CHECK(strstr(log, "level=info hook=envhook out=\"B_2=x y\"\n") != NULL);
	CHECK(strstr(log, "level=info hook=envhook out=\"EVENT_Z=\"\n") !=
	    NULL);
	for (s = log; (s = strstr(s, " out=")) != NULL; s++)
		n++;
	CHECK(n == 3);
	free(log);
}

/* Our own extra descriptors, and a listening socket as fd 0 (FastCGI). */
static void
test_fds(void)
{
	struct sockaddr_un	 sun;
	struct hook_result	 res;
	char			*got, *l1, *l2, *l3;
	int			 extra[3], p[2], saved, s;

	CHECK((extra[0] = open("/dev/null", O_RDONLY)) != -1);
	CHECK((extra[1] = open(tmpdir, O_RDONLY | O_DIRECTORY)) != -1);
	CHECK(pipe(p) == 0);
	extra[2] = dup(p[0]);
	CHECK((s = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	CHECK(snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock",
	    tmpdir) < (int)sizeof(sun.sun_path));
	CHECK(bind(s, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	CHECK(listen(s, 1) == 0);
	CHECK((saved = dup(STDIN_FILENO)) != -1);
	CHECK(dup2(s, STDIN_FILENO) == STDIN_FILENO);

	run("lsfd", "#!/bin/sh\nexec ls -1 /proc/self/fd > \"$OUT\"\n", &res);
	CHECK(hook_succeeded(&res));
	got = read_file(out_path, NULL);
	/* 3 is the directory ls itself opens to list /proc/self/fd. */
	CHECK(strcmp(got, "0\n1\n2\n3\n") == 0);
	free(got);
	/*
	 * Read before any redirection: dash redirects the shell's own fds
	 * while a redirected command runs.
	 */
	run("links", "#!/bin/sh\nx=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 "
	    "/proc/$$/fd/2)\nprintf '%s\\n' \"$x\" > \"$OUT\"\n", &res);
	CHECK(hook_succeeded(&res));
	got = read_file(out_path, NULL);
	l1 = got;
	CHECK((l2 = strchr(l1, '\n')) != NULL);
	*l2++ = '\0';
	CHECK((l3 = strchr(l2, '\n')) != NULL);
	*l3++ = '\0';
	l3[strcspn(l3, "\n")] = '\0';
	CHECK(strncmp(l1, "pipe:[", 6) == 0 && strncmp(l2, "pipe:[", 6) == 0);
	CHECK(strcmp(l1, l2) != 0 && strcmp(l2, l3) == 0);
	free(got);

	CHECK(dup2(saved, STDIN_FILENO) == STDIN_FILENO);
	CHECK(close(saved) == 0 && close(s) == 0);
	CHECK(close(extra[0]) == 0 && close(extra[1]) == 0);
	CHECK(close(extra[2]) == 0 && close(p[0]) == 0 && close(p[1]) == 0);
}

static void
test_pgrp(void)
{
	struct hook_result	 res;
	char			*got;
	long			 pid, pgrp;

	run("pgrp", "#!/bin/sh\n{ echo $$; cut -d' ' -f5 /proc/$$/stat; } "
	    "> \"$OUT\"\n", &res);
	CHECK(hook_succeeded(&res));
	got = read_file(out_path, NULL);
	CHECK(sscanf(got, "%ld %ld", &pid, &pgrp) == 2);
	CHECK(pid == pgrp && pgrp != (long)getpgrp());
	free(got);
}

/* Reads the pids a hook wrote: its own, then a background child's. */
static void
read_pids(pid_t *hook, pid_t *bg)
{
	char	*got;
	long	 a, b;

	got = read_file(out_path, NULL);
	CHECK(sscanf(got, "%ld %ld", &a, &b) == 2);
	free(got);
	*hook = (pid_t)a;
	*bg = (pid_t)b;
}

static int	 reap_within(pid_t, int *, int);

static void
test_timeout(void)
{
	struct hook_result	 res;
	pid_t			 hook, bg;
	int			 st;

	write_file("slow", "#!/bin/sh\nsleep 30 &\necho $$ $! > \"$OUT\"\n"
	    "wait\n", 0755);
	run_env("slow", std_envp, NULL, 0, 1, &res);
	CHECK(res.hr_started && res.hr_timed_out && !hook_succeeded(&res));
	CHECK(WIFSIGNALED(res.hr_status));
	CHECK(WTERMSIG(res.hr_status) == SIGTERM);
	CHECK(res.hr_ms >= 900 && res.hr_ms < 4000);
	read_pids(&hook, &bg);
	CHECK(waitpid(bg, &st, 0) == bg);	/* TERM went to the group */
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);

	/* TERM ignored by the hook and its child: KILL after the grace. */
	write_file("stubborn", "#!/bin/sh\ntrap '' TERM\nsleep 30 &\n"
	    "echo $$ $! > \"$OUT\"\nwait\n", 0755);
	run_env("stubborn", std_envp, NULL, 0, 1, &res);
	CHECK(res.hr_timed_out && WIFSIGNALED(res.hr_status));
	CHECK(WTERMSIG(res.hr_status) == SIGKILL);
	CHECK(hook_exit_code(&res) == 128 + SIGKILL);
	CHECK(res.hr_ms >= 900 + HOOK_KILL_GRACE * 1000 &&
	    res.hr_ms < 4000 + HOOK_KILL_GRACE * 1000);
	read_pids(&hook, &bg);
	/* The whole group got it: the orphaned sleep came to us, killed. */
	CHECK(waitpid(bg, &st, 0) == bg);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/*
	 * The hook dies of TERM, a child that ignores TERM lives on: the
	 * group still gets its KILL after the grace.
	 */
	write_file("leader", "#!/bin/sh\n(trap '' TERM; exec sleep 30) &\n"
	    "echo $$ $! > \"$OUT\"\nsleep 30\n", 0755);
	run_env("leader", std_envp, NULL, 0, 1, &res);
	CHECK(res.hr_timed_out && WIFSIGNALED(res.hr_status));
	CHECK(WTERMSIG(res.hr_status) == SIGTERM);
	CHECK(res.hr_ms >= 900 + HOOK_KILL_GRACE * 1000 &&
	    res.hr_ms < 4000 + HOOK_KILL_GRACE * 1000);
	read_pids(&hook, &bg);
	if (!reap_within(bg, &st, 1000)) {
		(void)kill(bg, SIGKILL);
		CHECK(!"a TERM-proof child outlived the timed-out hook");
	}
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* A background child holding the output pipe does not hold us up. */
static void
test_background(void)
{
	struct hook_result	 res;
	pid_t			 hook, bg;
	int			 st;

	write_file("bg", "#!/bin/sh\nsleep 30 &\necho $$ $! > \"$OUT\"\n"
	    "echo started\nexit 0\n", 0755);
	run_env("bg", std_envp, NULL, 0, 10, &res);
	CHECK(hook_succeeded(&res) && !res.hr_timed_out);
	CHECK(res.hr_ms < 2000);
	CHECK(res.hr_output == strlen("started\n"));
	read_pids(&hook, &bg);
	CHECK(kill(-hook, SIGKILL) == 0);
	CHECK(waitpid(bg, &st, 0) == bg);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* Polls (10 ms ticks, bounded) until path exists; 0 if it never does. */
static int
wait_file(const char *path, int ms)
{
	struct stat	 st;

	for (; ms > 0; ms -= 10) {
		if (stat(path, &st) == 0)
			return 1;
		CHECK(usleep(10000) == 0);
	}
	return 0;
}

/* Reaps pid within ms, a zombie given back to us as subreaper; 0 if not. */
static int
reap_within(pid_t pid, int *st, int ms)
{
	pid_t	 r;

	for (; ms > 0; ms -= 10) {
		CHECK((r = waitpid(pid, st, WNOHANG)) != -1);
		if (r == pid)
			return 1;
		CHECK(usleep(10000) == 0);
	}
	return 0;
}

/*
 * The process running the hook is SIGKILLed (as idhook may be): the hook
 * must not live on beside the run the sender's retry would start, so it
 * gets SIGTERM (PR_SET_PDEATHSIG).  As subreaper we inherit it and see
 * how it died.
 */
static void
test_parent_death(void)
{
	struct hook_result	 res;
	char			 p[512], *got;
	pid_t			 runner, hook;
	long			 l;
	int			 st, gone;

	tpath(p, sizeof(p), "out.pid");	/* $OUT.pid */
	(void)unlink(p);
	write_file("orphan", "#!/bin/sh\necho $$ > \"$OUT.tmp\"\n"
	    "mv \"$OUT.tmp\" \"$OUT.pid\"\nexec sleep 30\n", 0755);
	CHECK((runner = fork()) != -1);
	if (runner == 0) {
		tpath(p, sizeof(p), "orphan");
		(void)hook_run(p, "orphan", tmpdir, std_envp, NULL, 0, 60,
		    &res);
		_exit(0);
	}
	if (!wait_file(p, 5000)) {
		(void)kill(runner, SIGKILL);
		(void)waitpid(runner, &st, 0);
		CHECK(!"the hook never wrote its pid");
	}
	got = read_file(p, NULL);
	CHECK(sscanf(got, "%ld", &l) == 1 && l > 1);
	free(got);
	hook = (pid_t)l;
	CHECK(kill(runner, SIGKILL) == 0);
	CHECK(waitpid(runner, &st, 0) == runner);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	if (!(gone = reap_within(hook, &st, 3000))) {
		(void)kill(hook, SIGKILL);	/* no leftover before failing */
		(void)waitpid(hook, &st, 0);
	}
	CHECK(gone);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	CHECK(unlink(p) == 0);
}

static void
test_log_lines(void)
{
	struct hook_result	 res;
	char			*log, *s, *e;

	write_file("lg", "#!/bin/sh\nprintf 'hello\\nwor\"ld\\n\\001\\n'\n"
	    "head -c 3000 /dev/zero | tr '\\0' y\necho\n"
	    "head -c 1000 /dev/zero | tr '\\0' '\\001'\necho\n"
	    "printf 'tail'\n", 0755);
	capture_start();
	run_env("lg", std_envp, NULL, 0, 10, &res);
	log = capture_end(NULL);
	CHECK(hook_succeeded(&res));
	CHECK(res.hr_output == 6 + 7 + 2 + 3001 + 1001 + 4);
	CHECK(strstr(log, "level=info hook=lg out=hello\n") != NULL);
	CHECK(strstr(log, "level=info hook=lg out=\"wor\\\"ld\"\n") != NULL);
	CHECK(strstr(log, "level=info hook=lg out=\"\\x01\"\n") != NULL);
	CHECK(strstr(log, "level=info hook=lg out=tail\n") != NULL);
	/* The long line: cut at HOOK_LOG_LINE_MAX and marked. */
	CHECK((s = strstr(log, "out=yyy")) != NULL);
	e = strchr(s, ' ');
	CHECK(e != NULL && (size_t)(e - s) == 4 + HOOK_LOG_LINE_MAX);
	CHECK(strncmp(e, " cut=1\n", 7) == 0);
	/* Escaped bytes: cut so the line still fits a log line. */
	CHECK((s = strstr(log, "out=\"\\x01\\x01")) != NULL);
	e = strchr(s, '\n');
	CHECK(e != NULL && (size_t)(e - s) < LOG_LINE_MAX);
	CHECK(strncmp(e - 6, " cut=1", 6) == 0);
	CHECK(strstr(log, "truncated=1") == NULL);
	free(log);
}

/* Out of descriptors after two of the three pipes: -1, nothing leaks. */
static void
test_no_fds(void)
{
	struct hook_result	 res;
	struct rlimit		 rl, low;
	char			 p[512];
	int			 before = count_fds(), fd;

	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	CHECK((fd = dup(STDIN_FILENO)) != -1);	/* the lowest free fd */
	CHECK(close(fd) == 0);
	low = rl;
	low.rlim_cur = (rlim_t)fd + 4;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	tpath(p, sizeof(p), "ok");
	CHECK(hook_run(p, "ok", tmpdir, std_envp, NULL, 0, 10, &res) == -1);
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	CHECK(!res.hr_started);
	CHECK(count_fds() == before);
}

static void
test_find(void)
{
	char	 p[512], want[512], d[512];

	write_file("ev.one", "#!/bin/sh\nexit 0\n", 0755);
	CHECK(hook_find(tmpdir, "ev.one", p, sizeof(p)) == 0);
	tpath(want, sizeof(want), "ev.one");
	CHECK(strcmp(p, want) == 0);
	/* No such event: default, then nothing. */
	CHECK(hook_find(tmpdir, "ev.two", p, sizeof(p)) == 1);
	CHECK(p[0] == '\0');
	write_file("default", "#!/bin/sh\nexit 0\n", 0755);
	CHECK(hook_find(tmpdir, "ev.two", p, sizeof(p)) == 0);
	tpath(want, sizeof(want), "default");
	CHECK(strcmp(p, want) == 0);
	CHECK(hook_find(tmpdir, "ev.one", p, sizeof(p)) == 0);
	CHECK(strstr(p, "/ev.one") != NULL);
	/* A symlink to a script is a hook. */
	tpath(p, sizeof(p), "ev.link");
	CHECK(symlink("ev.one", p) == 0);
	CHECK(hook_find(tmpdir, "ev.link", p, sizeof(p)) == 0);
	CHECK(strstr(p, "/ev.link") != NULL);
	/* Present but unusable: no fallback to default. */
	tpath(d, sizeof(d), "ev.dir");
	CHECK(mkdir(d, 0755) == 0);
	CHECK(hook_find(tmpdir, "ev.dir", p, sizeof(p)) == -1);
	write_file("ev.nox", "#!/bin/sh\nexit 0\n", 0644);
	CHECK(hook_find(tmpdir, "ev.nox", p, sizeof(p)) == -1);
	tpath(p, sizeof(p), "ev.dangling");
	CHECK(symlink("nonexistent", p) == 0);
	CHECK(hook_find(tmpdir, "ev.dangling", p, sizeof(p)) == -1);
	tpath(p, sizeof(p), "ev.linkdir");
	CHECK(symlink("ev.dir", p) == 0);
	CHECK(hook_find(tmpdir, "ev.linkdir", p, sizeof(p)) == -1);
	/* The path does not fit. */
	CHECK(hook_find(tmpdir, "ev.one", p, strlen(tmpdir) + 3) == -1);
	CHECK(hook_find(tmpdir, "ev.one", p, strlen(tmpdir) + 8) == 0);
	CHECK(hook_find(tmpdir, "ev.one", p, strlen(tmpdir) + 7) == -1);
	/* A default that is not executable is an error too. */
	write_file("default", "#!/bin/sh\nexit 0\n", 0600);
	CHECK(hook_find(tmpdir, "ev.two", p, sizeof(p)) == -1);
	CHECK(hook_find("/nonexistent/hooks", "ev.one", p, sizeof(p)) == 1);
	CHECK(rmdir(d) == 0);
}

static void
cleanup(void)
{
	struct dirent	*de;
	DIR		*dir;
	char		 p[512];

	CHECK((dir = opendir(tmpdir)) != NULL);
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		tpath(p, sizeof(p), de->d_name);
		CHECK(unlink(p) == 0);
	}
	CHECK(closedir(dir) == 0);
	CHECK(rmdir(tmpdir) == 0);
}

int
main(void)
{
	int	 n;

	CHECK(mkdtemp(tmpdir) != NULL);
	tpath(out_path, sizeof(out_path), "out");
	n = snprintf(out_env, sizeof(out_env), "OUT=%s", out_path);
	CHECK(n > 0 && (size_t)n < sizeof(out_env));
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	log_set_level(LOG_INFO);
	test_find();
	test_exit();
	test_signals();
	test_exec_fail();
	test_no_fds();
	test_stdin_output();
	test_closed_stdin();
	test_env();
	test_fds();
	test_pgrp();
	test_timeout();
	test_background();
	test_parent_death();
	test_log_lines();
	cleanup();
	return 0;
}
