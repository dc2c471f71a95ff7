// SPDX-License-Identifier: MIT
/* Opening an engine's pinned objects: shared by the library (queries)
 * and the control plane (everything else). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "lwfp.h"
#include "pin.h"

const char *pin_dir_default(void)
{
	const char *dir = getenv(LWFP_PIN_DIR_ENV);

	return dir && *dir ? dir : LWFP_DEFAULT_PIN_DIR;
}

int pin_open_flags(const char *pin_dir, const char *name, __u32 flags)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = flags);
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", pin_dir, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get_opts(path, &opts);
	if (fd >= 0)
		return fd;
	/* EPERM comes from a bpf() the caller may not make at all */
	return errno == EPERM ? -EACCES : -errno;
}

int pin_open(const char *pin_dir, const char *name)
{
	return pin_open_flags(pin_dir, name, 0);
}
