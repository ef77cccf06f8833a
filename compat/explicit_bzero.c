#include "compat.h"

#include <openssl/crypto.h>

/* OPENSSL_cleanse is not optimised away, unlike a plain memset. */
void
explicit_bzero(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}
