/*
 * provider.c: the table of senders.  Adding one means a provider_<name>.c
 * with its struct provider, a line here, and its tests.
 */
#include "compat.h"

#include <string.h>

#include "provider.h"

static const struct provider *const providers[] = {
	&provider_kayle,
	&provider_verifa,
	&provider_standard,
};

const char provider_names[] = "kayle, verifa, standard";

const struct provider *
provider_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (strcmp(providers[i]->pv_name, name) == 0)
			return providers[i];
	return NULL;
}
