/*
 * log.c: logfmt on stderr.  One write(2) per line so that lines from
 * concurrent FastCGI/CGI processes do not interleave in the error log.
 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	 log_level = LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_set_level(int level)
{
	if (level >= LOG_ERROR && level <= LOG_DEBUG)
		log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

static int
is_token_char(unsigned char c)
{
	/* c != 0: strchr would find the string's own terminator. */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("._-:/@+,", c)
	    != NULL);
}

/* Room for " truncated=1\n" is always kept at the end of the line. */
#define LOG_TAIL	14

static size_t
room(const struct logline *l)
{
	if (l->ll_full || l->ll_len + LOG_TAIL >= sizeof(l->ll_buf))
		return 0;
	return sizeof(l->ll_buf) - LOG_TAIL - l->ll_len;
}

static void
put(struct logline *l, const char *s, size_t n)
{
	if (n > room(l)) {
		l->ll_full = 1;
		return;
	}
	memcpy(l->ll_buf + l->ll_len, s, n);
	l->ll_len += n;
}

void
logline_init(struct logline *l, int level)
{
	l->ll_level = level;
	l->ll_len = 0;
	l->ll_full = 0;
	put(l, "level=", 6);
	put(l, level_names[level], strlen(level_names[level]));
}

/*
 * Escapes value into out (at most outsz bytes); returns the bytes used
 * and sets *quote when the value needs quotes.  Stops before a character
 * whose escape would not fit: *used tells how much of value got in.
 */
static size_t
escape(const char *value, size_t len, char *out, size_t outsz,
    size_t *used, int *quote)
{
	size_t	 i, n = 0, w;
	char	 e[5];

	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)value[i];

		if (is_token_char(c)) {
			e[0] = (char)c;
			w = 1;
		} else if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			w = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			e[0] = (char)c;
			w = 1;
		} else
			w = (size_t)snprintf(e, sizeof(e), "\\x%02x", c);
		if (!is_token_char(c))
			*quote = 1;
		if (n + w > outsz)
			break;
		memcpy(out + n, e, w);
		n += w;
	}
	*used = i;
	return n;
}

/*
 * A value too long for the rest of the line is cut where the line ends,
 * and the line is marked truncated=1: better half a hook's output line
 * than none, and never a pair without its closing quote.
 */
void
logline_addn(struct logline *l, const char *key, const char *value,
    size_t len)
{
	char	 esc[LOG_LINE_MAX];
	size_t	 klen, avail, n, used;
	int	 quote = len == 0;

	if (value == NULL)
		return;
	klen = strlen(key);
	if (room(l) < klen + 4) {	/* " k=" and quotes */
		l->ll_full = 1;
		return;
	}
	avail = room(l) - klen - 4;
	if (avail > sizeof(esc))
		avail = sizeof(esc);
	n = escape(value, len, esc, avail, &used, &quote);
	if (used < len)
		quote = 1;
	put(l, " ", 1);
	put(l, key, klen);
	put(l, "=", 1);
	if (quote)
		put(l, "\"", 1);
	put(l, esc, n);
	if (quote)
		put(l, "\"", 1);
	if (used < len)
		l->ll_full = 1;
}

void
logline_add(struct logline *l, const char *key, const char *value)
{
	if (value != NULL)
		logline_addn(l, key, value, strlen(value));
}

/* vsnprintf that returns the length kept (a cut text is fine), or -1. */
static int
format(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int
format(char *buf, size_t size, const char *fmt, va_list ap)
{
	int	 n = vsnprintf(buf, size, fmt, ap);

	if (n >= 0 && (size_t)n >= size)
		n = (int)size - 1;
	return n;
}

void
logline_addf(struct logline *l, const char *key, const char *fmt, ...)
{
	char	 buf[LOG_LINE_MAX];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= 0)
		logline_addn(l, key, buf, (size_t)n);
}

void
logline_emit(struct logline *l)
{
	ssize_t	 w;
	size_t	 off = 0;

	if (l->ll_level > log_level)
		return;
	if (l->ll_full) {
		memcpy(l->ll_buf + l->ll_len, " truncated=1", 12);
		l->ll_len += 12;
	}
	/* LOG_TAIL kept room for the marker and the newline. */
	l->ll_buf[l->ll_len++] = '\n';
	while (off < l->ll_len) {
		w = write(STDERR_FILENO, l->ll_buf + off, l->ll_len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

void
errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
log_msg(int level, const char *fmt, ...)
{
	struct logline	 l;
	char		 buf[LOG_LINE_MAX - 64];
	va_list		 ap;
	int		 n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	n = format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	logline_init(&l, level);
	logline_addn(&l, "msg", buf, (size_t)n);
	logline_emit(&l);
}

long
log_elapsed_ms(const struct timespec *t0)
{
	struct timespec	 t1;

	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)((t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000);
}
