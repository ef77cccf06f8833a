/*
 * request.c: parameters and body of one request, CGI or FastCGI.
 *
 * libfcgi's FCGX_Accept_r does not serve CGI (it accepts on fd 0), so a
 * CGI request is read from stdin and the process environment with the
 * same code through two tiny I/O helpers.
 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"
#include "request.h"

const char *
request_param(char *const *params, const char *name, int *count)
{
	const char	*first = NULL;
	size_t		 n = strlen(name);
	int		 c = 0;

	for (; params != NULL && *params != NULL; params++) {
		if (strncmp(*params, name, n) != 0 || (*params)[n] != '=')
			continue;
		if (c++ == 0)
			first = *params + n + 1;
	}
	if (count != NULL)
		*count = c;
	return first;
}

/* Up to len bytes; 0 at EOF, -1 on error. */
static ssize_t
body_read(struct request *rq, uint8_t *buf, size_t len)
{
	ssize_t	 r;
	int	 n;

	if (rq->rq_fcgx != NULL) {
		n = FCGX_GetStr((char *)buf, (int)len, rq->rq_fcgx->in);
		if (n == 0 && FCGX_GetError(rq->rq_fcgx->in) != 0)
			return -1;
		return n;
	}
	do
		r = read(STDIN_FILENO, buf, len);
	while (r == -1 && errno == EINTR);
	return r;
}

static int
body_write(struct request *rq, const char *buf, size_t len)
{
	ssize_t	 w;

	if (rq->rq_fcgx != NULL)
		return FCGX_PutStr(buf, (int)len, rq->rq_fcgx->out) ==
		    (int)len ? 0 : -1;
	while (len > 0) {
		w = write(STDOUT_FILENO, buf, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* CONTENT_LENGTH: decimal digits and nothing else; over max is too big. */
static int
parse_length(const char *s, size_t max, size_t *lenp)
{
	size_t		 n = strlen(s);
	unsigned long long v = 0;

	if (n == 0 || strspn(s, "0123456789") != n)
		return REQ_BAD_LENGTH;
	if (n > CONTENT_LENGTH_DIGITS)
		return REQ_TOO_BIG;
	for (; *s != '\0'; s++) {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return REQ_TOO_BIG;
	}
	*lenp = (size_t)v;
	return REQ_OK;
}

/*
 * Doubles the buffer, up to max + 1 bytes of data (one past the limit, to
 * see that a body without CONTENT_LENGTH is too big).  Copies instead of
 * realloc so that no unwiped copy of the body is left in freed memory.
 */
static int
grow(struct request *rq, size_t max)
{
	size_t	 data = rq->rq_cap - 1, ndata;
	uint8_t	*p;

	if (data > max)
		return -1;
	ndata = data > (max + 1) / 2 ? max + 1 : data * 2;
	if ((p = malloc(ndata + 1)) == NULL)
		return -1;
	memcpy(p, rq->rq_body, rq->rq_len);
	freezero(rq->rq_body, rq->rq_cap);
	rq->rq_body = p;
	rq->rq_cap = ndata + 1;
	return 0;
}

int
request_read_body(struct request *rq, size_t max)
{
	const char	*cl;
	size_t		 want = max, cap;
	ssize_t		 r;
	int		 exact, rv;

	cl = request_param(rq->rq_params, "CONTENT_LENGTH", NULL);
	exact = cl != NULL && cl[0] != '\0';
	if (exact && (rv = parse_length(cl, max, &want)) != REQ_OK)
		return rv;
	/* Without a length, read up to max + 1 to tell "too big" apart. */
	cap = exact ? want : (max < BODY_CHUNK ? max : BODY_CHUNK);
	if ((rq->rq_body = malloc(cap + 1)) == NULL)
		return REQ_ERR;
	rq->rq_cap = cap + 1;
	rq->rq_len = 0;
	for (;;) {
		if (exact && rq->rq_len == want)
			break;
		if (!exact && rq->rq_len == rq->rq_cap - 1 &&
		    grow(rq, max) == -1)
			return rq->rq_len > max ? REQ_TOO_BIG : REQ_ERR;
		r = body_read(rq, rq->rq_body + rq->rq_len,
		    rq->rq_cap - 1 - rq->rq_len);
		if (r < 0)
			return exact ? REQ_SHORT : REQ_ERR;
		if (r == 0)
			break;
		rq->rq_len += (size_t)r;
		rq->rq_consumed += (size_t)r;
		if (rq->rq_len > max)
			return REQ_TOO_BIG;
	}
	if (exact && rq->rq_len != want)
		return REQ_SHORT;
	rq->rq_body[rq->rq_len] = '\0';
	return REQ_OK;
}

/*
 * A CGI program that exits with its input unread makes Apache mod_cgid
 * drop the connection (the sender sees no answer at all), and a FastCGI
 * server may still be sending the body.  FastCGI: read to the end of the
 * stream.  CGI: what CONTENT_LENGTH says is left, or, without it (a
 * chunked body), to EOF, which the server gives after the body.
 */
void
request_discard_body(struct request *rq, size_t limit)
{
	uint8_t		 buf[BODY_CHUNK];
	const char	*cl;
	size_t		 got = 0, left = limit, n;
	ssize_t		 r;

	cl = request_param(rq->rq_params, "CONTENT_LENGTH", NULL);
	if (rq->rq_fcgx == NULL && cl != NULL && cl[0] != '\0') {
		switch (parse_length(cl, limit, &n)) {
		case REQ_OK:
			left = n > rq->rq_consumed ? n - rq->rq_consumed : 0;
			break;
		case REQ_TOO_BIG:
			break;		/* as much as limit allows */
		default:
			return;		/* no telling where it ends */
		}
	}
	while (got < left && (r = body_read(rq, buf, left - got <
	    sizeof(buf) ? left - got : sizeof(buf))) > 0)
		got += (size_t)r;
	explicit_bzero(buf, sizeof(buf));
}

void
request_free_body(struct request *rq)
{
	freezero(rq->rq_body, rq->rq_cap);
	rq->rq_body = NULL;
	rq->rq_len = rq->rq_cap = 0;
}

int
request_respond(struct request *rq, int status, const char *reason,
    const char *extra, const char *word)
{
	char	 buf[512];
	int	 n;

	n = snprintf(buf, sizeof(buf), "Status: %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "%s%s\r\n{\"status\":\"%s\"}\n", status, reason,
	    extra != NULL ? extra : "", extra != NULL ? "\r\n" : "", word);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return body_write(rq, buf, (size_t)n);
}
