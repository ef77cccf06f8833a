/*
 * t_store.h: what the store tests (t_dedup, t_queue) share: a temporary
 * base directory with one fresh state dir per test, and child processes
 * ("holders") that hold a claim, killed and cleaned up at exit even when
 * a CHECK fails.  Include after t.h; call t_store_init first in main.
 */
#ifndef IDHOOK_T_STORE_H
#define IDHOOK_T_STORE_H

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char	 base[PATH_MAX];
static pid_t	 parent;
static int	 ndirs;
static pid_t	 holders[4];	/* killed at exit if a CHECK failed */

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

/* The exit status of pid, 128 + signal when killed. */
static int
xwait(pid_t pid)
{
	int	 st;

	CHECK(waitpid(pid, &st, 0) == pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* SIGKILLs a holder, not reaped (a zombie until xwait). */
static void
holder_kill(pid_t pid)
{
	size_t	 i;

	for (i = 0; i < sizeof(holders) / sizeof(holders[0]); i++)
		if (holders[i] == pid)
			holders[i] = 0;
	CHECK(kill(pid, SIGKILL) == 0);
}

/* A new empty directory under base. */
static const char *
tdir(char *buf, size_t len)
{
	int	 n;

	n = snprintf(buf, len, "%s/d%d", base, ndirs++);
	CHECK(n > 0 && (size_t)n < len);
	CHECK(mkdir(buf, 0700) == 0);
	return buf;
}

/* Makes base ($TMPDIR or /tmp)/<name>.XXXXXX, removed at exit. */
static void
t_store_init(const char *name)
{
	const char	*tmp = getenv("TMPDIR");
	int		 n;

	parent = getpid();
	n = snprintf(base, sizeof(base), "%s/%s.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp", name);
	CHECK(n > 0 && (size_t)n < sizeof(base));
	CHECK(mkdtemp(base) != NULL);
	CHECK(atexit(cleanup) == 0);
}

#endif /* IDHOOK_T_STORE_H */
