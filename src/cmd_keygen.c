/*
 * cmd_keygen.c: "idhook keygen [-b BITS] [--kid ID] DIR" (SPEC section
 * 8): a new RSA private key, PKCS#8 PEM in DIR/<kid>.pem created mode
 * 0600 (never over an existing file), and the public JWK to register
 * with Kayle in DIR/<kid>.public.jwk.json and on stdout.  The private
 * key goes to its file only, never to stdout or a log.
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bounds.h"
#include "cli.h"
#include "jwe.h"
#include "log.h"

#define KEYGEN_BITS_DEFAULT	4096
#define KEYGEN_SYNOPSIS		"[-b BITS] [--kid ID] DIR"
#define KID_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789._-"

static int
keygen_help(void)
{
	printf("usage: idhook keygen " KEYGEN_SYNOPSIS "\n\n"
	    "Makes an RSA key for Kayle's encryption: DIR/ID.pem (private,\n"
	    "mode 0600, never overwritten) and DIR/ID.public.jwk.json, the\n"
	    "public JWK to register with Kayle (also printed).\n\n"
	    "  -b BITS    key size, %d to %d (default %d)\n"
	    "  --kid ID   key id (default idhook-YYYY-MM); [A-Za-z0-9._-]\n",
	    KEY_BITS_MIN, KEY_BITS_MAX, KEYGEN_BITS_DEFAULT);
	return CLI_OK;
}

/* The kid is a file name and a config token: "kid:path" (config.c). */
static int
kid_ok(const char *kid)
{
	size_t	 n = strlen(kid);

	return n > 0 && n <= KID_MAX && kid[0] != '.' &&
	    strspn(kid, KID_CHARS) == n;
}

/* Writes all of buf to a new file path (O_EXCL: never replaces one). */
static int
write_new(const char *path, const void *buf, size_t len, mode_t mode)
{
	const char	*p = buf;
	ssize_t		 w;
	int		 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	/* The umask may only narrow mode; make it exact. */
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
 fail:
	log_error("%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	(void)unlink(path);
	return -1;
}

/* The private key as PKCS#8 PEM into its 0600 file; the PEM is wiped. */
static int
write_private(const char *path, EVP_PKEY *pkey)
{
	BIO	*bio;
	char	*pem;
	long	 n;
	int	 rv = -1;

	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		return -1;
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL,
	    NULL) == 1 && (n = BIO_get_mem_data(bio, &pem)) > 0)
		rv = write_new(path, pem, (size_t)n, 0600);
	else
		log_error("cannot encode the private key");
	BIO_free(bio);	/* secure memory: cleared on free */
	return rv;
}

static int
keygen_files(const char *dir, const char *kid, int bits)
{
	EVP_PKEY	*pkey = NULL;
	char		 priv[PATH_MAX], pub[PATH_MAX], rdir[PATH_MAX];
	char		*jwk = NULL;
	int		 rv = CLI_FAIL;

	if (realpath(dir, rdir) == NULL) {
		log_error("%s: %s", dir, strerror(errno));
		return CLI_FAIL;
	}
	if ((size_t)snprintf(priv, sizeof(priv), "%s/%s.pem", rdir, kid) >=
	    sizeof(priv) || (size_t)snprintf(pub, sizeof(pub),
	    "%s/%s.public.jwk.json", rdir, kid) >= sizeof(pub)) {
		log_error("%s: path too long", dir);
		return CLI_FAIL;
	}
	if (access(priv, F_OK) == 0 || access(pub, F_OK) == 0) {
		log_error("%s or %s exists: not overwritten (choose --kid)",
		    priv, pub);
		return CLI_FAIL;
	}
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits)) ==
	    NULL || jwe_public_jwk(pkey, kid, &jwk) == -1) {
		log_error("RSA key generation failed");
		goto out;
	}
	if (write_private(priv, pkey) == -1)
		goto out;
	if (write_new(pub, jwk, strlen(jwk), 0644) == -1) {
		(void)unlink(priv);
		goto out;
	}
	printf("%s\n\n# public JWK (register it with Kayle, key id %s): %s\n"
	    "# private key (mode 0600): %s\n# config line for the endpoint:\n"
	    "decryption_key = %s:%s\n", jwk, kid, pub, priv, kid, priv);
	rv = CLI_OK;
 out:
	free(jwk);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rv;
}

int
cmd_keygen(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "bits", required_argument, NULL, 'b' },
		{ "kid", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char		 kid[KID_MAX + 1];
	const char	*errstr, *k = NULL;
	time_t		 now = time(NULL);
	int		 ch, bits = KEYGEN_BITS_DEFAULT;

	while ((ch = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			bits = (int)strtonum(optarg, KEY_BITS_MIN,
			    KEY_BITS_MAX, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "idhook keygen: -b %s: %s "
				    "(%d..%d)\n", optarg, errstr,
				    KEY_BITS_MIN, KEY_BITS_MAX);
				return CLI_USAGE;
			}
			break;
		case 'k':
			k = optarg;
			break;
		case 'h':
			return keygen_help();
		default:
			return cli_usage("keygen", KEYGEN_SYNOPSIS);
		}
	}
	if (argc - optind != 1)
		return cli_usage("keygen", KEYGEN_SYNOPSIS);
	if (k == NULL) {
		(void)strftime(kid, sizeof(kid), "idhook-%Y-%m", gmtime(&now));
		k = kid;
	}
	if (!kid_ok(k)) {
		fprintf(stderr, "idhook keygen: --kid: 1 to %d of "
		    "[A-Za-z0-9._-], not starting with '.'\n", KID_MAX);
		return CLI_USAGE;
	}
	return keygen_files(argv[optind], k, bits);
}
