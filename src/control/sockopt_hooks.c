// SPDX-License-Identifier: MIT
/* The engine's sockopt programs on its services' cgroups (sockopt_hooks.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "admin.h"
#include "cgroup_path.h"
#include "i18n.h"
#include "pin.h"
#include "pins.h"
#include "proc.h"
#include "sockopt_hooks.h"
#include "util.h"

static const struct {
	const char *suffix, *prog;
	enum bpf_attach_type type;
} kinds[] = {
	{ "get", PIN_PROG_PREFIX "lwfp_getsockopt", BPF_CGROUP_GETSOCKOPT },
	{ "set", PIN_PROG_PREFIX "lwfp_setsockopt", BPF_CGROUP_SETSOCKOPT },
};

/* What an older engine attached to its whole scope. */
static const char *const scope_links[] = {
	PIN_LINK_PREFIX "lwfp_getsockopt", PIN_LINK_PREFIX "lwfp_setsockopt",
};

/* The cgroups to link, each once, with an open fd. */
struct wanted {
	__u64 id[LWFP_MAX_SERVICES + 1];
	int fd[LWFP_MAX_SERVICES + 1];
	unsigned int n;
};

/* A cgroup's id is the inode number of its directory (kernfs). */
static int fd_cgroup_id(int fd, __u64 *id)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

/*
 * The cgroup with that id, at most depth levels below dir_fd, open: a
 * walk, not open_by_handle_at(), which needs CAP_DAC_READ_SEARCH, which
 * the engine's capabilities do not include (docs/deploy.md).
 */
static int cgroup_find(int dir_fd, __u64 id, int depth)
{
	struct dirent *de;
	int dfd, fd = -ENOENT;
	struct stat st;
	DIR *d;

	if (depth <= 0)
		return -ENOENT;
	dfd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -ENOENT;
	}
	while (fd == -ENOENT && (de = readdir(d))) {
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = openat(dirfd(d), de->d_name,
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			continue;
		if (!fstat(sub, &st) && st.st_ino == id) {
			fd = sub;
			break;
		}
		fd = cgroup_find(sub, id, depth - 1);
		close(sub);
	}
	closedir(d);
	return fd;
}

/* The cgroup with that id, level levels below the root (-1: unknown),
 * trying hint (a path under the mount) first. */
static int cgroup_open_id(int mount_fd, __u64 id, int level,
			  const char *hint)
{
	struct stat st;
	int fd;

	if (hint && *hint) {
		fd = openat(mount_fd, hint[0] == '/' && hint[1] ? hint + 1 :
				      ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && !fstat(fd, &st) && st.st_ino == id)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	if (!fstat(mount_fd, &st) && st.st_ino == id)
		return openat(mount_fd, ".", O_RDONLY | O_DIRECTORY |
				  O_CLOEXEC);
	return cgroup_find(mount_fd, id, level > 0 ? level : 64);
}

/* Is the cgroup open at fd the scope or below it? Up to the top of the
 * cgroup2 file system (the parent of its root is another file system). */
static bool in_scope(int fd, __u64 scope)
{
	int cur = dup(fd), up;
	struct stat st, top;
	bool found = false;

	if (cur < 0 || fstat(cur, &top)) {
		if (cur >= 0)
			close(cur);
		return false;
	}
	for (int depth = 0; cur >= 0 && depth < 256; depth++) {
		if (fstat(cur, &st) || st.st_dev != top.st_dev)
			break;
		if (st.st_ino == scope) {
			found = true;
			break;
		}
		up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(cur);
		cur = up;
	}
	if (cur >= 0)
		close(cur);
	return found;
}

/* The cgroup process pid is in now, if it is still the service's. */
static int pid_cgroup_open(const char *mount, const struct lwfp_service *svc)
{
	char path[64], line[PATH_MAX + 8], abs[PATH_MAX], ignored[128];
	FILE *f;
	__u64 start;
	int level, fd = -ESRCH;

	if (proc_start_ticks(svc->pid, &start) || start != svc->pid_start)
		return -ESRCH;	/* gone: nothing to ask for */
	snprintf(path, sizeof(path), "/proc/%u/cgroup", svc->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fd == -ESRCH && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (strncmp(line, "0::", 3))
			continue;
		if (cgroup_path_join(mount, line + 3, abs, sizeof(abs), &level,
				     ignored, sizeof(ignored)))
			break;
		fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	fclose(f);
	return fd;
}

/*
 * The cgroup where a service asks, open; -ESRCH for none. --cgroup: that
 * one, in scope or not (named by root), never the root of all unless it
 * is the scope. --pid: the cgroup the process is in, if in scope: outside,
 * other processes of that cgroup would pay, and the service got no answer
 * there before either. Neither: anyone may ask, so the whole scope.
 */
static int service_cgroup_open(const char *mount, int mount_fd,
			       const struct lwfp_config *cfg,
			       const struct lwfp_service *svc)
{
	int fd;

	if (svc->cgroup_id) {
		if (!svc->cgroup_level && svc->cgroup_id != cfg->cgroup_id)
			return -ESRCH;	/* the root of all, not the scope */
		return cgroup_open_id(mount_fd, svc->cgroup_id,
				      svc->cgroup_level, NULL);
	}
	if (!svc->pid)
		return cgroup_open_id(mount_fd, cfg->cgroup_id, -1,
				      cfg->cgroup_path);
	fd = pid_cgroup_open(mount, svc);
	if (fd >= 0 && !in_scope(fd, cfg->cgroup_id)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

static void wanted_close(struct wanted *w)
{
	for (unsigned int i = 0; i < w->n; i++)
		close(w->fd[i]);
	w->n = 0;
}

static bool wanted_has(const struct wanted *w, __u64 id)
{
	for (unsigned int i = 0; i < w->n; i++)
		if (w->id[i] == id)
			return true;
	return false;
}

/* Every in-use service's cgroup, once. */
static int wanted_read(struct admin *a, const struct lwfp_config *cfg,
		       struct wanted *w, char *err, size_t errlen)
{
	struct lwfp_service all[LWFP_MAX_SERVICES];
	char mount[PATH_MAX];
	int mount_fd, fd, ret = admin_services(a, all);
	__u64 id = 0;

	w->n = 0;
	if (!ret)
		ret = find_cgroup2_mount(mount, sizeof(mount));
	if (ret) {
		snprintf(err, errlen, _("cannot find the services' cgroups: %s"),
			 strerror(-ret));
		return ret;
	}
	mount_fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mount_fd < 0)
		return -errno;
	for (int i = 0; i < LWFP_MAX_SERVICES; i++) {
		if (!(all[i].flags & LWFP_SVC_IN_USE))
			continue;
		fd = service_cgroup_open(mount, mount_fd, cfg, &all[i]);
		if (fd == -ESRCH || fd == -ENOENT)
			continue;	/* none, or removed: nobody asks there */
		if (fd < 0 || fd_cgroup_id(fd, &id)) {
			ret = fd < 0 ? fd : -errno;
			snprintf(err, errlen, _("cannot open the cgroup of "
				   "service '%.*s': %s"), LWFP_SERVICE_NAME_MAX,
				 all[i].name, strerror(-ret));
			if (fd >= 0)
				close(fd);
			break;
		}
		if (wanted_has(w, id)) {
			close(fd);
			continue;
		}
		w->id[w->n] = id;
		w->fd[w->n++] = fd;
	}
	close(mount_fd);
	if (ret)
		wanted_close(w);
	return ret;
}

static int pin_in(const char *pin_dir, const char *name, int fd)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", pin_dir, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

/* Detach a pinned link now (see link_detach in loader.c), then unpin. */
static int unlink_now(struct admin *a, const char *name)
{
	int fd = openat(a->dir_fd, name, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	close(fd);
	fd = pin_open(a->pin_dir, name);
	if (fd >= 0) {
		bpf_link_detach(fd);
		close(fd);
	}
	return unlinkat(a->dir_fd, name, 0) ? -errno : 0;
}

static void link_pin_name(char *out, size_t len, __u64 id, size_t kind)
{
	snprintf(out, len, PIN_SOCKOPT_LINK "%016" PRIx64 "_%s", (uint64_t)id,
		 kinds[kind].suffix);
}

/* The link of a cgroup runs prog_fd: attached now, or updated. */
static int link_one(struct admin *a, int cg_fd, __u64 id, size_t kind,
		    int prog_fd)
{
	char name[96];
	int fd, ret = 0;

	link_pin_name(name, sizeof(name), id, kind);
	fd = openat(a->dir_fd, name, O_PATH | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		fd = pin_open(a->pin_dir, name);
		if (fd < 0)
			return fd;
		/* an upgrade in place: the same link, the new program */
		if (bpf_link_update(fd, prog_fd, NULL))
			ret = -errno;
		close(fd);
		/* a link detached from outside (bpftool link detach) is
		 * made anew rather than blocking every change */
		if (ret != -ENOLINK)
			return ret;
		if (unlinkat(a->dir_fd, name, 0))
			return -errno;
	}
	fd = bpf_link_create(prog_fd, cg_fd, kinds[kind].type, NULL);
	if (fd < 0)
		return -errno;
	ret = pin_in(a->pin_dir, name, fd);
	close(fd);	/* the pin keeps the link */
	return ret;
}

/* The links of cgroups no service asks from any more go. */
static int unlink_unwanted(struct admin *a, const struct wanted *w)
{
	size_t plen = strlen(PIN_SOCKOPT_LINK);
	int dfd = dup(a->dir_fd), ret = 0;
	struct dirent *de;
	uint64_t id;
	DIR *d;

	d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, PIN_SOCKOPT_LINK, plen) ||
		    sscanf(de->d_name + plen, "%" SCNx64, &id) != 1 ||
		    wanted_has(w, id))
			continue;
		if (!ret)
			ret = unlink_now(a, de->d_name);
	}
	closedir(d);
	return ret;
}

int admin_sockopt_sync(struct admin *a, char *err, size_t errlen)
{
	int prog[ARRAY_SIZE(kinds)], ret;
	struct lwfp_config cfg;
	struct wanted w;

	*err = 0;
	ret = admin_config(a, &cfg);
	if (ret) {
		snprintf(err, errlen, _("cannot read the engine: %s"),
			 strerror(-ret));
		return ret;
	}
	ret = wanted_read(a, &cfg, &w, err, errlen);
	if (ret)
		return ret;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		prog[k] = pin_open(a->pin_dir, kinds[k].prog);
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		if (!ret && prog[k] < 0)
			ret = prog[k];
	for (unsigned int i = 0; !ret && i < w.n; i++)
		for (size_t k = 0; !ret && k < ARRAY_SIZE(kinds); k++)
			ret = link_one(a, w.fd[i], w.id[i], k, prog[k]);
	if (ret)
		snprintf(err, errlen, _("cannot attach the engine's sockopt "
			   "programs to the services' cgroups: %s"),
			 strerror(-ret));
	if (!ret)
		ret = unlink_unwanted(a, &w);
	for (size_t k = 0; !ret && k < ARRAY_SIZE(scope_links); k++)
		ret = unlink_now(a, scope_links[k]);
	if (ret && !*err)
		snprintf(err, errlen, _("cannot detach the engine's sockopt "
			   "programs: %s"), strerror(-ret));
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		if (prog[k] >= 0)
			close(prog[k]);
	wanted_close(&w);
	return ret;
}
