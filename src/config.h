/*
 * config.h: the INI config (SPEC section 2), parsed with libinih and
 * validated whole: every problem is logged as "FILE:LINE: KEY: message",
 * and a config with any problem is refused.  Secrets and private keys
 * are loaded here, once per load, from files that only their owner (and
 * at most its group, read-only) may read.
 */
#ifndef IDHOOK_CONFIG_H
#define IDHOOK_CONFIG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bounds.h"
#include "jwe.h"
#include "provider.h"
#include "sig.h"

enum endpoint_mode {
	ENDPOINT_SYNC = 0,	/* answer when the hook has run */
	ENDPOINT_QUEUE = 1	/* answer 202 once queued (SPEC section 9) */
};

struct endpoint {
	char			 ep_name[ENDPOINT_NAME_MAX + 1];
	const struct provider	*ep_provider;
	struct secret		 ep_secrets[SECRETS_MAX];
	size_t			 ep_nsecrets;
	struct jwe_key		 ep_keys[KEYS_MAX];
	size_t			 ep_nkeys;
	unsigned		 ep_tolerance;
	int			 ep_legacy;	/* legacy_signature = yes */
	char			*ep_hooks_dir;	/* own, or the [idhook] one */
	int			 ep_mode;	/* ENDPOINT_SYNC or _QUEUE */
	unsigned		 ep_max_running;	/* queue mode */
	unsigned		 ep_retry_backoff;	/* seconds */
	unsigned		 ep_max_attempts;
	int			 ep_line;	/* of its [endpoint] header */
};

/* Which file, as it was: a changed stamp means the file changed. */
struct config_stamp {
	dev_t		 cs_dev;
	ino_t		 cs_ino;
	struct timespec	 cs_mtime;
	off_t		 cs_size;
};

struct config {
	char		*cf_path;
	struct config_stamp cf_stamp;
	char		*cf_state_dir;
	char		*cf_hooks_dir;	/* NULL if every endpoint has its own */
	size_t		 cf_max_body;
	unsigned	 cf_hook_timeout;
	int64_t		 cf_retention;	/* seconds */
	size_t		 cf_map_size;	/* LMDB map, bytes */
	int		 cf_log_level;
	char		*cf_user;	/* started as root: switch to it */
	char		*cf_hook_env[HOOK_ENV_MAX];	/* "NAME=value" */
	size_t		 cf_nhook_env;
	struct endpoint	 cf_endpoints[ENDPOINTS_MAX];
	size_t		 cf_nendpoints;
};

/*
 * config_load: parses and validates path, reads every secret_file and
 * decryption_key.  Relative paths in the file are taken relative to the
 * config file's directory.  Returns 0 and a new config in *cfgp (free with
 * config_free), or -1 after logging every problem found.
 */
int	 config_load(const char *path, struct config **cfgp);

/* Wipes secrets, frees keys and the config.  NULL is ok. */
void	 config_free(struct config *);

/*
 * config_stamp: the stamp of the file at path now (all zero when stat
 * fails).  config_stamp_eq: 1 when two stamps are the same file as it was.
 */
void	 config_stamp(const char *path, struct config_stamp *);
int	 config_stamp_eq(const struct config_stamp *,
	    const struct config_stamp *);

/* config_endpoint_named: the endpoint called name, or NULL. */
const struct endpoint *config_endpoint_named(const struct config *,
	    const char *name);

/* 1 if any endpoint is in queue mode. */
int	 config_has_queue(const struct config *);

/*
 * config_endpoint: the endpoint for PATH_INFO ("/kayle"; NULL or "" picks
 * the only endpoint when there is exactly one).  NULL if none matches.
 */
const struct endpoint *config_endpoint(const struct config *,
	    const char *path_info);

/*
 * config_read_private: reads a secret or key file of at most max bytes
 * into buf: opened O_NOFOLLOW|O_CLOEXEC, must be a regular file that is
 * neither group-writable nor readable or writable by others.  On failure
 * returns -1 with a reason for the operator in err (e.g. the chmod that
 * fixes it).  The caller wipes buf.
 */
int	 config_read_private(const char *path, uint8_t *buf, size_t max,
	    size_t *lenp, char *err, size_t errlen);

/* Parses "30d", "12h", "15m", "90s" or plain seconds.  -1 if invalid. */
int64_t	 config_parse_duration(const char *s, int64_t max);

#endif /* IDHOOK_CONFIG_H */
