/* SPDX-License-Identifier: MIT */
/* Cgroups named the way systemd and bpftool name them. */
#ifndef LWFP_CGROUP_H
#define LWFP_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cgroup_ref {
	char path[PATH_MAX];	/* absolute, under the cgroup2 mount */
	char rel[PATH_MAX];	/* relative to the mount, "/" for the root */
	uint64_t id;		/* what bpf_get_current_cgroup_id() returns */
	int level;		/* depth below the root, which is 0 */
};

/* Resolve a cgroup PATH; with create, mkdir it (and its parents). */
int cgroup_resolve(const char *path, bool create, struct cgroup_ref *cg,
		   char *err, size_t errlen);

/* Move the calling process into the cgroup. */
int cgroup_enter(const struct cgroup_ref *cg, char *err, size_t errlen);

#endif /* LWFP_CGROUP_H */
