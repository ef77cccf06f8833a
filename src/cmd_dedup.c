/*
 * cmd_dedup.c: idhook dedup [-c FILE] list | show EP ID | forget EP ID |
 * prune: read and edit the LMDB dedup records (SPEC sections 5 and 8).
 * Every change is one LMDB write transaction, so it is safe while the
 * server runs.
 */
#include "compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "dedup.h"
#include "log.h"

#define DEDUP_SYNOPSIS	"[-c FILE] list | show ENDPOINT ID | " \
			"forget ENDPOINT ID | prune"

static const char *
state_name(uint32_t state)
{
	switch (state) {
	case DEDUP_STATE_RUNNING:
		return "running";
	case DEDUP_STATE_DONE:
		return "done";
	case DEDUP_STATE_FAILED:
		return "failed";
	case DEDUP_STATE_QUEUED:
		return "queued";
	}
	return "unknown";
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

/* Ids come from senders: never print a control byte to a terminal. */
static void
print_safe(const char *s)
{
	for (; *s != '\0'; s++)
		putchar(*s > 0x20 && *s < 0x7f ? *s : '?');
}

static int
list_one(const char *ep, const char *id, size_t idlen,
    const struct dedup_record *r, void *arg)
{
	char	 t1[32], t2[32];

	(void)idlen;
	(void)arg;
	print_safe(ep);
	putchar(' ');
	print_safe(id);
	if (r == NULL) {
		printf(" corrupt\n");
		return 0;
	}
	printf(" %s %u %s %s\n", state_name(r->dr_state), r->dr_attempts,
	    fmt_time(r->dr_first_seen, t1, sizeof(t1)),
	    fmt_time(r->dr_updated, t2, sizeof(t2)));
	return 0;
}

static int
do_list(struct dedup *d)
{
	printf("ENDPOINT ID STATE ATTEMPTS FIRST_SEEN UPDATED\n");
	return dedup_each(d, list_one, NULL) == -1 ? CLI_FAIL : CLI_OK;
}

static int
do_show(struct dedup *d, const char *ep, const char *id)
{
	struct dedup_record	 r;
	char			 t[32];
	int			 rc;

	if ((rc = dedup_get(d, ep, id, strlen(id), &r)) != 0) {
		if (rc == 1)
			fprintf(stderr, "idhook dedup: no record\n");
		return CLI_FAIL;
	}
	printf("endpoint: ");
	print_safe(ep);
	printf("\nid: ");
	print_safe(id);
	printf("\nstate: %s\nattempts: %u\n", state_name(r.dr_state),
	    r.dr_attempts);
	printf("first_seen: %s\n", fmt_time(r.dr_first_seen, t, sizeof(t)));
	printf("updated: %s\n", fmt_time(r.dr_updated, t, sizeof(t)));
	if (r.dr_state == DEDUP_STATE_RUNNING)
		printf("pid: %d\n", (int)r.dr_pid);
	else if (r.dr_state == DEDUP_STATE_QUEUED)
		printf("job: %u (idhook queue show %u)\n", r.dr_job, r.dr_job);
	else
		printf("hook_exit: %d\n", (int)r.dr_exit);
	return CLI_OK;
}

static int
do_forget(struct dedup *d, const char *ep, const char *id)
{
	int	 rc;

	if ((rc = dedup_forget(d, ep, id, strlen(id))) == 1)
		fprintf(stderr, "idhook dedup: no record\n");
	else if (rc == 0)
		printf("forgotten: the next delivery runs its hook again\n");
	return rc == 0 ? CLI_OK : CLI_FAIL;
}

static int
do_prune(struct dedup *d, const struct config *cf)
{
	long	 n;

	n = dedup_prune(d, (int64_t)time(NULL) - cf->cf_retention, 0);
	if (n == -1)
		return CLI_FAIL;
	printf("pruned %ld record(s) older than the retention\n", n);
	return CLI_OK;
}

static int
dedup_usage(int code)
{
	if (code != CLI_OK)
		return cli_usage("dedup", DEDUP_SYNOPSIS);
	printf("usage: idhook dedup " DEDUP_SYNOPSIS "\n\n"
	    "Reads and edits the dedup records in state_dir (safe while the\n"
	    "server runs; as root, runs as the state dir's owner).\n\n"
	    "  list                 every record: endpoint, id, state,\n"
	    "                       attempts, first seen, last updated\n"
	    "  show ENDPOINT ID     one record\n"
	    "  forget ENDPOINT ID   delete it: the next delivery of the\n"
	    "                       event runs its hook again\n"
	    "  prune                delete records older than retention\n"
	    "  -c FILE              config file\n");
	return CLI_OK;
}

static int
run(const struct config *cf, char *argv[])
{
	struct dedup	*d = NULL;
	int		 rc = CLI_FAIL;

	if (cli_as_state_owner(cf->cf_state_dir) == -1 ||
	    dedup_open(cf->cf_state_dir, cf->cf_map_size, &d) == -1)
		return CLI_FAIL;
	if (strcmp(argv[0], "list") == 0)
		rc = do_list(d);
	else if (strcmp(argv[0], "show") == 0)
		rc = do_show(d, argv[1], argv[2]);
	else if (strcmp(argv[0], "forget") == 0)
		rc = do_forget(d, argv[1], argv[2]);
	else
		rc = do_prune(d, cf);
	dedup_close(d);
	return rc;
}

/* The action and its argument count; -1: no such action. */
static int
action_args(const char *a)
{
	if (strcmp(a, "list") == 0 || strcmp(a, "prune") == 0)
		return 0;
	if (strcmp(a, "show") == 0 || strcmp(a, "forget") == 0)
		return 2;
	return -1;
}

int
cmd_dedup(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct config	*cf = NULL;
	const char	*conf = NULL;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			return dedup_usage(CLI_OK);
		default:
			return dedup_usage(CLI_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || action_args(argv[0]) != argc - 1)
		return dedup_usage(CLI_USAGE);
	if (cli_load_config(conf, &cf) == -1)
		return CLI_FAIL;
	rc = run(cf, argv);
	config_free(cf);
	return rc;
}
