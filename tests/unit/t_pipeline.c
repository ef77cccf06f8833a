/*
 * t_pipeline: the kayle-e2e vector (made by the sender's own code) through
 * the whole pipeline with "now" passed in: it verifies, decrypts, runs its
 * hook once, and is a duplicate the second time.  Every single-byte change
 * of the body (header, encrypted key, IV, ciphertext, tag) is refused
 * without running the hook or writing a dedup record, and so are stale,
 * future, missing and repeated signatures.
 */
#include "compat.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dedup.h"
#include "pipeline.h"
#include "request.h"
#include "t.h"

#define VEC_NOW		1767225600
#define VEC_SIG		"t=1767225600,v1=58eafd14a8ea883e31788695ba2bbe6b1" \
			"1b30bab67970640999c83b11e922aee"
#define VEC_PLAIN	"{\"data\":{},\"metadata\":{\"contract_version\":1," \
			"\"event_id\":\"evt_live_abc\",\"verification_sess" \
			"ion_id\":\"vs_live_def\"},\"type\":\"verification." \
			"session.expired\"}"

static char	 dir[] = "/tmp/t_pipeline.XXXXXX";
static uint8_t	 body[4096];
static size_t	 blen;
static struct config	*cf;
static struct pipeline_ctx pc;
static int64_t	 fake_now, fake_later;
static int	 fake_calls;

/* The first reading is fake_now; later ones fake_later when set. */
static int64_t
fake_clock(void)
{
	return fake_calls++ > 0 && fake_later != 0 ? fake_later : fake_now;
}

static void
tpath(char *buf, size_t len, const char *name)
{
	int	 n = snprintf(buf, len, "%s/%s", dir, name);

	CHECK(n > 0 && (size_t)n < len);
}

static void
put(const char *name, mode_t mode, const void *data, size_t len)
{
	char	 p[512];
	int	 fd;

	tpath(p, sizeof(p), name);
	(void)unlink(p);
	CHECK((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1);
	CHECK(write(fd, data, len) == (ssize_t)len);
	CHECK(close(fd) == 0);
	CHECK(chmod(p, mode) == 0);
}

static size_t
slurp(const char *path, uint8_t *buf, size_t max)
{
	FILE	*fp;
	size_t	 n;

	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, max, fp);
	fclose(fp);
	return n;
}

static void
setup(void)
{
	char	 p[512], conf[2048];
	uint8_t	 key[4096];
	size_t	 n;
	int	 len;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof(p), "%s/tests/vectors/kayle-e2e/body.jwe",
	    t_srcdir());
	CHECK((blen = slurp(p, body, sizeof(body))) == 649);
	snprintf(p, sizeof(p), "%s/tests/vectors/kayle-e2e/private.pem",
	    t_srcdir());
	CHECK((n = slurp(p, key, sizeof(key))) > 0);
	put("private.pem", 0600, key, n);
	snprintf(p, sizeof(p), "%s/tests/vectors/jwe/a.pem", t_srcdir());
	CHECK((n = slurp(p, key, sizeof(key))) > 0);
	put("other.pem", 0600, key, n);
	put("kayle.secret", 0600, "whsec_0123456789abcdefghijklmnopqrstuv\n",
	    39);
	tpath(p, sizeof(p), "state");
	CHECK(mkdir(p, 0700) == 0);
	tpath(p, sizeof(p), "hooks");
	CHECK(mkdir(p, 0755) == 0);
	/* The hook counts its runs and keeps its environment and stdin. */
	put("hooks/verification.session.expired", 0755,
	    "#!/bin/sh\necho run >> ../runs\nenv > ../env\ncat > ../stdin\n",
	    57);
	len = snprintf(conf, sizeof(conf), "[idhook]\nstate_dir = state\n"
	    "hooks_dir = hooks\n\n[endpoint kayle]\nprovider = kayle\n"
	    "secret_file = kayle.secret\ndecryption_key = other.pem\n"
	    "decryption_key = private.pem\n\n[endpoint nokey]\n"
	    "provider = kayle\nsecret_file = kayle.secret\n"
	    "decryption_key = k1:other.pem\n");
	put("idhook.conf", 0600, conf, (size_t)len);
	tpath(p, sizeof(p), "idhook.conf");
	CHECK(config_load(p, &cf) == 0);
	CHECK(dedup_open(cf->cf_state_dir, cf->cf_map_size, &pc.pc_dedup) == 0);
	pc.pc_cfg = cf;
	pc.pc_home = "/nonexistent";
	pc.pc_clock = fake_clock;
}

/* One request: CGI style, the body on fd 0 from a temp file. */
static int
deliver(const char *method, const char *path_info, const char *sig,
    const char *sig2, const uint8_t *b, size_t len, int64_t now,
    struct outcome *oc)
{
	struct request	 rq;
	char		 m[64], pi[64], cl[64], s1[256], s2[256];
	char		*params[8];
	char		 tmp[] = "/tmp/t_pipeline_body.XXXXXX";
	int		 fd, n = 0;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(pi, sizeof(pi), "PATH_INFO=%s", path_info);
	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", len);
	params[n++] = m;
	params[n++] = pi;
	params[n++] = cl;
	if (sig != NULL) {
		snprintf(s1, sizeof(s1), "HTTP_X_KAYLE_SIGNATURE=%s", sig);
		params[n++] = s1;
	}
	if (sig2 != NULL) {
		snprintf(s2, sizeof(s2), "HTTP_X_KAYLE_SIGNATURE=%s", sig2);
		params[n++] = s2;
	}
	params[n] = NULL;
	CHECK((fd = mkstemp(tmp)) != -1);
	unlink(tmp);
	CHECK(write(fd, b, len) == (ssize_t)len);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(dup2(fd, 0) == 0);
	close(fd);
	memset(&rq, 0, sizeof(rq));
	rq.rq_params = params;
	fake_now = now;
	fake_calls = 0;
	pipeline_handle(&pc, &rq, oc);
	CHECK(rq.rq_body == NULL);	/* read and wiped */
	return oc->oc_result;
}

static int
runs(void)
{
	char	 p[512];
	uint8_t	 buf[256];

	tpath(p, sizeof(p), "runs");
	return (int)slurp(p, buf, sizeof(buf)) / 4;	/* "run\n" each */
}

static int
recorded(void)
{
	struct dedup_record	 r;

	return dedup_get(pc.pc_dedup, "kayle", "evt_live_abc", 12, &r) == 0;
}

static void
test_forgeries(void)
{
	struct outcome	 oc;
	uint8_t		 b[sizeof(body)];
	size_t		 i;
	int		 rejected = 0;

	CHECK(deliver("POST", "/kayle", VEC_SIG, NULL, body, blen,
	    VEC_NOW + 301, &oc) == PR_BAD_SIGNATURE);
	CHECK(strstr(oc.oc_reason, "old") != NULL);
	CHECK(deliver("POST", "/kayle", VEC_SIG, NULL, body, blen,
	    VEC_NOW - 301, &oc) == PR_BAD_SIGNATURE);
	CHECK(strstr(oc.oc_reason, "future") != NULL);
	CHECK(deliver("POST", "/kayle", NULL, NULL, body, blen, VEC_NOW,
	    &oc) == PR_BAD_SIGNATURE);
	CHECK(deliver("POST", "/kayle", VEC_SIG, VEC_SIG, body, blen, VEC_NOW,
	    &oc) == PR_BAD_SIGNATURE);
	CHECK(deliver("POST", "/kayle", "t=1767225600,v1=00", NULL, body,
	    blen, VEC_NOW, &oc) == PR_BAD_SIGNATURE);
	/* Every byte of every segment, changed to another valid character. */
	for (i = 0; i < blen; i++) {
		memcpy(b, body, blen);
		b[i] = b[i] == 'A' ? 'B' : b[i] == '.' ? 'x' : 'A';
		if (deliver("POST", "/kayle", VEC_SIG, NULL, b, blen, VEC_NOW,
		    &oc) == PR_BAD_SIGNATURE)
			rejected++;
	}
	CHECK(rejected == (int)blen);
	/* One byte more or less. */
	CHECK(deliver("POST", "/kayle", VEC_SIG, NULL, body, blen - 1,
	    VEC_NOW, &oc) == PR_BAD_SIGNATURE);
	memcpy(b, body, blen);
	b[blen] = '\n';
	CHECK(deliver("POST", "/kayle", VEC_SIG, NULL, b, blen + 1, VEC_NOW,
	    &oc) == PR_BAD_SIGNATURE);
	CHECK(runs() == 0);
	CHECK(!recorded());
}

static void
test_bounds(void)
{
	struct outcome	 oc;
	size_t		 saved = cf->cf_max_body;

	CHECK(deliver("GET", "/kayle", VEC_SIG, NULL, body, blen, VEC_NOW,
	    &oc) == PR_BAD_METHOD);
	CHECK(deliver("POST", "/nope", VEC_SIG, NULL, body, blen, VEC_NOW,
	    &oc) == PR_NOT_FOUND);
	CHECK(deliver("POST", "", VEC_SIG, NULL, body, blen, VEC_NOW,
	    &oc) == PR_NOT_FOUND);	/* two endpoints: a name is needed */
	cf->cf_max_body = blen - 1;
	CHECK(deliver("POST", "/kayle", VEC_SIG, NULL, body, blen, VEC_NOW,
	    &oc) == PR_TOO_LARGE);
	cf->cf_max_body = saved;
	/* The right signature but none of the keys: the operator's problem. */
	CHECK(deliver("POST", "/nokey", VEC_SIG, NULL, body, blen, VEC_NOW,
	    &oc) == PR_ERROR);
	CHECK(strcmp(oc.oc_kid, "k1") == 0);
	CHECK(runs() == 0);
	CHECK(!recorded());
}

static void
test_delivery(void)
{
	struct outcome	 oc;
	struct dedup	*d = pc.pc_dedup;
	char		 p[512];
	uint8_t		 buf[8192];
	size_t		 n;

	/* Store unavailable: 503 after authentication, nothing recorded. */
	pc.pc_dedup = NULL;
	CHECK(deliver("POST", "/kayle", VEC_SIG, NULL, body, blen, VEC_NOW,
	    &oc) == PR_UNAVAILABLE);
	pc.pc_dedup = d;
	CHECK(runs() == 0);

	/*
	 * The signature is checked at the first reading (when the body is
	 * in); the claim is stamped with the time it is made, which a slow
	 * upload must not have aged already.
	 */
	fake_later = VEC_NOW + 1000;
	CHECK(deliver("POST", "/kayle", VEC_SIG, NULL, body, blen, VEC_NOW,
	    &oc) == PR_DELIVERED);
	fake_later = 0;
	{
		struct dedup_record	 r;

		CHECK(dedup_get(pc.pc_dedup, "kayle", "evt_live_abc", 12, &r)
		    == 0);
		CHECK(r.dr_first_seen == VEC_NOW + 1000);
		CHECK(r.dr_state == DEDUP_STATE_DONE && r.dr_attempts == 1);
	}
	CHECK(strcmp(oc.oc_event, "verification.session.expired") == 0);
	CHECK(strcmp(oc.oc_id, "evt_live_abc") == 0);
	CHECK(oc.oc_attempt == 1 && oc.oc_hook_exit == 0);
	CHECK(runs() == 1);
	CHECK(recorded());
	tpath(p, sizeof(p), "stdin");
	n = slurp(p, buf, sizeof(buf));
	CHECK(n == strlen(VEC_PLAIN) && memcmp(buf, VEC_PLAIN, n) == 0);
	tpath(p, sizeof(p), "env");
	n = slurp(p, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	CHECK(strstr((char *)buf,
	    "IDHOOK_EVENT=verification.session.expired\n") != NULL);
	CHECK(strstr((char *)buf, "IDHOOK_EVENT_ID=evt_live_abc\n") != NULL);
	CHECK(strstr((char *)buf, "EVENT_METADATA_CONTRACT_VERSION=1\n") !=
	    NULL);
	CHECK(strstr((char *)buf, "IDHOOK_ATTEMPT=1\n") != NULL);
	CHECK(strstr((char *)buf, "IDHOOK_TRUNCATED=0\n") != NULL);
	CHECK(strstr((char *)buf, "whsec_") == NULL);
	CHECK(strstr((char *)buf, "HTTP_") == NULL);

	/* The same bytes again, and later within the window: duplicates. */
	CHECK(deliver("POST", "/kayle", VEC_SIG, NULL, body, blen, VEC_NOW,
	    &oc) == PR_DUPLICATE);
	CHECK(deliver("POST", "/kayle", VEC_SIG, NULL, body, blen,
	    VEC_NOW + 300, &oc) == PR_DUPLICATE);
	CHECK(runs() == 1);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	setup();
	test_forgeries();
	test_bounds();
	test_delivery();
	dedup_close(pc.pc_dedup);
	config_free(cf);
	CHECK(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
	return 0;
}
