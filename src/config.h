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

struct endpoint {
	char			 ep_name[ENDPOINT_NAME_MAX + 1];
	const struct provider	*ep_provider;
	struct secret		 ep_secrets[SECRETS_MAX];
	size_t			 ep_nsecrets;
	struct jwe_key		 ep_keys[KEYS_MAX];
	size_t			 ep_nkeys;
	unsigned		 ep_tolerance;
	char			*ep_hooks_dir;	/* own, or the [idhook] one */
	int			 ep_line;	/* of its [endpoint] header */
};

struct config {
	char		*cf_path;
	dev_t		 cf_dev;
	ino_t		 cf_ino;
	struct timespec	 cf_mtime;
	off_t		 cf_size;
	char		*cf_state_dir;
	char		*cf_hooks_dir;	/* NULL if every endpoint has its own */
	size_t		 cf_max_body;
	unsigned	 cf_hook_timeout;
	int64_t		 cf_retention;	/* seconds */
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
 * config_changed: 1 if the file at cfg->cf_path is no longer the one
 * loaded (mtime, size, inode), 0 if it is, 1 as well if stat fails.
 */
int	 config_changed(const struct config *);

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
