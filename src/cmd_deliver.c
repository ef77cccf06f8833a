/*
 * cmd_deliver.c: idhook deliver [-c FILE] [-e ENDPOINT] DIR: runs the
 * delivery in DIR (DIR/body, exact bytes; DIR/headers, curl -H lines)
 * through the whole pipeline as a CGI request would, without a web
 * server, and prints the status idhook would answer (SPEC section 8).
 */
#include "compat.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "dedup.h"
#include "log.h"
#include "pipeline.h"
#include "request.h"

#define DELIVER_SYNOPSIS	"[-c FILE] [-e ENDPOINT] DIR"
#define FIXED_PARAMS		4	/* method, path, length, gateway */

struct params {
	char	*p_v[FIXED_PARAMS + DELIVER_HEADERS_MAX + 1];
	size_t	 p_n;
};

static int __attribute__((format(printf, 2, 3)))
params_add(struct params *p, const char *fmt, ...)
{
	char	 buf[DELIVER_HEADER_MAX + 16];
	va_list	 ap;
	int	 n;

	if (p->p_n == sizeof(p->p_v) / sizeof(p->p_v[0]) - 1) {
		log_error("deliver: more than %d header lines",
		    DELIVER_HEADERS_MAX);
		return -1;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    (p->p_v[p->p_n] = strdup(buf)) == NULL) {
		log_error("deliver: header line too long");
		return -1;
	}
	p->p_n++;
	return 0;
}

static void
params_free(struct params *p)
{
	size_t	 i;

	for (i = 0; i < p->p_n; i++)
		free(p->p_v[i]);
	p->p_n = 0;
}

/* "Name: value" -> HTTP_NAME=value, as CGI (RFC 3875 section 4.1.18). */
static int
header_param(struct params *p, char *line)
{
	char	*colon, *v, *c;

	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0')
		return 0;
	if ((colon = strchr(line, ':')) == NULL || colon == line) {
		log_error("deliver: not a \"Name: value\" header line");
		return -1;
	}
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (c = line; *c != '\0'; c++) {
		if (!isalnum((unsigned char)*c) && *c != '-') {
			log_error("deliver: bad header name");
			return -1;
		}
		*c = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
	}
	if (strcmp(line, "CONTENT_LENGTH") == 0)
		return 0;	/* ours: the size of DIR/body */
	if (strcmp(line, "CONTENT_TYPE") == 0)
		return params_add(p, "CONTENT_TYPE=%s", v);
	return params_add(p, "HTTP_%s=%s", line, v);
}

static int
read_headers(struct params *p, const char *dir)
{
	char	 path[PATH_MAX], line[DELIVER_HEADER_MAX];
	FILE	*f;
	int	 rc = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/headers", dir) >=
	    sizeof(path) || (f = fopen(path, "re")) == NULL) {
		log_error("%s/headers: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL)
		rc = header_param(p, line);
	if (rc == 0 && ferror(f)) {
		log_error("%s: read error", path);
		rc = -1;
	}
	fclose(f);
	return rc;
}

/* DIR/body becomes stdin, where a CGI request's body is read from. */
static int
open_body(const char *dir, off_t *len)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	int		 fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/body", dir) >=
	    sizeof(path) || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("%s/body: %s", dir, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    dup2(fd, STDIN_FILENO) == -1) {
		log_error("%s: not a readable regular file", path);
		close(fd);
		return -1;
	}
	close(fd);
	*len = st.st_size;
	return 0;
}

static int64_t
deliver_clock(void)
{
	return (int64_t)time(NULL);
}

static void
report(const struct outcome *oc)
{
	const struct cli_answer	*an = cli_answer(oc->oc_result);
	struct logline		 l;

	logline_init(&l, oc->oc_level);
	logline_add(&l, "endpoint", oc->oc_endpoint);
	if (oc->oc_event[0] != '\0')
		logline_add(&l, "event", oc->oc_event);
	if (oc->oc_id[0] != '\0')
		logline_add(&l, "id", oc->oc_id);
	logline_add(&l, "result", an->ca_word);
	if (oc->oc_hook_exit != -1)
		logline_addf(&l, "hook_exit", "%d", oc->oc_hook_exit);
	logline_add(&l, "reason", oc->oc_reason);
	logline_emit(&l);
	printf("%d %s\n", an->ca_status, an->ca_word);
}

static int
run(const struct config *cf, const struct endpoint *ep, struct params *p,
    const char *dir)
{
	struct pipeline_ctx	 pc;
	struct request		 rq;
	struct outcome		 oc;
	struct passwd		*pw;
	struct dedup		*dd = NULL;
	char			 len[32];
	off_t			 blen;

	if (open_body(dir, &blen) == -1)
		return CLI_FAIL;
	(void)snprintf(len, sizeof(len), "%lld", (long long)blen);
	if (params_add(p, "PATH_INFO=/%s", ep->ep_name) == -1 ||
	    params_add(p, "CONTENT_LENGTH=%s", len) == -1)
		return CLI_FAIL;
	if (cli_as_state_owner(cf->cf_state_dir) == -1)
		return CLI_FAIL;
	(void)dedup_open(cf->cf_state_dir, cf->cf_map_size, &dd);
	pw = getpwuid(geteuid());
	memset(&pc, 0, sizeof(pc));
	pc.pc_cfg = cf;
	pc.pc_dedup = dd;
	pc.pc_home = pw != NULL ? pw->pw_dir : "/";
	pc.pc_clock = deliver_clock;
	memset(&rq, 0, sizeof(rq));
	rq.rq_params = p->p_v;
	memset(&oc, 0, sizeof(oc));
	oc.oc_hook_exit = -1;
	pipeline_handle(&pc, &rq, &oc);		/* reads and wipes the body */
	request_free_body(&rq);
	dedup_close(dd);
	report(&oc);
	return cli_answer(oc.oc_result)->ca_status / 100 == 2 ?
	    CLI_OK : CLI_FAIL;
}

static int
deliver_usage(int code)
{
	if (code != CLI_OK)
		return cli_usage("deliver", DELIVER_SYNOPSIS);
	printf("usage: idhook deliver " DELIVER_SYNOPSIS "\n\n"
	    "Runs the delivery in DIR (DIR/body and DIR/headers, as idhook\n"
	    "sign writes them) through the whole pipeline, hook included,\n"
	    "without a web server, and prints the answer: \"200 delivered\".\n"
	    "Exit 0 for a 2xx answer, else 1.\n\n"
	    "  -c FILE      config file (default: as the server finds it)\n"
	    "  -e ENDPOINT  the endpoint (default: the only one)\n");
	return CLI_OK;
}

int
cmd_deliver(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct endpoint	*ep;
	struct config		*cf = NULL;
	struct params		 p;
	const char		*conf = NULL, *epname = NULL;
	char			 pi[ENDPOINT_NAME_MAX + 2];
	int			 ch, rc = CLI_FAIL;

	while ((ch = getopt_long(argc, argv, "c:e:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'e':
			epname = optarg;
			break;
		case 'h':
			return deliver_usage(CLI_OK);
		default:
			return deliver_usage(CLI_USAGE);
		}
	}
	if (argc - optind != 1)
		return deliver_usage(CLI_USAGE);
	if (cli_load_config(conf, &cf) == -1)
		return CLI_FAIL;
	memset(&p, 0, sizeof(p));
	if (epname == NULL)
		ep = config_endpoint(cf, NULL);
	else if ((size_t)snprintf(pi, sizeof(pi), "/%s", epname) <
	    sizeof(pi) && epname[0] != '\0')
		ep = config_endpoint(cf, pi);
	else
		ep = NULL;
	if (ep == NULL) {
		fprintf(stderr, "idhook deliver: %s\n", epname != NULL ?
		    "no such endpoint" : "several endpoints: name one with -e");
		rc = epname != NULL ? CLI_FAIL : CLI_USAGE;
	} else if (params_add(&p, "REQUEST_METHOD=POST") == 0 &&
	    params_add(&p, "GATEWAY_INTERFACE=CGI/1.1") == 0 &&
	    read_headers(&p, argv[optind]) == 0)
		rc = run(cf, ep, &p, argv[optind]);
	params_free(&p);
	config_free(cf);
	return rc;
}
