/*
 * cli.h: the operator commands (SPEC section 8), each a subcommand of the
 * one binary.  Exit codes: 0 ok, 1 failure, 2 usage.
 */
#ifndef IDHOOK_CLI_H
#define IDHOOK_CLI_H

#include <stddef.h>

#define CLI_OK		0
#define CLI_FAIL	1
#define CLI_USAGE	2

/*
 * cli_main: runs the subcommand named by argv[1] and returns its exit
 * code; -1 when argv[1] is not a subcommand (main.c serves requests).
 * "idhook help [CMD]" lists the commands or shows CMD --help.
 */
int	 cli_main(int argc, char *argv[]);

/* Each: argv[0] is the subcommand name; returns the exit code. */
int	 cmd_check(int argc, char *argv[]);
int	 cmd_keygen(int argc, char *argv[]);
int	 cmd_sign(int argc, char *argv[]);
int	 cmd_deliver(int argc, char *argv[]);
int	 cmd_dedup(int argc, char *argv[]);
int	 cmd_queue(int argc, char *argv[]);

/*
 * cli_config_path: the config file (SPEC section 1): given when not
 * NULL, else idhook.conf beside the program, ~/idhook/idhook.conf of the
 * effective user, SYSCONFDIR/idhook/idhook.conf.  Shared with main.c.
 * Returns 0, or -1 if the path does not fit in len.
 */
int	 cli_config_path(const char *given, char *buf, size_t len);

/*
 * cli_load_config: the config of -c arg (NULL: IDHOOK_CONFIG, then the
 * search above), loaded with config_load.  Returns 0 and *cfgp, or -1
 * (logged).
 */
struct config;
int	 cli_load_config(const char *arg, struct config **cfgp);

/*
 * cli_as_state_owner: when running as root, switches for good to the
 * owner (uid and gid) of dir, so that LMDB's files never become root's
 * (SPEC section 8).  Refuses a state dir owned by root.  0 or -1.
 */
int	 cli_as_state_owner(const char *dir);

/* The HTTP answer to a pipeline result (enum pipeline_result). */
struct cli_answer {
	int		 ca_status;
	const char	*ca_reason;
	const char	*ca_word;
	const char	*ca_header;	/* extra header line or NULL */
};
const struct cli_answer *cli_answer(int result);

/* Prints "usage: idhook NAME SYNOPSIS" to stderr, returns CLI_USAGE. */
int	 cli_usage(const char *name, const char *synopsis);

#endif /* IDHOOK_CLI_H */
