/*
 * config.c: libinih parser and validator for idhook.conf (SPEC section 2).
 *
 * libinih on Debian is built without INI_HANDLER_LINENO, so lines are
 * counted by our own reader (ini_parse_stream), with multi-line values
 * off so that one read is one line.  All problems are reported, then the
 * whole config is refused: a half-loaded config could run hooks with
 * the wrong secrets or directories.
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "log.h"

#define SECTION_GLOBAL		"idhook"
#define SECTION_ENDPOINT	"endpoint"

/* Keys that may be given once; bit per key in seen masks. */
enum {
	K_STATE_DIR = 1 << 0, K_HOOKS_DIR = 1 << 1, K_MAX_BODY = 1 << 2,
	K_HOOK_TIMEOUT = 1 << 3, K_RETENTION = 1 << 4, K_LOG_LEVEL = 1 << 5,
	K_USER = 1 << 6, K_PROVIDER = 1 << 7, K_SECRET_FILE = 1 << 8,
	K_TOLERANCE = 1 << 9, K_DECRYPTION_KEY = 1 << 10,
	K_LEGACY = 1 << 11, K_MODE = 1 << 12, K_MAX_RUNNING = 1 << 13,
	K_RETRY_BACKOFF = 1 << 14, K_MAX_ATTEMPTS = 1 << 15,
	K_MAP_SIZE = 1 << 16
};

struct parse_state {
	const char	*ps_path;
	char		 ps_dir[CONFIG_PATH_MAX];
	FILE		*ps_fp;
	int		 ps_line;
	int		 ps_errors;
	struct config	*ps_cf;
	struct endpoint	*ps_ep;		/* current endpoint section */
	char		 ps_section[CONFIG_LINE_MAX];
	unsigned	 ps_seen;	/* keys given in the current section */
	unsigned	 ps_ep_seen[ENDPOINTS_MAX];
	char		*ps_secret_path[ENDPOINTS_MAX];	/* loaded at the end */
	int		 ps_secret_line[ENDPOINTS_MAX];
	unsigned	 ps_seen_global;
	int		 ps_in_global;
	int		 ps_bad_section;
};

static void
cerr(struct parse_state *ps, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
cerr(struct parse_state *ps, int line, const char *key, const char *fmt, ...)
{
	char	 msg[LOG_LINE_MAX / 2];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s:%d: %s: %s", ps->ps_path, line, key, msg);
	ps->ps_errors++;
}

int64_t
config_parse_duration(const char *s, int64_t max)
{
	char		 num[32];
	size_t		 n = strlen(s);
	int64_t		 mult = 1;
	long long	 v;
	const char	*errstr;

	if (n == 0 || n >= sizeof(num))
		return -1;
	switch (s[n - 1]) {
	case 's': mult = 1; n--; break;
	case 'm': mult = 60; n--; break;
	case 'h': mult = 3600; n--; break;
	case 'd': mult = 86400; n--; break;
	case 'w': mult = 7 * 86400; n--; break;
	default: break;
	}
	if (n == 0 || strspn(s, "0123456789") != n)
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	v = strtonum(num, 1, max / mult, &errstr);
	if (errstr != NULL)
		return -1;
	return (int64_t)v * mult;
}

/* Absolute path of value, relative ones taken from the config's dir. */
static char *
resolve_path(struct parse_state *ps, const char *key, const char *value)
{
	char	 buf[CONFIG_PATH_MAX];
	int	 n;
	char	*p;

	if (value[0] == '\0') {
		cerr(ps, ps->ps_line, key, "empty path");
		return NULL;
	}
	if (value[0] == '/')
		n = snprintf(buf, sizeof(buf), "%s", value);
	else
		n = snprintf(buf, sizeof(buf), "%s/%s", ps->ps_dir, value);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		cerr(ps, ps->ps_line, key, "path too long");
		return NULL;
	}
	if ((p = strdup(buf)) == NULL)
		cerr(ps, ps->ps_line, key, "out of memory");
	return p;
}

static int
parse_number(struct parse_state *ps, const char *key, const char *value,
    long long min, long long max, long long *out)
{
	const char	*errstr;
	long long	 v = 0;

	/* Digits only: strtonum would also take " 5" and "+5". */
	if (value[0] == '\0' || strspn(value, "0123456789") != strlen(value))
		errstr = "not a whole number";
	else
		v = strtonum(value, min, max, &errstr);
	if (errstr != NULL) {
		cerr(ps, ps->ps_line, key, "\"%s\" is %s (allowed %lld..%lld)",
		    value, errstr, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
config_read_private(const char *path, uint8_t *buf, size_t max,
    size_t *lenp, char *err, size_t errlen)
{
	struct stat	 st;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ELOOP)
			snprintf(err, errlen, "%s is a symlink (refused: "
			    "point the config at the real file)", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		goto out;
	}
	/*
	 * Owner read/write, and group read at most (root:www-data 0640 is
	 * the usual way to hand a key to the web server): anyone else who
	 * can read a secret can forge deliveries.
	 */
	if (st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) {
		snprintf(err, errlen, "%s has mode %04o: others may %s it: "
		    "chmod 600 %s", path, (unsigned)(st.st_mode & 07777),
		    st.st_mode & (S_IWGRP | S_IWOTH) ? "change" : "read",
		    path);
		goto out;
	}
	/*
	 * A file a third user owns is theirs to change.  Root (reading the
	 * keys before switching to user=) accepts the files of that user.
	 */
	if (geteuid() != 0 && st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen, "%s is owned by uid %u, neither this "
		    "user (%u) nor root: chown it", path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		goto out;
	}
	for (;;) {
		r = read(fd, buf + len, max - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == max) {
			snprintf(err, errlen, "%s is larger than %zu bytes",
			    path, max - 1);
			goto out;
		}
	}
	*lenp = len;
	rv = 0;
out:
	if (rv == -1)
		explicit_bzero(buf, len);
	close(fd);
	return rv;
}

/*
 * One secret: the line itself, or what the provider makes of it (the
 * base64-decoded bytes of a Standard Webhooks "whsec_" secret).
 */
static int
add_secret(struct parse_state *ps, int line, struct endpoint *ep,
    const char *path, const uint8_t *s, size_t len)
{
	uint8_t	 key[SECRET_LEN_MAX];
	size_t	 klen = len;
	int	 rv = -1;

	if (memchr(s, '\0', len) != NULL || len > SECRET_LEN_MAX) {
		cerr(ps, line, "secret_file", "%s: a secret is longer than %d "
		    "bytes or holds a NUL byte", path, SECRET_LEN_MAX);
		return -1;
	}
	if (ep->ep_nsecrets == SECRETS_MAX) {
		cerr(ps, line, "secret_file", "%s: more than %d secrets",
		    path, SECRETS_MAX);
		return -1;
	}
	if (ep->ep_provider->pv_secret == NULL)
		memcpy(key, s, len);
	else if (ep->ep_provider->pv_secret(s, len, key, sizeof(key),
	    &klen) == -1) {
		cerr(ps, line, "secret_file", "%s: not a %s secret (whsec_ "
		    "and base64)", path, ep->ep_provider->pv_name);
		goto out;
	}
	if ((ep->ep_secrets[ep->ep_nsecrets].s_buf = malloc(klen)) == NULL) {
		cerr(ps, line, "secret_file", "out of memory");
		goto out;
	}
	memcpy(ep->ep_secrets[ep->ep_nsecrets].s_buf, key, klen);
	ep->ep_secrets[ep->ep_nsecrets++].s_len = klen;
	rv = 0;
out:
	explicit_bzero(key, sizeof(key));
	return rv;
}

/*
 * One secret per line; blank lines and lines starting with '#' skipped.
 * Loaded once the section is read, when its provider is known.
 */
static void
load_secrets(struct parse_state *ps, int line, struct endpoint *ep,
    const char *path)
{
	uint8_t	 buf[SECRET_FILE_MAX + 1];
	char	 err[LOG_LINE_MAX / 2];
	size_t	 len, off = 0, b, e;
	int	 bad = 0;

	if (config_read_private(path, buf, sizeof(buf), &len, err,
	    sizeof(err)) == -1) {
		cerr(ps, line, "secret_file", "%s", err);
		return;
	}
	while (off < len) {
		for (e = off; e < len && buf[e] != '\n'; e++)
			continue;
		b = off;
		off = e + 1;
		while (b < e && (buf[b] == ' ' || buf[b] == '\t'))
			b++;
		while (e > b && (buf[e - 1] == ' ' || buf[e - 1] == '\t' ||
		    buf[e - 1] == '\r'))
			e--;
		if (b == e || buf[b] == '#')
			continue;
		if ((bad = add_secret(ps, line, ep, path, buf + b, e - b)) ==
		    -1)
			break;
	}
	if (!bad && ep->ep_nsecrets == 0)
		cerr(ps, line, "secret_file", "%s holds no secret", path);
	explicit_bzero(buf, sizeof(buf));
}

/* "kid:path" names the kid of a PEM key; a path alone leaves it unset. */
static void
load_key(struct parse_state *ps, struct endpoint *ep, const char *value)
{
	char		 kid[KID_MAX + 1] = "", err[LOG_LINE_MAX / 2];
	const char	*colon, *file = value;
	char		*path = NULL;
	uint8_t		*buf = NULL;
	size_t		 len = 0, klen;

	colon = strchr(value, ':');
	klen = colon != NULL ? (size_t)(colon - value) : 0;
	if (colon != NULL && klen > 0 && klen <= KID_MAX &&
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == klen) {
		memcpy(kid, value, klen);
		kid[klen] = '\0';
		file = colon + 1;
	}
	if (ep->ep_nkeys == KEYS_MAX) {
		cerr(ps, ps->ps_line, "decryption_key", "more than %d keys",
		    KEYS_MAX);
		return;
	}
	if ((path = resolve_path(ps, "decryption_key", file)) == NULL)
		return;
	if ((buf = malloc(KEY_FILE_MAX + 1)) == NULL) {
		cerr(ps, ps->ps_line, "decryption_key", "out of memory");
		goto out;
	}
	if (config_read_private(path, buf, KEY_FILE_MAX + 1, &len, err,
	    sizeof(err)) == -1) {
		cerr(ps, ps->ps_line, "decryption_key", "%s", err);
		goto out;
	}
	if (jwe_key_parse(buf, len, kid, &ep->ep_keys[ep->ep_nkeys], err,
	    sizeof(err)) == -1) {
		cerr(ps, ps->ps_line, "decryption_key", "%s: %s", path, err);
		goto out;
	}
	ep->ep_nkeys++;
out:
	freezero(buf, KEY_FILE_MAX + 1);
	free(path);
}

static int
once(struct parse_state *ps, unsigned *seen, unsigned bit, const char *key)
{
	if (*seen & bit) {
		cerr(ps, ps->ps_line, key, "given twice in one section");
		return -1;
	}
	*seen |= bit;
	return 0;
}

static void
set_hook_env(struct parse_state *ps, const char *value)
{
	struct config	*cf = ps->ps_cf;
	const char	*eq = strchr(value, '=');
	size_t		 i, nlen = eq != NULL ? (size_t)(eq - value) : 0;

	if (eq == NULL || nlen == 0 || nlen > ENV_NAME_MAX ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != nlen ||
	    (value[0] >= '0' && value[0] <= '9')) {
		cerr(ps, ps->ps_line, "hook_env", "expected NAME=value with "
		    "NAME of A-Z, 0-9 and _");
		return;
	}
	if (strncmp(value, "IDHOOK_", 7) == 0 ||
	    strncmp(value, "EVENT_", 6) == 0) {
		cerr(ps, ps->ps_line, "hook_env", "names starting IDHOOK_ or "
		    "EVENT_ are idhook's own");
		return;
	}
	if (strlen(eq + 1) > ENV_VALUE_MAX) {
		cerr(ps, ps->ps_line, "hook_env", "value too long");
		return;
	}
	for (i = 0; i < cf->cf_nhook_env; i++)
		if (strncmp(cf->cf_hook_env[i], value, nlen + 1) == 0) {
			cerr(ps, ps->ps_line, "hook_env", "%.*s given twice",
			    (int)nlen, value);
			return;
		}
	if (cf->cf_nhook_env == HOOK_ENV_MAX) {
		cerr(ps, ps->ps_line, "hook_env", "more than %d lines",
		    HOOK_ENV_MAX);
		return;
	}
	if ((cf->cf_hook_env[cf->cf_nhook_env] = strdup(value)) == NULL)
		cerr(ps, ps->ps_line, "hook_env", "out of memory");
	else
		cf->cf_nhook_env++;
}

/* "512M", "4G", "1048576": the LMDB map size, MAP_SIZE_MIN..MAX. */
static void
set_map_size(struct parse_state *ps, const char *value)
{
	char		 num[32];
	long long	 v, mult = 1;
	size_t		 n = strlen(value);
	const char	*errstr = NULL;

	if (n > 0 && n < sizeof(num)) {
		memcpy(num, value, n + 1);
		if (num[n - 1] == 'K' || num[n - 1] == 'M' ||
		    num[n - 1] == 'G') {
			mult = num[n - 1] == 'K' ? 1024LL : num[n - 1] == 'M' ?
			    1024LL * 1024 : 1024LL * 1024 * 1024;
			num[n - 1] = '\0';
		}
		v = strtonum(num, 1, (long long)(MAP_SIZE_MAX / mult),
		    &errstr);
		if (errstr == NULL && (unsigned long long)v * mult >=
		    MAP_SIZE_MIN) {
			ps->ps_cf->cf_map_size = (size_t)(v * mult);
			return;
		}
	}
	cerr(ps, ps->ps_line, "map_size", "\"%s\" is not a size from 1M to "
	    "%luG, like 512M or 4G", value,
	    (unsigned long)(MAP_SIZE_MAX / (1024UL * 1024 * 1024)));
}

static void
global_key(struct parse_state *ps, const char *key, const char *value)
{
	struct config	*cf = ps->ps_cf;
	unsigned	*seen = &ps->ps_seen_global;
	long long	 v;
	int64_t		 d;

	if (strcmp(key, "state_dir") == 0) {
		if (once(ps, seen, K_STATE_DIR, key) == 0)
			cf->cf_state_dir = resolve_path(ps, key, value);
	} else if (strcmp(key, "hooks_dir") == 0) {
		if (once(ps, seen, K_HOOKS_DIR, key) == 0)
			cf->cf_hooks_dir = resolve_path(ps, key, value);
	} else if (strcmp(key, "max_body") == 0) {
		if (once(ps, seen, K_MAX_BODY, key) == 0 &&
		    parse_number(ps, key, value, 1, BODY_MAX, &v) == 0)
			cf->cf_max_body = (size_t)v;
	} else if (strcmp(key, "hook_timeout") == 0) {
		if (once(ps, seen, K_HOOK_TIMEOUT, key) == 0 &&
		    parse_number(ps, key, value, 1, HOOK_TIMEOUT_MAX, &v) == 0)
			cf->cf_hook_timeout = (unsigned)v;
	} else if (strcmp(key, "retention") == 0) {
		if (once(ps, seen, K_RETENTION, key) != 0)
			return;
		if ((d = config_parse_duration(value, RETENTION_MAX)) == -1)
			cerr(ps, ps->ps_line, key, "\"%s\" is not a duration "
			    "like 30d, 12h, 90m or 3600", value);
		else
			cf->cf_retention = d;
	} else if (strcmp(key, "log_level") == 0) {
		if (once(ps, seen, K_LOG_LEVEL, key) != 0)
			return;
		if ((cf->cf_log_level = log_level_parse(value)) == -1)
			cerr(ps, ps->ps_line, key, "\"%s\" is not one of "
			    "error, warn, info, debug", value);
	} else if (strcmp(key, "user") == 0) {
		if (once(ps, seen, K_USER, key) != 0)
			return;
		if (value[0] == '\0')
			cerr(ps, ps->ps_line, key, "empty (name the user to "
			    "run as, or leave the key out)");
		else if ((cf->cf_user = strdup(value)) == NULL)
			cerr(ps, ps->ps_line, key, "out of memory");
	} else if (strcmp(key, "map_size") == 0) {
		if (once(ps, seen, K_MAP_SIZE, key) == 0)
			set_map_size(ps, value);
	} else if (strcmp(key, "hook_env") == 0)
		set_hook_env(ps, value);
	else
		cerr(ps, ps->ps_line, key, "unknown key in [%s]",
		    SECTION_GLOBAL);
}

/* Queue mode keys of an endpoint (SPEC section 9).  0: not one of them. */
static int
queue_key(struct parse_state *ps, const char *key, const char *value)
{
	struct endpoint	*ep = ps->ps_ep;
	unsigned	*seen = &ps->ps_seen;
	long long	 v;
	int64_t		 d;

	if (strcmp(key, "mode") == 0) {
		if (once(ps, seen, K_MODE, key) != 0)
			return 1;
		if (strcmp(value, "queue") == 0)
			ep->ep_mode = ENDPOINT_QUEUE;
		else if (strcmp(value, "sync") != 0)
			cerr(ps, ps->ps_line, key, "\"%s\" is not sync or "
			    "queue", value);
	} else if (strcmp(key, "max_running") == 0) {
		if (once(ps, seen, K_MAX_RUNNING, key) == 0 &&
		    parse_number(ps, key, value, 1, MAX_RUNNING_MAX, &v) == 0)
			ep->ep_max_running = (unsigned)v;
	} else if (strcmp(key, "max_attempts") == 0) {
		if (once(ps, seen, K_MAX_ATTEMPTS, key) == 0 &&
		    parse_number(ps, key, value, 1, MAX_ATTEMPTS_MAX, &v) == 0)
			ep->ep_max_attempts = (unsigned)v;
	} else if (strcmp(key, "retry_backoff") == 0) {
		if (once(ps, seen, K_RETRY_BACKOFF, key) != 0)
			return 1;
		if ((d = config_parse_duration(value, RETRY_BACKOFF_MAX)) < 1)
			cerr(ps, ps->ps_line, key, "\"%s\" is not a duration "
			    "from 1s to %ds, like 30s or 5m", value,
			    RETRY_BACKOFF_MAX);
		else
			ep->ep_retry_backoff = (unsigned)d;
	} else
		return 0;
	return 1;
}

static void
endpoint_key(struct parse_state *ps, const char *key, const char *value)
{
	struct endpoint	*ep = ps->ps_ep;
	unsigned	*seen = &ps->ps_seen;
	long long	 v;
	size_t		 i;

	if (strcmp(key, "provider") == 0) {
		if (once(ps, seen, K_PROVIDER, key) != 0)
			return;
		if ((ep->ep_provider = provider_find(value)) == NULL)
			cerr(ps, ps->ps_line, key, "unknown provider \"%s\" "
			    "(known: %s)", value, provider_names);
	} else if (strcmp(key, "secret_file") == 0) {
		if (once(ps, seen, K_SECRET_FILE, key) != 0)
			return;
		i = (size_t)(ep - ps->ps_cf->cf_endpoints);
		ps->ps_secret_path[i] = resolve_path(ps, key, value);
		ps->ps_secret_line[i] = ps->ps_line;
	} else if (strcmp(key, "legacy_signature") == 0) {
		if (once(ps, seen, K_LEGACY, key) != 0)
			return;
		if (strcmp(value, "yes") == 0)
			ep->ep_legacy = 1;
		else if (strcmp(value, "no") != 0)
			cerr(ps, ps->ps_line, key, "\"%s\" is not yes or no",
			    value);
	} else if (strcmp(key, "decryption_key") == 0) {
		*seen |= K_DECRYPTION_KEY;
		load_key(ps, ep, value);
	} else if (strcmp(key, "tolerance") == 0) {
		if (once(ps, seen, K_TOLERANCE, key) == 0 &&
		    parse_number(ps, key, value, 1, TOLERANCE_MAX, &v) == 0)
			ep->ep_tolerance = (unsigned)v;
	} else if (strcmp(key, "hooks_dir") == 0) {
		if (once(ps, seen, K_HOOKS_DIR, key) == 0)
			ep->ep_hooks_dir = resolve_path(ps, key, value);
	} else if (!queue_key(ps, key, value))
		cerr(ps, ps->ps_line, key, "unknown key in [endpoint %s]",
		    ep->ep_name);
}

/* A new section header: [idhook] or [endpoint NAME]. */
static void
enter_section(struct parse_state *ps, const char *section)
{
	struct config	*cf = ps->ps_cf;
	const char	*name;
	size_t		 i, n;

	strlcpy(ps->ps_section, section, sizeof(ps->ps_section));
	if (ps->ps_ep != NULL)
		ps->ps_ep_seen[ps->ps_ep - cf->cf_endpoints] = ps->ps_seen;
	ps->ps_ep = NULL;
	ps->ps_in_global = 0;
	ps->ps_bad_section = 0;
	ps->ps_seen = 0;
	if (strcmp(section, SECTION_GLOBAL) == 0) {
		if (ps->ps_seen_global != 0 || cf->cf_nhook_env != 0)
			cerr(ps, ps->ps_line, "[idhook]",
			    "section given twice");
		ps->ps_in_global = 1;
		return;
	}
	ps->ps_bad_section = 1;
	if (strlen(section) >= INI_SECTION_MAX) {
		cerr(ps, ps->ps_line, section, "section name longer than %d "
		    "characters", INI_SECTION_MAX - 1);
		return;
	}
	n = strlen(SECTION_ENDPOINT);
	if (strncmp(section, SECTION_ENDPOINT, n) != 0 ||
	    (section[n] != ' ' && section[n] != '\t')) {
		cerr(ps, ps->ps_line, section, "unknown section (expected "
		    "[idhook] or [endpoint NAME])");
		return;
	}
	name = section + n + strspn(section + n, " \t");
	n = strlen(name);
	if (n == 0 || n > ENDPOINT_NAME_MAX || strspn(name,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
	    != n) {
		cerr(ps, ps->ps_line, section, "endpoint name must be 1-%d "
		    "characters of A-Z a-z 0-9 _ -", ENDPOINT_NAME_MAX);
		return;
	}
	for (i = 0; i < cf->cf_nendpoints; i++)
		if (strcmp(cf->cf_endpoints[i].ep_name, name) == 0) {
			cerr(ps, ps->ps_line, section, "section given twice");
			return;
		}
	if (cf->cf_nendpoints == ENDPOINTS_MAX) {
		cerr(ps, ps->ps_line, section, "more than %d endpoints",
		    ENDPOINTS_MAX);
		return;
	}
	ps->ps_ep = &cf->cf_endpoints[cf->cf_nendpoints++];
	strlcpy(ps->ps_ep->ep_name, name, sizeof(ps->ps_ep->ep_name));
	ps->ps_ep->ep_tolerance = TOLERANCE_DEFAULT;
	ps->ps_ep->ep_mode = ENDPOINT_SYNC;
	ps->ps_ep->ep_max_running = MAX_RUNNING_DEFAULT;
	ps->ps_ep->ep_retry_backoff = RETRY_BACKOFF_DEFAULT;
	ps->ps_ep->ep_max_attempts = MAX_ATTEMPTS_DEFAULT;
	ps->ps_ep->ep_line = ps->ps_line;
	ps->ps_bad_section = 0;
}

static int
handle_key(void *user, const char *section, const char *key,
    const char *value)
{
	struct parse_state	*ps = user;

	if (strcmp(section, ps->ps_section) != 0)
		enter_section(ps, section);
	if (section[0] == '\0') {
		if (!ps->ps_bad_section)
			cerr(ps, ps->ps_line, key, "key outside any section "
			    "(start the file with [idhook])");
		ps->ps_bad_section = 1;
		return 1;
	}
	if (ps->ps_in_global)
		global_key(ps, key, value);
	else if (ps->ps_ep != NULL)
		endpoint_key(ps, key, value);
	return 1;
}

/*
 * fgets that counts lines, so that errors can name them.  Debian's
 * libinih has a fixed line buffer (INI_MAX_LINE, 200) and silently drops
 * the rest of a longer line: that would truncate a path, so a long line
 * is an error here, its tail is discarded by us, and inih sees a line
 * that ends where its buffer ends.
 */
static char *
line_reader(char *str, int num, void *stream)
{
	struct parse_state	*ps = stream;
	size_t			 len;
	int			 c;

	if (fgets(str, num, ps->ps_fp) == NULL)
		return NULL;
	ps->ps_line++;
	len = strlen(str);
	if (len > 0 && str[len - 1] != '\n' && !feof(ps->ps_fp)) {
		cerr(ps, ps->ps_line, "syntax", "line longer than %d "
		    "characters", num - 3);
		while ((c = fgetc(ps->ps_fp)) != EOF && c != '\n')
			continue;
		str[len - 1] = '\n';
	}
	return str;
}

static void
check_endpoints(struct parse_state *ps)
{
	struct config		*cf = ps->ps_cf;
	struct endpoint		*ep;
	const struct provider	*pv;
	unsigned		 seen;
	size_t			 i;

	if (ps->ps_ep != NULL)
		ps->ps_ep_seen[ps->ps_ep - cf->cf_endpoints] = ps->ps_seen;
	if (!(ps->ps_seen_global & K_STATE_DIR))
		cerr(ps, ps->ps_line, "state_dir", "missing from [idhook]");
	if (cf->cf_nendpoints == 0)
		cerr(ps, ps->ps_line, "[endpoint NAME]", "no endpoint "
		    "configured");
	for (i = 0; i < cf->cf_nendpoints; i++) {
		ep = &cf->cf_endpoints[i];
		seen = ps->ps_ep_seen[i];
		if (!(seen & K_PROVIDER))
			cerr(ps, ep->ep_line, "provider", "missing from "
			    "[endpoint %s]", ep->ep_name);
		if (!(seen & K_SECRET_FILE))
			cerr(ps, ep->ep_line, "secret_file", "missing from "
			    "[endpoint %s]", ep->ep_name);
		else if (ep->ep_provider != NULL && ps->ps_secret_path[i])
			load_secrets(ps, ps->ps_secret_line[i], ep,
			    ps->ps_secret_path[i]);
		if (ep->ep_provider == NULL)
			continue;
		pv = ep->ep_provider;
		if ((seen & K_LEGACY) && !pv->pv_legacy_ok)
			cerr(ps, ep->ep_line, "legacy_signature", "provider %s "
			    "has no legacy signature", pv->pv_name);
		if ((seen & K_DECRYPTION_KEY) && !pv->pv_encrypted)
			cerr(ps, ep->ep_line, "decryption_key", "provider %s "
			    "sends no encrypted bodies", pv->pv_name);
		if (ep->ep_provider != NULL && ep->ep_provider->pv_encrypted &&
		    !(seen & K_DECRYPTION_KEY))
			cerr(ps, ep->ep_line, "decryption_key", "[endpoint %s] "
			    "(provider %s) needs at least one", ep->ep_name,
			    ep->ep_provider->pv_name);
		if (!(seen & K_HOOKS_DIR) &&
		    !(ps->ps_seen_global & K_HOOKS_DIR))
			cerr(ps, ep->ep_line, "hooks_dir", "missing from "
			    "[endpoint %s] and from [idhook]", ep->ep_name);
		else if (ep->ep_hooks_dir == NULL && cf->cf_hooks_dir != NULL &&
		    (ep->ep_hooks_dir = strdup(cf->cf_hooks_dir)) == NULL)
			cerr(ps, ep->ep_line, "hooks_dir", "out of memory");
	}
}

static void
stamp_of(const struct stat *st, struct config_stamp *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->cs_dev = st->st_dev;
	cs->cs_ino = st->st_ino;
	cs->cs_mtime = st->st_mtim;
	cs->cs_size = st->st_size;
}

void
config_stamp(const char *path, struct config_stamp *cs)
{
	struct stat	 st;

	if (stat(path, &st) == -1)
		memset(cs, 0, sizeof(*cs));
	else
		stamp_of(&st, cs);
}

int
config_stamp_eq(const struct config_stamp *a, const struct config_stamp *b)
{
	return a->cs_dev == b->cs_dev && a->cs_ino == b->cs_ino &&
	    a->cs_size == b->cs_size &&
	    a->cs_mtime.tv_sec == b->cs_mtime.tv_sec &&
	    a->cs_mtime.tv_nsec == b->cs_mtime.tv_nsec;
}

/*
 * The config decides which programs run, so a file that others may
 * change is refused, as sshd refuses a group-writable authorized_keys.
 */
static int
open_config(struct parse_state *ps, struct stat *st)
{
	char	*slash, abs[PATH_MAX];

	if (strlcpy(ps->ps_dir, ps->ps_path, sizeof(ps->ps_dir)) >=
	    sizeof(ps->ps_dir)) {
		log_error("%s: path too long", ps->ps_path);
		return -1;
	}
	if ((slash = strrchr(ps->ps_dir, '/')) == NULL)
		strlcpy(ps->ps_dir, ".", sizeof(ps->ps_dir));
	else if (slash == ps->ps_dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	/* Paths in it become absolute: hooks run with another cwd. */
	if (ps->ps_dir[0] != '/' && realpath(ps->ps_dir, abs) != NULL &&
	    strlcpy(ps->ps_dir, abs, sizeof(ps->ps_dir)) >=
	    sizeof(ps->ps_dir)) {
		log_error("%s: path too long", ps->ps_path);
		return -1;
	}
	if ((ps->ps_fp = fopen(ps->ps_path, "re")) == NULL) {
		log_error("%s: cannot open config: %s", ps->ps_path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fileno(ps->ps_fp), st) == -1 || !S_ISREG(st->st_mode)) {
		log_error("%s: not a regular file", ps->ps_path);
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		log_error("%s: config is writable by others (mode %04o): "
		    "chmod go-w %s", ps->ps_path,
		    (unsigned)(st->st_mode & 07777), ps->ps_path);
		return -1;
	}
	return 0;
}

int
config_load(const char *path, struct config **cfgp)
{
	struct parse_state	 ps;
	struct config		*cf;
	struct stat		 st;
	size_t			 i;
	int			 rv;

	*cfgp = NULL;
	memset(&ps, 0, sizeof(ps));
	ps.ps_path = path;
	if ((cf = calloc(1, sizeof(*cf))) == NULL ||
	    (cf->cf_path = strdup(path)) == NULL) {
		log_error("%s: out of memory", path);
		config_free(cf);
		return -1;
	}
	cf->cf_max_body = BODY_DEFAULT;
	cf->cf_hook_timeout = HOOK_TIMEOUT_DEFAULT;
	cf->cf_retention = RETENTION_DEFAULT;
	cf->cf_map_size = MAP_SIZE_DEFAULT;
	cf->cf_log_level = LOG_INFO;
	ps.ps_cf = cf;
	if (open_config(&ps, &st) == -1) {
		if (ps.ps_fp != NULL)
			fclose(ps.ps_fp);
		config_free(cf);
		return -1;
	}
	stamp_of(&st, &cf->cf_stamp);
	/* One read is one line: no continuation lines. */
	ini_allow_multiline = 0;
	rv = ini_parse_stream(line_reader, &ps, handle_key, &ps);
	fclose(ps.ps_fp);
	if (rv > 0)
		cerr(&ps, rv, "syntax", "expected [section] or key = value");
	else if (rv < 0)
		cerr(&ps, 0, "read", "cannot read the file");
	check_endpoints(&ps);
	for (i = 0; i < ENDPOINTS_MAX; i++)
		free(ps.ps_secret_path[i]);
	if (ps.ps_errors > 0) {
		log_error("%s: %d problem%s, config not loaded", path,
		    ps.ps_errors, ps.ps_errors == 1 ? "" : "s");
		config_free(cf);
		return -1;
	}
	*cfgp = cf;
	return 0;
}

void
config_free(struct config *cf)
{
	struct endpoint	*ep;
	size_t		 i, j;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->cf_nendpoints; i++) {
		ep = &cf->cf_endpoints[i];
		for (j = 0; j < ep->ep_nsecrets; j++)
			freezero(ep->ep_secrets[j].s_buf,
			    ep->ep_secrets[j].s_len);
		for (j = 0; j < ep->ep_nkeys; j++)
			jwe_key_free(&ep->ep_keys[j]);
		free(ep->ep_hooks_dir);
	}
	for (i = 0; i < cf->cf_nhook_env; i++)
		free(cf->cf_hook_env[i]);
	free(cf->cf_path);
	free(cf->cf_state_dir);
	free(cf->cf_hooks_dir);
	free(cf->cf_user);
	freezero(cf, sizeof(*cf));
}

const struct endpoint *
config_endpoint_named(const struct config *cf, const char *name)
{
	size_t	 i;

	for (i = 0; i < cf->cf_nendpoints; i++)
		if (strcmp(cf->cf_endpoints[i].ep_name, name) == 0)
			return &cf->cf_endpoints[i];
	return NULL;
}

int
config_has_queue(const struct config *cf)
{
	size_t	 i;

	for (i = 0; i < cf->cf_nendpoints; i++)
		if (cf->cf_endpoints[i].ep_mode == ENDPOINT_QUEUE)
			return 1;
	return 0;
}

const struct endpoint *
config_endpoint(const struct config *cf, const char *path_info)
{

	if (path_info == NULL || path_info[0] == '\0' ||
	    strcmp(path_info, "/") == 0)
		return cf->cf_nendpoints == 1 ? &cf->cf_endpoints[0] : NULL;
	if (path_info[0] != '/')
		return NULL;
	return config_endpoint_named(cf, path_info + 1);
}
