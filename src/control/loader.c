// SPDX-License-Identifier: MIT
/* Loading an engine (programs, maps, cgroup links) under a pin directory. */
#include <arpa/inet.h>
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

#include "i18n.h"
#include "lwfp_abi.h"
#include "lwfp.skel.h"
#include "pin.h"
#include "loader.h"
#include "admin.h"
#include "pins.h"
#include "sockopt_hooks.h"
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
		snprintf(err, errlen, _("cannot mount bpffs on %s: %s"),
			 BPFFS_DEFAULT, strerror(errno));
		return -errno;
	}
	snprintf(err, errlen, _("%s is not on a bpf file system (mount -t bpf)"),
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

/* The classifier's network mask per prefix length. */
static int init_masks(struct lwfp_bpf *skel)
{
	for (__u32 len = 0; len <= LWFP_CLS_LENS; len++) {
		struct lwfp_cls_mask m = {};

		for (int j = 0; j < 4; j++) {
			int bits = (int)len - 32 * j;

			m.w[j] = bits >= 32 ? ~0u : bits <= 0 ? 0 :
				 htonl(~0u << (32 - bits));
		}
		if (bpf_map__update_elem(skel->maps.lwfp_cls_masks, &len,
					 sizeof(len), &m, sizeof(m), BPF_ANY))
			return -errno;
	}
	return 0;
}

static int init_config(struct lwfp_bpf *skel, const struct cgroup_ref *cg,
		       const struct engine_settings *set)
{
	struct lwfp_config cfg = {
		.cgroup_id = cg->id,
		.next_rule_id = 1,
		.abi_version = LWFP_ABI_VERSION,
		.udp_idle_s = set->udp_idle_s ? set->udp_idle_s :
						LWFP_UDP_IDLE_DEFAULT_S,
		.udp_flows_per_user = set->udp_flows_per_user ?
			set->udp_flows_per_user :
			LWFP_UDP_FLOWS_PER_USER_DEFAULT,
		.pending_per_user = set->pending_per_user ?
			set->pending_per_user : LWFP_PENDING_PER_USER_DEFAULT,
		.live_per_user = set->live_per_user ?
			set->live_per_user : LWFP_LIVE_PER_USER_DEFAULT,
	};
	__u32 zero = 0;

	if (getrandom(&cfg.engine_id, sizeof(cfg.engine_id), 0) !=
	    sizeof(cfg.engine_id) ||
	    getrandom(cfg.id_key, sizeof(cfg.id_key), 0) != sizeof(cfg.id_key))
		return -errno;
	/* a longer path is shown truncated by status; it is only a label */
	snprintf(cfg.cgroup_path, sizeof(cfg.cgroup_path), "%.*s",
		 (int)sizeof(cfg.cgroup_path) - 1, cg->rel);
	if (bpf_map__update_elem(skel->maps.lwfp_config, &zero, sizeof(zero),
				 &cfg, sizeof(cfg), BPF_ANY))
		return -errno;
	return init_masks(skel);
}

/*
 * Every program of the engine. The redirect needs the required ones; an
 * optional one the kernel refuses (hardened hosts refuse tracing programs
 * to root too) leaves out only the feature it serves. Cgroup programs are
 * attached to the engine's cgroup, their links pinned as link_NAME; the
 * others are pinned as prog_NAME, the sockopt ones linked to the cgroups
 * of the services (sockopt_hooks.c): a getsockopt() anywhere else in scope
 * does not pay for them.
 */
#define REQUIRED(name) { name, NULL, false }
#define PER_SERVICE(name) { name, NULL, true }
const struct engine_prog engine_progs[] = {
	REQUIRED("lwfp_connect4"),	REQUIRED("lwfp_connect6"),
	REQUIRED("lwfp_sendmsg4"),	REQUIRED("lwfp_sendmsg6"),
	REQUIRED("lwfp_recvmsg4"),	REQUIRED("lwfp_recvmsg6"),
	REQUIRED("lwfp_getpeername4"),	REQUIRED("lwfp_getpeername6"),
	REQUIRED("lwfp_sockops"),	PER_SERVICE("lwfp_getsockopt"),
	PER_SERVICE("lwfp_setsockopt"),	REQUIRED("lwfp_egress"),
	REQUIRED("lwfp_ingress"),
	REQUIRED("lwfp_sock_release"),
	REQUIRED("lwfp_post_bind4"),	REQUIRED("lwfp_post_bind6"),
	{ "lwfp_flows", N_("flows iterator: lwfp flows and status list "
			   "accepted flows only, without TCP states"), false },
	{ "lwfp_offload_verdict", N_("offloaded relay: lwfp_offload() "
				     "fails with EOPNOTSUPP, services relay "
				     "in user space"), false },
};
#undef PER_SERVICE
#undef REQUIRED
const size_t engine_nprogs = ARRAY_SIZE(engine_progs);

const struct engine_prog *engine_prog_find(const char *name)
{
	for (size_t i = 0; i < engine_nprogs; i++)
		if (!strcmp(engine_progs[i].name, name))
			return &engine_progs[i];
	return NULL;
}

bool engine_prog_is_cgroup(const struct bpf_program *prog)
{
	enum bpf_prog_type t = bpf_program__type(prog);

	return t != BPF_PROG_TYPE_TRACING && t != BPF_PROG_TYPE_SK_SKB;
}

int engine_prog_pin_name(const char *prog, char *out, size_t len)
{
	const struct engine_prog *p = engine_prog_find(prog);

	if (!p)
		return -ENOENT;
	/* the flows iterator and the offload verdict are not cgroup
	 * programs; the sockopt ones are linked per service
	 * (sockopt_hooks.c) */
	return snprintf(out, len, "%s%s", p->missing || p->per_service ?
					  PIN_PROG_PREFIX :
				  PIN_LINK_PREFIX, prog) >= (int)len ?
		       -ENAMETOOLONG : 0;
}

/* What the kernel says of the program prog of the engine at pin_dir
 * (through its link for a cgroup program). */
static int prog_info(const char *pin_dir, const char *prog,
		     struct bpf_prog_info *info)
{
	struct bpf_link_info link = {};
	__u32 len = sizeof(link);
	char name[128];
	int fd, ret = engine_prog_pin_name(prog, name, sizeof(name));

	if (ret)
		return ret;
	fd = pin_open(pin_dir, name);
	if (fd < 0)
		return fd;
	if (!strncmp(name, PIN_LINK_PREFIX, strlen(PIN_LINK_PREFIX))) {
		ret = bpf_obj_get_info_by_fd(fd, &link, &len) ? -errno : 0;
		close(fd);
		fd = ret ? ret : bpf_prog_get_fd_by_id(link.prog_id);
		if (fd < 0)
			return ret ? ret : -errno;
	}
	memset(info, 0, sizeof(*info));
	len = sizeof(*info);
	ret = bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
	close(fd);
	return ret;
}

int engine_prog_verified(const char *pin_dir, const char *prog,
			 __u32 *insns)
{
	struct bpf_prog_info info;
	int ret = prog_info(pin_dir, prog, &info);

	*insns = ret ? 0 : info.verified_insns;
	return ret;
}

int engine_prog_id(const char *pin_dir, const char *prog, __u32 *id)
{
	struct bpf_prog_info info;
	int ret = prog_info(pin_dir, prog, &info);

	*id = ret ? 0 : info.id;
	return ret;
}

/* A test knob: LWFP_REFUSE_PROGS=NAME,... loads as if the kernel refused
 * those optional programs. */
static bool refused_by_env(const char *name)
{
	const char *list = getenv("LWFP_REFUSE_PROGS"), *p;
	size_t len = strlen(name);

	for (p = list; p && *p; p += strcspn(p, ","), p += *p == ',') {
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len]))
			return true;
	}
	return false;
}

/* One table's size from the environment (see table_sizes_from_env). */
static int table_size_from_env(struct bpf_map *map, const char *var,
			       unsigned long most, char *err, size_t errlen)
{
	const char *v = getenv(var);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return 0;
	n = strtoul(v, &end, 10);
	if (*end || !n || n > most) {
		snprintf(err, errlen, _("bad %s '%.32s': 1 to %lu"), var, v, most);
		return -EINVAL;
	}
	return bpf_map__set_max_entries(map, n);
}

/* LWFP_LIVE_MAX=N, LWFP_PENDING_MAX=N and LWFP_MPTCP_MAX=N load those
 * tables with room for N entries, for tests that fill them (262,144 open
 * flows would take a quarter of a million sockets). */
static int table_sizes_from_env(struct lwfp_bpf *skel, char *err,
				size_t errlen)
{
	const struct {
		struct bpf_map *map;
		const char *var;
		unsigned long most;
	} knobs[] = {
		{ skel->maps.lwfp_live, "LWFP_LIVE_MAX", LWFP_LIVE_MAX },
		{ skel->maps.lwfp_pending, "LWFP_PENDING_MAX", LWFP_PENDING_MAX },
		{ skel->maps.lwfp_mptcp, "LWFP_MPTCP_MAX", LWFP_PENDING_MAX },
	};
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(knobs) && !ret; i++)
		ret = table_size_from_env(knobs[i].map, knobs[i].var,
					  knobs[i].most, err, errlen);
	return ret;
}

typedef int (*map_fd_fn)(const void *arg, const char *name);

static int fd_in_skel(const void *arg, const char *name)
{
	const struct lwfp_bpf *skel = arg;
	struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, name);
	int fd = m ? bpf_map__fd(m) : -ENOENT;

	return fd < 0 ? fd : dup(fd);
}

static int fd_pinned(const void *arg, const char *name)
{
	return pin_open(arg, name);
}

/* Use existing maps (a map this version adds, not found, is created). */
static int reuse_maps(struct lwfp_bpf *skel, map_fd_fn fd_of, const void *arg,
		      char *err, size_t errlen)
{
	struct bpf_map *map;
	int ret = 0;

	bpf_object__for_each_map(map, skel->obj) {
		int fd;

		if (bpf_map__is_internal(map))
			continue;
		fd = fd_of(arg, bpf_map__name(map));
		if (fd == -ENOENT)
			continue;
		ret = fd < 0 ? fd : bpf_map__reuse_fd(map, fd);
		if (fd >= 0)
			close(fd);
		if (ret) {
			snprintf(err, errlen, _("cannot reuse map %s: %s"),
				 bpf_map__name(map), strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* The programs of one load: the required ones with the maps in main, each
 * optional one that loaded in a skeleton of its own sharing main's maps. */
struct engine_objs {
	struct lwfp_bpf *main;
	struct lwfp_bpf *extra[8];
	size_t nextra;
};

static void objs_destroy(struct engine_objs *o)
{
	for (size_t i = 0; i < o->nextra; i++)
		lwfp_bpf__destroy(o->extra[i]);
	lwfp_bpf__destroy(o->main);
	memset(o, 0, sizeof(*o));
}

static int load_optional(struct engine_objs *o, const char *name,
			 char *err, size_t errlen)
{
	struct lwfp_bpf *skel;
	struct bpf_program *prog;
	int ret;

	if (refused_by_env(name))
		return -EPERM;
	if (o->nextra == ARRAY_SIZE(o->extra))
		return -E2BIG;
	skel = lwfp_bpf__open();
	if (!skel)
		return -errno;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog,
					  !strcmp(bpf_program__name(prog), name));
	ret = reuse_maps(skel, fd_in_skel, o->main, err, errlen);
	if (!ret && lwfp_bpf__load(skel))
		ret = -errno;
	if (ret) {
		lwfp_bpf__destroy(skel);
		return ret;
	}
	o->extra[o->nextra++] = skel;
	return 0;
}

/*
 * Load the required programs (with the pinned maps when fd_of finds them),
 * then each optional one on its own; say in notice which are not there.
 */
static int objs_load(struct engine_objs *o, map_fd_fn fd_of, const void *arg,
		     char *notice, size_t nlen, char *err, size_t errlen)
{
	struct bpf_program *prog;
	int ret = 0;

	memset(o, 0, sizeof(*o));
	if (notice && nlen)
		notice[0] = 0;
	o->main = lwfp_bpf__open();
	if (!o->main) {
		ret = -errno;
		snprintf(err, errlen, _("cannot open the BPF programs: %s"),
			 strerror(-ret));
		return ret;
	}
	bpf_object__for_each_program(prog, o->main->obj) {
		const struct engine_prog *p =
			engine_prog_find(bpf_program__name(prog));

		if (!p) {
			snprintf(err, errlen, _("program %s is not in the "
				 "engine's program table"),
				 bpf_program__name(prog));
			ret = -EPROTO;
			goto fail;
		}
		if (p->missing)
			bpf_program__set_autoload(prog, false);
	}
	if (fd_of)
		ret = reuse_maps(o->main, fd_of, arg, err, errlen);
	else
		ret = table_sizes_from_env(o->main, err, errlen);
	if (!ret && lwfp_bpf__load(o->main)) {
		ret = -errno;
		snprintf(err, errlen, _("cannot load the BPF programs: %s%s"),
			 strerror(-ret),
			 ret == -EPERM ? _(" (are you root?)") : "");
	}
	if (ret)
		goto fail;
	for (size_t i = 0; i < engine_nprogs; i++) {
		const struct engine_prog *p = &engine_progs[i];
		size_t used = notice ? strlen(notice) : 0;

		if (!p->missing)
			continue;
		ret = load_optional(o, p->name, err, errlen);
		if (ret && notice && used < nlen)
			snprintf(notice + used, nlen - used,
				 _("%s%s not available (%s): %s"),
				 used ? "\n" : "", p->name, strerror(-ret),
				 _(p->missing));
		ret = 0;
	}
	return 0;
fail:
	objs_destroy(o);
	return ret;
}

/* Each loaded program of the engine, wherever it was loaded. */
#define for_each_loaded_prog(o, prog, k)				\
	for (size_t k = 0; k <= (o)->nextra; k++)			\
		bpf_object__for_each_program(prog, (k ? (o)->extra[k - 1] : \
						     (o)->main)->obj)	\
			if (bpf_program__fd(prog) >= 0)

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
		snprintf(err, errlen, _("cannot attach %s: %s"), name,
			 strerror(-ret));
		return ret;
	}
	ret = pin_path(path, sizeof(path), pin_dir, PIN_LINK_PREFIX, name);
	if (!ret && bpf_link__pin(link, path))
		ret = -errno;
	/* the pin keeps the link: closing our fd does not detach */
	bpf_link__destroy(link);
	if (ret)
		snprintf(err, errlen, _("cannot pin link %s: %s"), name,
			 strerror(-ret));
	return ret;
}

/* Pin a program that is not attached (the flows iterator). */
static int pin_prog(struct bpf_program *prog, const char *pin_dir,
		    char *err, size_t errlen)
{
	char name[128], path[PATH_MAX];
	int ret = engine_prog_pin_name(bpf_program__name(prog), name,
				       sizeof(name));

	if (!ret)
		ret = pin_path(path, sizeof(path), pin_dir, "", name);
	if (!ret) {
		unlink(path);	/* an upgrade replaces the old one */
		if (bpf_program__pin(prog, path))
			ret = -errno;
	}
	if (ret)
		snprintf(err, errlen, _("cannot pin %s: %s"),
			 bpf_program__name(prog), strerror(-ret));
	return ret;
}

/* Pin the maps not pinned yet (all, on a first load). */
static int pin_maps(struct lwfp_bpf *skel, const char *pin_dir, char *err,
		    size_t errlen)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int ret = 0;

	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		ret = pin_path(path, sizeof(path), pin_dir, "",
			       bpf_map__name(map));
		if (!ret && access(path, F_OK) && bpf_map__pin(map, path))
			ret = -errno;
		if (ret) {
			snprintf(err, errlen, _("cannot pin map %s: %s"),
				 bpf_map__name(map), strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/*
 * The offload verdict joins its sockhash (a map attachment: no link to
 * pin before 6.10; the map holds the program). A kernel that refuses the
 * attach type (before 5.13) has no offload: the pin goes, so the broker
 * and lwfp status see none. An upgrade replaces the program; sockets
 * paired already keep the one they were paired under.
 */
static int attach_verdict(struct engine_objs *o, struct bpf_program *prog,
			  const char *pin_dir, char *err, size_t errlen)
{
	int map = bpf_map__fd(o->main->maps.lwfp_offload_relay);
	char name[128], path[PATH_MAX];

	(void)err;
	(void)errlen;
	if (!bpf_prog_attach(bpf_program__fd(prog), map, BPF_SK_SKB_VERDICT,
			     0))
		return 0;
	if (!engine_prog_pin_name(bpf_program__name(prog), name,
				  sizeof(name)) &&
	    !pin_path(path, sizeof(path), pin_dir, "", name))
		unlink(path);
	return 0;
}

static bool prog_per_service(const struct bpf_program *prog)
{
	const struct engine_prog *p = engine_prog_find(bpf_program__name(prog));

	return p && p->per_service;
}

/*
 * Attach the cgroup programs, or, over a running engine, replace the old
 * ones in their pinned links atomically so that no connect is missed;
 * pin the others. An optional program that did not load this time loses
 * its old pin: it belonged to the old version.
 */
static int attach_all(struct engine_objs *o, const char *pin_dir, int cg_fd,
		      char *err, size_t errlen)
{
	struct bpf_program *prog;
	char path[PATH_MAX], name[128];
	int ret = 0;

	for_each_loaded_prog(o, prog, k) {
		struct bpf_link *link;

		if (ret)
			break;
		if (!engine_prog_is_cgroup(prog) || prog_per_service(prog)) {
			ret = pin_prog(prog, pin_dir, err, errlen);
			if (!ret && bpf_program__type(prog) ==
				    BPF_PROG_TYPE_SK_SKB)
				ret = attach_verdict(o, prog, pin_dir, err,
						     errlen);
			continue;
		}
		pin_path(path, sizeof(path), pin_dir, PIN_LINK_PREFIX,
			 bpf_program__name(prog));
		link = bpf_link__open(path);
		if (!link) {
			ret = attach_pin(prog, pin_dir, cg_fd, err, errlen);
			continue;
		}
		ret = bpf_link__update_program(link, prog);
		bpf_link__destroy(link);
		if (ret)
			snprintf(err, errlen, _("cannot replace %s: %s"),
				 bpf_program__name(prog), strerror(-ret));
	}
	for (size_t i = 0; !ret && i < engine_nprogs; i++) {
		bool loaded = false;

		for_each_loaded_prog(o, prog, k)
			loaded |= !strcmp(bpf_program__name(prog),
					  engine_progs[i].name);
		if (loaded || !engine_progs[i].missing ||
		    engine_prog_pin_name(engine_progs[i].name, name,
					 sizeof(name)))
			continue;
		pin_path(path, sizeof(path), pin_dir, "", name);
		unlink(path);
	}
	return ret;
}

/* The services' sockopt links to the new programs; an older engine's on
 * the whole scope moved to the services' cgroups. */
static int sockopt_relink(const char *pin_dir, char *err, size_t errlen)
{
	struct admin a;
	int ret = admin_open(pin_dir, &a, err, errlen);

	if (ret)
		return ret;
	ret = admin_sockopt_sync(&a, err, errlen);
	admin_close(&a);
	return ret;
}

/*
 * Upgrade in place: the new programs use the pinned maps (sockets keep
 * their state, services and rules stay, records stay valid).
 */
static int upgrade(const char *pin_dir, int cg_fd, char *notice, size_t nlen,
		   char *err, size_t errlen)
{
	struct engine_objs o;
	int ret = objs_load(&o, fd_pinned, pin_dir, notice, nlen, err, errlen);

	if (ret)
		return ret;
	ret = attach_all(&o, pin_dir, cg_fd, err, errlen);
	/* maps this version adds */
	if (!ret)
		ret = pin_maps(o.main, pin_dir, err, errlen);
	objs_destroy(&o);
	if (ret)
		return ret;
	/* the programs are swapped already: the upgrade stands, and what
	 * the relink could not do is said, and done by the next change */
	if (sockopt_relink(pin_dir, err, errlen) && notice && nlen) {
		size_t used = strlen(notice);

		snprintf(notice + used, nlen - used, "%s%s", used ? "\n" : "",
			 err);
		err[0] = '\0';
	}
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!getenv("LWFP_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* What a service needs, for the engine's group (the modes in pins.h): the
 * library opens the sk storage read-write (set records), some others
 * read-only, and the group may enter the pin directory. */
int engine_grant_group(const char *pin_dir, int gid)
{
	static const struct {
		const char *name;
		mode_t mode;
	} maps[] = {
#define MAP_GRANT(e, name, mode) { name, mode },
		LWFP_MAPS(MAP_GRANT)
#undef MAP_GRANT
	};
	char path[PATH_MAX];

	if (chown(pin_dir, 0, gid) || chmod(pin_dir, 0750))
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		if (!maps[i].mode)
			continue;
		pin_path(path, sizeof(path), pin_dir, "", maps[i].name);
		if (chown(path, 0, gid) || chmod(path, 0600 | maps[i].mode))
			return -errno;
	}
	return 0;
}

/* Live flows see a new timeout from the idle sweeper's next round; a
 * uid's new share counts from its next flow or connect. */
static int apply_settings(const char *pin_dir,
			  const struct engine_settings *set, char *err,
			  size_t errlen)
{
	struct admin a;
	int ret;

	if (!engine_settings_any(set))
		return 0;
	ret = admin_open(pin_dir, &a, err, errlen);
	if (ret)
		return ret;
	ret = admin_set(&a, set);
	admin_close(&a);
	if (ret)
		snprintf(err, errlen, _("cannot apply the settings: %s"),
			 strerror(-ret));
	return ret;
}

/* An engine is loaded there already: upgrade it, if it is on this cgroup.
 * Its config is read directly, not through admin_open(): an engine of an
 * older version lacks maps this one has. */
static int upgrade_running(const char *pin_dir, const struct cgroup_ref *cg,
			   const struct engine_settings *set, char *notice,
			   size_t nlen, char *err, size_t errlen)
{
	struct lwfp_config cfg;
	__u32 zero = 0;
	int fd = pin_open(pin_dir, PIN_CONFIG), cg_fd, ret;

	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &cfg)) {
		ret = fd < 0 ? fd : -errno;
		snprintf(err, errlen, _("cannot read the engine at %s: %s"),
			 pin_dir, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	close(fd);
	if (cfg.abi_version != LWFP_ABI_VERSION) {
		snprintf(err, errlen,
			 _("the engine at %s speaks ABI %u, this lwfp %u: an "
			 "upgrade across ABIs needs lwfp unload, then load"),
			 pin_dir, cfg.abi_version, LWFP_ABI_VERSION);
		return -EPROTO;
	}
	if (cfg.cgroup_id != cg->id) {
		snprintf(err, errlen,
			 _("the engine at %s is attached to %s: unload it first "
			 "to move it"), pin_dir, cfg.cgroup_path);
		return -EEXIST;
	}
	cg_fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		snprintf(err, errlen, _("cannot open cgroup %s: %s"), cg->rel,
			 strerror(errno));
		return -errno;
	}
	ret = upgrade(pin_dir, cg_fd, notice, nlen, err, errlen);
	close(cg_fd);
	if (!ret)
		ret = apply_settings(pin_dir, set, err, errlen);
	return ret ? ret : 1;
}

int engine_load(const char *pin_dir, const struct cgroup_ref *cg, int gid,
		const struct engine_settings *set, char *notice, size_t nlen,
		char *err, size_t errlen)
{
	struct engine_objs o;
	char path[PATH_MAX];
	int cg_fd, ret;

	libbpf_set_print(libbpf_quiet);
	ret = ensure_bpffs(pin_dir, err, errlen);
	if (ret)
		return ret;
	pin_path(path, sizeof(path), pin_dir, "", PIN_CONFIG);
	if (access(path, F_OK) == 0) {
		ret = upgrade_running(pin_dir, cg, set, notice, nlen, err,
				      errlen);
		/* the group named now applies to the running engine too */
		if (ret > 0 && gid >= 0) {
			int g = engine_grant_group(pin_dir, gid);

			if (g < 0) {
				snprintf(err, errlen, _("cannot give group %d "
					 "access: %s"), gid, strerror(-g));
				return g;
			}
		}
		return ret;
	}
	if (mkdir(pin_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, _("cannot create %s: %s"), pin_dir,
			 strerror(errno));
		return -errno;
	}
	cg_fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, _("cannot open cgroup %s: %s"), cg->rel,
			 strerror(errno));
		goto out_rmdir;
	}
	ret = objs_load(&o, NULL, NULL, notice, nlen, err, errlen);
	if (ret)
		goto out_close;
	ret = init_config(o.main, cg, set);
	if (ret)
		snprintf(err, errlen, _("cannot initialise the engine: %s"),
			 strerror(-ret));
	if (!ret)
		ret = pin_maps(o.main, pin_dir, err, errlen);
	if (!ret)
		ret = attach_all(&o, pin_dir, cg_fd, err, errlen);
	if (!ret && gid >= 0) {
		ret = engine_grant_group(pin_dir, gid);
		if (ret)
			snprintf(err, errlen, _("cannot give group %d access: %s"),
				 gid, strerror(-ret));
	}
	objs_destroy(&o);
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

/*
 * Detach a pinned link now. Dropping its last reference (the pin) would
 * detach it too, but later: bpffs frees the pin after an RCU grace period
 * and the link after that, so connects right after lwfp unload could
 * still be redirected.
 */
static void link_detach(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return;
	bpf_link_detach(fd);
	close(fd);
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
		if (pin_path(path, sizeof(path), pin_dir, "", de->d_name)) {
			ret = -ENAMETOOLONG;
			continue;
		}
		if (is_link)
			link_detach(path);
		if (unlink(path) < 0)
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
			snprintf(err, errlen, _("permission denied on the engine "
				 "at %s"), pin_dir);
		else
			snprintf(err, errlen, _("no engine is loaded at %s"),
				 pin_dir);
		return ret == -EACCES ? ret : -ENOENT;
	}
	ret = unpin_matching(pin_dir, true);
	if (!ret)
		ret = unpin_matching(pin_dir, false);
	if (!ret && rmdir(pin_dir) < 0)
		ret = -errno;
	if (ret)
		snprintf(err, errlen, _("cannot unload %s: %s"), pin_dir,
			 strerror(-ret));
	return ret;
}
