/*
 * request.h: one HTTP request as a CGI or FastCGI program sees it:
 * parameters (CGI environment or FastCGI params) and a body read exactly
 * and within a limit (SPEC section 3, step 1).
 */
#ifndef IDHOOK_REQUEST_H
#define IDHOOK_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <fcgiapp.h>

struct request {
	FCGX_Request	*rq_fcgx;	/* NULL in CGI mode: stdin/stdout */
	char		**rq_params;	/* FastCGI envp, or environ (CGI) */
	uint8_t		*rq_body;	/* malloc'd, rq_len bytes + NUL */
	size_t		 rq_len;
	size_t		 rq_cap;
	size_t		 rq_consumed;	/* body bytes read from the server */
};

/*
 * request_param: value of the first parameter called name, or NULL.
 * count (may be NULL) receives how many times name occurs: a server may
 * pass one header twice (lighttpd maps X_Foo and X-Foo to one name; nginx
 * sends repeated headers as separate params).
 */
const char *request_param(char *const *params, const char *name, int *count);

enum request_body_result {
	REQ_OK = 0,
	REQ_TOO_BIG = -1,	/* CONTENT_LENGTH or the body over max: 413 */
	REQ_SHORT = -2,		/* fewer bytes than CONTENT_LENGTH: 400 */
	REQ_BAD_LENGTH = -3,	/* CONTENT_LENGTH not a decimal number: 400 */
	REQ_ERR = -4		/* allocation or read error: 500 */
};

/*
 * request_read_body: reads exactly CONTENT_LENGTH bytes, refusing more
 * than max before reading any.  Without CONTENT_LENGTH (Apache mod_cgi
 * with a chunked body) reads to EOF, refusing past max.  Stores a
 * malloc'd copy in rq_body/rq_len (NUL-terminated, not counted).
 */
int	 request_read_body(struct request *, size_t max);

/*
 * request_discard_body: reads and drops what is left of the body (at
 * most limit bytes) before the answer is written, so that the server
 * (Apache mod_cgid, a FastCGI server still sending) does not see its
 * program stop reading and drop the connection.  CGI: CONTENT_LENGTH
 * minus what was read, or to EOF without one.
 */
void	 request_discard_body(struct request *, size_t limit);

/* Wipes and frees the body (it may be personal data). */
void	 request_free_body(struct request *);

/*
 * request_respond: writes "Status: <status> <reason>", a JSON content
 * type, extra (one "Name: value" header line without CRLF, or NULL) and
 * the body {"status":"<word>"}.  Returns 0, or -1 if the client is gone.
 */
int	 request_respond(struct request *, int status, const char *reason,
	    const char *extra, const char *word);

#endif /* IDHOOK_REQUEST_H */
