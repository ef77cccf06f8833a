/*
 * flatten.h: the decrypted payload as JSON (jansson), and its leaves as
 * EVENT_* environment variables for the hook (SPEC section 4).
 */
#ifndef IDHOOK_FLATTEN_H
#define IDHOOK_FLATTEN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bounds.h"

/*
 * payload_parse: parses buf/len (untrusted, authenticated) as JSON.
 * Refused: nesting deeper than JSON_DEPTH_MAX (checked by a byte scan
 * before jansson sees the text), more than JSON_LEAVES_MAX leaves
 * (scalars and empty objects/arrays),
 * duplicate keys (JSON_REJECT_DUPLICATES), a top level that is not an
 * object, invalid UTF-8, NUL bytes raw or as \u0000 (jansson without
 * JSON_ALLOW_NUL), trailing data.
 * Numbers keep the text they were written with: before parsing, every
 * number token is checked against the RFC 8259 grammar and then turned
 * into a JSON string holding its exact text (so 1.50 stays "1.50" and
 * integers beyond 64 bits do not fail); JSON strings, true, false and
 * null stay what they are.  So payload_get also returns a number as its
 * text: a numeric event id or type is taken as written (the sender signed
 * it; nothing is gained by refusing it).
 * Returns a new reference (json_decref it) or NULL with a short reason
 * (never payload content) in err.  Scratch copies are wiped.
 */
json_t	*payload_parse(const uint8_t *buf, size_t len, char *err,
	    size_t errlen);

/*
 * payload_get: the value at a dotted path ("metadata.event_id") as a
 * string: a JSON string (its bytes), or a number (its text, see above).
 * Returns a borrowed pointer valid while root lives, or NULL when the path
 * is absent or the value is not a string/number.  *lenp gets the length.
 */
const char *payload_get(const json_t *root, const char *path, size_t *lenp);

/* 1 if s (len bytes) matches [A-Za-z0-9][A-Za-z0-9._-]{0,127}, else 0. */
int	 event_type_valid(const char *s, size_t len);

/*
 * A hook environment under construction: "NAME=value" strings, each
 * malloc'd, in a NULL-terminated array (eb_vars is always NULL-terminated
 * once envbuf_add has succeeded once; envbuf_envp() never returns NULL).
 */
struct envbuf {
	char	**eb_vars;
	size_t	  eb_count;
	size_t	  eb_cap;
	size_t	  eb_total;	/* sum of strlen of every var + 1 */
	int	  eb_truncated;	/* a value was left out for size */
	char	**eb_gone;	/* names left out for size: still taken */
	size_t	  eb_ngone;
};

void	 envbuf_init(struct envbuf *);
/*
 * envbuf_add: appends name=value (value is vlen bytes, may hold no NUL).
 * Returns 0 added; 1 left out: a variable of that name exists already
 * (first wins), or vlen > ENV_VALUE_MAX, or the total would pass
 * ENV_TOTAL_MAX, or ENV_COUNT_MAX is reached (the size cases set
 * eb_truncated); -1 on allocation failure, an invalid name
 * (empty, longer than ENV_NAME_MAX, or not [A-Z0-9_]) or a NUL in value.
 */
int	 envbuf_add(struct envbuf *, const char *name, const char *value,
	    size_t vlen);
char	*const *envbuf_envp(struct envbuf *);
/* Wipes every value (payload values are personal data) and frees. */
void	 envbuf_free(struct envbuf *);

/*
 * flatten_payload: adds every leaf of root as EVENT_<PATH>=value.  PATH is
 * the object keys joined by '_', uppercased, every byte outside [A-Z0-9]
 * made '_'; array elements add their index (EVENT_DATA_HIT_TYPES_0) and
 * every array also adds <PATH>_LEN=<count>.  Strings as they are, numbers
 * as written, true/false, null as "".  An empty object adds nothing; a
 * string holding a NUL byte (possible only in a root that payload_parse
 * did not make) is left out (logged by name).
 * Two paths giving one name: the first wins and the clash is logged with
 * log_warn (names only, never values).  Names longer than ENV_NAME_MAX are
 * skipped and logged.  Values left out for size set eb_truncated, and
 * their names stay taken.
 * Returns 0, or -1 on allocation failure.
 */
int	 flatten_payload(const json_t *root, struct envbuf *env);

#endif /* IDHOOK_FLATTEN_H */
