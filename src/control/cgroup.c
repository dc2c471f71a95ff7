// SPDX-License-Identifier: MIT
/* Cgroups named the way systemd and bpftool name them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "i18n.h"
#include "cgroup.h"
#include "cgroup_path.h"

/* The kernfs id of a cgroup directory is its 64-bit file handle. */
static int cgroup_id(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	int mount_id;

	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0)
		return -errno;
	if (h.fh.handle_bytes != sizeof(uint64_t))
		return -EPROTO;
	*id = h.id;
	return 0;
}

/* A cgroup is a directory of the cgroup2 file system, nothing else. */
static int cgroup_dir_check(const char *path)
{
	struct statfs sfs;
	struct stat st;

	if (stat(path, &st) < 0 || statfs(path, &sfs) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -ENOTDIR;
	return 0;
}

static int mkdir_parents(char *path)
{
	for (char *p = strchr(path + 1, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (!p)
			return 0;
		*p = '/';
	}
}

int cgroup_resolve(const char *path, bool create, struct cgroup_ref *cg,
		   char *err, size_t errlen)
{
	char mount[PATH_MAX];
	size_t mlen;
	int ret;

	ret = find_cgroup2_mount(mount, sizeof(mount));
	if (ret < 0) {
		snprintf(err, errlen, _("no cgroup2 file system is mounted"));
		return ret;
	}
	ret = cgroup_path_join(mount, path, cg->path, sizeof(cg->path),
			       &cg->level, err, errlen);
	if (ret < 0)
		return ret;
	mlen = strlen(mount);
	snprintf(cg->rel, sizeof(cg->rel), "%s",
		 cg->path[mlen] ? cg->path + mlen : "/");
	if (create && cg->level > 0) {
		char tmp[PATH_MAX];

		snprintf(tmp, sizeof(tmp), "%s", cg->path);
		ret = mkdir_parents(tmp);
		if (ret < 0) {
			snprintf(err, errlen, _("cannot create cgroup %s: %s"),
				 cg->rel, strerror(-ret));
			return ret;
		}
	}
	ret = cgroup_dir_check(cg->path);
	if (!ret)
		ret = cgroup_id(cg->path, &cg->id);
	if (ret < 0) {
		snprintf(err, errlen, _("cgroup %s: %s"), cg->rel,
			 ret == -ENOENT ? _("no such cgroup") :
			 ret == -ENOTDIR ? _("not a cgroup") : strerror(-ret));
		return ret;
	}
	return 0;
}

int cgroup_enter(const struct cgroup_ref *cg, char *err, size_t errlen)
{
	char procs[PATH_MAX + 16];
	int fd, ret = 0;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg->path);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0\n", 2) != 2)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		snprintf(err, errlen, _("cannot enter cgroup %s: %s"), cg->rel,
			 strerror(-ret));
	return ret;
}
