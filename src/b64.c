/*
 * b64.c: one strict base64 decoder for the JWE segments (URL-safe,
 * unpadded) and Standard Webhooks signatures and secrets (standard,
 * padded or not).
 */
#include "compat.h"

#include "b64.h"

static int
b64_val(unsigned char c, int alphabet)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (alphabet == B64_URL ? '-' : '+'))
		return 62;
	if (c == (alphabet == B64_URL ? '_' : '/'))
		return 63;
	return -1;
}

int
b64_declen(size_t n, size_t *outlen)
{
	if (n % 4 == 1)
		return -1;
	*outlen = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
	return 0;
}

int
b64_decode(const char *in, size_t n, int alphabet, int pad, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	size_t		 npad = 0, nchar, i, o = 0, need;
	uint32_t	 acc = 0;
	unsigned	 bits = 0;
	int		 v;

	while (npad < 2 && npad < n && in[n - 1 - npad] == '=')
		npad++;
	nchar = n - npad;
	if (npad > 0 && pad == B64_PAD_NONE)
		return -1;
	/* Padding, when there is any, makes the length a multiple of 4. */
	if ((npad > 0 || pad == B64_PAD_REQUIRED) && n % 4 != 0)
		return -1;
	if (b64_declen(nchar, &need) == -1 || need > outsz)
		return -1;
	for (i = 0; i < nchar; i++) {
		if ((v = b64_val((unsigned char)in[i], alphabet)) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
		acc &= (1U << bits) - 1;
	}
	if (acc != 0)
		return -1;
	*outlen = o;
	return 0;
}
