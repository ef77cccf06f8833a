/*
 * cmd_sign.c: "idhook sign [-c FILE] [-o DIR | --curl] ENDPOINT
 * EVENT-TYPE [PAYLOAD.json]" (SPEC section 8): a delivery signed with the
 * endpoint's first secret exactly as its sender would sign it, for Kayle
 * also encrypted to the public part of the endpoint's first key.  The
 * result is a delivery directory (DIR/body, DIR/headers as curl -H lines,
 * the format tests/tools/kayle_sign.py writes and "idhook deliver" reads)
 * and, with --curl, a curl command that posts it.  The secret is only
 * HMAC input: it is never written or printed.
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bounds.h"
#include "cli.h"
#include "config.h"
#include "jwe.h"
#include "log.h"
#include "sig.h"

#define SIGN_SYNOPSIS	"[-c FILE] [-o DIR | --curl [-u URL]] ENDPOINT " \
			"EVENT-TYPE [PAYLOAD.json]"
#define SIGN_URL_DEFAULT	"http://localhost/cgi-bin/idhook"
#define SIGN_HDRS_MAX	1024

struct sign_out {
	char	*so_body;	/* malloc'd */
	size_t	 so_len;
	char	 so_hdrs[SIGN_HDRS_MAX];
};

static int
sign_help(void)
{
	printf("usage: idhook sign " SIGN_SYNOPSIS "\n"
	    "       idhook sign -l\n\n"
	    "Makes a delivery for ENDPOINT signed with its first secret (for\n"
	    "Kayle encrypted to its first decryption_key): DIR/body and\n"
	    "DIR/headers (curl -H lines), for \"idhook deliver DIR\" or curl.\n"
	    "Without PAYLOAD.json a built-in example with fresh ids is "
	    "used.\n\n"
	    "  -c FILE    config file\n"
	    "  -o DIR     write the delivery there (created if missing)\n"
	    "  --curl     print a curl command that posts it (files in -o DIR\n"
	    "             or a new temporary directory)\n"
	    "  -u URL     the server's base URL for --curl (default %s);\n"
	    "             the endpoint name is appended\n"
	    "  -l         list the built-in event types of every sender\n",
	    SIGN_URL_DEFAULT);
	return CLI_OK;
}

/* The providers' documented types (pv_event_types, provider.h). */
static void
sign_list(void)
{
	const struct provider	*pv[] = { &provider_kayle, &provider_verifa };
	size_t			 i, j;

	for (i = 0; i < sizeof(pv) / sizeof(pv[0]); i++)
		for (j = 0; pv[i]->pv_event_types[j] != NULL; j++)
			printf("%s %s\n", pv[i]->pv_name,
			    pv[i]->pv_event_types[j]);
	printf("standard (any type: {\"type\",\"timestamp\",\"data\":{}})\n");
}

static int
type_known(const struct provider *pv, const char *type)
{
	const char *const	*t;

	for (t = pv->pv_event_types; t != NULL && *t != NULL; t++)
		if (strcmp(*t, type) == 0)
			return 1;
	return 0;
}

/* prefix then n random [a-z0-9] (the senders' id alphabet). */
static json_t *
rand_id(const char *prefix, size_t n)
{
	static const char	 alnum[] =
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	char			 buf[128];
	uint8_t			 r[64];
	size_t			 i, p = strlen(prefix);

	if (n > sizeof(r) || p + n >= sizeof(buf) ||
	    RAND_bytes(r, (int)n) != 1)
		return NULL;
	memcpy(buf, prefix, p);
	/* 252 = 7 * 36: the bias of r % 36 is irrelevant for a test id. */
	for (i = 0; i < n; i++)
		buf[p + i] = alnum[r[i] % 36];
	buf[p + n] = '\0';
	return json_string(buf);
}

/* protocols/kayle.md "Payload", by the type's last word. */
static json_t *
kayle_data(const char *type)
{
	const char	*kind = strrchr(type, '.') + 1;

	if (strcmp(kind, "succeeded") == 0)
		return json_pack("{s:{s:s,s:s,s:s,s:s,s:b},s:[s,s,s]}",
		    "claims", "given_names", "Jane", "family_name", "Example",
		    "date_of_birth", "1990-01-01", "issuing_country_code",
		    "NLD", "age_over_18", 1,
		    "selected_field_keys", "given_names", "family_name",
		    "age_over_18");
	if (strcmp(kind, "failed") == 0)
		return json_pack("{s:s,s:i,s:i}", "failure_code",
		    "selfie_face_mismatch", "nfc_tries_used", 1,
		    "liveness_tries_used", 3);
	if (strcmp(kind, "cancelled") == 0)
		return json_pack("{s:s,s:s,s:i,s:i}", "outcome", "not_verified",
		    "reason", "cancelled", "nfc_tries_used", 0,
		    "liveness_tries_used", 0);
	return json_object();
}

static json_t *
kayle_example(const char *type)
{
	json_t	*meta;

	meta = json_pack("{s:i,s:o,s:o}", "contract_version", 1,
	    "event_id", rand_id("evt_live_", 64),
	    "verification_session_id", rand_id("vs_live_", 64));
	if (meta != NULL && strncmp(type, "verification.attempt.", 21) == 0)
		json_object_set_new(meta, "verification_attempt_id",
		    rand_id("va_live_", 64));
	return json_pack("{s:s,s:o,s:o}", "type", type, "metadata", meta,
	    "data", kayle_data(type));
}

/* protocols/verifa.md "Payload": flat, the object id by family. */
static json_t *
verifa_example(const char *type)
{
	static const struct {
		const char	*family, *field, *prefix;
	} ids[] = {
		{ "session.", "session_id", "session_" },
		{ "check.", "check_id", "check_" },
		{ "screening.", "check_id", "check_" },
		{ "identity.", "identity_id", "identity_" },
		{ "case.", "case_id", "case_" },
		{ "document.", "document_id", "doc_" },
		{ "consortium.", "identity_id", "identity_" },
	};
	json_t	*o;
	size_t	 i;

	o = json_pack("{s:s,s:o,s:s,s:b}", "event", type, "idempotency_key",
	    rand_id("idk_", 16), "external_ref", "user_1042", "is_sandbox", 1);
	for (i = 0; o != NULL && i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strncmp(type, ids[i].family, strlen(ids[i].family)) == 0)
			json_object_set_new(o, ids[i].field,
			    rand_id(ids[i].prefix, 12));
	return o;
}

/* protocols/standard-webhooks.md: the generic envelope. */
static json_t *
standard_example(const char *type, time_t now)
{
	char	 ts[32];

	(void)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	return json_pack("{s:s,s:s,s:{}}", "type", type, "timestamp", ts,
	    "data");
}

/* The built-in payload as compact JSON, or NULL for an unknown type. */
static char *
example(const struct provider *pv, const char *type, time_t now)
{
	json_t	*j = NULL;
	char	*s;

	if (pv == &provider_kayle && type_known(pv, type))
		j = kayle_example(type);
	else if (pv == &provider_verifa && type_known(pv, type))
		j = verifa_example(type);
	else if (pv == &provider_standard)
		j = standard_example(type, now);
	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

/* The payload file's exact bytes (at most max), NUL-terminated. */
static char *
read_payload(const char *path, size_t max, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	if ((f = fopen(path, "rb")) == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(max + 2)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		log_error("%s: %s", path, n > max ? "larger than max_body" :
		    "read error");
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*lenp = n;
	return buf;
}

static void
hexenc(const uint8_t *in, size_t n, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * t=<unix>,v1=<hex> over t "." body (kayle.md, verifa.md "Signature");
 * Standard Webhooks: "v1,<base64>" over id "." t "." body.
 */
static int
sign_headers(const struct endpoint *ep, const char *type,
    struct sign_out *so, time_t now)
{
	const struct provider	*pv = ep->ep_provider;
	const uint8_t		*p[5];
	size_t			 l[5], n = 0, w;
	uint8_t			 mac[SIG_MAC_LEN];
	char			 t[24], v[2 * SIG_MAC_LEN + 1], id[128];
	json_t			*jid;
	int			 rv = -1;

	(void)snprintf(t, sizeof(t), "%lld", (long long)now);
	jid = rand_id(pv == &provider_kayle ? "whd_live_" :
	    pv == &provider_verifa ? "dlv_" : "msg_",
	    pv == &provider_kayle ? 64 : pv == &provider_verifa ? 20 : 27);
	if (jid == NULL)
		return -1;
	strlcpy(id, json_string_value(jid), sizeof(id));
	json_decref(jid);
	if (pv == &provider_standard) {
		p[n] = (const uint8_t *)id;
		l[n++] = strlen(id);
		p[n] = (const uint8_t *)".";
		l[n++] = 1;
	}
	p[n] = (const uint8_t *)t;
	l[n++] = strlen(t);
	p[n] = (const uint8_t *)".";
	l[n++] = 1;
	p[n] = (const uint8_t *)so->so_body;
	l[n++] = so->so_len;
	if (sig_hmac_parts(&ep->ep_secrets[0], p, l, n, mac) == -1)
		goto out;
	if (pv == &provider_kayle)
		w = (size_t)snprintf(so->so_hdrs, sizeof(so->so_hdrs),
		    "Content-Type: application/jose\nX-Kayle-Signature: "
		    "t=%s,v1=%s\nX-Kayle-Event: %s\nX-Kayle-Delivery-Id: %s\n",
		    t, (hexenc(mac, sizeof(mac), v), v), type, id);
	else if (pv == &provider_verifa)
		w = (size_t)snprintf(so->so_hdrs, sizeof(so->so_hdrs),
		    "Content-Type: application/json\nX-Verifa-Signature: "
		    "t=%s,v1=%s\nX-Verifa-Delivery-Id: %s\n",
		    t, (hexenc(mac, sizeof(mac), v), v), id);
	else {
		(void)EVP_EncodeBlock((unsigned char *)v, mac, sizeof(mac));
		w = (size_t)snprintf(so->so_hdrs, sizeof(so->so_hdrs),
		    "Content-Type: application/json\nwebhook-id: %s\n"
		    "webhook-timestamp: %s\nwebhook-signature: v1,%s\n",
		    id, t, v);
	}
	rv = w < sizeof(so->so_hdrs) ? 0 : -1;
 out:
	explicit_bzero(mac, sizeof(mac));
	return rv;
}

/* The body: the payload as is, or (Kayle) its JWE to the first key. */
static int
sign_body(const struct endpoint *ep, char *pt, size_t ptlen,
    struct sign_out *so)
{
	if (!ep->ep_provider->pv_encrypted) {
		so->so_body = pt;
		so->so_len = ptlen;
		return 0;
	}
	if (ep->ep_nkeys == 0) {
		log_error("endpoint %s has no decryption_key", ep->ep_name);
		free(pt);
		return -1;
	}
	/* kayle.md: the JWE carries the kid the key was registered with. */
	if (jwe_encrypt((const uint8_t *)pt, ptlen, ep->ep_keys[0].jk_pkey,
	    ep->ep_keys[0].jk_kid, &so->so_body, &so->so_len) == -1) {
		freezero(pt, ptlen);
		return -1;
	}
	freezero(pt, ptlen);
	return 0;
}

static int
write_file(const char *dir, const char *name, const char *buf, size_t len)
{
	char	 path[PATH_MAX];
	FILE	*f;
	int	 fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		log_error("%s: path too long", dir);
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 || (f = fdopen(fd, "wb")) == NULL) {
		log_error("%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (fwrite(buf, 1, len, f) != len) {
		log_error("%s: %s", path, strerror(errno));
		(void)fclose(f);
		return -1;
	}
	if (fclose(f) == EOF) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* -o DIR (created 0700 if missing), else a new temporary directory. */
static int
sign_dir(const char *given, char *dir, size_t dirsz)
{
	const char	*tmp = getenv("TMPDIR");
	char		 t[PATH_MAX];

	if (given == NULL) {
		if (tmp == NULL || tmp[0] == '\0')
			tmp = "/tmp";
		if ((size_t)snprintf(t, sizeof(t), "%s/idhook-sign.XXXXXX",
		    tmp) >= sizeof(t) || mkdtemp(t) == NULL) {
			log_error("%s: cannot make a directory", tmp);
			return -1;
		}
		given = t;
	} else if (mkdir(given, 0700) == -1 && errno != EEXIST) {
		log_error("%s: %s", given, strerror(errno));
		return -1;
	}
	if (realpath(given, dir) == NULL || strlen(dir) >= dirsz) {
		log_error("%s: %s", given, strerror(errno));
		return -1;
	}
	return 0;
}

/* Single-quoted for sh; a path with a quote in it is refused. */
static int
print_curl(const char *dir, const char *url, const char *ep)
{
	if (strchr(dir, '\'') != NULL || strchr(url, '\'') != NULL ||
	    strchr(ep, '\'') != NULL) {
		log_error("a quote in a path or the URL: write the command "
		    "yourself");
		return -1;
	}
	printf("curl -sS -i -H @'%s/headers' --data-binary @'%s/body' "
	    "'%s/%s'\n", dir, dir, url, ep);
	return 0;
}

/* Goes into a header line: printable ASCII, no space (no CR/LF). */
static int
type_ok(const char *type)
{
	size_t	 i, n = strlen(type);

	for (i = 0; i < n; i++)
		if (type[i] < 0x21 || type[i] > 0x7e)
			return 0;
	return n > 0 && n <= EVENT_TYPE_MAX;
}

static const struct endpoint *
find_endpoint(const struct config *cf, const char *name)
{
	size_t	 i;

	for (i = 0; i < cf->cf_nendpoints; i++)
		if (strcmp(cf->cf_endpoints[i].ep_name, name) == 0)
			return &cf->cf_endpoints[i];
	log_error("no endpoint %s in the config", name);
	return NULL;
}

struct sign_args {
	const char	*sa_config, *sa_out, *sa_url, *sa_payload;
	const char	*sa_endpoint, *sa_type;
	int		 sa_curl;
};

static int
sign_run(const struct sign_args *sa)
{
	struct config		*cf = NULL;
	const struct endpoint	*ep;
	struct sign_out		 so;
	char			 dir[PATH_MAX], *pt;
	size_t			 ptlen = 0;
	time_t			 now = time(NULL);
	int			 rv = CLI_FAIL;

	memset(&so, 0, sizeof(so));
	if (cli_load_config(sa->sa_config, &cf) == -1 ||
	    (ep = find_endpoint(cf, sa->sa_endpoint)) == NULL)
		goto out;
	if (ep->ep_nsecrets == 0) {
		log_error("endpoint %s has no secret", ep->ep_name);
		goto out;
	}
	if (sa->sa_payload != NULL)
		pt = read_payload(sa->sa_payload, cf->cf_max_body, &ptlen);
	else if ((pt = example(ep->ep_provider, sa->sa_type, now)) != NULL)
		ptlen = strlen(pt);
	else
		log_error("no built-in %s payload for %s (idhook sign -l); "
		    "give PAYLOAD.json", ep->ep_provider->pv_name, sa->sa_type);
	if (pt == NULL || sign_body(ep, pt, ptlen, &so) == -1 ||
	    sign_headers(ep, sa->sa_type, &so, now) == -1 ||
	    sign_dir(sa->sa_out, dir, sizeof(dir)) == -1 ||
	    write_file(dir, "body", so.so_body, so.so_len) == -1 ||
	    write_file(dir, "headers", so.so_hdrs, strlen(so.so_hdrs)) == -1)
		goto out;
	if (sa->sa_curl ? print_curl(dir, sa->sa_url, ep->ep_name) == -1 :
	    printf("%s\n", dir) < 0)
		goto out;
	rv = CLI_OK;
 out:
	if (so.so_body != NULL)
		freezero(so.so_body, so.so_len);
	config_free(cf);
	return rv;
}

int
cmd_sign(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "curl", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sign_args	 sa;
	int			 ch;

	memset(&sa, 0, sizeof(sa));
	sa.sa_url = SIGN_URL_DEFAULT;
	while ((ch = getopt_long(argc, argv, "c:o:u:lh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			sa.sa_config = optarg;
			break;
		case 'o':
			sa.sa_out = optarg;
			break;
		case 'u':
			sa.sa_url = optarg;
			break;
		case 'C':
			sa.sa_curl = 1;
			break;
		case 'l':
			sign_list();
			return CLI_OK;
		case 'h':
			return sign_help();
		default:
			return cli_usage("sign", SIGN_SYNOPSIS);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > 3 || (sa.sa_out == NULL && !sa.sa_curl))
		return cli_usage("sign", SIGN_SYNOPSIS);
	if (!type_ok(argv[1])) {
		fprintf(stderr, "idhook sign: %s: not an event type\n",
		    argv[1]);
		return CLI_USAGE;
	}
	sa.sa_endpoint = argv[0];
	sa.sa_type = argv[1];
	sa.sa_payload = argc == 3 ? argv[2] : NULL;
	return sign_run(&sa);
}
