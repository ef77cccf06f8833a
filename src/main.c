/*
 * main.c: argv, CGI or FastCGI, config discovery and reload, privilege
 * drop, the accept loop, and the one table from pipeline results to HTTP
 * statuses.
 */
#include "compat.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjose/util.h>
#include <fcgiapp.h>
#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "dedup.h"
#include "log.h"
#include "pipeline.h"
#include "queue.h"
#include "request.h"
#include "runner.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

extern char **environ;

/* Process-wide state; a FastCGI process keeps it between requests. */
static struct {
	const char	*arg_config;	/* -c FILE */
	char		*env_config;	/* IDHOOK_CONFIG at startup */
	struct config	*cfg;
	struct dedup	*dedup;
	struct pipeline_ctx pc;		/* lives as long as the process */
	char		*dedup_dir;	/* state_dir dedup was opened in */
	size_t		 dedup_map;	/* with this map_size */
	char		 home[PATH_MAX];
	char		 found[PATH_MAX];	/* config found by searching */
	char		 failed_path[PATH_MAX];	/* last config that failed */
	struct config_stamp failed;
	time_t		 failed_at;
	int		 is_root;	/* still root: refuse requests */
	unsigned	 cfg_gen;	/* counts config loads */
	/* FastCGI: runner children, each for the config of one load. */
	struct {
		pid_t		 pid;	/* 0: free slot */
		unsigned	 gen;
		int		 leavefd;	/* its "leaving" pipe */
		int		 leaving;	/* said it is leaving */
	}		 runners[QUEUE_RUNNERS_MAX];
} g;

static void __attribute__((noreturn))
usage(int code)
{
	fprintf(code == 0 ? stdout : stderr,
	    "usage: idhook [-c FILE]\n"
	    "       idhook check | keygen | sign | deliver | dedup | queue\n"
	    "       idhook help [COMMAND] | --help | --version\n"
	    "\n"
	    "idhook receives signed (and encrypted) webhooks as a FastCGI\n"
	    "or CGI program and runs one hook script per event type.\n"
	    "Started by a web server it serves requests; see README.md.\n"
	    "\n"
	    "  -c FILE    config file (else IDHOOK_CONFIG, idhook.conf beside\n"
	    "             the program, ~/idhook/idhook.conf, "
	    SYSCONFDIR "/idhook/idhook.conf)\n");
	exit(code);
}

/*
 * jansson holds decrypted payload values and cjose the JWK text of private
 * keys: their memory is wiped when freed (or moved by realloc).
 */
static void
wiping_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void *
wiping_realloc(void *p, size_t n)
{
	void	*q;
	size_t	 old;

	if (p == NULL)
		return malloc(n);
	if ((q = malloc(n)) == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	wiping_free(p);
	return q;
}

static void
harden(void)
{
	struct rlimit	 rl = { 0, 0 };

	/* A core dump would hold keys, secrets and plaintext. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)signal(SIGPIPE, SIG_IGN);
	cjose_set_alloc_funcs(malloc, wiping_realloc, wiping_free);
	json_set_alloc_funcs(malloc, wiping_free);
}

/*
 * Started with fd 0, 1 or 2 closed, the next open (an LMDB file, a pipe)
 * would become "stdin" or "stderr", and log lines would go into it.
 */
static void
stdio_open(void)
{
	int	 fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", O_RDWR) == -1)
			_exit(1);
}

static int
exists(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0;
}

/* SPEC section 1: first match wins; the search itself is cli.c's. */
static int
locate_config(char *const *params, char *buf, size_t len)
{
	const char	*p = g.arg_config;

	if (p == NULL)
		p = g.env_config;
	if (p == NULL)
		p = request_param(params, "IDHOOK_CONFIG", NULL);
	if (p == NULL && g.found[0] != '\0')
		p = g.found;	/* searched once per process */
	return cli_config_path(p, buf, len);
}

static int
drop_privileges(const char *user)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL) {
		log_error("user %s: no such user", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		log_error("user %s: refusing to run requests as root", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		log_error("cannot switch to user %s: %s", user,
		    strerror(errno));
		return -1;
	}
	/* setresuid resets "dumpable" to fs.suid_dumpable: no cores. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

static void
set_home(void)
{
	struct passwd	*pw = getpwuid(geteuid());

	strlcpy(g.home, pw != NULL ? pw->pw_dir : "/", sizeof(g.home));
}

/* Opens the dedup store for the current config if it is not open there. */
static void
ensure_dedup(void)
{
	const struct config	*cf = g.cfg;

	if (cf == NULL || g.is_root)
		return;
	if (g.dedup != NULL && strcmp(g.dedup_dir, cf->cf_state_dir) == 0 &&
	    g.dedup_map == cf->cf_map_size)
		return;
	dedup_close(g.dedup);
	g.dedup = NULL;
	free(g.dedup_dir);
	g.dedup_dir = NULL;
	if (dedup_open(cf->cf_state_dir, cf->cf_map_size, &g.dedup) == -1)
		return;
	if ((g.dedup_dir = strdup(cf->cf_state_dir)) == NULL) {
		dedup_close(g.dedup);
		g.dedup = NULL;
		return;
	}
	g.dedup_map = cf->cf_map_size;
}

static void
swap_config(struct config *cf)
{
	if (g.cfg != NULL)
		log_info("%s: config reloaded", cf->cf_path);
	config_free(g.cfg);
	g.cfg = cf;
	g.cfg_gen++;
	log_set_level(cf->cf_log_level);
	log_debug("%s: config loaded, %zu endpoint(s)", cf->cf_path,
	    cf->cf_nendpoints);
	if (g.is_root && cf->cf_user != NULL &&
	    drop_privileges(cf->cf_user) == 0) {
		g.is_root = 0;
		set_home();
	}
	ensure_dedup();
}

/*
 * The config for this request: the one loaded, loaded again if its file
 * changed, or another file a request parameter names.  A broken new
 * version of the loaded file keeps the old one (SPEC section 1); a broken
 * other file gives NULL, never the config of another site.  A file that
 * failed is parsed again only when it changes or CONFIG_RETRY seconds
 * have passed (a key file's mode may have been fixed): not per request.
 */
static struct config *
ensure_config(char *const *params)
{
	struct config		*cf;
	struct config_stamp	 now;
	char			 path[PATH_MAX];
	int			 same;

	if (locate_config(params, path, sizeof(path)) == -1) {
		log_error("config path too long");
		return NULL;
	}
	if (g.arg_config == NULL && g.env_config == NULL &&
	    request_param(params, "IDHOOK_CONFIG", NULL) == NULL)
		strlcpy(g.found, path, sizeof(g.found));
	config_stamp(path, &now);
	same = g.cfg != NULL && strcmp(g.cfg->cf_path, path) == 0;
	if (same && config_stamp_eq(&g.cfg->cf_stamp, &now))
		return g.cfg;
	if (strcmp(g.failed_path, path) == 0 &&
	    config_stamp_eq(&g.failed, &now) &&
	    time(NULL) - g.failed_at < CONFIG_RETRY)
		return same ? g.cfg : NULL;
	if (config_load(path, &cf) == -1) {
		strlcpy(g.failed_path, path, sizeof(g.failed_path));
		g.failed = now;
		g.failed_at = time(NULL);
		if (!same)
			return NULL;
		log_error("%s: keeping the config loaded before", path);
		return g.cfg;
	}
	g.failed_path[0] = '\0';
	swap_config(cf);
	return g.cfg;
}

static void
log_delivery(const struct outcome *oc, int status, long ms)
{
	struct logline	 l;

	logline_init(&l, oc->oc_level);
	logline_add(&l, "endpoint", oc->oc_endpoint);
	logline_add(&l, "provider", oc->oc_provider);
	if (oc->oc_event[0] != '\0')
		logline_add(&l, "event", oc->oc_event);
	if (oc->oc_id[0] != '\0')
		logline_add(&l, "id", oc->oc_id);
	if (oc->oc_delivery[0] != '\0')
		logline_add(&l, "delivery", oc->oc_delivery);
	logline_addf(&l, "status", "%d", status);
	logline_add(&l, "result", cli_answer(oc->oc_result)->ca_word);
	if (oc->oc_hook_exit != -1)
		logline_addf(&l, "hook_exit", "%d", oc->oc_hook_exit);
	if (oc->oc_attempt > 0)
		logline_addf(&l, "attempt", "%u", oc->oc_attempt);
	if (oc->oc_job != 0)
		logline_addf(&l, "job", "%u", oc->oc_job);
	if (oc->oc_kid[0] != '\0' && oc->oc_result == PR_ERROR)
		logline_add(&l, "kid", oc->oc_kid);
	logline_add(&l, "reason", oc->oc_reason);
	logline_addf(&l, "ms", "%ld", ms);
	logline_emit(&l);
}

static int64_t
clock_now(void)
{
	return (int64_t)time(NULL);
}

static int
serve(struct request *rq)
{
	struct pipeline_ctx	*pc = &g.pc;
	const struct cli_answer	*an;
	struct config		*cf;
	struct outcome		 oc;
	struct timespec		 t0;
	int			 status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cf = ensure_config(rq->rq_params);
	memset(&oc, 0, sizeof(oc));
	oc.oc_hook_exit = -1;
	if (cf == NULL) {
		oc.oc_result = PR_UNAVAILABLE;
		oc.oc_level = LOG_ERROR;
		oc.oc_reason = "no usable config (see the errors above)";
	} else if (g.is_root) {
		oc.oc_result = PR_UNAVAILABLE;
		oc.oc_level = LOG_ERROR;
		oc.oc_reason = "refusing to run hooks as root: set user = "
		    "in [idhook]";
	} else {
		ensure_dedup();
		pc->pc_cfg = cf;
		pc->pc_dedup = g.dedup;
		pc->pc_home = g.home;
		pc->pc_clock = clock_now;
		pipeline_handle(pc, rq, &oc);	/* reads and wipes the body */
	}
	request_discard_body(rq, BODY_MAX);
	an = cli_answer(oc.oc_result);
	status = an->ca_status;
	(void)request_respond(rq, status, an->ca_reason, an->ca_header,
	    an->ca_word);
	log_delivery(&oc, status, log_elapsed_ms(&t0));
	return oc.oc_result;
}

static void
runner_forget(size_t i)
{
	if (g.runners[i].leavefd != -1)
		(void)close(g.runners[i].leavefd);
	g.runners[i].leavefd = -1;
	g.runners[i].pid = 0;
	g.runners[i].leaving = 0;
}

/*
 * Reaps ended runner children, and notes the ones that said they are
 * leaving (runner_spawn): a job queued now needs a new runner.
 */
static void
reap_runners(void)
{
	size_t	 i;
	ssize_t	 n;
	pid_t	 pid, rv;
	char	 buf[16];
	int	 st;

	for (i = 0; i < QUEUE_RUNNERS_MAX; i++) {
		if ((pid = g.runners[i].pid) <= 0)
			continue;
		while ((n = read(g.runners[i].leavefd, buf, sizeof(buf))) > 0)
			g.runners[i].leaving = 1;
		if (n == 0)	/* EOF: it has closed its end, going or gone */
			g.runners[i].leaving = 1;
		rv = waitpid(pid, &st, WNOHANG);
		if (rv == 0 || (rv == -1 && errno != ECHILD))
			continue;
		/* ECHILD: reaped by someone else; the pid may be reused. */
		if (rv == pid && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
			log_warn("queue runner %ld ended with status %d",
			    (long)pid, st);
		runner_forget(i);
	}
}

/*
 * FastCGI, after a response has gone out: make sure a runner child works
 * on the queue of the current config (SPEC section 9) while this process
 * goes back to accepting, so that no answer waits for a hook.  A fresh
 * job wakes our runner, unless it said it is leaving; with none, one is
 * started when jobs are live (queued now, or left by a runner that died).
 */
static void
drive_queue(int result)
{
	size_t	 i, slot = QUEUE_RUNNERS_MAX;
	pid_t	 pid;
	int	 fd;

	reap_runners();
	if (g.cfg == NULL || g.is_root || g.dedup == NULL)
		return;
	for (i = 0; i < QUEUE_RUNNERS_MAX; i++) {
		if (g.runners[i].pid > 0 && g.runners[i].gen == g.cfg_gen &&
		    !g.runners[i].leaving) {
			if (result == PR_QUEUED)
				(void)kill(g.runners[i].pid, SIGUSR1);
			return;
		}
		if (g.runners[i].pid == 0 && slot == QUEUE_RUNNERS_MAX)
			slot = i;
	}
	if (result != PR_QUEUED && queue_live(g.dedup, g.cfg) <= 0)
		return;
	if (slot == QUEUE_RUNNERS_MAX) {
		log_warn("%d queue runners of this process are still ending: "
		    "the next request (or idhook queue run) starts one",
		    QUEUE_RUNNERS_MAX);
		return;
	}
	g.pc.pc_cfg = g.cfg;
	g.pc.pc_dedup = g.dedup;
	g.pc.pc_home = g.home;
	g.pc.pc_clock = clock_now;
	if ((pid = runner_spawn(&g.pc, &fd)) > 0) {
		g.runners[slot].pid = pid;
		g.runners[slot].gen = g.cfg_gen;
		g.runners[slot].leavefd = fd;
		g.runners[slot].leaving = 0;
	}
}

static int
serve_fastcgi(void)
{
	FCGX_Request	 req;
	struct request	 rq;
	size_t		 i;
	int		 result;

	if (FCGX_InitRequest(&req, 0, 0) != 0) {
		log_error("FCGX_InitRequest failed");
		return 1;
	}
	/*
	 * Runner children are waited for: an inherited SIG_IGN would have
	 * the kernel reap them, and their pids be reused, behind our back.
	 */
	(void)signal(SIGCHLD, SIG_DFL);
	for (i = 0; i < QUEUE_RUNNERS_MAX; i++)
		g.runners[i].leavefd = -1;
	drive_queue(-1);	/* jobs left from before a restart */
	while (FCGX_Accept_r(&req) >= 0) {
		memset(&rq, 0, sizeof(rq));
		rq.rq_fcgx = &req;
		rq.rq_params = req.envp;
		result = serve(&rq);
		FCGX_Finish_r(&req);
		drive_queue(result);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct request	 rq;
	char		 path[PATH_MAX];
	const char	*e;
	int		 ch, fastcgi, rc;

	harden();
	stdio_open();
	/*
	 * A CGI request's query string without '=' reaches a CGI program as
	 * argv words (RFC 3875 section 4.4): in CGI, argv is the client's and
	 * never an option (PHP-CGI's CVE-2012-1823).  The config then comes
	 * from IDHOOK_CONFIG or the search of SPEC section 1.
	 */
	if (getenv("GATEWAY_INTERFACE") != NULL)
		argc = 1;
	if ((rc = cli_main(argc, argv)) != -1)
		return rc;
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(0);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("idhook %s\n", PACKAGE_VERSION);
		return 0;
	}
	while ((ch = getopt(argc, argv, "c:h")) != -1) {
		switch (ch) {
		case 'c':
			g.arg_config = optarg;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	/* Process environment: read before any accept (deploy notes 1.1). */
	if ((e = getenv("IDHOOK_CONFIG")) != NULL && e[0] != '\0' &&
	    (g.env_config = strdup(e)) == NULL)
		return 1;
	fastcgi = !FCGX_IsCGI();
	if (!fastcgi && getenv("GATEWAY_INTERFACE") == NULL)
		usage(2);
	g.is_root = geteuid() == 0;
	set_home();
	/*
	 * FastCGI: read keys (perhaps as root) and drop before accepting.
	 * A config that only a request parameter names (nginx fastcgi_param)
	 * is loaded by the first request: no error for the default path.
	 */
	if (fastcgi) {
		if (g.arg_config != NULL || g.env_config != NULL ||
		    (locate_config(NULL, path, sizeof(path)) == 0 &&
		    exists(path)))
			(void)ensure_config(NULL);
		return serve_fastcgi();
	}
	memset(&rq, 0, sizeof(rq));
	rq.rq_params = environ;
	(void)serve(&rq);
	return 0;
}
