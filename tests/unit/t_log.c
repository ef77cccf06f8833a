/* t_log: logfmt quoting cannot be used to forge a line; levels filter. */
#include "compat.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "t.h"

static char	 out[8192];

/* Runs fn with stderr sent to a temp file; leaves the text in out. */
static void
capture(void (*fn)(void))
{
	char	 path[] = "/tmp/t_log.XXXXXX";
	int	 fd, saved;
	ssize_t	 n;

	CHECK((fd = mkstemp(path)) != -1);
	unlink(path);
	CHECK((saved = dup(2)) != -1);
	CHECK(dup2(fd, 2) == 2);
	fn();
	CHECK(dup2(saved, 2) == 2);
	close(saved);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	n = read(fd, out, sizeof(out) - 1);
	CHECK(n >= 0);
	out[n] = '\0';
	close(fd);
}

static void
emit_hostile(void)
{
	struct logline	 l;

	logline_init(&l, LOG_WARN);
	logline_add(&l, "id", "evt\nlevel=error forged=1 \"q\" \\");
	logline_add(&l, "plain", "evt_live_abc");
	logline_add(&l, "empty", "");
	logline_add(&l, "skipped", NULL);
	logline_addn(&l, "nul", "a\0b", 3);
	logline_emit(&l);
}

static void
emit_long(void)
{
	struct logline	 l;
	char		 big[LOG_LINE_MAX];
	int		 i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	logline_init(&l, LOG_INFO);
	logline_add(&l, "a", "1");
	for (i = 0; i < 4; i++)
		logline_add(&l, "big", big + LOG_LINE_MAX / 2);
	logline_emit(&l);
}

/* Values too long for the line are cut, never dropped or left open. */
static void
emit_cut(void)
{
	struct logline	 l;
	char		 utf8[600];
	size_t		 i;

	for (i = 0; i < sizeof(utf8); i += 2) {
		utf8[i] = (char)0xc3;
		utf8[i + 1] = (char)0xa9;
	}
	logline_init(&l, LOG_INFO);
	logline_add(&l, "hook", "h");
	logline_addn(&l, "out", utf8, sizeof(utf8));
	logline_emit(&l);
}

static void
emit_tabs(void)
{
	char	 msg[2000];

	memset(msg, 'm', sizeof(msg) - 1);
	memset(msg + 100, '\t', 12);
	msg[sizeof(msg) - 1] = '\0';
	log_error("%s", msg);
}

static void
emit_levels(void)
{
	log_set_level(LOG_WARN);
	log_info("hidden");
	log_warn("shown %d", 42);
	log_set_level(LOG_INFO);
}

int
main(void)
{
	capture(emit_hostile);
	CHECK(strcmp(out, "level=warn id=\"evt\\x0alevel=error forged=1 "
	    "\\\"q\\\" \\\\\" plain=evt_live_abc empty=\"\" "
	    "nul=\"a\\x00b\"\n") == 0);
	CHECK(strchr(out, '\n') == out + strlen(out) - 1);

	capture(emit_long);
	CHECK(strlen(out) < LOG_LINE_MAX + 1);
	CHECK(strncmp(out, "level=info a=1 big=", 19) == 0);
	CHECK(strstr(out, " truncated=1\n") != NULL);

	capture(emit_cut);
	CHECK(strncmp(out, "level=info hook=h out=\"\\xc3\\xa9", 30) == 0);
	CHECK(strlen(out) > LOG_LINE_MAX - 40 && strlen(out) <= LOG_LINE_MAX);
	CHECK(strcmp(out + strlen(out) - 14, "\" truncated=1\n") == 0);

	capture(emit_tabs);
	CHECK(strncmp(out, "level=error msg=\"mmm", 20) == 0);
	CHECK(strstr(out, "\\x09\\x09") != NULL);
	CHECK(strcmp(out + strlen(out) - 14, "\" truncated=1\n") == 0);

	capture(emit_levels);
	CHECK(strcmp(out, "level=warn msg=\"shown 42\"\n") == 0);

	CHECK(log_level_parse("debug") == LOG_DEBUG);
	CHECK(log_level_parse("error") == LOG_ERROR);
	CHECK(log_level_parse("verbose") == -1);
	return 0;
}
