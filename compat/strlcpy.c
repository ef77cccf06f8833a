#include "compat.h"

size_t
strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t	 n = strlen(src);

	if (dsize > 0) {
		size_t	 c = n < dsize - 1 ? n : dsize - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}
