/*
 * cmd_queue.c: idhook queue [-c FILE] list | show ID | retry ID | drop ID |
 * stats | run: read and edit the queue of queue-mode endpoints, and run it
 * from cron or a systemd timer (SPEC sections 8 and 9).  Every change is
 * one LMDB write transaction, so it is safe while the server runs.
 */
#include "compat.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "dedup.h"
#include "log.h"
#include "queue.h"
#include "runner.h"

#define QUEUE_SYNOPSIS	"[-c FILE] list [--dead] | show ID [--payload] |\n" \
			"       retry ID | drop ID | stats | " \
			"run [-t SECONDS] [-w N]"

/* stats: the config's endpoints, then unknown ones; the last row: rest. */
#define STATS_ROWS	(ENDPOINTS_MAX * 2)

struct ep_stats {
	char		 es_name[ENDPOINT_NAME_MAX + 1];
	unsigned long	 es_queued;
	unsigned long	 es_running;
	unsigned long	 es_dead;
	int64_t		 es_oldest;	/* queued_at of the oldest queued */
	unsigned long long es_bytes;
};

struct stats {
	struct ep_stats	 st_rows[STATS_ROWS];
	size_t		 st_n;
};

/* What the command line asked for, checked before the store is opened. */
struct queue_args {
	const char	*qa_action;
	uint32_t	 qa_id;
	int		 qa_dead;	/* list --dead */
	int		 qa_payload;	/* show --payload */
	int64_t		 qa_max_time;	/* run -t; 0: not given */
	unsigned	 qa_workers;	/* run -w */
};

static int
queue_usage(int code)
{
	if (code != CLI_OK)
		return cli_usage("queue", QUEUE_SYNOPSIS);
	printf("usage: idhook queue " QUEUE_SYNOPSIS "\n\n"
	    "Reads and edits the jobs of queue-mode endpoints in state_dir\n"
	    "(safe while the server runs; as root, runs as the state dir's\n"
	    "owner), and runs them.\n\n"
	    "  list [--dead]        every job (live, then dead; --dead: only\n"
	    "                       dead): id, state, endpoint, event, event\n"
	    "                       id, attempts, queued, next run, last exit\n"
	    "  show ID [--payload]  one job; its payload (personal data) only\n"
	    "                       with --payload\n"
	    "  retry ID             queue a dead job again, or run a queued\n"
	    "                       one now\n"
	    "  drop ID              delete a queued or dead job and its\n"
	    "                       payload; a new delivery runs it again\n"
	    "  stats                jobs and payload bytes per endpoint\n"
	    "  run                  run the jobs that can run now, then exit\n"
	    "                       (from cron or a systemd timer)\n"
	    "    -t, --max-time SECONDS\n"
	    "                       also wait for jobs that become due,\n"
	    "                       until the queue is idle or time is up\n"
	    "    -w, --workers N    hooks at once (1 to %d, default 1)\n"
	    "  -c FILE              config file\n", QUEUE_WORKERS_MAX);
	return CLI_OK;
}

static const char *
fmt_time(int64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

/* A time that may be unset (0): "-" then. */
static const char *
fmt_time_opt(int64_t t, char *buf, size_t len)
{
	if (t == 0)
		return "-";
	return fmt_time(t, buf, len);
}

/* Names and ids come from senders: never print a control byte. */
static void
put_safe(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		putc(*s > 0x20 && *s < 0x7f ? *s : '?', f);
}

static int
bad_arg(const char *what, const char *arg, const char *why)
{
	fprintf(stderr, "idhook queue: %s ", what);
	put_safe(stderr, arg);
	fprintf(stderr, ": %s\n", why);
	return queue_usage(CLI_USAGE);
}

/* The last run's exit, or "-" before the first run has ended. */
static void
put_exit(const struct queue_job *j)
{
	if (j->qj_attempts == 0 || j->qj_exit == -1)
		printf("-");
	else
		printf("%d", (int)j->qj_exit);
}

static int
list_one(const struct queue_job *j, void *arg)
{
	const int	*dead_only = arg;
	char		 t1[32], t2[32];

	if (*dead_only && j->qj_state != QUEUE_DEAD)
		return 0;
	printf("%u\t%s\t", j->qj_id, queue_state_name(j->qj_state));
	put_safe(stdout, j->qj_endpoint);
	putchar('\t');
	put_safe(stdout, j->qj_event);
	putchar('\t');
	put_safe(stdout, j->qj_event_id);
	printf("\t%u\t%s\t%s\t", j->qj_attempts,
	    fmt_time(j->qj_queued_at, t1, sizeof(t1)),
	    j->qj_state == QUEUE_QUEUED ?
	    fmt_time(j->qj_next_run, t2, sizeof(t2)) : "-");
	put_exit(j);
	putchar('\n');
	return 0;
}

static int
do_list(struct dedup *d, int dead_only)
{
	printf("ID\tSTATE\tENDPOINT\tEVENT\tEVENT_ID\tATTEMPTS\tQUEUED_AT\t"
	    "NEXT_RUN\tEXIT\n");
	return queue_each(d, list_one, &dead_only) == -1 ? CLI_FAIL : CLI_OK;
}

static void
show_header(const struct queue_job *j)
{
	char	 t[32];

	printf("id: %u\nstate: %s\nendpoint: ", j->qj_id,
	    queue_state_name(j->qj_state));
	put_safe(stdout, j->qj_endpoint);
	printf("\nevent: ");
	put_safe(stdout, j->qj_event);
	printf("\nevent_id: ");
	put_safe(stdout, j->qj_event_id);
	printf("\ndelivery: ");
	put_safe(stdout, j->qj_delivery[0] != '\0' ? j->qj_delivery : "-");
	printf("\nqueued_at: %s\n", fmt_time(j->qj_queued_at, t, sizeof(t)));
	printf("next_run: %s\n", fmt_time_opt(j->qj_next_run, t, sizeof(t)));
	printf("updated: %s\n", fmt_time_opt(j->qj_updated, t, sizeof(t)));
	printf("lease_until: %s\n",
	    fmt_time_opt(j->qj_lease_until, t, sizeof(t)));
	printf("attempts: %u\nexit: ", j->qj_attempts);
	put_exit(j);
	printf("\npid: %d\npid_start: %llu\npayload_bytes: %u\n",
	    (int)j->qj_pid, (unsigned long long)j->qj_pid_start,
	    j->qj_payload_len);
}

/*
 * The payload goes to the descriptor directly, after the header lines,
 * so that no copy of it stays in stdio's buffer.
 */
static int
write_all(const uint8_t *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(STDOUT_FILENO, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			log_error("stdout: %s", strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
do_show(struct dedup *d, uint32_t id, int with_payload)
{
	struct queue_job	 j;
	uint8_t			*payload = NULL;
	size_t			 len = 0;
	int			 rc;

	rc = queue_get(d, id, &j, with_payload ? &payload : NULL, &len);
	if (rc != 0) {
		if (rc == 1)
			fprintf(stderr, "idhook queue: no job %u\n", id);
		return CLI_FAIL;
	}
	show_header(&j);
	if (!with_payload) {
		printf("payload: hidden (personal data): "
		    "idhook queue show %u --payload\n", id);
		return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
	}
	/* A blank line, then the payload exactly as the sender made it. */
	putchar('\n');
	rc = fflush(stdout) == 0 && write_all(payload, len) == 0 &&
	    write_all((const uint8_t *)"\n", 1) == 0 ? CLI_OK : CLI_FAIL;
	freezero(payload, len);
	return rc;
}

static int
do_retry(struct dedup *d, uint32_t id, int drop)
{
	int	 rc;

	if (drop)
		rc = queue_drop(d, id, (int64_t)time(NULL));
	else
		rc = queue_retry(d, id, (int64_t)time(NULL));
	switch (rc) {
	case 0:
		printf("job %u %s\n", id, drop ? "dropped" : "queued again");
		return CLI_OK;
	case 1:
		fprintf(stderr, "idhook queue: no job %u\n", id);
		break;
	case 2:
		fprintf(stderr, "idhook queue: job %u is running; try again "
		    "when it ends\n", id);
		break;
	}
	return CLI_FAIL;
}

/* The row of endpoint name: found, else a new one, else the last. */
static struct ep_stats *
stats_row(struct stats *st, const char *name)
{
	struct ep_stats	*r;
	size_t		 i;

	for (i = 0; i < st->st_n; i++)
		if (strcmp(st->st_rows[i].es_name, name) == 0)
			return &st->st_rows[i];
	if (st->st_n == STATS_ROWS)
		return &st->st_rows[STATS_ROWS - 1];
	r = &st->st_rows[st->st_n++];
	if (st->st_n == STATS_ROWS)
		name = "(others)";
	(void)strlcpy(r->es_name, name, sizeof(r->es_name));
	return r;
}

static int
stats_one(const struct queue_job *j, void *arg)
{
	struct ep_stats	*r = stats_row(arg, j->qj_endpoint);

	switch (j->qj_state) {
	case QUEUE_QUEUED:
		r->es_queued++;
		if (r->es_oldest == 0 || j->qj_queued_at < r->es_oldest)
			r->es_oldest = j->qj_queued_at;
		break;
	case QUEUE_RUNNING:
		r->es_running++;
		break;
	case QUEUE_DEAD:
		r->es_dead++;
		break;
	}
	r->es_bytes += j->qj_payload_len;
	return 0;
}

static void
stats_print(const struct ep_stats *r, int64_t now)
{
	put_safe(stdout, r->es_name);
	printf("\t%lu\t%lu\t%lu\t", r->es_queued, r->es_running, r->es_dead);
	if (r->es_queued == 0)
		printf("-");
	else
		printf("%lld", (long long)(now > r->es_oldest ?
		    now - r->es_oldest : 0));
	printf("\t%llu\n", r->es_bytes);
}

static int
do_stats(struct dedup *d, const struct config *cf)
{
	struct stats	*st;
	struct ep_stats	 total;
	size_t		 i, used, size;
	int64_t		 now = (int64_t)time(NULL);

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		log_error("%s: out of memory", __func__);
		return CLI_FAIL;
	}
	for (i = 0; i < cf->cf_nendpoints; i++)
		(void)stats_row(st, cf->cf_endpoints[i].ep_name);
	if (queue_each(d, stats_one, st) == -1) {
		free(st);
		return CLI_FAIL;
	}
	memset(&total, 0, sizeof(total));
	(void)strlcpy(total.es_name, "total", sizeof(total.es_name));
	printf("ENDPOINT\tQUEUED\tRUNNING\tDEAD\tOLDEST_QUEUED_S\t"
	    "PAYLOAD_BYTES\n");
	for (i = 0; i < st->st_n; i++) {
		stats_print(&st->st_rows[i], now);
		total.es_queued += st->st_rows[i].es_queued;
		total.es_running += st->st_rows[i].es_running;
		total.es_dead += st->st_rows[i].es_dead;
		total.es_bytes += st->st_rows[i].es_bytes;
		if (st->st_rows[i].es_queued > 0 && (total.es_oldest == 0 ||
		    st->st_rows[i].es_oldest < total.es_oldest))
			total.es_oldest = st->st_rows[i].es_oldest;
	}
	stats_print(&total, now);
	free(st);
	/* Payloads wait here: a full map answers 503 to every delivery. */
	if (dedup_space(d, &used, &size) == 0 && size > 0)
		printf("store: %zu MiB of map_size %zu MiB used (%zu%%; the "
		    "high-water mark: freed pages are reused)\n", used >> 20,
		    size >> 20, used / (size / 100 + 1));
	return CLI_OK;
}

static int
run(const struct config *cf, const struct queue_args *qa)
{
	struct dedup	*d = NULL;
	const char	*a = qa->qa_action;
	int		 rc;

	if (cli_as_state_owner(cf->cf_state_dir) == -1)
		return CLI_FAIL;
	/* The runner opens the store itself (and each worker its own). */
	if (strcmp(a, "run") == 0)
		return runner_run_cli(cf, qa->qa_max_time, qa->qa_workers) >=
		    0 ? CLI_OK : CLI_FAIL;
	if (dedup_open(cf->cf_state_dir, cf->cf_map_size, &d) == -1)
		return CLI_FAIL;
	if (strcmp(a, "list") == 0)
		rc = do_list(d, qa->qa_dead);
	else if (strcmp(a, "show") == 0)
		rc = do_show(d, qa->qa_id, qa->qa_payload);
	else if (strcmp(a, "retry") == 0 || strcmp(a, "drop") == 0)
		rc = do_retry(d, qa->qa_id, strcmp(a, "drop") == 0);
	else
		rc = do_stats(d, cf);
	dedup_close(d);
	return rc;
}

/* A run option's number: 0, or a usage error (already printed). */
static int
run_number(int ch, const char *arg, struct queue_args *qa)
{
	const char	*errstr;
	long long	 v;

	if (ch == 't') {
		v = strtonum(arg, 1, QUEUE_MAX_TIME_MAX, &errstr);
		if (errstr != NULL)
			return bad_arg("max time", arg, errstr);
		qa->qa_max_time = v;
	} else {
		v = strtonum(arg, 1, QUEUE_WORKERS_MAX, &errstr);
		if (errstr != NULL)
			return bad_arg("workers", arg, errstr);
		qa->qa_workers = (unsigned)v;
	}
	return 0;
}

/* The action's options: 0, CLI_USAGE, or -1 for --help. */
static int
action_options(int argc, char *argv[], struct queue_args *qa)
{
	static const struct option longopts[] = {
		{ "dead", no_argument, NULL, 'd' },
		{ "payload", no_argument, NULL, 'p' },
		{ "max-time", required_argument, NULL, 't' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*a = qa->qa_action;
	int		 ch, run_action = strcmp(a, "run") == 0;

	/* 0, not 1: glibc starts afresh, so "show 7 --payload" works. */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "ht:w:", longopts, NULL)) != -1) {
		if (ch == 'h')
			return -1;
		if (ch == 'd' && strcmp(a, "list") == 0)
			qa->qa_dead = 1;
		else if (ch == 'p' && strcmp(a, "show") == 0)
			qa->qa_payload = 1;
		else if ((ch == 't' || ch == 'w') && run_action) {
			if (run_number(ch, optarg, qa) != 0)
				return CLI_USAGE;
		} else {
			/* getopt has said what was wrong with a '?'. */
			if (ch != '?')
				return bad_arg("option", argv[optind - 1],
				    "not an option of this action");
			return queue_usage(CLI_USAGE);
		}
	}
	return 0;
}

/* The action, its options and its ID: 0, CLI_USAGE, or -1 for --help. */
static int
parse_action(int argc, char *argv[], struct queue_args *qa)
{
	const char	*errstr;
	int		 rc, want_id;

	qa->qa_action = argv[0];
	qa->qa_workers = 1;
	if (strcmp(argv[0], "show") == 0 || strcmp(argv[0], "retry") == 0 ||
	    strcmp(argv[0], "drop") == 0)
		want_id = 1;
	else if (strcmp(argv[0], "list") == 0 ||
	    strcmp(argv[0], "stats") == 0 || strcmp(argv[0], "run") == 0)
		want_id = 0;
	else
		return bad_arg("unknown action", argv[0], "not list, show, "
		    "retry, drop, stats or run");
	if ((rc = action_options(argc, argv, qa)) != 0)
		return rc;
	if (argc - optind != want_id)
		return queue_usage(CLI_USAGE);
	if (want_id) {
		qa->qa_id = (uint32_t)strtonum(argv[optind], 1, UINT32_MAX,
		    &errstr);
		if (errstr != NULL)
			return bad_arg("job id", argv[optind], errstr);
	}
	return 0;
}

int
cmd_queue(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct queue_args qa;
	struct config	*cf = NULL;
	const char	*conf = NULL;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			return queue_usage(CLI_OK);
		default:
			return queue_usage(CLI_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return queue_usage(CLI_USAGE);
	memset(&qa, 0, sizeof(qa));
	if ((rc = parse_action(argc, argv, &qa)) != 0)
		return rc == -1 ? queue_usage(CLI_OK) : rc;
	if (cli_load_config(conf, &cf) == -1)
		return CLI_FAIL;
	rc = run(cf, &qa);
	config_free(cf);
	return rc;
}
