/* SPDX-License-Identifier: MIT */
/* Cgroup paths and the cgroup2 mount (pure but for find_cgroup2_mount). */
#ifndef LWFP_CGROUP_PATH_H
#define LWFP_CGROUP_PATH_H

#include <stddef.h>
#include <stdio.h>

/*
 * Join a cgroup path, relative to the cgroup2 mount ("/lwfp-test/apps",
 * "lwfp-test/apps", "/" for the root) or absolute under the mount
 * ("/sys/fs/cgroup/lwfp-test/apps"), with the mount point. Writes the
 * absolute path (duplicate slashes collapsed, no trailing slash) and its
 * depth below the mount (the root is level 0). Rejects empty paths and
 * "." or ".." components. Does not touch the file system.
 * -ENAMETOOLONG if out is too small.
 */
int cgroup_path_join(const char *mount, const char *path, char *out,
		     size_t outlen, int *level, char *err, size_t errlen);

/*
 * The mount point of the first cgroup2 file system in a mountinfo file
 * (octal escapes such as \040 decoded). -ENOENT if there is none,
 * -ENAMETOOLONG if out is too small, -EIO on a read error.
 */
int find_cgroup2_mount_in(FILE *mountinfo, char *out, size_t outlen);

/* The same for /proc/self/mountinfo. */
int find_cgroup2_mount(char *out, size_t outlen);

#endif /* LWFP_CGROUP_PATH_H */
