/*
 * t.h: the unit tests' tiny harness.  CHECK prints "file:line: CHECK(expr)"
 * and exits 1; the automake test driver counts exit 0 as pass, 77 as skip
 * and 99 as a hard error.
 */
#ifndef IDHOOK_T_H
#define IDHOOK_T_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(expr) do {						\
	if (!(expr)) {							\
		fprintf(stderr, "%s:%d: CHECK(%s)\n", __FILE__,	\
		    __LINE__, #expr);					\
		exit(1);						\
	}								\
} while (0)

/* The source tree (for test vectors); make check exports top_srcdir. */
static inline const char *
t_srcdir(void)
{
	const char	*s = getenv("top_srcdir");

	return s != NULL ? s : ".";
}

#endif /* IDHOOK_T_H */
