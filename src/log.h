/*
 * log.h: logfmt lines on stderr (the web server's error log).
 *
 * Every line is "key=value" pairs starting with level=.  Values that are
 * not plain tokens are quoted, with '"' and '\' escaped and any control or
 * non-ASCII byte written as \xNN, so a hostile value cannot forge a line.
 * Never pass a secret or a payload value to any of these.
 */
#ifndef IDHOOK_LOG_H
#define IDHOOK_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "bounds.h"

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG
};

/* Lines above this level are dropped.  Default LOG_INFO. */
void	 log_set_level(int level);
int	 log_get_level(void);
/* "error" | "warn" | "info" | "debug" -> level, or -1. */
int	 log_level_parse(const char *name);

/*
 * errbuf_set: formats a short reason into err (errlen bytes, may be 0)
 * for a caller to log; a cut message is fine.  Never a secret or a
 * payload value.
 */
void	 errbuf_set(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* level=L msg="<formatted text>" */
void	 log_msg(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * A logfmt line built pair by pair in a fixed buffer; pairs that do not
 * fit are dropped and the line ends in "truncated=1".
 */
struct logline {
	int	 ll_level;
	size_t	 ll_len;
	int	 ll_full;
	char	 ll_buf[LOG_LINE_MAX];
};

void	 logline_init(struct logline *, int level);
/* Appends key=value; a NULL value is skipped. */
void	 logline_add(struct logline *, const char *key, const char *value);
/* Appends key=value of at most len bytes (value need not be NUL-ended). */
void	 logline_addn(struct logline *, const char *key, const char *value,
	    size_t len);
void	 logline_addf(struct logline *, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Writes the line with one write(2) to stderr. */
void	 logline_emit(struct logline *);

/* Milliseconds of CLOCK_MONOTONIC since *t0: a log line's "ms". */
struct timespec;
long	 log_elapsed_ms(const struct timespec *t0);

#endif /* IDHOOK_LOG_H */
