/*
 * t_config: a valid config loads with its secrets and keys; every kind of
 * mistake is refused with FILE:LINE: KEY in the message; file modes.
 */
#include "compat.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "t.h"

static char	 dir[] = "/tmp/t_config.XXXXXX";
static char	 errs[16384];

static void
put(const char *name, mode_t mode, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
put(const char *name, mode_t mode, const char *fmt, ...)
{
	char	 path[512];
	va_list	 ap;
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
	CHECK((fp = fopen(path, "w")) != NULL);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	CHECK(fclose(fp) == 0);
	CHECK(chmod(path, mode) == 0);
}

static void
copy_key(const char *name)
{
	char	 src[512], buf[8192];
	FILE	*fp;
	size_t	 n;

	snprintf(src, sizeof(src), "%s/tests/vectors/kayle-e2e/%s",
	    t_srcdir(), name);
	CHECK((fp = fopen(src, "r")) != NULL);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	put(name, 0600, "%s", buf);
}

/* Loads dir/name with stderr captured into errs. */
static int
load(const char *name, struct config **cf)
{
	char	 path[512], tmpl[] = "/tmp/t_config_err.XXXXXX";
	int	 fd, saved, rv;
	ssize_t	 n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK((fd = mkstemp(tmpl)) != -1);
	unlink(tmpl);
	CHECK((saved = dup(2)) != -1);
	CHECK(dup2(fd, 2) == 2);
	rv = config_load(path, cf);
	CHECK(dup2(saved, 2) == 2);
	close(saved);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK((n = read(fd, errs, sizeof(errs) - 1)) >= 0);
	errs[n] = '\0';
	close(fd);
	return rv;
}

#define GOOD_GLOBAL \
	"[idhook]\nstate_dir = state\nhooks_dir = /srv/hooks\n"

static void
test_valid(void)
{
	struct config		*cf;
	const struct endpoint	*ep;

	put("k.secret", 0600, "# rotated 2026-11\n\nwhsec_new \r\n"
	    "  whsec_0123456789abcdefghijklmnopqrstuv\n");
	put("ok.conf", 0644, "; comment\n" GOOD_GLOBAL
	    "max_body = 2048\nhook_timeout = 3\nretention = 2d\n"
	    "log_level = debug\nuser = nobody\nhook_env = DB_URL=postgres://x\n"
	    "hook_env = MODE=live\n"
	    "\n[endpoint kayle]\nprovider = kayle\nsecret_file = k.secret\n"
	    "decryption_key = private.pem\ndecryption_key = k9:private.pem\n"
	    "tolerance = 120\nhooks_dir = /srv/kayle-hooks\n");
	CHECK(load("ok.conf", &cf) == 0);
	CHECK(errs[0] == '\0');
	CHECK(cf->cf_max_body == 2048 && cf->cf_hook_timeout == 3);
	CHECK(cf->cf_retention == 2 * 86400);
	CHECK(cf->cf_log_level == LOG_DEBUG);
	CHECK(strcmp(cf->cf_user, "nobody") == 0);
	CHECK(cf->cf_nhook_env == 2);
	CHECK(strcmp(cf->cf_hook_env[0], "DB_URL=postgres://x") == 0);
	CHECK(strncmp(cf->cf_state_dir, dir, strlen(dir)) == 0);
	CHECK(strcmp(cf->cf_state_dir + strlen(dir), "/state") == 0);
	CHECK(cf->cf_nendpoints == 1);
	ep = &cf->cf_endpoints[0];
	CHECK(strcmp(ep->ep_name, "kayle") == 0);
	CHECK(ep->ep_provider == &provider_kayle);
	CHECK(ep->ep_nsecrets == 2);
	CHECK(ep->ep_secrets[0].s_len == 9 &&
	    memcmp(ep->ep_secrets[0].s_buf, "whsec_new", 9) == 0);
	CHECK(ep->ep_secrets[1].s_len == 38);
	CHECK(ep->ep_nkeys == 2 && ep->ep_keys[0].jk_kid[0] == '\0');
	CHECK(strcmp(ep->ep_keys[1].jk_kid, "k9") == 0);
	CHECK(ep->ep_tolerance == 120);
	CHECK(strcmp(ep->ep_hooks_dir, "/srv/kayle-hooks") == 0);
	/* One endpoint: empty PATH_INFO selects it. */
	CHECK(config_endpoint(cf, NULL) == ep);
	CHECK(config_endpoint(cf, "") == ep);
	CHECK(config_endpoint(cf, "/kayle") == ep);
	CHECK(config_endpoint(cf, "/kayle/x") == NULL);
	CHECK(config_endpoint(cf, "/other") == NULL);
	CHECK(config_endpoint(cf, "kayle") == NULL);
	{
		struct config_stamp	 now, gone;
		char			 p[512];

		snprintf(p, sizeof(p), "%s/ok.conf", dir);
		config_stamp(p, &now);
		CHECK(config_stamp_eq(&now, &cf->cf_stamp));
		put("ok.conf", 0644, "[idhook]\n");
		config_stamp(p, &now);
		CHECK(!config_stamp_eq(&now, &cf->cf_stamp));
		snprintf(p, sizeof(p), "%s/missing.conf", dir);
		config_stamp(p, &gone);
		CHECK(gone.cs_ino == 0 && gone.cs_size == 0);
	}
	config_free(cf);
}

static void
test_two_endpoints(void)
{
	struct config	*cf;

	put("two.conf", 0600, GOOD_GLOBAL
	    "[endpoint a]\nprovider = kayle\nsecret_file = k.secret\n"
	    "decryption_key = private.pem\n"
	    "[endpoint b-2]\nprovider = kayle\nsecret_file = k.secret\n"
	    "decryption_key = private.pem\n");
	CHECK(load("two.conf", &cf) == 0);
	CHECK(cf->cf_nendpoints == 2);
	CHECK(strcmp(cf->cf_endpoints[0].ep_hooks_dir, "/srv/hooks") == 0);
	CHECK(config_endpoint(cf, "") == NULL);
	CHECK(config_endpoint(cf, "/b-2") == &cf->cf_endpoints[1]);
	config_free(cf);
}

/* Each bad config must fail and name "FILE:LINE: KEY". */
static void
bad(const char *text, const char *needle)
{
	struct config	*cf = NULL;
	char		 want[1024];

	put("bad.conf", 0600, "%s", text);
	CHECK(load("bad.conf", &cf) == -1);
	CHECK(cf == NULL);
	snprintf(want, sizeof(want), "%s/bad.conf:%s", dir, needle);
	if (strstr(errs, want) == NULL) {
		fprintf(stderr, "wanted %s in:\n%s", want, errs);
		CHECK(!"message names file, line and key");
	}
}

#define EP "[endpoint k]\nprovider = kayle\nsecret_file = k.secret\n" \
	"decryption_key = private.pem\n"

static void
test_errors(void)
{
	char	 longline[400];

	bad(GOOD_GLOBAL "colour = blue\n" EP, "4: colour: unknown key");
	bad(GOOD_GLOBAL "max_body = 0\n" EP,
	    "4: max_body: \\\"0\\\" is too small");
	bad(GOOD_GLOBAL "max_body = 1k\n" EP, "4: max_body: ");
	bad(GOOD_GLOBAL "max_body = 99999999999\n" EP, "4: max_body: ");
	bad(GOOD_GLOBAL "hook_timeout = -1\n" EP, "4: hook_timeout: ");
	bad(GOOD_GLOBAL "retention = 3 days\n" EP, "4: retention: ");
	bad(GOOD_GLOBAL "log_level = loud\n" EP, "4: log_level: ");
	bad(GOOD_GLOBAL "state_dir = /x\n" EP, "4: state_dir: given twice");
	bad(GOOD_GLOBAL "hook_env = lower=1\n" EP, "4: hook_env: ");
	bad(GOOD_GLOBAL "hook_env = IDHOOK_X=1\n" EP, "4: hook_env: ");
	bad(GOOD_GLOBAL "[weird]\nx = 1\n" EP, "5: weird: unknown section");
	bad(GOOD_GLOBAL "[endpoint bad/name]\nprovider = kayle\n",
	    "5: endpoint bad/name: endpoint name");
	bad(GOOD_GLOBAL EP "provider = kayle\n", "8: provider: given twice");
	bad(GOOD_GLOBAL EP EP, "9: provider: given twice");
	bad(GOOD_GLOBAL "[endpoint k]\nprovider = acme\n"
	    "secret_file = k.secret\n", "5: provider: unknown provider");
	bad(GOOD_GLOBAL "[endpoint k]\nprovider = kayle\n"
	    "decryption_key = private.pem\n", "5: secret_file: missing");
	bad(GOOD_GLOBAL "[endpoint k]\nprovider = kayle\n"
	    "secret_file = k.secret\n", "5: decryption_key: [endpoint k]");
	bad(GOOD_GLOBAL "[endpoint k]\nsecret_file = k.secret\n"
	    "decryption_key = private.pem\n", "5: provider: missing");
	bad("[idhook]\nhooks_dir = /h\n" EP, "6: state_dir: missing");
	bad("[idhook]\nstate_dir = /s\n" EP, "4: hooks_dir: missing");
	bad(GOOD_GLOBAL, "3: [endpoint NAME]: no endpoint");
	bad("state_dir = /s\n" EP, "1: state_dir: key outside any section");
	bad(GOOD_GLOBAL "this is not ini\n" EP, "4: syntax:");
	bad(GOOD_GLOBAL "[endpoint k]\nprovider = kayle\n"
	    "secret_file = nonexistent\n" "decryption_key = private.pem\n",
	    "6: secret_file: ");
	bad(GOOD_GLOBAL "[endpoint k]\nprovider = kayle\n"
	    "secret_file = k.secret\ndecryption_key = k.secret\n",
	    "7: decryption_key: ");
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	{
		char	 text[2048];

		snprintf(text, sizeof(text), GOOD_GLOBAL "hook_env = X=%s\n"
		    EP, longline);
		bad(text, "4: syntax: line longer than");
	}
	bad(GOOD_GLOBAL "user =\n" EP, "4: user: empty");
	bad(GOOD_GLOBAL "max_body = +100\n" EP, "4: max_body: ");
	bad(GOOD_GLOBAL "hook_timeout = 0x10\n" EP, "4: hook_timeout: ");
	bad(GOOD_GLOBAL "hook_env = A=1\nhook_env = A=2\n" EP,
	    "5: hook_env: A given twice");
	/* libinih would cut a long section name short without a word. */
	bad(GOOD_GLOBAL "[endpoint a234567890123456789012345678901234567890]\n"
	    "provider = kayle\n", "5: endpoint a23");
	CHECK(strstr(errs, "section name longer than 48") != NULL);
	{
		struct config	*cf;

		put("long.conf", 0600, GOOD_GLOBAL "[endpoint "
		    "a23456789012345678901234567890123456789]\n"
		    "provider = kayle\nsecret_file = k.secret\n"
		    "decryption_key = private.pem\n");
		CHECK(load("long.conf", &cf) == 0);
		CHECK(strlen(cf->cf_endpoints[0].ep_name) == ENDPOINT_NAME_MAX);
		config_free(cf);
	}
	/* All problems at once. */
	bad(GOOD_GLOBAL "a = 1\nb = 2\n" EP, "5: b: unknown key");
	CHECK(strstr(errs, "bad.conf:4: a: unknown key") != NULL);
}

/* Verifa and Standard Webhooks endpoints beside Kayle. */
static void
test_senders(void)
{
	struct config		*cf;
	const struct endpoint	*v, *s;

	/* whsec_MfKQ... is the Standard Webhooks reference secret. */
	put("std.secret", 0600, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n");
	put("v.secret", 0600, "whsec_verifa_one\nwhsec_verifa_two\n");
	put("senders.conf", 0600, GOOD_GLOBAL
	    "[endpoint verifa]\nsecret_file = v.secret\nprovider = verifa\n"
	    "legacy_signature = yes\n"
	    "[endpoint std]\nprovider = standard\nsecret_file = std.secret\n");
	CHECK(load("senders.conf", &cf) == 0);
	v = config_endpoint(cf, "/verifa");
	s = config_endpoint(cf, "/std");
	CHECK(v != NULL && v->ep_provider == &provider_verifa);
	CHECK(v->ep_legacy == 1 && v->ep_nsecrets == 2 && v->ep_nkeys == 0);
	CHECK(v->ep_secrets[1].s_len == 16 &&
	    memcmp(v->ep_secrets[1].s_buf, "whsec_verifa_two", 16) == 0);
	CHECK(s != NULL && s->ep_provider == &provider_standard);
	/* The key is the base64-decoded part: 24 bytes, starting 0x31f2. */
	CHECK(s->ep_nsecrets == 1 && s->ep_secrets[0].s_len == 24);
	CHECK(s->ep_secrets[0].s_buf[0] == 0x31 &&
	    s->ep_secrets[0].s_buf[1] == 0xf2);
	CHECK(s->ep_legacy == 0);
	config_free(cf);
	put("std.secret", 0600, "whsec_not*base64\n");
	bad(GOOD_GLOBAL "[endpoint std]\nprovider = standard\n"
	    "secret_file = std.secret\n", "6: secret_file: ");
	CHECK(strstr(errs, "not a standard secret") != NULL);
	CHECK(strstr(errs, "not*base64") == NULL);
	bad(GOOD_GLOBAL EP "legacy_signature = yes\n",
	    "5: legacy_signature: provider kayle has no legacy");
	bad(GOOD_GLOBAL "[endpoint v]\nprovider = verifa\n"
	    "secret_file = v.secret\ndecryption_key = private.pem\n",
	    "5: decryption_key: provider verifa sends no encrypted");
	bad(GOOD_GLOBAL "[endpoint v]\nprovider = verifa\n"
	    "secret_file = v.secret\nlegacy_signature = maybe\n",
	    "7: legacy_signature: ");
}

/* Queue mode keys (SPEC section 9): defaults, values, bounds. */
static void
test_queue_keys(void)
{
	struct config		*cf;
	const struct endpoint	*k, *q;

	put("v.secret", 0600, "whsec_verifa_one\n");
	put("queue.conf", 0600, GOOD_GLOBAL
	    "[endpoint k]\nprovider = verifa\nsecret_file = v.secret\n"
	    "[endpoint q]\nprovider = verifa\nsecret_file = v.secret\n"
	    "mode = queue\nmax_running = 5\nretry_backoff = 2m\n"
	    "max_attempts = 3\n");
	CHECK(load("queue.conf", &cf) == 0);
	k = config_endpoint(cf, "/k");
	q = config_endpoint_named(cf, "q");
	CHECK(k != NULL && q != NULL && config_endpoint_named(cf, "x") == NULL);
	CHECK(k->ep_mode == ENDPOINT_SYNC);
	CHECK(k->ep_max_running == MAX_RUNNING_DEFAULT);
	CHECK(k->ep_retry_backoff == RETRY_BACKOFF_DEFAULT);
	CHECK(k->ep_max_attempts == MAX_ATTEMPTS_DEFAULT);
	CHECK(q->ep_mode == ENDPOINT_QUEUE && q->ep_max_running == 5);
	CHECK(q->ep_retry_backoff == 120 && q->ep_max_attempts == 3);
	CHECK(config_has_queue(cf));
	CHECK(cf->cf_map_size == MAP_SIZE_DEFAULT);
	config_free(cf);
	put("map.conf", 0600, GOOD_GLOBAL "map_size = 512M\n"
	    "[endpoint k]\nprovider = verifa\nsecret_file = v.secret\n");
	CHECK(load("map.conf", &cf) == 0);
	CHECK(cf->cf_map_size == 512UL * 1024 * 1024);
	config_free(cf);
	/*
	 * A relative config path (idhook -c c.conf) still gives absolute
	 * paths: a hook runs with its hooks_dir as cwd, where a relative
	 * path would point elsewhere.
	 */
	{
		char	 cwd[512];

		CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
		CHECK(chdir(dir) == 0);
		CHECK(config_load("queue.conf", &cf) == 0);
		CHECK(chdir(cwd) == 0);
		CHECK(strncmp(cf->cf_state_dir, dir, strlen(dir)) == 0);
		CHECK(strcmp(cf->cf_state_dir + strlen(dir), "/state") == 0);
		config_free(cf);
	}
#define VEP "[endpoint v]\nprovider = verifa\nsecret_file = v.secret\n"
	bad(GOOD_GLOBAL VEP "mode = async\n", "7: mode: ");
	CHECK(strstr(errs, "is not sync or queue") != NULL);
	bad(GOOD_GLOBAL VEP "mode = sync\nmode = queue\n", "8: mode: ");
	bad(GOOD_GLOBAL VEP "max_running = 0\n", "7: max_running: ");
	bad(GOOD_GLOBAL VEP "max_running = 65\n", "7: max_running: ");
	bad(GOOD_GLOBAL VEP "max_attempts = 101\n", "7: max_attempts: ");
	bad(GOOD_GLOBAL VEP "retry_backoff = 0\n", "7: retry_backoff: ");
	bad(GOOD_GLOBAL VEP "retry_backoff = 2d\n", "7: retry_backoff: ");
	bad(GOOD_GLOBAL VEP "retry_backoff = soon\n", "7: retry_backoff: ");
	bad(GOOD_GLOBAL "mode = queue\n" VEP, "4: mode: unknown key in "
	    "[idhook]");
	bad(GOOD_GLOBAL "map_size = 0\n" VEP, "4: map_size: ");
	bad(GOOD_GLOBAL "map_size = 512K\n" VEP, "4: map_size: ");
	bad(GOOD_GLOBAL "map_size = 1T\n" VEP, "4: map_size: ");
	bad(GOOD_GLOBAL "map_size = 9999G\n" VEP, "4: map_size: ");
	bad(GOOD_GLOBAL "map_size = lots\n" VEP, "4: map_size: ");
	bad(GOOD_GLOBAL "map_size = 1G\nmap_size = 2G\n" VEP, "5: map_size: ");
#undef VEP
}

/*
 * As uid 65534: a group-readable secret owned by a third user (uid 1) is
 * refused, one owned by root is fine.  Run in a child that drops root.
 */
static void
test_owner(void)
{
	char		 p[512];
	gid_t		 gid = 65534;
	pid_t		 pid;
	int		 status;
	struct config	*cf;

	put("k.secret", 0640, "whsec_x\n");
	snprintf(p, sizeof(p), "%s/k.secret", dir);
	CHECK(chown(p, 1, 65534) == 0);
	CHECK(chmod(dir, 0755) == 0);
	snprintf(p, sizeof(p), "%s/private.pem", dir);
	CHECK(chown(p, 65534, 65534) == 0);
	put("owner.conf", 0644, GOOD_GLOBAL EP);
	CHECK((pid = fork()) != -1);
	if (pid == 0) {
		CHECK(setgroups(1, &gid) == 0);
		CHECK(setresgid(gid, gid, gid) == 0);
		CHECK(setresuid(65534, 65534, 65534) == 0);
		CHECK(load("owner.conf", &cf) == -1);
		CHECK(strstr(errs, "owned by uid 1, neither") != NULL);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	snprintf(p, sizeof(p), "%s/k.secret", dir);
	CHECK(chown(p, 0, 65534) == 0);
	CHECK((pid = fork()) != -1);
	if (pid == 0) {
		CHECK(setgroups(1, &gid) == 0);
		CHECK(setresgid(gid, gid, gid) == 0);
		CHECK(setresuid(65534, 65534, 65534) == 0);
		CHECK(load("owner.conf", &cf) == 0);
		config_free(cf);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	snprintf(p, sizeof(p), "%s/private.pem", dir);
	CHECK(chown(p, 0, 0) == 0);
	CHECK(chmod(dir, 0700) == 0);
}

static void
test_modes(void)
{
	char	 p[512], q[512];

	put("k.secret", 0644, "whsec_x\n");
	bad(GOOD_GLOBAL EP, "6: secret_file: ");
	CHECK(strstr(errs, "others may read it") != NULL);
	CHECK(strstr(errs, "chmod 600 ") != NULL);
	CHECK(strstr(errs, "whsec_x") == NULL);
	put("k.secret", 0601, "whsec_x\n");
	bad(GOOD_GLOBAL EP, "6: secret_file: ");
	CHECK(strstr(errs, "mode 0601: others may read it") != NULL);
	put("k.secret", 0610, "whsec_x\n");
	bad(GOOD_GLOBAL EP, "6: secret_file: ");
	put("k.secret", 0620, "whsec_x\n");
	bad(GOOD_GLOBAL EP, "6: secret_file: ");
	CHECK(strstr(errs, "others may change it") != NULL);
	if (geteuid() == 0)
		test_owner();
	put("k.secret", 0600, "\n# nothing\n");
	bad(GOOD_GLOBAL EP, "6: secret_file: ");
	CHECK(strstr(errs, "holds no secret") != NULL);
	put("k.secret", 0640, "whsec_x\n");	/* group read is fine */
	put("real.secret", 0600, "whsec_x\n");
	snprintf(p, sizeof(p), "%s/link.secret", dir);
	snprintf(q, sizeof(q), "%s/real.secret", dir);
	(void)unlink(p);
	CHECK(symlink(q, p) == 0);
	bad(GOOD_GLOBAL "[endpoint k]\nprovider = kayle\n"
	    "secret_file = link.secret\ndecryption_key = private.pem\n",
	    "6: secret_file: ");
	CHECK(strstr(errs, "symlink") != NULL);
	/* The config itself must not be writable by others. */
	put("gw.conf", 0664, GOOD_GLOBAL EP);
	{
		struct config	*cf;

		CHECK(load("gw.conf", &cf) == -1);
		CHECK(strstr(errs, "chmod go-w") != NULL);
		put("gw.conf", 0644, GOOD_GLOBAL EP);
		CHECK(load("gw.conf", &cf) == 0);
		config_free(cf);
	}
}

int
main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	copy_key("private.pem");
	test_valid();
	test_two_endpoints();
	test_senders();
	test_queue_keys();
	test_errors();
	test_modes();
	CHECK(config_parse_duration("90", RETENTION_MAX) == 90);
	CHECK(config_parse_duration("15m", RETENTION_MAX) == 900);
	CHECK(config_parse_duration("1w", RETENTION_MAX) == 604800);
	CHECK(config_parse_duration("0d", RETENTION_MAX) == -1);
	CHECK(config_parse_duration("d", RETENTION_MAX) == -1);
	CHECK(config_parse_duration("-5", RETENTION_MAX) == -1);
	CHECK(config_parse_duration("99999d", RETENTION_MAX) == -1);
	CHECK(strlen(dir) > 10);
	return execl("/bin/rm", "rm", "-rf", dir, (char *)NULL) == -1;
}
