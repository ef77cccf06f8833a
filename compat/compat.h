/*
 * compat.h: BSD functions glibc may lack; each has a replacement in
 * compat/ that configure (AC_REPLACE_FUNCS) links only where needed.
 */
#ifndef IDHOOK_COMPAT_H
#define IDHOOK_COMPAT_H

#include "autoconf.h"	/* configure's results, not src/config.h */

#include <stddef.h>
#include <string.h>

#ifndef HAVE_EXPLICIT_BZERO
void	 explicit_bzero(void *, size_t);
#endif
#ifndef HAVE_FREEZERO
void	 freezero(void *, size_t);
#endif
#ifndef HAVE_STRLCPY
size_t	 strlcpy(char *, const char *, size_t);
#endif
#ifndef HAVE_STRTONUM
long long strtonum(const char *, long long, long long, const char **);
#endif
#ifndef HAVE_REALLOCARRAY
void	*reallocarray(void *, size_t, size_t);
#endif

#endif /* IDHOOK_COMPAT_H */
