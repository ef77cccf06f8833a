/*
 * bounds.h: every size, count and time limit of idhook, in one place.
 *
 * Untrusted input is read against these limits before anything else
 * happens to it (SPEC section 3: bound -> authenticate -> decrypt ->
 * parse -> dedup -> act).  A value that a config key can change has a
 * _DEFAULT and a _MAX: the key is refused outside [1, _MAX].
 */
#ifndef IDHOOK_BOUNDS_H
#define IDHOOK_BOUNDS_H

#include <stdint.h>

/* Request body (max_body).  Kayle photos make bodies of 100 KiB+. */
#define BODY_DEFAULT		(1024 * 1024)
#define BODY_MAX		(64 * 1024 * 1024)
#define BODY_CHUNK		8192	/* read granularity */

/* Request parameters (CGI environment / FastCGI params). */
#define SIGHDR_MAX		1024	/* a signature header's value */
#define DELIVERY_ID_MAX		128	/* X-Kayle-Delivery-Id etc., logged */
#define SIG_ID_MAX		256	/* webhook-id (Standard Webhooks) */
#define PATH_INFO_MAX		256
#define CONTENT_LENGTH_DIGITS	20

/* Secrets and keys. */
#define SECRETS_MAX		16	/* lines in one secret_file */
#define SECRET_LEN_MAX		256	/* one secret, bytes */
#define SECRET_FILE_MAX		(SECRETS_MAX * (SECRET_LEN_MAX + 2))
#define KEYS_MAX		16	/* decryption_key lines per endpoint */
#define KEY_FILE_MAX		(64 * 1024)	/* one PEM or JWK file */
#define KEY_BITS_MIN		2048
#define KEY_BITS_MAX		16384
#define KID_MAX			128

/* Signature timestamps (tolerance), seconds. */
#define TOLERANCE_DEFAULT	300
#define TOLERANCE_MAX		86400
#define SIG_T_DIGITS_MAX	19	/* fits int64 */

/* Compact JWE (RFC 7516 section 7.1). */
#define JWE_HEADER_MAX		1024	/* decoded protected header */
#define JWE_EK_MAX		(KEY_BITS_MAX / 8)
#define JWE_CEK_LEN		32	/* A256GCM */
#define JWE_IV_LEN		12
#define JWE_TAG_LEN		16

/* Decrypted JSON payload. */
#define JSON_DEPTH_MAX		32	/* far below jansson's 2048 */
#define JSON_LEAVES_MAX		4096

/* Event type ([A-Za-z0-9][A-Za-z0-9._-]{0,127}, SPEC section 4) and id. */
#define EVENT_TYPE_MAX		128
#define EVENT_ID_MAX		256

/* Hook environment (SPEC section 4). */
#define ENV_NAME_MAX		256
#define ENV_VALUE_MAX		(32 * 1024)
#define ENV_TOTAL_MAX		(256 * 1024)
#define ENV_COUNT_MAX		(JSON_LEAVES_MAX + 64)
#define HOOK_ENV_MAX		32	/* hook_env lines in config */

/* Hook execution. */
#define HOOK_TIMEOUT_DEFAULT	10	/* seconds, hook_timeout */
#define HOOK_TIMEOUT_MAX	3600
#define HOOK_KILL_GRACE		2	/* seconds between TERM and KILL */
#define HOOK_OUTPUT_MAX		(64 * 1024)	/* captured stdout+stderr */
#define HOOK_LOG_LINE_MAX	1024	/* one logged line of hook output */

/* Dedup store (SPEC section 5). */
/* A running record is stale after hook_timeout + grace + this. */
#define DEDUP_STALE_EXTRA	30
/*
 * The LMDB map (map_size): address space, not disk; the file grows as it
 * is used.  Queued and dead jobs keep their payloads (a Kayle photo event
 * is ~300 KiB), so 64-bit systems get room for thousands of them.
 */
#if SIZE_MAX > 0xffffffffUL
#define MAP_SIZE_DEFAULT	(1024UL * 1024 * 1024)
#define MAP_SIZE_MAX		(64UL * 1024 * 1024 * 1024)
#else
#define MAP_SIZE_DEFAULT	(256UL * 1024 * 1024)
#define MAP_SIZE_MAX		(1024UL * 1024 * 1024)
#endif
#define MAP_SIZE_MIN		(1024UL * 1024)
#define DEDUP_PRUNE_BATCH	64	/* records looked at per prune */
#define DEDUP_KEY_MAX		(ENDPOINT_NAME_MAX + 1 + EVENT_ID_MAX)
#define RETENTION_DEFAULT	(30L * 86400)
#define RETENTION_MAX		(3650L * 86400)

/* Queue mode (SPEC section 9). */
#define MAX_RUNNING_DEFAULT	2	/* hooks at once per endpoint */
#define MAX_RUNNING_MAX		64
#define RETRY_BACKOFF_DEFAULT	30	/* s before the 2nd run, then doubled */
#define RETRY_BACKOFF_MAX	86400
#define QUEUE_BACKOFF_CAP	3600	/* longest wait, unless retry_backoff */
#define MAX_ATTEMPTS_DEFAULT	10
#define MAX_ATTEMPTS_MAX	100
/* A running job's lease: hook_timeout + HOOK_KILL_GRACE + this. */
#define QUEUE_LEASE_EXTRA	30
#define QUEUE_POLL_MS		200	/* a runner's nap while jobs wait */
#define QUEUE_CLAIM_TRIES	8	/* claims after jobs moved to dead */
#define QUEUE_RUNNERS_MAX	4	/* runners of one FastCGI process */
#define QUEUE_WORKERS_MAX	64	/* idhook queue run -w */
#define QUEUE_MAX_TIME_MAX	(7L * 86400)	/* idhook queue run -t */

/* Config. */
#define CONFIG_RETRY		10	/* s before a failed config is reread */
/* libinih's INI_MAX_LINE on Debian: longer lines are refused. */
#define CONFIG_LINE_MAX		200
#define CONFIG_PATH_MAX		4096
#define ENDPOINTS_MAX		32
/*
 * Debian's libinih keeps 49 bytes of a section name and drops the rest
 * silently, so a section name of 49 bytes or more is refused: that leaves
 * "endpoint " + 39.
 */
#define INI_SECTION_MAX		49
#define ENDPOINT_NAME_MAX	39

/* Logging. */
#define LOG_LINE_MAX		2048

/* idhook deliver: a DIR/headers file (curl -H lines). */
#define DELIVER_HEADERS_MAX	64	/* lines */
#define DELIVER_HEADER_MAX	8192	/* bytes of one line */

#endif /* IDHOOK_BOUNDS_H */
