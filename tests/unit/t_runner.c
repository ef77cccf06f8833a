/*
 * t_runner: the queue runner loop (SPEC section 9) with a real hook:
 * jobs run once each with IDHOOK_QUEUED_AT, a failing job is retried and
 * ends dead, and a job queued at the moment a runner decides to leave is
 * still run (the "leaving" call is followed by one more claim).
 */
#include "compat.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dedup.h"
#include "pipeline.h"
#include "provider.h"
#include "queue.h"
#include "runner.h"
#include "t.h"

static char		 dir[] = "/tmp/t_runner.XXXXXX";
static char		 state[256], hooks[256], ledger[256];
static struct config	 cfg;
static struct pipeline_ctx pc;
static int64_t		 now;

static int64_t
test_clock(void)
{
	return now;
}

static void
hook(const char *name, const char *body)
{
	char	 path[512];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", hooks, name);
	CHECK((fp = fopen(path, "w")) != NULL);
	fprintf(fp, "#!/bin/sh\n%s\n", body);
	CHECK(fclose(fp) == 0);
	CHECK(chmod(path, 0755) == 0);
}

static int
add(const char *id, const char *type)
{
	struct queue_job	 j;
	char			 payload[256];
	uint32_t		 jid;

	memset(&j, 0, sizeof(j));
	strlcpy(j.qj_endpoint, "q", sizeof(j.qj_endpoint));
	strlcpy(j.qj_event, type, sizeof(j.qj_event));
	strlcpy(j.qj_event_id, id, sizeof(j.qj_event_id));
	snprintf(payload, sizeof(payload), "{\"event\":\"%s\",\"n\":1}", type);
	return queue_add(pc.pc_dedup, &j, (const uint8_t *)payload,
	    strlen(payload), now, 60, 86400, &jid);
}

static char	 text[4096];

/* Reads the ledger into text; returns its number of lines. */
static int
ledger_lines(void)
{
	FILE	*fp;
	size_t	 len;
	int	 n = 0;

	text[0] = '\0';
	if ((fp = fopen(ledger, "r")) == NULL)
		return 0;
	len = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[len] = '\0';
	while (len > 0)
		n += text[--len] == '\n';
	return n;
}

/* 1 if the ledger has the line "event id now attempt n". */
static int
ledger_has(const char *event, const char *id, unsigned attempt)
{
	char	 want[128];

	(void)ledger_lines();
	snprintf(want, sizeof(want), "%s %s %lld %u 1\n", event, id,
	    (long long)now, attempt);
	return strstr(text, want) != NULL;
}

static int	 leaving_calls;

/* The parent's commit races the runner's exit: it lands right here. */
static void
leaving_adds(void *arg)
{
	if (leaving_calls++ == 0)
		CHECK(add((const char *)arg, "late") == QUEUE_ADDED);
}

int
main(void)
{
	struct endpoint	*ep = &cfg.cf_endpoints[0];
	struct queue_job j;
	char		 cmd[600], e4[] = "e4";

	CHECK(mkdtemp(dir) != NULL);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(hooks, sizeof(hooks), "%s/hooks", dir);
	snprintf(ledger, sizeof(ledger), "%s/ledger", dir);
	CHECK(mkdir(state, 0700) == 0 && mkdir(hooks, 0755) == 0);
	snprintf(cmd, sizeof(cmd), "echo \"$IDHOOK_EVENT $IDHOOK_EVENT_ID "
	    "$IDHOOK_QUEUED_AT $IDHOOK_ATTEMPT $EVENT_N\" >> %s", ledger);
	hook("ok", cmd);
	hook("late", cmd);
	hook("bad", "exit 3");

	cfg.cf_path = dir;
	cfg.cf_state_dir = state;
	cfg.cf_hook_timeout = 5;
	cfg.cf_retention = 86400;
	cfg.cf_nendpoints = 1;
	strlcpy(ep->ep_name, "q", sizeof(ep->ep_name));
	ep->ep_provider = &provider_verifa;
	ep->ep_hooks_dir = hooks;
	ep->ep_mode = ENDPOINT_QUEUE;
	ep->ep_max_running = 2;
	ep->ep_retry_backoff = 1;
	ep->ep_max_attempts = 2;
	now = (int64_t)time(NULL);
	pc.pc_cfg = &cfg;
	pc.pc_home = dir;
	pc.pc_clock = test_clock;
	CHECK(dedup_open(state, 1024 * 1024, &pc.pc_dedup) == 0);

	/* Two jobs run once each, in order, with the queue's variables. */
	CHECK(add("e1", "ok") == QUEUE_ADDED && add("e2", "ok") ==
	    QUEUE_ADDED);
	CHECK(runner_loop(&pc, 0, 1, NULL, NULL) == 2);
	CHECK(ledger_lines() == 2);
	CHECK(ledger_has("ok", "e1", 1) && ledger_has("ok", "e2", 1));
	CHECK(strstr(text, "e1") < strstr(text, "e2"));
	CHECK(runner_loop(&pc, 0, 1, NULL, NULL) == 0);
	CHECK(add("e1", "ok") == QUEUE_DONE);

	/* Failing: retried after the backoff, then dead; wait = 0 returns. */
	CHECK(add("e3", "bad") == QUEUE_ADDED);
	CHECK(runner_loop(&pc, 0, 0, NULL, NULL) == 1);
	CHECK(queue_get(pc.pc_dedup, 3, &j, NULL, NULL) == 0);
	CHECK(j.qj_state == QUEUE_QUEUED && j.qj_attempts == 1);
	CHECK(j.qj_next_run == now + 2 && j.qj_exit == 3);
	CHECK(runner_loop(&pc, 0, 0, NULL, NULL) == 0);
	now += 2;
	CHECK(runner_loop(&pc, 0, 1, NULL, NULL) == 1);
	CHECK(queue_get(pc.pc_dedup, 3, &j, NULL, NULL) == 0);
	CHECK(j.qj_state == QUEUE_DEAD && j.qj_attempts == 2);

	/*
	 * A job committed as the runner leaves is run by its last claim;
	 * then it says so again and leaves after one more empty claim.
	 */
	CHECK(runner_loop(&pc, 0, 1, leaving_adds, e4) == 1);
	CHECK(leaving_calls == 2 && ledger_has("late", "e4", 1));
	CHECK(ledger_lines() == 3 && queue_live(pc.pc_dedup, NULL) == 0);

	dedup_close(pc.pc_dedup);
	return execl("/bin/rm", "rm", "-rf", dir, (char *)NULL) == -1;
}
