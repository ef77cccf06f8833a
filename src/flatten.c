/*
 * flatten.c: the decrypted payload as JSON, and its leaves as EVENT_*
 * variables for the hook (SPEC section 4).
 *
 * Numbers: jansson turns them into json_int_t or double, which loses
 * "1.50" -> 1.5 and fails on integers beyond 64 bits.  SPEC section 4
 * wants them as written, so one byte scan before jansson checks each
 * number token against RFC 8259 section 6 and quotes it; jansson then
 * parses a text with no numbers in it.  The same scan bounds the depth
 * and the number of leaves before jansson allocates anything.
 */
#include "compat.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bounds.h"
#include "flatten.h"
#include "log.h"

#define ENV_PREFIX	"EVENT_"

/* The byte scan: input cursor, output copy, and what it has seen. */
struct scan {
	const uint8_t	*sc_in;
	size_t		 sc_len;
	size_t		 sc_pos;
	uint8_t		*sc_out;
	size_t		 sc_olen;
	size_t		 sc_leaves;
	int		 sc_depth;
	int		 sc_want_key;	/* an object key comes next */
	int		 sc_opened;	/* nothing since the last { or [ */
	char		 sc_stack[JSON_DEPTH_MAX];
	const char	*sc_why;	/* why the scan refused */
};

static int
scan_fail(struct scan *s, const char *why)
{
	s->sc_why = why;
	return -1;
}

static void
scan_emit(struct scan *s, const uint8_t *p, size_t n)
{
	memcpy(s->sc_out + s->sc_olen, p, n);
	s->sc_olen += n;
}

/* Called before a leaf is written, so at most JSON_LEAVES_MAX are. */
static int
scan_leaf(struct scan *s)
{
	if (++s->sc_leaves > JSON_LEAVES_MAX)
		return scan_fail(s, "too many values");
	return 0;
}

static int
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static size_t
skip_digits(const uint8_t *p, size_t i, size_t n)
{
	while (i < n && is_digit(p[i]))
		i++;
	return i;
}

/* RFC 8259 section 6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
number_valid(const uint8_t *p, size_t n)
{
	size_t	 i = 0, j;

	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else if (i < n && p[i] >= '1' && p[i] <= '9')
		i = skip_digits(p, i, n);
	else
		return 0;
	if (i < n && p[i] == '.') {
		if ((j = skip_digits(p, i + 1, n)) == i + 1)
			return 0;
		i = j;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		if (++i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if ((j = skip_digits(p, i, n)) == i)
			return 0;
		i = j;
	}
	return i == n;
}

static int
is_number_byte(uint8_t c)
{
	return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' ||
	    c == 'E';
}

/*
 * A number token is the longest run of number bytes: in valid JSON a
 * number is followed by whitespace, ',', ']' or '}', so the longest run
 * is the number itself and anything longer is malformed.  A number where
 * a key belongs is refused here, or quoting would make it a valid key.
 */
static int
scan_number(struct scan *s)
{
	size_t	 end = s->sc_pos;

	while (end < s->sc_len && is_number_byte(s->sc_in[end]))
		end++;
	if (s->sc_want_key || !number_valid(s->sc_in + s->sc_pos,
	    end - s->sc_pos))
		return scan_fail(s, "invalid number");
	if (scan_leaf(s) == -1)
		return -1;
	scan_emit(s, (const uint8_t *)"\"", 1);
	scan_emit(s, s->sc_in + s->sc_pos, end - s->sc_pos);
	scan_emit(s, (const uint8_t *)"\"", 1);
	s->sc_pos = end;
	return 0;
}

/* A string is copied as it is; the scan only needs to find its end. */
static int
scan_string(struct scan *s)
{
	size_t	 i;
	int	 esc = 0;

	if (!s->sc_want_key && scan_leaf(s) == -1)
		return -1;
	for (i = s->sc_pos + 1; i < s->sc_len; i++) {
		if (esc)
			esc = 0;
		else if (s->sc_in[i] == '\\')
			esc = 1;
		else if (s->sc_in[i] == '"')
			break;
	}
	if (i == s->sc_len)
		return scan_fail(s, "unterminated string");
	scan_emit(s, s->sc_in + s->sc_pos, i + 1 - s->sc_pos);
	s->sc_pos = i + 1;
	return 0;
}

/* true, false, null (jansson checks the spelling). */
static int
scan_word(struct scan *s)
{
	size_t	 end = s->sc_pos;

	if (!s->sc_want_key && scan_leaf(s) == -1)
		return -1;
	while (end < s->sc_len && s->sc_in[end] >= 'a' && s->sc_in[end] <= 'z')
		end++;
	scan_emit(s, s->sc_in + s->sc_pos, end - s->sc_pos);
	s->sc_pos = end;
	return 0;
}

static int
scan_open(struct scan *s, uint8_t c)
{
	if (s->sc_depth == JSON_DEPTH_MAX)
		return scan_fail(s, "nesting too deep");
	s->sc_stack[s->sc_depth++] = (char)c;
	s->sc_want_key = c == '{';
	return 0;
}

/* An empty object or array is a leaf of the tree: it is counted. */
static int
scan_close(struct scan *s, int opened)
{
	if (s->sc_depth == 0)
		return scan_fail(s, "unbalanced bracket");
	s->sc_depth--;
	s->sc_want_key = 0;
	return opened ? scan_leaf(s) : 0;
}

/* One token or structural byte at sc_pos. */
static int
scan_step(struct scan *s)
{
	uint8_t	 c = s->sc_in[s->sc_pos];
	int	 opened = s->sc_opened;

	if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
		scan_emit(s, &c, 1);
		s->sc_pos++;
		return 0;
	}
	s->sc_opened = 0;
	if (c == '"')
		return scan_string(s);
	if (is_digit(c) || c == '-' || c == '+' || c == '.')
		return scan_number(s);
	if (c >= 'a' && c <= 'z')
		return scan_word(s);
	scan_emit(s, &c, 1);
	s->sc_pos++;
	if (c == '{' || c == '[') {
		s->sc_opened = 1;
		return scan_open(s, c);
	}
	if (c == '}' || c == ']')
		return scan_close(s, opened);
	if (c == ',')
		s->sc_want_key = s->sc_depth > 0 &&
		    s->sc_stack[s->sc_depth - 1] == '{';
	else if (c == ':')
		s->sc_want_key = 0;
	/* Anything else is copied for jansson to refuse. */
	return 0;
}

static const char *
json_reason(const json_error_t *e)
{
	switch (json_error_code(e)) {
	case json_error_out_of_memory:
		return "out of memory";
	case json_error_stack_overflow:
		return "nesting too deep";
	case json_error_invalid_utf8:
		return "invalid UTF-8";
	case json_error_premature_end_of_input:
		return "unexpected end of input";
	case json_error_end_of_input_expected:
		return "trailing data";
	case json_error_null_character:
		return "\\u0000 in a string";
	case json_error_duplicate_key:
		return "duplicate key";
	default:
		return "invalid JSON";
	}
}

json_t *
payload_parse(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct scan	 s;
	json_error_t	 jerr;
	json_t		*root = NULL;
	size_t		 cap = 0;

	memset(&s, 0, sizeof(s));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* Quoting adds two bytes per number, and numbers are leaves. */
	if (len > SIZE_MAX - 2 * JSON_LEAVES_MAX) {
		errbuf_set(err, errlen, "payload: too large");
		return NULL;
	}
	if (len > 0 && memchr(buf, '\0', len) != NULL) {
		errbuf_set(err, errlen, "payload: NUL byte");
		return NULL;
	}
	cap = len + 2 * JSON_LEAVES_MAX;
	if ((s.sc_out = malloc(cap)) == NULL) {
		errbuf_set(err, errlen, "payload: out of memory");
		return NULL;
	}
	s.sc_in = buf;
	s.sc_len = len;
	while (s.sc_pos < s.sc_len)
		if (scan_step(&s) == -1) {
			errbuf_set(err, errlen, "payload: %s at byte %zu",
			    s.sc_why, s.sc_pos);
			goto out;
		}
	/* jansson's error text may quote the input: use its code and line. */
	root = json_loadb((const char *)s.sc_out, s.sc_olen,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		errbuf_set(err, errlen, "payload: %s at line %d",
		    json_reason(&jerr), jerr.line);
		goto out;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		root = NULL;
		errbuf_set(err, errlen, "payload: top level is not an object");
	}
out:
	freezero(s.sc_out, cap);
	explicit_bzero(&jerr, sizeof(jerr));	/* its text quotes input */
	return root;
}

const char *
payload_get(const json_t *root, const char *path, size_t *lenp)
{
	const json_t	*v = root;
	const char	*p = path, *dot;
	size_t		 n;

	for (;;) {
		if (!json_is_object(v))
			return NULL;
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if ((v = json_object_getn(v, p, n)) == NULL)
			return NULL;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	if (!json_is_string(v))
		return NULL;
	if (lenp != NULL)
		*lenp = json_string_length(v);
	return json_string_value(v);
}

static int
is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

int
event_type_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > EVENT_TYPE_MAX || !is_alnum(s[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' &&
		    s[i] != '-')
			return 0;
	return 1;
}

/* eb_add results; envbuf_add folds the "left out" ones into 1. */
#define EB_ADDED	0
#define EB_EXISTS	1
#define EB_SIZE		2

void
envbuf_init(struct envbuf *eb)
{
	memset(eb, 0, sizeof(*eb));
}

static int
env_name_valid(const char *name, size_t len)
{
	size_t	 i;

	if (len == 0 || len > ENV_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return 0;
	return 1;
}

static int
envbuf_has(const struct envbuf *eb, const char *name, size_t nlen)
{
	size_t	 i;

	for (i = 0; i < eb->eb_count; i++)
		if (strncmp(eb->eb_vars[i], name, nlen) == 0 &&
		    eb->eb_vars[i][nlen] == '=')
			return 1;
	for (i = 0; i < eb->eb_ngone; i++)
		if (strncmp(eb->eb_gone[i], name, nlen) == 0 &&
		    eb->eb_gone[i][nlen] == '\0')
			return 1;
	return 0;
}

/*
 * A name whose value was left out for size stays taken: "first wins"
 * must not hand it to a later path that maps to the same name.
 */
static int
envbuf_reserve(struct envbuf *eb, const char *name, size_t nlen)
{
	char	**g, *n;

	if ((n = strndup(name, nlen)) == NULL)
		return -1;
	if ((g = reallocarray(eb->eb_gone, eb->eb_ngone + 1,
	    sizeof(*g))) == NULL) {
		free(n);
		return -1;
	}
	g[eb->eb_ngone++] = n;
	eb->eb_gone = g;
	return 0;
}

/* Room for one more variable and the NULL after it. */
static int
envbuf_grow(struct envbuf *eb)
{
	char	**v;
	size_t	  cap;

	if (eb->eb_count + 1 < eb->eb_cap)
		return 0;
	cap = eb->eb_cap == 0 ? 32 : eb->eb_cap * 2;
	if (cap > ENV_COUNT_MAX + 1)
		cap = ENV_COUNT_MAX + 1;
	if ((v = reallocarray(eb->eb_vars, cap, sizeof(*v))) == NULL)
		return -1;
	eb->eb_vars = v;
	eb->eb_cap = cap;
	return 0;
}

static int
eb_add(struct envbuf *eb, const char *name, const char *value, size_t vlen)
{
	size_t	 nlen = strlen(name), need;
	char	*var;

	if (!env_name_valid(name, nlen) || memchr(value, '\0', vlen) != NULL)
		return -1;
	if (envbuf_has(eb, name, nlen))
		return EB_EXISTS;
	need = nlen + 1 + vlen + 1;
	if (vlen > ENV_VALUE_MAX || eb->eb_count >= ENV_COUNT_MAX ||
	    eb->eb_total + need > ENV_TOTAL_MAX) {
		eb->eb_truncated = 1;
		return envbuf_reserve(eb, name, nlen) == -1 ? -1 : EB_SIZE;
	}
	if (envbuf_grow(eb) == -1 || (var = malloc(need)) == NULL)
		return -1;
	memcpy(var, name, nlen);
	var[nlen] = '=';
	memcpy(var + nlen + 1, value, vlen);
	var[need - 1] = '\0';
	eb->eb_vars[eb->eb_count++] = var;
	eb->eb_vars[eb->eb_count] = NULL;
	eb->eb_total += need;
	return EB_ADDED;
}

int
envbuf_add(struct envbuf *eb, const char *name, const char *value,
    size_t vlen)
{
	int	 r;

	if ((r = eb_add(eb, name, value, vlen)) == -1)
		return -1;
	return r == EB_ADDED ? 0 : 1;
}

char *const *
envbuf_envp(struct envbuf *eb)
{
	static char	*const empty[] = { NULL };

	return eb->eb_vars != NULL ? eb->eb_vars : empty;
}

void
envbuf_free(struct envbuf *eb)
{
	size_t	 i;

	if (eb == NULL)
		return;
	for (i = 0; i < eb->eb_count; i++)
		freezero(eb->eb_vars[i], strlen(eb->eb_vars[i]));
	free(eb->eb_vars);
	for (i = 0; i < eb->eb_ngone; i++)
		free(eb->eb_gone[i]);
	free(eb->eb_gone);
	envbuf_init(eb);
}

/*
 * The walk: w_name is the variable name so far; w_path the dotted JSON
 * path, only for log lines (key names are names, not values).
 */
struct walk {
	struct envbuf	*w_env;
	char		 w_name[ENV_NAME_MAX + 1];
	size_t		 w_nlen;
	char		 w_path[ENV_NAME_MAX + 1];
	size_t		 w_plen;
};

static int	walk_value(struct walk *, const json_t *, int);

/* SPEC section 4: uppercase, every byte outside [A-Z0-9] becomes '_'. */
static char
name_char(char c)
{
	if (c >= 'a' && c <= 'z')
		return (char)(c - 'a' + 'A');
	if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return c;
	return '_';
}

/* Appends ["_"]seg to the name; -1 if the name would pass ENV_NAME_MAX. */
static int
name_push(struct walk *w, const char *seg, size_t n, int sep)
{
	size_t	 i;

	/* w_nlen <= ENV_NAME_MAX always: no unsigned wrap here. */
	if (n + (sep ? 1 : 0) > ENV_NAME_MAX - w->w_nlen)
		return -1;
	if (sep)
		w->w_name[w->w_nlen++] = '_';
	for (i = 0; i < n; i++)
		w->w_name[w->w_nlen++] = name_char(seg[i]);
	w->w_name[w->w_nlen] = '\0';
	return 0;
}

/* The log path is cut, not refused, when it does not fit. */
static void
path_push(struct walk *w, const char *s, size_t n)
{
	size_t	 room = sizeof(w->w_path) - 1 - w->w_plen;

	if (n > room)
		n = room;
	memcpy(w->w_path + w->w_plen, s, n);
	w->w_plen += n;
	w->w_path[w->w_plen] = '\0';
}

static void
walk_pop(struct walk *w, size_t nlen, size_t plen)
{
	w->w_name[w->w_nlen = nlen] = '\0';
	w->w_path[w->w_plen = plen] = '\0';
}

static int
walk_put(struct walk *w, const char *v, size_t vlen)
{
	if (memchr(v, '\0', vlen) != NULL) {
		log_warn("flatten: %s: value holds a NUL byte, left out",
		    w->w_name);
		return 0;
	}
	switch (eb_add(w->w_env, w->w_name, v, vlen)) {
	case -1:
		return -1;
	case EB_EXISTS:
		log_warn("flatten: %s: payload path %s gives a name already "
		    "set, first kept", w->w_name, w->w_path);
		break;
	case EB_SIZE:
		log_warn("flatten: %s: left out, over the size limits",
		    w->w_name);
		break;
	}
	return 0;
}

static int
walk_object(struct walk *w, const json_t *obj, int depth)
{
	json_t		*o = (json_t *)(uintptr_t)obj;	/* for the iterator */
	const char	*key;
	const json_t	*v;
	size_t		 nlen = w->w_nlen, plen = w->w_plen;

	/* jansson >= 2.8 iterates in document order: "first" is first. */
	json_object_foreach(o, key, v) {
		if (depth > 0)
			path_push(w, ".", 1);
		path_push(w, key, strlen(key));
		if (name_push(w, key, strlen(key), depth > 0) == -1)
			log_warn("flatten: name for payload path %s is over "
			    "%d bytes, left out", w->w_path, ENV_NAME_MAX);
		else if (walk_value(w, v, depth + 1) == -1)
			return -1;
		walk_pop(w, nlen, plen);
	}
	return 0;
}

static int
walk_array(struct walk *w, const json_t *arr, int depth)
{
	char	 num[24];
	size_t	 i, nlen = w->w_nlen, plen = w->w_plen;
	int	 n;

	for (i = 0; i < json_array_size(arr); i++) {
		n = snprintf(num, sizeof(num), "[%zu]", i);
		if (n < 0 || (size_t)n >= sizeof(num))
			return -1;
		path_push(w, num, (size_t)n);
		if (name_push(w, num + 1, (size_t)n - 2, 1) == -1)
			log_warn("flatten: name for payload path %s is over "
			    "%d bytes, left out", w->w_path, ENV_NAME_MAX);
		else if (walk_value(w, json_array_get(arr, i), depth + 1) == -1)
			return -1;
		walk_pop(w, nlen, plen);
	}
	n = snprintf(num, sizeof(num), "%zu", json_array_size(arr));
	if (n < 0 || (size_t)n >= sizeof(num))
		return -1;
	if (name_push(w, "LEN", 3, 1) == -1) {
		log_warn("flatten: name for payload path %s length is over "
		    "%d bytes, left out", w->w_path, ENV_NAME_MAX);
		return 0;
	}
	if (walk_put(w, num, (size_t)n) == -1)
		return -1;
	walk_pop(w, nlen, plen);
	return 0;
}

/* Numbers only arrive as json_integer/json_real from other producers. */
static int
walk_number(struct walk *w, const json_t *v)
{
	char	 num[64];
	int	 n;

	if (json_is_integer(v))
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else
		n = snprintf(num, sizeof(num), "%.17g", json_real_value(v));
	if (n < 0 || (size_t)n >= sizeof(num))
		return -1;
	return walk_put(w, num, (size_t)n);
}

static int
walk_value(struct walk *w, const json_t *v, int depth)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return walk_object(w, v, depth);
	case JSON_ARRAY:
		return walk_array(w, v, depth);
	case JSON_STRING:
		return walk_put(w, json_string_value(v), json_string_length(v));
	case JSON_TRUE:
		return walk_put(w, "true", 4);
	case JSON_FALSE:
		return walk_put(w, "false", 5);
	case JSON_NULL:
		return walk_put(w, "", 0);
	default:
		return walk_number(w, v);
	}
}

int
flatten_payload(const json_t *root, struct envbuf *env)
{
	struct walk	 w;

	if (!json_is_object(root))
		return 0;	/* payload_parse only returns objects */
	memset(&w, 0, sizeof(w));
	w.w_env = env;
	(void)strlcpy(w.w_name, ENV_PREFIX, sizeof(w.w_name));
	w.w_nlen = strlen(ENV_PREFIX);
	return walk_object(&w, root, 0);
}
