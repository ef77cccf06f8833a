/*
 * cli.c: the operator subcommands' dispatch table, the shared config
 * discovery, and the switch to the state dir's owner (SPEC section 8).
 */
#include "compat.h"

#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "pipeline.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

static const struct {
	const char	*name;
	int		(*fn)(int, char *[]);
	const char	*what;
} commands[] = {
	{ "check", cmd_check, "validate the config, keys, hooks, state dir" },
	{ "keygen", cmd_keygen, "make an RSA key and its public JWK" },
	{ "sign", cmd_sign, "make a signed test delivery" },
	{ "deliver", cmd_deliver, "run a delivery without a web server" },
	{ "dedup", cmd_dedup, "list, show, forget, prune dedup records" },
	{ "queue", cmd_queue,
	    "list, show, retry, drop queued jobs; run the queue" },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const struct cli_answer answers[PR_COUNT] = {
	[PR_DELIVERED] = { 200, "OK", "delivered", NULL },
	[PR_DUPLICATE] = { 200, "OK", "duplicate", NULL },
	[PR_QUEUED] = { 202, "Accepted", "queued", NULL },
	[PR_IN_PROGRESS] = { 409, "Conflict", "in_progress", NULL },
	[PR_BAD_SIGNATURE] = { 400, "Bad Request", "invalid_signature", NULL },
	[PR_BAD_PAYLOAD] = { 400, "Bad Request", "invalid_payload", NULL },
	[PR_BAD_REQUEST] = { 400, "Bad Request", "bad_request", NULL },
	[PR_NOT_FOUND] = { 404, "Not Found", "not_found", NULL },
	[PR_BAD_METHOD] = { 405, "Method Not Allowed", "method_not_allowed",
	    "Allow: POST" },
	[PR_TOO_LARGE] = { 413, "Content Too Large", "too_large", NULL },
	[PR_HOOK_FAILED] = { 500, "Internal Server Error", "hook_failed",
	    NULL },
	[PR_ERROR] = { 500, "Internal Server Error", "error", NULL },
	[PR_UNAVAILABLE] = { 503, "Service Unavailable", "unavailable",
	    "Retry-After: 60" },
};

const struct cli_answer *
cli_answer(int result)
{
	if (result < 0 || result >= PR_COUNT)
		result = PR_ERROR;
	return &answers[result];
}

int
cli_usage(const char *name, const char *synopsis)
{
	fprintf(stderr, "usage: idhook %s %s\n", name, synopsis);
	return CLI_USAGE;
}

static void
list_commands(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: idhook COMMAND [ARGS]   (idhook help COMMAND)\n\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\nWithout a command idhook serves requests "
	    "(idhook --help).\n");
}

static int
help(int argc, char *argv[])
{
	static char	 flag[] = "--help";
	char		*hv[3];
	size_t		 i;

	if (argc > 2)
		return cli_usage("help", "[COMMAND]");
	if (argc == 2) {
		for (i = 0; i < NCOMMANDS; i++) {
			if (strcmp(argv[1], commands[i].name) != 0)
				continue;
			hv[0] = argv[1];
			hv[1] = flag;
			hv[2] = NULL;
			optind = 1;
			return commands[i].fn(2, hv);
		}
		fprintf(stderr, "idhook help: unknown command %s\n", argv[1]);
		return CLI_USAGE;
	}
	list_commands(stdout);
	return CLI_OK;
}

int
cli_main(int argc, char *argv[])
{
	char	*swap;
	size_t	 i;

	/*
	 * "idhook -c FILE CMD ..." is "idhook CMD -c FILE ...": every
	 * command that reads the config takes -c.
	 */
	if (argc >= 4 && strcmp(argv[1], "-c") == 0 && argv[3][0] != '-' &&
	    strcmp(argv[3], "help") != 0) {
		swap = argv[3];
		argv[3] = argv[2];
		argv[2] = argv[1];
		argv[1] = swap;
	}
	if (argc < 2 || argv[1][0] == '-')
		return -1;
	/*
	 * A CGI request's query without '=' becomes argv words (RFC 3875
	 * section 4.4): a web request must never run an operator command.
	 */
	if (getenv("GATEWAY_INTERFACE") != NULL)
		return -1;
	optind = 1;
	if (strcmp(argv[1], "help") == 0)
		return help(argc - 1, argv + 1);
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "idhook: unknown command %s\n", argv[1]);
	list_commands(stderr);
	return CLI_USAGE;
}

static int
exists(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0;
}

/* SPEC section 1: first match wins. */
int
cli_config_path(const char *given, char *buf, size_t len)
{
	struct passwd	*pw;
	char		 exe[PATH_MAX], *slash;
	ssize_t		 n;

	if (given != NULL)
		return strlcpy(buf, given, len) < len ? 0 : -1;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		if ((size_t)snprintf(buf, len, "%s/idhook.conf", exe) < len &&
		    exists(buf))
			return 0;
	}
	/* suEXEC strips HOME: ask the password database. */
	if ((pw = getpwuid(geteuid())) != NULL &&
	    (size_t)snprintf(buf, len, "%s/idhook/idhook.conf", pw->pw_dir)
	    < len && exists(buf))
		return 0;
	return strlcpy(buf, SYSCONFDIR "/idhook/idhook.conf", len) < len ?
	    0 : -1;
}

int
cli_load_config(const char *arg, struct config **cfgp)
{
	char		 path[PATH_MAX];
	const char	*e = arg;

	if (e == NULL && (e = getenv("IDHOOK_CONFIG")) != NULL &&
	    e[0] == '\0')
		e = NULL;
	if (cli_config_path(e, path, sizeof(path)) == -1) {
		log_error("config path too long");
		return -1;
	}
	if (config_load(path, cfgp) == -1)
		return -1;
	log_set_level((*cfgp)->cf_log_level);
	return 0;
}

int
cli_as_state_owner(const char *dir)
{
	struct stat	 st;

	if (geteuid() != 0)
		return 0;
	if (stat(dir, &st) == -1) {
		log_error("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (st.st_uid == 0) {
		log_error("%s: owned by root: chown it to the server's user",
		    dir);
		return -1;
	}
	if (setgroups(1, &st.st_gid) == -1 ||
	    setresgid(st.st_gid, st.st_gid, st.st_gid) == -1 ||
	    setresuid(st.st_uid, st.st_uid, st.st_uid) == -1) {
		log_error("cannot switch to the owner of %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}
