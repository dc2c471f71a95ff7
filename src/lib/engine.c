// SPDX-License-Identifier: MIT
/* Finding an engine from its pin directory. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "lwfp.h"
#include "engine.h"
#include "pin.h"
#include "pins.h"
#include "util.h"

static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lwfp *default_engine;

LWFP_EXPORT int lwfp_open(const char *pin_dir, struct lwfp **engine)
{
	struct lwfp *e;
	int err;

	if (!engine)
		return -EINVAL;
	if (!pin_dir)
		pin_dir = pin_dir_default();
	if (strlen(pin_dir) >= sizeof(e->pin_dir))
		return -ENAMETOOLONG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	strcpy(e->pin_dir, pin_dir);
	pthread_mutex_init(&e->lock, NULL);
	/* a service asks through its own sockets (SOL_LWFP); of the maps it
	 * reads only the services', which members of the group may */
	err = e->services_fd = pin_open_flags(pin_dir, PIN_SERVICES,
					      BPF_F_RDONLY);
	if (err < 0) {
		lwfp_close(e);
		return err;
	}
	*engine = e;
	return 0;
}

LWFP_EXPORT void lwfp_close(struct lwfp *e)
{
	if (!e)
		return;
	if (e->services_fd >= 0)
		close(e->services_fd);
	free(e->announced);
	cache_free(e);
	free(e);
}

LWFP_EXPORT const char *lwfp_pin_dir(const struct lwfp *e)
{
	return e ? e->pin_dir : pin_dir_default();
}

int engine_resolve(struct lwfp **engine)
{
	int err = 0;

	if (*engine)
		return 0;
	pthread_mutex_lock(&default_lock);
	/* a failed open is retried on the next call: the engine may come */
	if (!default_engine)
		err = lwfp_open(NULL, &default_engine);
	*engine = default_engine;
	pthread_mutex_unlock(&default_lock);
	return err;
}
