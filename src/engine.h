/* SPDX-License-Identifier: MIT */
/* The library's handle on one engine instance (internal). */
#ifndef LWFP_ENGINE_H
#define LWFP_ENGINE_H

#include <limits.h>
#include <stddef.h>
#include <linux/types.h>

struct lwfp {
	char pin_dir[PATH_MAX];
	int sk_fd;
	int services_fd;
	int rule_ctx_fd;
};

/* The pin directory to use when none is given: $LWFP_PIN_DIR or default. */
const char *engine_default_pin_dir(void);

/* Resolve NULL to the process default engine, opening it on first use. */
int engine_resolve(struct lwfp **engine);

/* Open a pinned object of the engine at pin_dir: an fd or -errno. */
int engine_obj_get(const char *pin_dir, const char *name);
/* The same with BPF_F_RDONLY / BPF_F_WRONLY. */
int engine_obj_get_flags(const char *pin_dir, const char *name, __u32 flags);

#endif /* LWFP_ENGINE_H */
