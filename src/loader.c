// SPDX-License-Identifier: MIT
/* Loading an engine (programs, maps, cgroup links) under a pin directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lwfp_abi.h"
#include "lwfp.skel.h"
#include "engine.h"
#include "loader.h"
#include "pins.h"
#include "util.h"

#define BPFFS_DEFAULT "/sys/fs/bpf"

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int ensure_bpffs(const char *pin_dir, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	char *parent;

	snprintf(tmp, sizeof(tmp), "%s", pin_dir);
	parent = dirname(tmp);
	if (on_bpffs(parent))
		return 0;
	if (!strcmp(parent, BPFFS_DEFAULT)) {
		if (mount("bpf", BPFFS_DEFAULT, "bpf", 0, "mode=0755") == 0)
			return 0;
		snprintf(err, errlen, "cannot mount bpffs on %s: %s",
			 BPFFS_DEFAULT, strerror(errno));
		return -errno;
	}
	snprintf(err, errlen, "%s is not on a bpf file system (mount -t bpf)",
		 parent);
	return -ENOTDIR;
}

static int pin_path(char *out, size_t len, const char *pin_dir,
		    const char *prefix, const char *name)
{
	if (snprintf(out, len, "%s/%s%s", pin_dir, prefix, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int init_config(struct lwfp_bpf *skel, const struct cgroup_ref *cg,
		       __u32 udp_idle_s)
{
	struct lwfp_config cfg = {
		.cgroup_id = cg->id,
		.next_rule_id = 1,
		.abi_version = LWFP_ABI_VERSION,
		.udp_idle_s = udp_idle_s ? udp_idle_s : LWFP_UDP_IDLE_DEFAULT_S,
	};
	__u32 zero = 0;

	if (getrandom(&cfg.engine_id, sizeof(cfg.engine_id), 0) !=
	    sizeof(cfg.engine_id))
		return -errno;
	/* a longer path is shown truncated by status; it is only a label */
	snprintf(cfg.cgroup_path, sizeof(cfg.cgroup_path), "%.*s",
		 (int)sizeof(cfg.cgroup_path) - 1, cg->rel);
	if (bpf_map__update_elem(skel->maps.lwfp_config, &zero, sizeof(zero),
				 &cfg, sizeof(cfg), BPF_ANY))
		return -errno;
	return 0;
}

#define CGROUP_PROGS(skel) {						\
	(skel)->progs.lwfp_connect4, (skel)->progs.lwfp_connect6,	\
	(skel)->progs.lwfp_getpeername4, (skel)->progs.lwfp_getpeername6, \
	(skel)->progs.lwfp_sockops, (skel)->progs.lwfp_getsockopt,	\
	(skel)->progs.lwfp_sendmsg4, (skel)->progs.lwfp_sendmsg6,	\
	(skel)->progs.lwfp_recvmsg4, (skel)->progs.lwfp_recvmsg6,	\
	(skel)->progs.lwfp_egress, (skel)->progs.lwfp_sock_release,	\
	(skel)->progs.lwfp_setsockopt,					\
}

static int pin_flows_iter(struct lwfp_bpf *skel, const char *pin_dir,
			  char *err, size_t errlen)
{
	char path[PATH_MAX];
	int ret = pin_path(path, sizeof(path), pin_dir, PIN_FLOWS_PROG, "");

	if (!ret && bpf_program__pin(skel->progs.lwfp_flows, path))
		ret = -errno;
	if (ret)
		snprintf(err, errlen, "cannot pin the flows iterator: %s",
			 strerror(-ret));
	return ret;
}

static int attach_pin(struct bpf_program *prog, const char *pin_dir,
		      int cg_fd, char *err, size_t errlen)
{
	const char *name = bpf_program__name(prog);
	char path[PATH_MAX];
	struct bpf_link *link;
	int ret;

	link = bpf_program__attach_cgroup(prog, cg_fd);
	if (!link) {
		ret = -errno;
		snprintf(err, errlen, "cannot attach %s: %s", name,
			 strerror(-ret));
		return ret;
	}
	ret = pin_path(path, sizeof(path), pin_dir, PIN_LINK_PREFIX, name);
	if (!ret && bpf_link__pin(link, path))
		ret = -errno;
	/* the pin keeps the link: closing our fd does not detach */
	bpf_link__destroy(link);
	if (ret)
		snprintf(err, errlen, "cannot pin link %s: %s", name,
			 strerror(-ret));
	return ret;
}

static int pin_all(struct lwfp_bpf *skel, const char *pin_dir, int cg_fd,
		   char *err, size_t errlen)
{
	struct bpf_program *cgroup_progs[] = CGROUP_PROGS(skel);
	char path[PATH_MAX];
	struct bpf_map *map;
	int ret;

	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		ret = pin_path(path, sizeof(path), pin_dir, "",
			       bpf_map__name(map));
		if (!ret && bpf_map__pin(map, path))
			ret = -errno;
		if (ret) {
			snprintf(err, errlen, "cannot pin map %s: %s",
				 bpf_map__name(map), strerror(-ret));
			return ret;
		}
	}
	ret = pin_flows_iter(skel, pin_dir, err, errlen);
	for (size_t i = 0; !ret && i < ARRAY_SIZE(cgroup_progs); i++)
		ret = attach_pin(cgroup_progs[i], pin_dir, cg_fd, err, errlen);
	return ret;
}

/*
 * Upgrade in place: the new programs use the pinned maps (sockets keep
 * their state, services and rules stay, records stay valid) and replace
 * the old ones in the pinned links atomically, so no connect is missed.
 */
static int upgrade(const char *pin_dir, int cg_fd, char *err, size_t errlen)
{
	struct lwfp_bpf *skel = lwfp_bpf__open();
	char path[PATH_MAX];
	struct bpf_map *map;
	int ret = skel ? 0 : -errno;

	bpf_object__for_each_map(map, skel ? skel->obj : NULL) {
		int fd;

		if (bpf_map__is_internal(map))
			continue;
		fd = engine_obj_get(pin_dir, bpf_map__name(map));
		/* a map this version adds is created new */
		if (fd == -ENOENT)
			continue;
		ret = fd < 0 ? fd : bpf_map__reuse_fd(map, fd);
		if (fd >= 0)
			close(fd);
		if (ret) {
			snprintf(err, errlen, "cannot reuse map %s: %s",
				 bpf_map__name(map), strerror(-ret));
			goto out;
		}
	}
	if (!ret && lwfp_bpf__load(skel)) {
		ret = -errno;
		snprintf(err, errlen, "cannot load the new programs: %s",
			 strerror(-ret));
	}
	if (ret)
		goto out;
	{
		struct bpf_program *progs[] = CGROUP_PROGS(skel);

		for (size_t i = 0; !ret && i < ARRAY_SIZE(progs); i++) {
			struct bpf_link *link;

			pin_path(path, sizeof(path), pin_dir, PIN_LINK_PREFIX,
				 bpf_program__name(progs[i]));
			link = bpf_link__open(path);
			if (!link) {
				ret = attach_pin(progs[i], pin_dir, cg_fd, err,
						 errlen);
				continue;
			}
			ret = bpf_link__update_program(link, progs[i]);
			bpf_link__destroy(link);
			if (ret)
				snprintf(err, errlen, "cannot replace %s: %s",
					 bpf_program__name(progs[i]),
					 strerror(-ret));
		}
	}
	/* maps this version adds, and the new flows iterator */
	bpf_object__for_each_map(map, skel->obj) {
		if (ret || bpf_map__is_internal(map))
			continue;
		pin_path(path, sizeof(path), pin_dir, "", bpf_map__name(map));
		if (access(path, F_OK) && bpf_map__pin(map, path))
			ret = -errno;
	}
	pin_path(path, sizeof(path), pin_dir, PIN_FLOWS_PROG, "");
	if (!ret && !unlink(path))
		ret = pin_flows_iter(skel, pin_dir, err, errlen);
out:
	lwfp_bpf__destroy(skel);
	return ret;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!getenv("LWFP_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* What a service needs, for the engine's group: the library opens the
 * sk storage read-write (set records) and the rest read-only. */
static int grant_group(const char *pin_dir, int gid)
{
	static const struct {
		const char *name;
		mode_t mode;
	} grants[] = {
		{ "", 0750 }, { PIN_SK, 0660 }, { PIN_SERVICES, 0640 },
		{ PIN_RULE_CTX, 0640 }, { PIN_UDP_ANSWER, 0640 },
	};
	char path[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(grants); i++) {
		pin_path(path, sizeof(path), pin_dir, "", grants[i].name);
		if (chown(path, 0, gid) || chmod(path, grants[i].mode))
			return -errno;
	}
	return 0;
}

/* Live flows see the new timeout from the idle sweeper's next round. */
static int set_udp_idle(const char *pin_dir, __u32 udp_idle_s, char *err,
			size_t errlen)
{
	struct lwfp_config cfg;
	__u32 zero = 0;
	int fd = engine_obj_get(pin_dir, PIN_CONFIG), ret = 0;

	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &cfg))
		ret = fd < 0 ? fd : -errno;
	if (!ret) {
		cfg.udp_idle_s = udp_idle_s;
		if (bpf_map_update_elem(fd, &zero, &cfg, BPF_EXIST))
			ret = -errno;
	}
	if (fd >= 0)
		close(fd);
	if (ret)
		snprintf(err, errlen, "cannot set the UDP idle timeout: %s",
			 strerror(-ret));
	return ret;
}

/* An engine is loaded there already: upgrade it, if it is on this cgroup. */
static int upgrade_running(const char *pin_dir, const struct cgroup_ref *cg,
			   __u32 udp_idle_s, char *err, size_t errlen)
{
	struct lwfp_config cfg;
	__u32 zero = 0;
	int fd = engine_obj_get(pin_dir, PIN_CONFIG), cg_fd, ret;

	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &cfg)) {
		ret = fd < 0 ? fd : -errno;
		snprintf(err, errlen, "cannot read the engine at %s: %s",
			 pin_dir, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	close(fd);
	if (cfg.abi_version != LWFP_ABI_VERSION) {
		snprintf(err, errlen,
			 "the engine at %s speaks ABI %u, this lwfp %u: an "
			 "upgrade across ABIs needs lwfp unload, then load",
			 pin_dir, cfg.abi_version, LWFP_ABI_VERSION);
		return -EPROTO;
	}
	if (cfg.cgroup_id != cg->id) {
		snprintf(err, errlen,
			 "the engine at %s is attached to %s: unload it first "
			 "to move it", pin_dir, cfg.cgroup_path);
		return -EEXIST;
	}
	cg_fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		snprintf(err, errlen, "cannot open cgroup %s: %s", cg->rel,
			 strerror(errno));
		return -errno;
	}
	ret = upgrade(pin_dir, cg_fd, err, errlen);
	close(cg_fd);
	if (!ret && udp_idle_s)
		ret = set_udp_idle(pin_dir, udp_idle_s, err, errlen);
	return ret ? ret : 1;
}

int engine_load(const char *pin_dir, const struct cgroup_ref *cg, int gid,
		__u32 udp_idle_s, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct lwfp_bpf *skel;
	int cg_fd, ret;

	libbpf_set_print(libbpf_quiet);
	ret = ensure_bpffs(pin_dir, err, errlen);
	if (ret)
		return ret;
	pin_path(path, sizeof(path), pin_dir, "", PIN_CONFIG);
	if (access(path, F_OK) == 0)
		return upgrade_running(pin_dir, cg, udp_idle_s, err, errlen);
	if (mkdir(pin_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", pin_dir,
			 strerror(errno));
		return -errno;
	}
	cg_fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open cgroup %s: %s", cg->rel,
			 strerror(errno));
		goto out_rmdir;
	}
	skel = lwfp_bpf__open_and_load();
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot load the BPF programs: %s%s",
			 strerror(errno),
			 errno == EPERM ? " (are you root?)" : "");
		goto out_close;
	}
	ret = init_config(skel, cg, udp_idle_s);
	if (ret)
		snprintf(err, errlen, "cannot initialise the engine: %s",
			 strerror(-ret));
	if (!ret)
		ret = pin_all(skel, pin_dir, cg_fd, err, errlen);
	if (!ret && gid >= 0) {
		ret = grant_group(pin_dir, gid);
		if (ret)
			snprintf(err, errlen, "cannot give group %d access: %s",
				 gid, strerror(-ret));
	}
	lwfp_bpf__destroy(skel);
	if (ret) {
		char ignored[128];

		engine_unload(pin_dir, ignored, sizeof(ignored));
	}
out_close:
	close(cg_fd);
out_rmdir:
	if (ret)
		rmdir(pin_dir);
	return ret;
}

/* Links first, so that no program runs on half-removed maps. */
static int unpin_matching(const char *pin_dir, bool links)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(pin_dir);
	int ret = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		bool is_link = !strncmp(de->d_name, PIN_LINK_PREFIX,
					strlen(PIN_LINK_PREFIX));

		if (de->d_name[0] == '.' || is_link != links)
			continue;
		if (pin_path(path, sizeof(path), pin_dir, "", de->d_name) ||
		    unlink(path) < 0)
			ret = -errno;
	}
	closedir(d);
	return ret;
}

int engine_unload(const char *pin_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	pin_path(path, sizeof(path), pin_dir, "", PIN_CONFIG);
	if (access(path, F_OK) < 0) {
		ret = -errno;
		if (ret == -EACCES)
			snprintf(err, errlen, "permission denied on the engine "
				 "at %s", pin_dir);
		else
			snprintf(err, errlen, "no engine is loaded at %s",
				 pin_dir);
		return ret == -EACCES ? ret : -ENOENT;
	}
	ret = unpin_matching(pin_dir, true);
	if (!ret)
		ret = unpin_matching(pin_dir, false);
	if (!ret && rmdir(pin_dir) < 0)
		ret = -errno;
	if (ret)
		snprintf(err, errlen, "cannot unload %s: %s", pin_dir,
			 strerror(-ret));
	return ret;
}
