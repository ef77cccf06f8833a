/*
 * t_b64: the strict decoder against Python's base64 module (the expected
 * bytes in the comments were printed by /usr/bin/python3), and everything
 * non-canonical refused.
 */
#include "compat.h"

#include <string.h>

#include "b64.h"
#include "t.h"

static int
dec(const char *in, int alphabet, int pad, uint8_t *out, size_t outsz,
    size_t *n)
{
	return b64_decode(in, strlen(in), alphabet, pad, out, outsz, n);
}

int
main(void)
{
	uint8_t	 out[64];
	size_t	 n;

	/* base64.b64decode("+/+/") == b"\xfb\xff\xbf" */
	CHECK(dec("+/+/", B64_STD, B64_PAD_REQUIRED, out, sizeof(out), &n) ==
	    0 && n == 3 && memcmp(out, "\xfb\xff\xbf", 3) == 0);
	/* base64.urlsafe_b64decode("-_-_") is the same bytes. */
	CHECK(dec("-_-_", B64_URL, B64_PAD_NONE, out, sizeof(out), &n) ==
	    0 && n == 3 && memcmp(out, "\xfb\xff\xbf", 3) == 0);
	CHECK(dec("-_-_", B64_STD, B64_PAD_OPTIONAL, out, 64, &n) == -1);
	CHECK(dec("+/+/", B64_URL, B64_PAD_NONE, out, 64, &n) == -1);
	/* base64.b64decode("aGk=") == b"hi" */
	CHECK(dec("aGk=", B64_STD, B64_PAD_REQUIRED, out, 64, &n) == 0 &&
	    n == 2 && memcmp(out, "hi", 2) == 0);
	CHECK(dec("aGk", B64_STD, B64_PAD_OPTIONAL, out, 64, &n) == 0 &&
	    n == 2 && memcmp(out, "hi", 2) == 0);
	CHECK(dec("aGk=", B64_STD, B64_PAD_OPTIONAL, out, 64, &n) == 0);
	CHECK(dec("aGk", B64_STD, B64_PAD_REQUIRED, out, 64, &n) == -1);
	CHECK(dec("aGk=", B64_URL, B64_PAD_NONE, out, 64, &n) == -1);
	/* "aGl=": the unused bits of 'l' are not zero (not canonical). */
	CHECK(dec("aGl=", B64_STD, B64_PAD_REQUIRED, out, 64, &n) == -1);
	/* Wrong padding, '=' inside, a lone character, white space. */
	CHECK(dec("aGk==", B64_STD, B64_PAD_OPTIONAL, out, 64, &n) == -1);
	CHECK(dec("aG=k", B64_STD, B64_PAD_OPTIONAL, out, 64, &n) == -1);
	CHECK(dec("aGkxa", B64_STD, B64_PAD_OPTIONAL, out, 64, &n) == -1);
	CHECK(dec("aG k", B64_STD, B64_PAD_OPTIONAL, out, 64, &n) == -1);
	CHECK(dec("", B64_STD, B64_PAD_REQUIRED, out, 64, &n) == 0 && n == 0);
	/* Never more than outsz bytes. */
	CHECK(dec("aGk=", B64_STD, B64_PAD_REQUIRED, out, 1, &n) == -1);
	CHECK(dec("aGk=", B64_STD, B64_PAD_REQUIRED, out, 2, &n) == 0);
	CHECK(b64_declen(5, &n) == -1);
	CHECK(b64_declen(6, &n) == 0 && n == 4);
	return 0;
}
