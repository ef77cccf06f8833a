/*
 * cmd_check.c: idhook check [-c FILE]: every problem of a deployment at
 * once (SPEC section 8).  config_load already reports syntax, unknown
 * keys, file modes, key sizes and empty secrets as FILE:LINE: KEY; this
 * adds what only matters once the server runs: hooks that cannot run,
 * hook names no sender emits (likely typos), and the state dir.
 */
#include "compat.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "log.h"

#define CHECK_SYNOPSIS	"[-c FILE]"

struct check {
	const struct config	*ck_cf;
	int			 ck_problems;
	int			 ck_hooks;
};

static void __attribute__((format(printf, 3, 4)))
problem(struct check *ck, const char *path, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s: %s", path, msg);
	ck->ck_problems++;
}

/*
 * A name is a typo when every provider of the endpoints using dir lists
 * its event types and none lists it; "default" is always fine.
 */
static int
hook_name_known(const struct config *cf, const char *dir, const char *name)
{
	const char *const	*t;
	size_t			 i;

	if (strcmp(name, "default") == 0)
		return 1;
	for (i = 0; i < cf->cf_nendpoints; i++) {
		if (cf->cf_endpoints[i].ep_hooks_dir == NULL ||
		    strcmp(cf->cf_endpoints[i].ep_hooks_dir, dir) != 0)
			continue;
		t = cf->cf_endpoints[i].ep_provider->pv_event_types;
		if (t == NULL)
			return 1;
		for (; *t != NULL; t++)
			if (strcmp(*t, name) == 0)
				return 1;
	}
	return 0;
}

/* Executable, and a script: hooks run with execve, no shell (SPEC 4). */
static void
check_hook(struct check *ck, const char *dir, const char *name)
{
	struct stat	 st;
	char		 path[PATH_MAX], head[2];
	int		 fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		problem(ck, dir, "%s: path too long", name);
		return;
	}
	ck->ck_hooks++;
	if (stat(path, &st) == -1) {
		problem(ck, path, "%s", strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(ck, path, "not a regular file");
		return;
	}
	if ((st.st_mode & 0111) == 0)
		problem(ck, path, "not executable (chmod 755 %s)", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		problem(ck, path, "cannot read: %s", strerror(errno));
		return;
	}
	if (read(fd, head, sizeof(head)) != 2 || memcmp(head, "#!", 2) != 0)
		problem(ck, path, "does not start with #! (hooks are run "
		    "without a shell)");
	close(fd);
	if (!hook_name_known(ck->ck_cf, dir, name))
		problem(ck, path, "no sender of this hooks_dir emits an event "
		    "called %s (a typo?)", name);
}

static void
check_hooks_dir(struct check *ck, const char *dir)
{
	struct dirent	*de;
	DIR		*d;

	if ((d = opendir(dir)) == NULL) {
		problem(ck, dir, "hooks_dir: %s", strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;	/* ., .., editors' dotfiles */
		check_hook(ck, dir, de->d_name);
	}
	closedir(d);
}

/* Each hooks_dir once, though several endpoints may share it. */
static void
check_all_hooks(struct check *ck)
{
	const struct config	*cf = ck->ck_cf;
	size_t			 i, j;

	for (i = 0; i < cf->cf_nendpoints; i++) {
		if (cf->cf_endpoints[i].ep_hooks_dir == NULL)
			continue;
		for (j = 0; j < i; j++)
			if (cf->cf_endpoints[j].ep_hooks_dir != NULL &&
			    strcmp(cf->cf_endpoints[i].ep_hooks_dir,
			    cf->cf_endpoints[j].ep_hooks_dir) == 0)
				break;
		if (j == i)
			check_hooks_dir(ck, cf->cf_endpoints[i].ep_hooks_dir);
	}
}

/* Can uid (in group gid) write and enter a directory with st? */
static int
can_write(const struct stat *st, uid_t uid, gid_t gid)
{
	if (uid == 0)
		return 1;
	if (st->st_uid == uid)
		return (st->st_mode & 0300) == 0300;
	if (st->st_gid == gid)
		return (st->st_mode & 0030) == 0030;
	return (st->st_mode & 0003) == 0003;
}

/*
 * The user the server runs hooks as: user = (started as root), else the
 * owner of the state dir when we are root (cli_as_state_owner), else us.
 */
static void
server_user(const struct config *cf, const struct stat *st, uid_t *uid,
    gid_t *gid)
{
	struct passwd	*pw;

	*uid = geteuid();
	*gid = getegid();
	if (*uid != 0)
		return;
	if (cf->cf_user != NULL && (pw = getpwnam(cf->cf_user)) != NULL) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	} else {
		*uid = st->st_uid;
		*gid = st->st_gid;
	}
}

/* LMDB's files must stay the server user's (SPEC section 8). */
static void
check_state_files(struct check *ck, const char *dir, uid_t uid)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	struct stat	 st;
	char		 path[PATH_MAX];
	size_t		 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    files[i]) >= sizeof(path) || stat(path, &st) == -1)
			continue;
		if (st.st_uid != uid)
			problem(ck, path, "owned by uid %u, not the server's "
			    "uid %u (chown it)", (unsigned)st.st_uid,
			    (unsigned)uid);
	}
}

static void
check_state_dir(struct check *ck)
{
	const char	*dir = ck->ck_cf->cf_state_dir;
	struct stat	 st;
	uid_t		 uid;
	gid_t		 gid;

	if (stat(dir, &st) == -1) {
		problem(ck, dir, "state_dir: %s (mkdir it, owned by the "
		    "server's user)", strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		problem(ck, dir, "state_dir: not a directory");
		return;
	}
	server_user(ck->ck_cf, &st, &uid, &gid);
	if (uid == 0)
		problem(ck, dir, "state_dir: the server would run as root "
		    "(chown it to the server's user, or set user =)");
	else if (!can_write(&st, uid, gid))
		problem(ck, dir, "state_dir: not writable by uid %u",
		    (unsigned)uid);
	else if (geteuid() != 0 && access(dir, W_OK | X_OK) == -1)
		problem(ck, dir, "state_dir: %s", strerror(errno));
	/* Queued payloads are personal data (SPEC section 9). */
	if (config_has_queue(ck->ck_cf) && (st.st_mode & 077) != 0)
		problem(ck, dir, "state_dir: mode %04o, but queue mode keeps "
		    "payloads there: chmod 700 %s",
		    (unsigned)(st.st_mode & 07777), dir);
	check_state_files(ck, dir, uid);
}

static int
check_usage(int code)
{
	if (code != CLI_OK)
		return cli_usage("check", CHECK_SYNOPSIS);
	printf("usage: idhook check " CHECK_SYNOPSIS "\n\n"
	    "Checks the config (syntax, unknown keys, secret and key files,\n"
	    "their modes and sizes), every hook (executable, starts with #!,\n"
	    "named after an event type its sender emits) and the state dir\n"
	    "(writable by the server's user).  Prints every problem; exit 1\n"
	    "if there is any, else a summary and 0.\n\n"
	    "  -c FILE  config file (default: as the server finds it)\n");
	return CLI_OK;
}

int
cmd_check(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct config	*cf = NULL;
	struct check	 ck;
	const char	*conf = NULL;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			return check_usage(CLI_OK);
		default:
			return check_usage(CLI_USAGE);
		}
	}
	if (optind != argc)
		return check_usage(CLI_USAGE);
	if (cli_load_config(conf, &cf) == -1) {
		fprintf(stderr, "idhook check: the config has problems "
		    "(above)\n");
		return CLI_FAIL;
	}
	memset(&ck, 0, sizeof(ck));
	ck.ck_cf = cf;
	check_all_hooks(&ck);
	check_state_dir(&ck);
	if (ck.ck_problems == 0)
		printf("%s: ok: %zu endpoint(s), %d hook(s), state_dir %s\n",
		    cf->cf_path, cf->cf_nendpoints, ck.ck_hooks,
		    cf->cf_state_dir);
	else
		fprintf(stderr, "idhook check: %d problem(s)\n",
		    ck.ck_problems);
	config_free(cf);
	return ck.ck_problems == 0 ? CLI_OK : CLI_FAIL;
}
