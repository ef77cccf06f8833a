/*
 * t_flatten.c: payload parsing (number rewrite, limits, refusals) and
 * flattening into EVENT_* variables (SPEC section 4).
 */
#include "compat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bounds.h"
#include "flatten.h"
#include "log.h"
#include "t.h"

static char	 tmpdir[] = "/tmp/t_flatten.XXXXXX";

static json_t *
parse(const char *s, char *err, size_t errlen)
{
	return payload_parse((const uint8_t *)s, strlen(s), err, errlen);
}

/* Refused, with a reason that does not quote the payload. */
static void
refused(const char *s)
{
	char	 err[256];
	json_t	*j;

	j = parse(s, err, sizeof(err));
	if (j != NULL)
		fprintf(stderr, "accepted: %s\n", s);
	CHECK(j == NULL);
	CHECK(strncmp(err, "payload: ", 9) == 0);
	CHECK(strstr(err, "PII") == NULL);
}

static void
accepted(const char *s)
{
	char	 err[256];
	json_t	*j;

	j = parse(s, err, sizeof(err));
	if (j == NULL)
		fprintf(stderr, "refused: %s (%s)\n", s, err);
	CHECK(j != NULL);
	json_decref(j);
}

static const char *
env_get(struct envbuf *eb, const char *name)
{
	char *const	*v;
	size_t		 n = strlen(name);

	for (v = envbuf_envp(eb); *v != NULL; v++)
		if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

static int
env_is(struct envbuf *eb, const char *name, const char *value)
{
	const char	*v = env_get(eb, name);

	if (v == NULL || strcmp(v, value) != 0)
		fprintf(stderr, "%s: %s\n", name, v == NULL ? "(unset)" : v);
	return v != NULL && strcmp(v, value) == 0;
}

/* Flattens s into eb; the caller frees eb. */
static void
flatten_str(const char *s, struct envbuf *eb)
{
	char	 err[256];
	json_t	*j;

	j = parse(s, err, sizeof(err));
	if (j == NULL)
		fprintf(stderr, "refused: %s\n", err);
	CHECK(j != NULL);
	envbuf_init(eb);
	CHECK(flatten_payload(j, eb) == 0);
	json_decref(j);
}

/* stderr into a file around a call, to check what was logged. */
static int	 saved_stderr = -1;

static void
capture_start(const char *name)
{
	char	 path[256];
	int	 fd;

	CHECK(snprintf(path, sizeof(path), "%s/%s", tmpdir, name) > 0);
	CHECK((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1);
	CHECK((saved_stderr = dup(STDERR_FILENO)) != -1);
	CHECK(dup2(fd, STDERR_FILENO) != -1);
	CHECK(close(fd) == 0);
}

static char *
capture_end(const char *name)
{
	static char	 buf[8192];
	char		 path[256];
	ssize_t		 n;
	int		 fd;

	CHECK(dup2(saved_stderr, STDERR_FILENO) != -1);
	CHECK(close(saved_stderr) == 0);
	CHECK(snprintf(path, sizeof(path), "%s/%s", tmpdir, name) > 0);
	CHECK((fd = open(path, O_RDONLY)) != -1);
	CHECK((n = read(fd, buf, sizeof(buf) - 1)) >= 0);
	buf[n] = '\0';
	CHECK(close(fd) == 0);
	CHECK(unlink(path) == 0);
	return buf;
}

static void
test_example(void)
{
	struct envbuf	 eb;

	flatten_str("{\"type\":\"x\",\"metadata\":{\"event_id\":\"e1\"},"
	    "\"data\":{\"claims\":{\"given_names\":\"Ana\"},"
	    "\"selected_field_keys\":[\"a\",\"b\"],\"age_over_18\":true,"
	    "\"x\":null,\"n\":1.50}}", &eb);
	CHECK(env_is(&eb, "EVENT_TYPE", "x"));
	CHECK(env_is(&eb, "EVENT_METADATA_EVENT_ID", "e1"));
	CHECK(env_is(&eb, "EVENT_DATA_CLAIMS_GIVEN_NAMES", "Ana"));
	CHECK(env_is(&eb, "EVENT_DATA_SELECTED_FIELD_KEYS_0", "a"));
	CHECK(env_is(&eb, "EVENT_DATA_SELECTED_FIELD_KEYS_1", "b"));
	CHECK(env_is(&eb, "EVENT_DATA_SELECTED_FIELD_KEYS_LEN", "2"));
	CHECK(env_is(&eb, "EVENT_DATA_AGE_OVER_18", "true"));
	CHECK(env_is(&eb, "EVENT_DATA_X", ""));
	CHECK(env_is(&eb, "EVENT_DATA_N", "1.50"));
	CHECK(eb.eb_count == 9);
	CHECK(envbuf_envp(&eb)[9] == NULL);
	CHECK(!eb.eb_truncated);
	/* Document order is kept. */
	CHECK(strcmp(envbuf_envp(&eb)[0], "EVENT_TYPE=x") == 0);
	CHECK(strcmp(envbuf_envp(&eb)[8], "EVENT_DATA_N=1.50") == 0);
	envbuf_free(&eb);
	CHECK(eb.eb_count == 0 && eb.eb_vars == NULL);
	envbuf_free(NULL);
}

static void
test_kayle_vector(void)
{
	char		 path[1024], line[2048], *pt = NULL;
	struct envbuf	 eb;
	FILE		*f;

	CHECK(snprintf(path, sizeof(path), "%s/tests/vectors/kayle-e2e/README",
	    t_srcdir()) < (int)sizeof(path));
	CHECK((f = fopen(path, "r")) != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "plaintext:", 10) == 0) {
			pt = line + 10;
			break;
		}
	CHECK(fclose(f) == 0);
	CHECK(pt != NULL);
	pt += strspn(pt, " ");
	pt[strcspn(pt, "\n")] = '\0';
	flatten_str(pt, &eb);
	CHECK(eb.eb_count == 4);
	CHECK(env_is(&eb, "EVENT_METADATA_CONTRACT_VERSION", "1"));
	CHECK(env_is(&eb, "EVENT_METADATA_EVENT_ID", "evt_live_abc"));
	CHECK(env_is(&eb, "EVENT_METADATA_VERIFICATION_SESSION_ID",
	    "vs_live_def"));
	CHECK(env_is(&eb, "EVENT_TYPE", "verification.session.expired"));
	envbuf_free(&eb);
}

static void
test_numbers(void)
{
	const char	*v;
	char		 err[256];
	json_t		*j;
	size_t		 n;

	j = parse("{\"a\":1.50,\"b\":-0,\"c\":1e10,\"d\":"
	    "12345678901234567890123,\"e\":0,\"f\":-1.5E-7,\"g\":2e+3,"
	    "\"h\" : [ 7 , -8 ] ,\"i\":{\"j\":\t0.0}}", err, sizeof(err));
	CHECK(j != NULL);
	CHECK((v = payload_get(j, "a", &n)) != NULL && n == 4 &&
	    strcmp(v, "1.50") == 0);
	CHECK(strcmp(payload_get(j, "b", &n), "-0") == 0 && n == 2);
	CHECK(strcmp(payload_get(j, "c", &n), "1e10") == 0);
	CHECK(strcmp(payload_get(j, "d", &n),
	    "12345678901234567890123") == 0);
	CHECK(strcmp(payload_get(j, "e", &n), "0") == 0);
	CHECK(strcmp(payload_get(j, "f", &n), "-1.5E-7") == 0);
	CHECK(strcmp(payload_get(j, "g", &n), "2e+3") == 0);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(j,
	    "h"), 1)), "-8") == 0);
	CHECK(strcmp(payload_get(j, "i.j", &n), "0.0") == 0);
	json_decref(j);

	refused("{\"a\":01}");
	refused("{\"a\":1.}");
	refused("{\"a\":.5}");
	refused("{\"a\":+1}");
	refused("{\"a\":1e}");
	refused("{\"a\":1e+}");
	refused("{\"a\":-}");
	refused("{\"a\":-01}");
	refused("{\"a\":1.e5}");
	refused("{\"a\":00}");
	refused("{\"a\":0x1}");
	refused("{\"a\":1-2}");
	refused("{\"a\":1.5.3}");
	refused("{\"a\":NaN}");
	refused("{\"a\":Infinity}");
	refused("{\"a\":-Infinity}");
	refused("{\"a\":1 2}");
	refused("{\"a\":[1 2]}");
	/* Quoting a number key would make it valid: refused first. */
	refused("{1:2}");
	refused("{\"a\":1,2:3}");
	refused("{\"a\" 1}");
}

static void
test_strings_survive(void)
{
	char	 err[256];
	json_t	*j;
	size_t	 n;

	j = parse("{\"a\\\"1\":\"x\\\"1\",\"b\":\"\\\\\",\"c\":\"12\","
	    "\"d\":\"-1e5 \\\\\\\"2 [{,:}]\",\"e\":\"\\\\\\\\\",\"1\":\"k\","
	    "\"a1\":\"\\u00e9 3\"}", err, sizeof(err));
	CHECK(j != NULL);
	CHECK(strcmp(payload_get(j, "a\"1", &n), "x\"1") == 0);
	CHECK(strcmp(payload_get(j, "b", &n), "\\") == 0 && n == 1);
	CHECK(strcmp(payload_get(j, "c", &n), "12") == 0);
	CHECK(strcmp(payload_get(j, "d", &n), "-1e5 \\\"2 [{,:}]") == 0);
	CHECK(strcmp(payload_get(j, "e", &n), "\\\\") == 0);
	CHECK(strcmp(payload_get(j, "1", &n), "k") == 0);
	CHECK(strcmp(payload_get(j, "a1", &n), "\xc3\xa9 3") == 0 && n == 4);
	CHECK(json_object_size(j) == 7);
	json_decref(j);
}

/* n containers deep: one object, then arrays. */
static char *
nested(int n)
{
	size_t	 len = 8 + 2 * (size_t)n, o;
	char	*s;
	int	 i;

	CHECK((s = malloc(len)) != NULL);
	o = strlcpy(s, "{\"a\":", len);
	for (i = 1; i < n; i++)
		s[o++] = '[';
	s[o++] = '1';
	for (i = 1; i < n; i++)
		s[o++] = ']';
	s[o++] = '}';
	s[o] = '\0';
	return s;
}

static void
test_depth(void)
{
	char	*s;

	s = nested(JSON_DEPTH_MAX);
	accepted(s);
	free(s);
	s = nested(JSON_DEPTH_MAX + 1);
	refused(s);
	free(s);
	accepted("{\"a\":{\"b\":{\"c\":{}}}}");
	refused("{\"a\":1}}");
	refused("{\"a\":[1]]}");
	refused("]");
}

static void
test_leaves(void)
{
	size_t	 len = 16 + 2 * (JSON_LEAVES_MAX + 1), i, o;
	char	*s, *e;

	CHECK((s = malloc(len)) != NULL);
	CHECK((e = malloc(len * 2)) != NULL);
	o = (size_t)snprintf(s, len, "{\"a\":[");
	for (i = 0; i < JSON_LEAVES_MAX; i++) {
		s[o++] = '7';
		s[o++] = ',';
	}
	strlcpy(s + o - 1, "]}", len - o + 1);
	accepted(s);
	strlcpy(s + o, "8]}", len - o);
	refused(s);
	/* Empty arrays are leaves too (they cost memory, not variables). */
	o = (size_t)snprintf(e, len * 2, "{\"a\":[");
	for (i = 0; i <= JSON_LEAVES_MAX; i++) {
		memcpy(e + o, "[],", 3);
		o += 3;
	}
	strlcpy(e + o - 1, "]}", len * 2 - o + 1);
	refused(e);
	free(s);
	free(e);
}

static void
test_refusals(void)
{
	char	 err[256];

	refused("{\"a\":\"PII\",\"a\":\"PII\"}");
	refused("{\"a\":{\"b\":\"PII\",\"b\":2}}");
	refused("[{\"a\":\"PII\"}]");
	refused("\"PII\"");
	refused("1");
	refused("null");
	refused("{\"a\":\"PII\xff\"}");
	refused("{\"a\":\"PII\xc0\xaf\"}");		/* overlong */
	refused("{\"a\":\"PII\xed\xa0\x80\"}");	/* surrogate */
	refused("{\"a\":\"PII\xe2\x82\"}");		/* cut sequence */
	refused("{\"a\":\"PII\\u0000\"}");
	refused("{\"a\":\"PII\"} x");
	refused("{\"a\":\"PII\"}{}");
	refused("{\"a\":\"PII\"}1");
	refused("{\"a\":\"PII\"}\"x\"");
	refused("{\"a\":\"PII");
	refused("{\"a\":\"PII\"");
	refused("{\"a\":\"PII\",}");
	refused("{\"a\":tru}");
	refused("{\"a\":True}");
	refused("{'a':1}");
	refused("");
	refused("   ");
	CHECK(payload_parse((const uint8_t *)"{\"a\":\"P\0I\"}", 11, err,
	    sizeof(err)) == NULL);
	CHECK(strstr(err, "NUL") != NULL);
	CHECK(payload_parse((const uint8_t *)"{}\0", 3, NULL, 0) == NULL);
	accepted("{\"a\":\"PII\"}\n \t\r");
	accepted(" {}");
	accepted("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}");
	accepted("{\"a\":[true,false,null,{},[]]}");
}

static void
test_get(void)
{
	char		 err[256];
	const char	*v;
	json_t		*j;
	size_t		 n = 99;

	j = parse("{\"metadata\":{\"event_id\":\"e1\",\"n\":5,\"t\":true,"
	    "\"o\":{},\"a\":[\"x\"]},\"type\":\"t.x\",\"e\":\"\"}", err,
	    sizeof(err));
	CHECK(j != NULL);
	CHECK((v = payload_get(j, "metadata.event_id", &n)) != NULL);
	CHECK(strcmp(v, "e1") == 0 && n == 2);
	CHECK(strcmp(payload_get(j, "type", NULL), "t.x") == 0);
	CHECK(strcmp(payload_get(j, "metadata.n", &n), "5") == 0 && n == 1);
	CHECK((v = payload_get(j, "e", &n)) != NULL && n == 0);
	CHECK(payload_get(j, "metadata", &n) == NULL);
	CHECK(payload_get(j, "metadata.t", &n) == NULL);
	CHECK(payload_get(j, "metadata.o", &n) == NULL);
	CHECK(payload_get(j, "metadata.a", &n) == NULL);
	CHECK(payload_get(j, "metadata.a.0", &n) == NULL);
	CHECK(payload_get(j, "metadata.missing", &n) == NULL);
	CHECK(payload_get(j, "type.x", &n) == NULL);
	CHECK(payload_get(j, "metadata.", &n) == NULL);
	CHECK(payload_get(j, "", &n) == NULL);
	CHECK(payload_get(j, "nope", &n) == NULL);
	json_decref(j);
}

static void
test_event_type(void)
{
	char	 s[EVENT_TYPE_MAX + 2];

	CHECK(event_type_valid("verification.session.succeeded", 30));
	CHECK(event_type_valid("a", 1));
	CHECK(event_type_valid("0", 1));
	CHECK(event_type_valid("A-b_c.9", 7));
	CHECK(event_type_valid("a..", 3));
	memset(s, 'a', sizeof(s));
	CHECK(event_type_valid(s, EVENT_TYPE_MAX));
	CHECK(!event_type_valid(s, EVENT_TYPE_MAX + 1));
	CHECK(!event_type_valid("", 0));
	CHECK(!event_type_valid("../x", 4));
	CHECK(!event_type_valid(".x", 2));
	CHECK(!event_type_valid("-x", 2));
	CHECK(!event_type_valid("_x", 2));
	CHECK(!event_type_valid("a b", 3));
	CHECK(!event_type_valid("a/b", 3));
	CHECK(!event_type_valid("a\\b", 3));
	CHECK(!event_type_valid("a\0b", 3));
	CHECK(!event_type_valid("a\n", 2));
	CHECK(!event_type_valid("\xc3\xa9", 2));
	/* len counts, not a NUL. */
	CHECK(event_type_valid("ab/", 2));
}

static void
test_envbuf(void)
{
	struct envbuf	 eb;
	char		 name[ENV_NAME_MAX + 2], *big;
	size_t		 i, total;

	envbuf_init(&eb);
	CHECK(envbuf_envp(&eb) != NULL && envbuf_envp(&eb)[0] == NULL);
	CHECK(envbuf_add(&eb, "A", "1", 1) == 0);
	CHECK(envbuf_add(&eb, "A", "2", 1) == 1);	/* first wins */
	CHECK(envbuf_add(&eb, "AB", "", 0) == 0);
	CHECK(!eb.eb_truncated);
	CHECK(env_is(&eb, "A", "1") && env_is(&eb, "AB", ""));
	CHECK(eb.eb_total == strlen("A=1") + 1 + strlen("AB=") + 1);
	CHECK(envbuf_add(&eb, "", "x", 1) == -1);
	CHECK(envbuf_add(&eb, "a", "x", 1) == -1);
	CHECK(envbuf_add(&eb, "A=B", "x", 1) == -1);
	CHECK(envbuf_add(&eb, "A-B", "x", 1) == -1);
	CHECK(envbuf_add(&eb, "C", "x\0y", 3) == -1);
	memset(name, 'N', sizeof(name));
	name[ENV_NAME_MAX + 1] = '\0';
	CHECK(envbuf_add(&eb, name, "x", 1) == -1);
	name[ENV_NAME_MAX] = '\0';
	CHECK(envbuf_add(&eb, name, "x", 1) == 0);
	CHECK(!eb.eb_truncated);

	CHECK((big = malloc(ENV_TOTAL_MAX)) != NULL);
	memset(big, 'v', ENV_TOTAL_MAX);
	CHECK(envbuf_add(&eb, "BIG", big, ENV_VALUE_MAX + 1) == 1);
	CHECK(eb.eb_truncated);
	CHECK(env_get(&eb, "BIG") == NULL);
	/* The name stays taken (first wins), a fitting value fits. */
	CHECK(envbuf_add(&eb, "BIG", big, 1) == 1);
	CHECK(env_get(&eb, "BIG") == NULL);
	CHECK(envbuf_add(&eb, "BIG2", big, ENV_VALUE_MAX) == 0);
	envbuf_free(&eb);

	/* Total: fill to exactly ENV_TOTAL_MAX, then one byte more fails. */
	envbuf_init(&eb);
	for (i = 0; eb.eb_total + 8 + ENV_VALUE_MAX <= ENV_TOTAL_MAX; i++) {
		CHECK(snprintf(name, sizeof(name), "V%05zu", i) == 6);
		CHECK(envbuf_add(&eb, name, big, ENV_VALUE_MAX) == 0);
	}
	total = ENV_TOTAL_MAX - eb.eb_total - 7;	/* "R0000=" + NUL */
	CHECK(envbuf_add(&eb, "R0000", big, total + 1) == 1);
	CHECK(eb.eb_truncated);
	CHECK(envbuf_add(&eb, "R0001", big, total) == 0);
	CHECK(eb.eb_total == ENV_TOTAL_MAX);
	CHECK(envbuf_add(&eb, "S", "", 0) == 1);
	envbuf_free(&eb);

	/* Count. */
	envbuf_init(&eb);
	for (i = 0; i < ENV_COUNT_MAX; i++) {
		CHECK(snprintf(name, sizeof(name), "C%05zu", i) == 6);
		CHECK(envbuf_add(&eb, name, "", 0) == 0);
	}
	CHECK(!eb.eb_truncated);
	CHECK(envbuf_add(&eb, "LAST", "", 0) == 1);
	CHECK(eb.eb_truncated);
	CHECK(envbuf_envp(&eb)[ENV_COUNT_MAX] == NULL);
	envbuf_free(&eb);
	free(big);
}

static void
test_names(void)
{
	struct envbuf	 eb;

	flatten_str("{\"dataBase64\":\"d\",\"hit-types\":[\"h\"],"
	    "\"\xc3\xa9t\xc3\xa9\":\"u\",\"e\":{},\"z\":[],"
	    "\"n\":{\"e\":{},\"q\":[[]]}}", &eb);
	CHECK(env_is(&eb, "EVENT_DATABASE64", "d"));
	CHECK(env_is(&eb, "EVENT_HIT_TYPES_0", "h"));
	CHECK(env_is(&eb, "EVENT_HIT_TYPES_LEN", "1"));
	CHECK(env_is(&eb, "EVENT___T__", "u"));
	CHECK(env_is(&eb, "EVENT_Z_LEN", "0"));
	CHECK(env_is(&eb, "EVENT_N_Q_0_LEN", "0"));
	CHECK(env_is(&eb, "EVENT_N_Q_LEN", "1"));
	CHECK(env_get(&eb, "EVENT_E") == NULL);
	CHECK(eb.eb_count == 7);
	envbuf_free(&eb);
}

static void
test_clash(void)
{
	struct envbuf	 eb;
	char		*log;

	capture_start("clash");
	flatten_str("{\"a.b\":\"SECRETONE\",\"a\":{\"b\":\"SECRETTWO\"},"
	    "\"a_b\":\"SECRETTHREE\"}", &eb);
	log = capture_end("clash");
	CHECK(env_is(&eb, "EVENT_A_B", "SECRETONE"));
	CHECK(eb.eb_count == 1);
	CHECK(!eb.eb_truncated);
	envbuf_free(&eb);
	CHECK(strstr(log, "level=warn") != NULL);
	CHECK(strstr(log, "EVENT_A_B") != NULL);
	CHECK(strstr(log, "path a.b gives") != NULL);
	CHECK(strstr(log, "path a_b gives") != NULL);
	CHECK(strstr(log, "SECRET") == NULL);

	/* The other order: the nested one comes first and wins. */
	flatten_str("{\"a\":{\"b\":\"2\"},\"a.b\":\"1\"}", &eb);
	CHECK(env_is(&eb, "EVENT_A_B", "2"));
	envbuf_free(&eb);
	/* An array index against a key. */
	flatten_str("{\"x\":[\"0\"],\"x_0\":\"k\",\"x_len\":\"9\"}", &eb);
	CHECK(env_is(&eb, "EVENT_X_0", "0"));
	CHECK(env_is(&eb, "EVENT_X_LEN", "1"));
	envbuf_free(&eb);
}

static void
test_long_and_big(void)
{
	struct envbuf	 eb;
	char		*s, *log;
	size_t		 len = ENV_VALUE_MAX + 2 * ENV_NAME_MAX + 64, o;

	CHECK((s = malloc(len)) != NULL);
	o = (size_t)snprintf(s, len, "{\"k\":\"SECRET");
	memset(s + o, 'v', ENV_VALUE_MAX);
	o += ENV_VALUE_MAX;
	o += (size_t)snprintf(s + o, len - o, "\",\"");
	memset(s + o, 'q', ENV_NAME_MAX);
	o += ENV_NAME_MAX;
	snprintf(s + o, len - o, "\":\"SECRET\",\"ok\":\"1\"}");
	capture_start("long");
	flatten_str(s, &eb);
	log = capture_end("long");
	CHECK(eb.eb_truncated);
	CHECK(env_get(&eb, "EVENT_K") == NULL);
	CHECK(env_is(&eb, "EVENT_OK", "1"));
	CHECK(eb.eb_count == 1);
	CHECK(strstr(log, "EVENT_K: left out") != NULL);
	CHECK(strstr(log, "is over 256 bytes") != NULL);
	CHECK(strstr(log, "SECRET") == NULL);
	envbuf_free(&eb);
	free(s);
}

/*
 * A name exactly ENV_NAME_MAX long ("EVENT_" + 250) whose children would
 * pass it: they are skipped, nothing is written past the name buffer.
 */
static void
test_name_at_limit(void)
{
	struct envbuf	 eb;
	char		 key[251], s[1200];

	memset(key, 'a', 250);
	key[250] = '\0';
	snprintf(s, sizeof(s), "{\"%s\":{\"b\":1,\"%.*s\":2},\"%.*sz\":[],"
	    "\"%.*sy\":\"v\",\"ok\":1}", key, 600 - 400, key, 249, key, 249,
	    key);
	capture_start("limit");
	flatten_str(s, &eb);
	(void)capture_end("limit");
	CHECK(env_is(&eb, "EVENT_OK", "1"));
	CHECK(eb.eb_count == 2);	/* EVENT_OK and EVENT_aaa..y (256) */
	envbuf_free(&eb);
}

/* A name whose first value was left out for size is still taken. */
static void
test_first_wins_when_left_out(void)
{
	struct envbuf	 eb;
	char		*s, *log;
	size_t		 len = ENV_VALUE_MAX + 128, o;

	CHECK((s = malloc(len)) != NULL);
	o = (size_t)snprintf(s, len, "{\"a_b\":\"");
	memset(s + o, 'x', ENV_VALUE_MAX + 1);
	o += ENV_VALUE_MAX + 1;
	snprintf(s + o, len - o, "\",\"a\":{\"b\":\"second\"}}");
	capture_start("leftout");
	flatten_str(s, &eb);
	log = capture_end("leftout");
	CHECK(eb.eb_truncated);
	CHECK(env_get(&eb, "EVENT_A_B") == NULL);
	CHECK(strstr(log, "second") == NULL);
	envbuf_free(&eb);
	free(s);
}

/* Roots that do not come from payload_parse: NUL bytes, real numbers. */
static void
test_foreign_root(void)
{
	struct envbuf	 eb;
	json_t		*j;
	char		*log;

	CHECK((j = json_object()) != NULL);
	CHECK(json_object_set_new(j, "s", json_stringn("SE\0CRET", 7)) == 0);
	CHECK(json_object_set_new(j, "i", json_integer(-42)) == 0);
	CHECK(json_object_set_new(j, "r", json_real(0.5)) == 0);
	envbuf_init(&eb);
	capture_start("foreign");
	CHECK(flatten_payload(j, &eb) == 0);
	log = capture_end("foreign");
	CHECK(env_get(&eb, "EVENT_S") == NULL);
	CHECK(env_is(&eb, "EVENT_I", "-42"));
	CHECK(env_is(&eb, "EVENT_R", "0.5"));
	CHECK(strstr(log, "EVENT_S: value holds a NUL") != NULL);
	CHECK(strstr(log, "CRET") == NULL);
	CHECK(payload_get(j, "i", NULL) == NULL);
	envbuf_free(&eb);
	json_decref(j);
	CHECK((j = json_array()) != NULL);
	envbuf_init(&eb);
	CHECK(flatten_payload(j, &eb) == 0 && eb.eb_count == 0);
	json_decref(j);
}

int
main(void)
{
	CHECK(mkdtemp(tmpdir) != NULL);
	log_set_level(LOG_DEBUG);
	test_example();
	test_kayle_vector();
	test_name_at_limit();
	test_first_wins_when_left_out();
	test_numbers();
	test_strings_survive();
	test_depth();
	test_leaves();
	test_refusals();
	test_get();
	test_event_type();
	test_envbuf();
	test_names();
	test_clash();
	test_long_and_big();
	test_foreign_root();
	CHECK(rmdir(tmpdir) == 0);
	return 0;
}
