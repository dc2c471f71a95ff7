/* SPDX-License-Identifier: MIT */
/* Loading an engine (programs, maps, cgroup links) under a pin directory. */
#ifndef LWFP_LOADER_H
#define LWFP_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "admin.h"
#include "cgroup.h"

/*
 * Load, attach to the cgroup and pin. On failure nothing stays pinned.
 * Over a running engine on the same cgroup: upgrade it in place, keeping
 * its maps (flows, services, rules), and return 1.
 * gid >= 0: members of that group may use the engine from a service
 * (query sockets they hold, set records); otherwise only root may.
 * set: settings; a 0 keeps the running value (or the default).
 * notice: one line per optional program the kernel refused (the engine
 * loads without it), empty if none.
 */
int engine_load(const char *pin_dir, const struct cgroup_ref *cg, int gid,
		const struct engine_settings *set, char *notice, size_t nlen,
		char *err, size_t errlen);

/* The engine's programs: required by the redirect, or optional. */
struct engine_prog {
	const char *name;
	const char *missing;	/* NULL: required; else what goes without it */
	/* attached to the services' cgroups, not the engine's (pinned as
	 * prog_NAME; sockopt_hooks.h) */
	bool per_service;
};

extern const struct engine_prog engine_progs[];
extern const size_t engine_nprogs;

const struct engine_prog *engine_prog_find(const char *name);
/* Its pin under the pin directory: link_NAME or prog_NAME. */
int engine_prog_pin_name(const char *prog, char *out, size_t len);
struct bpf_program;
bool engine_prog_is_cgroup(const struct bpf_program *prog);
/* How many instructions the verifier processed for a loaded program;
 * -ENOENT if it is not loaded. */
int engine_prog_verified(const char *pin_dir, const char *prog,
			 __u32 *insns);
/* The kernel's id of that program: an upgrade in place changes it. */
int engine_prog_id(const char *pin_dir, const char *prog, __u32 *id);

/* Let group gid use the engine at pin_dir (services: query sockets, set
 * records). 0 or -errno. */
int engine_grant_group(const char *pin_dir, int gid);

/* Unpin everything: links go (detaching the programs), then maps. */
int engine_unload(const char *pin_dir, char *err, size_t errlen);

/* Make sure the directory that will hold pin_dir is on a bpf file system,
 * mounting bpffs at /sys/fs/bpf when that is where it goes. */
int ensure_bpffs(const char *pin_dir, char *err, size_t errlen);

#endif /* LWFP_LOADER_H */
