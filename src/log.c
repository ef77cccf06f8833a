/*
 * log.c: logfmt on stderr.  One write(2) per line so that lines from
 * concurrent FastCGI/CGI processes do not interleave in the error log.
 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
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

static void
put(struct logline *l, const char *s, size_t n)
{
	/* Keep room for "truncated=1\n". */
	if (l->ll_full || l->ll_len + n + 14 > sizeof(l->ll_buf)) {
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

void
logline_addn(struct logline *l, const char *key, const char *value,
    size_t len)
{
	char	 esc[LOG_LINE_MAX];
	size_t	 i, n = 0;
	int	 quote = len == 0;

	if (value == NULL)
		return;
	for (i = 0; i < len && n + 5 < sizeof(esc); i++) {
		unsigned char	 c = (unsigned char)value[i];

		if (is_token_char(c)) {
			esc[n++] = (char)c;
			continue;
		}
		quote = 1;
		if (c == '"' || c == '\\') {
			esc[n++] = '\\';
			esc[n++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f)
			esc[n++] = (char)c;
		else
			n += (size_t)snprintf(esc + n, 5, "\\x%02x", c);
	}
	if (i < len) {
		l->ll_full = 1;
		return;
	}
	put(l, " ", 1);
	put(l, key, strlen(key));
	put(l, "=", 1);
	if (quote)
		put(l, "\"", 1);
	put(l, esc, n);
	if (quote)
		put(l, "\"", 1);
}

void
logline_add(struct logline *l, const char *key, const char *value)
{
	if (value != NULL)
		logline_addn(l, key, value, strlen(value));
}

void
logline_addf(struct logline *l, const char *key, const char *fmt, ...)
{
	char	 buf[LOG_LINE_MAX];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
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
log_msg(int level, const char *fmt, ...)
{
	struct logline	 l;
	char		 buf[LOG_LINE_MAX - 64];
	va_list		 ap;
	int		 n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	logline_init(&l, level);
	logline_addn(&l, "msg", buf, (size_t)n);
	logline_emit(&l);
}
