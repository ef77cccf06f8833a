/* t_request: parameters, exact body reads, limits, the response format. */
#include "compat.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "request.h"
#include "t.h"

/* Puts data on fd 0 through a temp file (a pipe would limit the size). */
static void
set_stdin(const void *data, size_t len)
{
	char	 path[] = "/tmp/t_request.XXXXXX";
	int	 fd;

	CHECK((fd = mkstemp(path)) != -1);
	unlink(path);
	CHECK(write(fd, data, len) == (ssize_t)len);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(dup2(fd, 0) == 0);
	close(fd);
}

static int
read_with(const char *cl, const void *data, size_t len, size_t max,
    struct request *rq)
{
	static char	 clbuf[64], method[] = "REQUEST_METHOD=POST";
	static char	*params[3];

	memset(rq, 0, sizeof(*rq));
	params[0] = method;
	params[1] = NULL;
	if (cl != NULL) {
		snprintf(clbuf, sizeof(clbuf), "CONTENT_LENGTH=%s", cl);
		params[1] = clbuf;
	}
	params[2] = NULL;
	rq->rq_params = params;
	set_stdin(data, len);
	return request_read_body(rq, max);
}

static void
test_params(void)
{
	char	 a[] = "HTTP_X_KAYLE_SIGNATURE=t=1,v1=a", b[] = "PATH_INFO=/k";
	char	 c[] = "HTTP_X_KAYLE_SIGNATUREX=no";
	char	 d[] = "HTTP_X_KAYLE_SIGNATURE=t=2", e[] = "EMPTY=";
	char	*p[] = { a, b, c, d, e, NULL };
	int	 n;

	CHECK(strcmp(request_param(p, "HTTP_X_KAYLE_SIGNATURE", &n),
	    "t=1,v1=a") == 0);
	CHECK(n == 2);
	CHECK(strcmp(request_param(p, "PATH_INFO", &n), "/k") == 0 && n == 1);
	CHECK(request_param(p, "PATH", &n) == NULL && n == 0);
	CHECK(strcmp(request_param(p, "EMPTY", NULL), "") == 0);
	CHECK(request_param(NULL, "X", &n) == NULL && n == 0);
}

static void
test_body(void)
{
	struct request	 rq;
	static uint8_t	 big[200000];

	memset(big, 'b', sizeof(big));
	CHECK(read_with("5", "hello world", 11, 100, &rq) == REQ_OK);
	CHECK(rq.rq_len == 5 && memcmp(rq.rq_body, "hello", 5) == 0);
	CHECK(rq.rq_body[5] == '\0');
	request_free_body(&rq);
	CHECK(rq.rq_body == NULL);

	CHECK(read_with("0", "", 0, 100, &rq) == REQ_OK && rq.rq_len == 0);
	request_free_body(&rq);
	CHECK(read_with("10", "short", 5, 100, &rq) == REQ_SHORT);
	request_free_body(&rq);
	CHECK(read_with("101", "x", 1, 100, &rq) == REQ_TOO_BIG);
	request_free_body(&rq);
	CHECK(read_with("100", big, 100, 100, &rq) == REQ_OK);
	request_free_body(&rq);
	CHECK(read_with("99999999999999999999", "x", 1, 100, &rq) ==
	    REQ_TOO_BIG);
	request_free_body(&rq);
	CHECK(read_with("999999999999999999999999", "x", 1, 100, &rq) ==
	    REQ_TOO_BIG);
	CHECK(read_with("-1", "x", 1, 100, &rq) == REQ_BAD_LENGTH);
	CHECK(read_with("1e3", "x", 1, 100, &rq) == REQ_BAD_LENGTH);
	CHECK(read_with(" 5", "hello", 5, 100, &rq) == REQ_BAD_LENGTH);

	/* No CONTENT_LENGTH (Apache mod_cgi, chunked): read to EOF. */
	CHECK(read_with(NULL, big, sizeof(big), sizeof(big), &rq) == REQ_OK);
	CHECK(rq.rq_len == sizeof(big) && rq.rq_body[rq.rq_len] == '\0');
	request_free_body(&rq);
	CHECK(read_with(NULL, big, sizeof(big), sizeof(big) - 1, &rq) ==
	    REQ_TOO_BIG);
	request_free_body(&rq);
	CHECK(read_with("", "abc", 3, 3, &rq) == REQ_OK && rq.rq_len == 3);
	request_free_body(&rq);
	CHECK(read_with(NULL, "abcd", 4, 3, &rq) == REQ_TOO_BIG);
	request_free_body(&rq);
	CHECK(read_with(NULL, "", 0, 3, &rq) == REQ_OK && rq.rq_len == 0);
	request_free_body(&rq);
}

/*
 * CGI: discarding reads exactly what is left of CONTENT_LENGTH (Apache
 * mod_cgid drops the connection of a CGI that leaves input unread), or to
 * EOF without a length, and nothing when the length is nonsense.
 */
static void
test_discard(void)
{
	struct request	 rq;

	/* Answered before reading (405, 404, ...): the 10 body bytes go. */
	/* read_with sets the params; stdin is set again below. */
	(void)read_with("-1", "x", 1, 100, &rq);
	set_stdin("0123456789TAIL", 14);
	strlcpy(rq.rq_params[1], "CONTENT_LENGTH=10", 64);
	request_discard_body(&rq, 100);
	CHECK(lseek(0, 0, SEEK_CUR) == 10);

	/* Body read in full: nothing more is read. */
	CHECK(read_with("5", "helloTAIL", 9, 100, &rq) == REQ_OK);
	request_discard_body(&rq, 100);
	CHECK(lseek(0, 0, SEEK_CUR) == 5);
	request_free_body(&rq);

	/* Too big by CONTENT_LENGTH: up to the limit. */
	CHECK(read_with("50", "0123456789012345678901234567890123456789",
	    40, 20, &rq) == REQ_TOO_BIG);
	request_discard_body(&rq, 30);
	CHECK(lseek(0, 0, SEEK_CUR) == 30);
	request_free_body(&rq);

	/* No CONTENT_LENGTH (chunked): to EOF. */
	CHECK(read_with(NULL, "abcdef", 6, 3, &rq) == REQ_TOO_BIG);
	request_discard_body(&rq, 100);
	CHECK(lseek(0, 0, SEEK_CUR) == 6);
	request_free_body(&rq);

	/* A nonsense length: nothing is read. */
	CHECK(read_with("1e3", "abcdef", 6, 100, &rq) == REQ_BAD_LENGTH);
	request_discard_body(&rq, 100);
	CHECK(lseek(0, 0, SEEK_CUR) == 0);
}

static void
test_respond(void)
{
	struct request	 rq;
	char		 path[] = "/tmp/t_request.XXXXXX", buf[512];
	int		 fd, saved;
	ssize_t		 n;

	memset(&rq, 0, sizeof(rq));
	CHECK((fd = mkstemp(path)) != -1);
	unlink(path);
	CHECK((saved = dup(1)) != -1);
	CHECK(dup2(fd, 1) == 1);
	CHECK(request_respond(&rq, 405, "Method Not Allowed", "Allow: POST",
	    "method_not_allowed") == 0);
	CHECK(dup2(saved, 1) == 1);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK((n = read(fd, buf, sizeof(buf) - 1)) > 0);
	buf[n] = '\0';
	CHECK(strcmp(buf, "Status: 405 Method Not Allowed\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "Allow: POST\r\n"
	    "\r\n{\"status\":\"method_not_allowed\"}\n") == 0);
	close(fd);
	close(saved);
}

int
main(void)
{
	test_params();
	test_body();
	test_discard();
	test_respond();
	return 0;
}
