#include "compat.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

/* OpenBSD strtonum(3): decimal only, whole string, range checked. */
long long
strtonum(const char *s, long long minval, long long maxval,
    const char **errstrp)
{
	long long	 ll = 0;
	char		*ep;
	const char	*errstr = NULL;

	if (minval > maxval)
		errstr = "invalid";
	else {
		errno = 0;
		ll = strtoll(s, &ep, 10);
		if (s == ep || *ep != '\0')
			errstr = "invalid";
		else if ((ll == LLONG_MIN && errno == ERANGE) || ll < minval)
			errstr = "too small";
		else if ((ll == LLONG_MAX && errno == ERANGE) || ll > maxval)
			errstr = "too large";
	}
	if (errstrp != NULL)
		*errstrp = errstr;
	errno = errstr != NULL ? (errstr[0] == 'i' ? EINVAL : ERANGE) : 0;
	return errstr != NULL ? 0 : ll;
}
