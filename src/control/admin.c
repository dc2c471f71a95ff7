// SPDX-License-Identifier: MIT
/* The control plane: services, rules, stats and tracked sockets. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "i18n.h"
#include "admin.h"
#include "classify.h"
#include "pin.h"
#include "pins.h"
#include "sockopt_hooks.h"

static const char *const map_names[MAP_COUNT] = {
#define MAP_NAME(e, name, mode) [MAP_##e] = name,
	LWFP_MAPS(MAP_NAME)
#undef MAP_NAME
};

static void fds_close(struct admin *a)
{
	for (int i = 0; i < MAP_COUNT; i++) {
		if (a->fd[i] >= 0)
			close(a->fd[i]);
		a->fd[i] = -1;
	}
	if (a->flows_prog_fd >= 0)
		close(a->flows_prog_fd);
	if (a->dir_fd >= 0)
		close(a->dir_fd);
	a->flows_prog_fd = a->dir_fd = -1;
}

static int open_error(int ret, const char *pin_dir, char *err, size_t errlen)
{
	if (ret == -ENOENT)
		snprintf(err, errlen, _("no engine is loaded at %s (lwfp load)"),
			 pin_dir);
	else if (ret == -EACCES || ret == -EPERM)
		snprintf(err, errlen, _("permission denied on the engine at %s"),
			 pin_dir);
	else
		snprintf(err, errlen, _("cannot open the engine at %s: %s"),
			 pin_dir, strerror(-ret));
	return ret;
}

int admin_open(const char *pin_dir, struct admin *a, char *err, size_t errlen)
{
	int ret = 0;

	memset(a, 0, sizeof(*a));
	snprintf(a->pin_dir, sizeof(a->pin_dir), "%s", pin_dir);
	a->dir_fd = a->flows_prog_fd = -1;
	for (int i = 0; i < MAP_COUNT; i++)
		a->fd[i] = -1;
	a->dir_fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->dir_fd < 0)
		ret = -errno;
	/* one writer at a time: table edits are read-modify-write */
	if (!ret && flock(a->dir_fd, LOCK_EX) < 0)
		ret = -errno;
	for (int i = 0; !ret && i < MAP_COUNT; i++) {
		a->fd[i] = pin_open(pin_dir, map_names[i]);
		ret = a->fd[i] < 0 ? a->fd[i] : 0;
	}
	/* optional: the kernel may have refused it */
	if (!ret) {
		a->flows_prog_fd = pin_open(pin_dir, PIN_FLOWS_PROG);
		if (a->flows_prog_fd < 0 && a->flows_prog_fd != -ENOENT)
			ret = a->flows_prog_fd;
	}
	if (ret) {
		fds_close(a);
		return open_error(ret, pin_dir, err, errlen);
	}
	return 0;
}

void admin_close(struct admin *a)
{
	fds_close(a);
}

int admin_events_open(const char *pin_dir, char *err, size_t errlen)
{
	int fd = pin_open(pin_dir, PIN_EVENTS);

	return fd < 0 ? open_error(fd, pin_dir, err, errlen) : fd;
}

int admin_config(struct admin *a, struct lwfp_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(a->fd[MAP_CONFIG], &zero, cfg) ? -errno : 0;
}

int admin_config_write(struct admin *a, const struct lwfp_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_update_elem(a->fd[MAP_CONFIG], &zero, cfg, BPF_ANY) ? -errno
									: 0;
}

bool engine_settings_any(const struct engine_settings *set)
{
	return set->udp_idle_s || set->udp_flows_per_user ||
	       set->pending_per_user || set->live_per_user;
}

int admin_set(struct admin *a, const struct engine_settings *set)
{
	struct lwfp_config cfg;
	int ret = admin_config(a, &cfg);

	if (ret)
		return ret;
	if (set->udp_idle_s)
		cfg.udp_idle_s = set->udp_idle_s;
	if (set->udp_flows_per_user)
		cfg.udp_flows_per_user = set->udp_flows_per_user;
	if (set->pending_per_user)
		cfg.pending_per_user = set->pending_per_user;
	if (set->live_per_user)
		cfg.live_per_user = set->live_per_user;
	return admin_config_write(a, &cfg);
}

int admin_stats(struct admin *a, __u64 out[LWFP_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *percpu;

	if (ncpu < 0)
		return ncpu;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (__u32 i = 0; i < LWFP_STAT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(a->fd[MAP_STATS], &i, percpu))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += percpu[c];
	}
	free(percpu);
	return 0;
}

/* ---- services ---- */

int admin_services(struct admin *a, struct lwfp_service out[LWFP_MAX_SERVICES])
{
	for (__u32 i = 0; i < LWFP_MAX_SERVICES; i++)
		if (bpf_map_lookup_elem(a->fd[MAP_SERVICES], &i, &out[i]))
			return -errno;
	return 0;
}

int admin_service_find(struct admin *a, const char *name, __u32 *slot,
		       struct lwfp_service *svc)
{
	struct lwfp_service all[LWFP_MAX_SERVICES];
	int ret = admin_services(a, all);

	if (ret)
		return ret;
	for (__u32 i = 0; i < LWFP_MAX_SERVICES; i++) {
		if ((all[i].flags & LWFP_SVC_IN_USE) &&
		    !strncmp(all[i].name, name, sizeof(all[i].name))) {
			*slot = i;
			if (svc)
				*svc = all[i];
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Where a connect goes for each socket family. A wildcard listener is
 * reached on loopback; IPv6 sockets reach an IPv4 service v4-mapped.
 */
int service_set_listen(struct lwfp_service *svc,
		       const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	const struct sockaddr_in *sin = (const void *)ss;
	__u8 v4[4];

	svc->flags &= ~(LWFP_SVC_HAS_V4 | LWFP_SVC_HAS_V6);
	if (ss->ss_family == AF_INET6 &&
	    lwfp_is_v4_mapped(sin6->sin6_addr.s6_addr)) {
		memcpy(v4, &sin6->sin6_addr.s6_addr[12], 4);
	} else if (ss->ss_family == AF_INET6) {
		svc->port_be = sin6->sin6_port;
		memcpy(svc->listen, &sin6->sin6_addr, 16);
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
			inet_pton(AF_INET6, "::1", svc->addr6);
			inet_pton(AF_INET, "127.0.0.1", svc->addr4);
			svc->flags |= LWFP_SVC_HAS_V4;
		} else {
			memcpy(svc->addr6, &sin6->sin6_addr, 16);
		}
		svc->flags |= LWFP_SVC_HAS_V6;
		return 0;
	} else if (ss->ss_family == AF_INET) {
		memcpy(v4, &sin->sin_addr, 4);
	} else {
		return -EAFNOSUPPORT;
	}
	svc->port_be = ss->ss_family == AF_INET ? sin->sin_port
						: sin6->sin6_port;
	lwfp_v4_map(svc->listen, v4);
	if (!memcmp(v4, "\0\0\0\0", 4))
		inet_pton(AF_INET, "127.0.0.1", v4);
	memcpy(svc->addr4, v4, 4);
	lwfp_v4_map(svc->addr6, v4);
	svc->flags |= LWFP_SVC_HAS_V4 | LWFP_SVC_HAS_V6;
	return 0;
}

/* The protocols a service serves: bit 0 TCP, bit 1 UDP. */
static bool is_wildcard(const __u8 *a)
{
	static const __u8 any6[16];

	return !memcmp(a, any6, 16) ||
	       (lwfp_is_v4_mapped(a) && !memcmp(a + 12, any6, 4));
}

/* Do two listen addresses (v4-mapped if IPv4) take the same connects? */
static bool listens_overlap(const __u8 *a, const __u8 *b)
{
	return !memcmp(a, b, 16) || is_wildcard(a) || is_wildcard(b);
}

static unsigned int served_protos(const struct lwfp_service *svc)
{
	return (svc->flags & LWFP_SVC_NO_TCP ? 0 : 1) |
	       (svc->flags & LWFP_SVC_NO_UDP ? 0 : 2);
}

bool services_clash(const struct lwfp_service *a, const struct lwfp_service *b)
{
	return a->port_be == b->port_be && listens_overlap(a->listen, b->listen) &&
	       (served_protos(a) & served_protos(b));
}

int admin_service_add(struct admin *a, struct lwfp_service *svc, __u32 *slot,
		      char *err, size_t errlen)
{
	struct lwfp_service all[LWFP_MAX_SERVICES];
	int ret = admin_services(a, all), best = -1;

	if (ret)
		return ret;
	for (int i = 0; i < LWFP_MAX_SERVICES; i++) {
		if (all[i].flags & LWFP_SVC_IN_USE) {
			if (!strncmp(all[i].name, svc->name,
				     sizeof(svc->name))) {
				snprintf(err, errlen,
					 _("service '%s' already exists"),
					 svc->name);
				return -EEXIST;
			}
			/* a TCP-only and a UDP-only service may share one;
			 * an address and the wildcard overlap */
			if (services_clash(&all[i], svc)) {
				snprintf(err, errlen,
					 _("service '%s' already listens there"),
					 all[i].name);
				return -EEXIST;
			}
			continue;
		}
		/* reuse the slot freed longest ago: contexts name by slot */
		if (best < 0 || all[i].gen < all[best].gen)
			best = i;
	}
	if (best < 0) {
		snprintf(err, errlen, _("too many services (max %d)"),
			 LWFP_MAX_SERVICES);
		return -ENOSPC;
	}
	svc->gen = all[best].gen + 1;
	svc->flags |= LWFP_SVC_IN_USE;
	*slot = best;
	if (bpf_map_update_elem(a->fd[MAP_SERVICES], slot, svc, BPF_ANY)) {
		ret = -errno;
		snprintf(err, errlen, _("cannot register service: %s"),
			 strerror(errno));
		return ret;
	}
	/* answers from its first connection: no rule names it yet */
	ret = admin_sockopt_sync(a, err, errlen);
	if (ret) {
		char ignored[256];

		bpf_map_update_elem(a->fd[MAP_SERVICES], slot, &all[best],
				    BPF_ANY);
		admin_sockopt_sync(a, ignored, sizeof(ignored));
	}
	return ret;
}

int admin_service_del(struct admin *a, const char *name, char *err,
		      size_t errlen)
{
	char ignored[256];
	struct lwfp_service svc;
	struct lwfp_rule *rules;
	__u32 slot, n, used = 0;
	int ret;

	if (admin_service_find(a, name, &slot, &svc)) {
		snprintf(err, errlen, _("no service named '%s'"), name);
		return -ENOENT;
	}
	ret = admin_rules(a, &rules, &n);
	if (ret)
		return ret;
	for (__u32 i = 0; i < n; i++)
		used += rules[i].service == slot;
	free(rules);
	if (used) {
		snprintf(err, errlen,
			 P_("service '%s' is used by %u rule: delete it first",
			    "service '%s' is used by %u rules: delete them "
			    "first", used), name, used);
		return -EBUSY;
	}
	/* the name stays until the slot is reused, for live flows' contexts */
	svc.flags &= ~LWFP_SVC_IN_USE;
	if (bpf_map_update_elem(a->fd[MAP_SERVICES], &slot, &svc, BPF_ANY)) {
		ret = -errno;
		snprintf(err, errlen, _("cannot delete service: %s"),
			 strerror(errno));
		return ret;
	}
	/* a link left over would cost only time; the next change retries */
	admin_sockopt_sync(a, ignored, sizeof(ignored));
	return 0;
}

/* ---- rules ---- */

int admin_rules(struct admin *a, struct lwfp_rule **rules, __u32 *count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct lwfp_config cfg;
	__u32 base, n, got = 0, token, *keys;
	int ret = admin_config(a, &cfg);
	void *in;

	if (ret)
		return ret;
	n = LWFP_TABLE_COUNT(cfg.table);
	base = LWFP_TABLE_HALF(cfg.table) * LWFP_MAX_RULES;
	*rules = calloc(n + 1, sizeof(**rules));
	keys = calloc(n + 1, sizeof(*keys));
	if (!*rules || !keys) {
		free(*rules);
		free(keys);
		return -ENOMEM;
	}
	/* an array's batch starts after the key its token names */
	token = base - 1;
	in = base ? &token : NULL;
	while (!ret && got < n) {
		__u32 c = n - got, next;

		ret = bpf_map_lookup_batch(a->fd[MAP_RULES], in, &next, keys,
					   *rules + got, &c, &opts);
		if (ret == -ENOENT && c)
			ret = 0;
		if (!ret && !c)
			ret = -EIO;
		got += c;
		token = next;
		in = &token;
	}
	free(keys);
	if (ret) {
		free(*rules);
		return ret;
	}
	*count = n;
	return 0;
}

static int rule_order(const void *pa, const void *pb, void *arg)
{
	const struct lwfp_rule *ra = pa, *rb = pb;
	const struct lwfp_service *svcs = arg;
	__u32 wa = svcs[ra->service].weight, wb = svcs[rb->service].weight;

	if (wa != wb)
		return wa > wb ? -1 : 1;
	return ra->id < rb->id ? -1 : ra->id > rb->id;
}

/* Write count values at keys base, base + 1, ... of an mmapable array
 * map, by memcpy: not a syscall per element. */
static int array_copy(int fd, __u32 base, const void *values, __u32 count,
		      size_t size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	size_t total, stride, page = sysconf(_SC_PAGESIZE);
	char *m;

	if (!count)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.value_size != size || (size_t)base + count > info.max_entries)
		return -EINVAL;
	/* the kernel lays elements out 8-byte aligned */
	stride = (size + 7) & ~(size_t)7;
	total = ((size_t)info.max_entries * stride + page - 1) / page * page;
	m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	if (stride == size)
		memcpy(m + (size_t)base * size, values, (size_t)count * size);
	else
		for (size_t i = 0; i < count; i++)
			memcpy(m + (base + i) * stride,
			       (const char *)values + i * size, size);
	munmap(m, total);
	return 0;
}

/* Drop a half's entries from the classifier's index. */
static int index_clear(int fd, __u32 half)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	const __u32 cap = 2 * 4 * LWFP_MAX_RULES;
	struct lwfp_cls_key *keys = malloc(cap * sizeof(*keys));
	__u32 *ids = malloc(cap * sizeof(*ids)), batch, count, have = 0, k = 0;
	void *in = NULL;
	int ret = keys && ids ? 0 : -ENOMEM, err;

	while (!ret && have < cap) {
		count = cap - have;
		err = bpf_map_lookup_batch(fd, in, &batch, keys + have,
					   ids + have, &count, &opts);
		have += count;
		if (err == -ENOENT)
			break;
		ret = err;
		in = &batch;
	}
	for (__u32 i = 0; !ret && i < have; i++)
		if (keys[i].half == half)
			keys[k++] = keys[i];
	if (!ret && k && bpf_map_delete_batch(fd, keys, &k, &opts))
		ret = -errno;
	free(keys);
	free(ids);
	return ret;
}

static int index_write(int fd, struct cls_table *t, __u32 half)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = t->nindex;

	for (size_t i = 0; i < t->nindex; i++)
		t->keys[i].half = half;
	if (!count)
		return 0;
	return bpf_map_update_batch(fd, t->keys, t->ids, &count, &opts) ?
		       -errno : 0;
}

/* The classifier and the rules into the idle half. */
static int half_write(struct admin *a, __u32 half, struct lwfp_rule *rules,
		      __u32 n, struct cls_table *t)
{
	int ret = array_copy(a->fd[MAP_CLS_BITMAPS], half * LWFP_CLS_BITMAPS_MAX,
			     t->bitmaps, t->hdr.bitmaps, sizeof(*t->bitmaps));

	if (!ret)
		ret = array_copy(a->fd[MAP_CLS_WORDS], half * LWFP_CLS_POOL_MAX,
				 t->words, t->hdr.words, sizeof(*t->words));
	if (!ret)
		ret = array_copy(a->fd[MAP_CLS_PORTS], half * LWFP_CLS_PORT_NODES,
				 t->ports, LWFP_CLS_PORT_NODES,
				 sizeof(*t->ports));
	if (!ret)
		ret = index_clear(a->fd[MAP_CLS_INDEX], half);
	if (!ret)
		ret = index_write(a->fd[MAP_CLS_INDEX], t, half);
	if (!ret)
		ret = bpf_map_update_elem(a->fd[MAP_CLS_HDR], &half, &t->hdr,
					  BPF_ANY) ? -errno : 0;
	if (!ret)
		ret = array_copy(a->fd[MAP_RULES], half * LWFP_MAX_RULES, rules, n,
				 sizeof(*rules));
	return ret;
}

/*
 * Write the table and its classifier into the idle half, then flip:
 * connects see the old table or the new one, never a mix. The flip is
 * one write of the config: with want, its settings go in the same write.
 */
int admin_rules_commit(struct admin *a, struct lwfp_rule *rules, __u32 n,
		       const struct lwfp_config *want, char *err,
		       size_t errlen)
{
	struct lwfp_service svcs[LWFP_MAX_SERVICES];
	struct lwfp_config cfg;
	struct cls_table t;
	__u32 half;
	int ret = admin_config(a, &cfg);

	if (!ret && want)
		cfg = *want;
	if (!ret)
		ret = admin_services(a, svcs);
	if (ret) {
		snprintf(err, errlen, _("cannot read the engine: %s"),
			 strerror(-ret));
		return ret;
	}
	qsort_r(rules, n, sizeof(*rules), rule_order, svcs);
	ret = cls_build(rules, n, &t, err, errlen);
	if (ret)
		return ret;
	half = !LWFP_TABLE_HALF(cfg.table);
	ret = half_write(a, half, rules, n, &t);
	cls_free(&t);
	if (!ret) {
		cfg.table = ((__u64)half << 32) | n;
		ret = admin_config_write(a, &cfg);
	}
	if (ret)
		snprintf(err, errlen, _("cannot write the rules: %s"),
			 strerror(-ret));
	return ret;
}

int admin_cls_hdr(struct admin *a, struct lwfp_cls_hdr *h)
{
	struct lwfp_config cfg;
	__u32 half;
	int ret = admin_config(a, &cfg);

	if (ret)
		return ret;
	half = LWFP_TABLE_HALF(cfg.table);
	return bpf_map_lookup_elem(a->fd[MAP_CLS_HDR], &half, h) ? -errno : 0;
}

/* Rule ids still named by a live socket: their context must stay. */
static bool rule_in_use(const struct lwfp_sk_dump *socks, size_t n, __u32 id)
{
	for (size_t i = 0; i < n; i++)
		if (socks[i].sk.rule_id == id &&
		    (socks[i].sk.role == LWFP_ROLE_CLIENT ||
		     socks[i].sk.role == LWFP_ROLE_ACCEPTED))
			return true;
	return false;
}

/* Drop the context of deleted rules no socket refers to any more. */
void admin_rule_ctx_sweep(struct admin *a, const struct lwfp_rule *rules,
			   __u32 nrules)
{
	struct lwfp_sk_dump *socks = NULL;
	__u32 key, next, id, *stale = NULL;
	size_t nsocks = 0, nstale = 0;
	void *prev = NULL;

	if (admin_sockets(a, &socks, &nsocks))
		return;
	while (!bpf_map_get_next_key(a->fd[MAP_RULE_CTX], prev, &next)) {
		bool live = false;
		__u32 *grown;

		key = next;
		prev = &key;
		/* a rule's layout goes with its context (lwfp_abi.h) */
		id = key & ~LWFP_RULE_LAYOUT_KEY(0);
		for (__u32 i = 0; i < nrules && !live; i++)
			live = rules[i].id == id;
		if (live || rule_in_use(socks, nsocks, id))
			continue;
		grown = realloc(stale, (nstale + 1) * sizeof(*stale));
		if (!grown)
			break;
		stale = grown;
		stale[nstale++] = key;
	}
	for (size_t i = 0; i < nstale; i++)
		bpf_map_delete_elem(a->fd[MAP_RULE_CTX], &stale[i]);
	free(stale);
	free(socks);
}

/* The config and the live rules, with room for nadd more; *rules is
 * malloc'ed. */
static int rules_for_adding(struct admin *a, __u32 nadd,
			    struct lwfp_config *cfg, struct lwfp_rule **rules,
			    __u32 *n, char *err, size_t errlen)
{
	struct lwfp_rule *grown;
	int ret = admin_config(a, cfg);

	if (!ret)
		ret = admin_rules(a, rules, n);
	if (ret) {
		snprintf(err, errlen, _("cannot read the rules: %s"),
			 strerror(-ret));
		return ret;
	}
	if (*n + nadd > LWFP_MAX_RULES) {
		snprintf(err, errlen, _("too many rules (max %d)"), LWFP_MAX_RULES);
		free(*rules);
		return -ENOSPC;
	}
	grown = realloc(*rules, (*n + nadd + 1) * sizeof(**rules));
	if (!grown) {
		free(*rules);
		snprintf(err, errlen, _("out of memory"));
		return -ENOMEM;
	}
	*rules = grown;
	return 0;
}

/* Keep len bytes of data under key in the rule context map. */
static int rule_blob_put(struct admin *a, __u32 key, const void *data,
			 size_t len)
{
	struct lwfp_rule_ctx *rc = calloc(1, sizeof(*rc));
	int ret = 0;

	if (!rc)
		return -ENOMEM;
	rc->len = len;
	memcpy(rc->data, data, len);
	if (bpf_map_update_elem(a->fd[MAP_RULE_CTX], &key, rc, BPF_NOEXIST))
		ret = -errno;
	free(rc);
	return ret;
}

/* The rule's context bytes and layout, where flows find them by its id. */
int admin_rule_blobs_put(struct admin *a, struct lwfp_rule *r,
			  const struct rule_blobs *b)
{
	int ret = 0;

	if (b->ctx_len) {
		r->flags |= LWFP_RULE_HAS_CTX;
		ret = rule_blob_put(a, r->id, b->ctx, b->ctx_len);
	}
	if (!ret && b->layout_len) {
		r->flags |= LWFP_RULE_HAS_LAYOUT;
		ret = rule_blob_put(a, LWFP_RULE_LAYOUT_KEY(r->id), b->layout,
				    b->layout_len);
	}
	return ret;
}

void admin_rule_blobs_del(struct admin *a, __u32 id)
{
	__u32 layout = LWFP_RULE_LAYOUT_KEY(id);

	bpf_map_delete_elem(a->fd[MAP_RULE_CTX], &id);
	bpf_map_delete_elem(a->fd[MAP_RULE_CTX], &layout);
}

int admin_rule_add(struct admin *a, struct lwfp_rule *r,
		   const struct rule_blobs *b, char *err, size_t errlen)
{
	struct lwfp_config cfg;
	struct lwfp_rule *rules;
	__u32 n;
	int ret;

	if (b->ctx_len > LWFP_RULE_CTX_MAX || b->layout_len > LWFP_RULE_CTX_MAX) {
		snprintf(err, errlen, _("rule context too large: %zu bytes (max %d)"),
			 b->ctx_len > LWFP_RULE_CTX_MAX ? b->ctx_len :
			 b->layout_len, LWFP_RULE_CTX_MAX);
		return -E2BIG;
	}
	ret = rules_for_adding(a, 1, &cfg, &rules, &n, err, errlen);
	if (ret)
		return ret;
	r->id = cfg.next_rule_id++;
	/* ids are never reused, so a flow's rule id names its context */
	ret = admin_config_write(a, &cfg);
	if (!ret)
		ret = admin_rule_blobs_put(a, r, b);
	if (ret) {
		admin_rule_blobs_del(a, r->id);
		snprintf(err, errlen, _("cannot add the rule: %s"), strerror(-ret));
		goto out;
	}
	rules[n] = *r;
	ret = admin_rules_commit(a, rules, n + 1, NULL, err, errlen);
	if (ret)
		admin_rule_blobs_del(a, r->id);
	else
		admin_rule_ctx_sweep(a, rules, n + 1);
out:
	free(rules);
	return ret;
}

int admin_rules_append(struct admin *a, struct lwfp_rule *add, __u32 nadd,
		       char *err, size_t errlen)
{
	struct lwfp_config cfg;
	struct lwfp_rule *all;
	__u32 n;
	int ret = rules_for_adding(a, nadd, &cfg, &all, &n, err, errlen);

	if (ret)
		return ret;
	for (__u32 i = 0; i < nadd; i++) {
		all[n + i] = add[i];
		all[n + i].id = cfg.next_rule_id++;
		all[n + i].flags &= ~LWFP_RULE_HAS_CTX;
	}
	ret = admin_config_write(a, &cfg);
	if (!ret)
		ret = admin_rules_commit(a, all, n + nadd, NULL, err, errlen);
	else
		snprintf(err, errlen, _("cannot write the engine: %s"),
			 strerror(-ret));
	free(all);
	return ret;
}

int admin_rule_del(struct admin *a, __u32 id, char *err, size_t errlen)
{
	struct lwfp_rule *rules;
	__u32 n, kept = 0;
	int ret = admin_rules(a, &rules, &n);

	if (ret) {
		snprintf(err, errlen, _("cannot read the rules: %s"),
			 strerror(-ret));
		return ret;
	}
	for (__u32 i = 0; i < n; i++)
		if (rules[i].id != id)
			rules[kept++] = rules[i];
	if (kept == n) {
		snprintf(err, errlen, _("no rule with id %u"), id);
		ret = -ENOENT;
	} else {
		ret = admin_rules_commit(a, rules, kept, NULL, err, errlen);
		if (!ret)
			admin_rule_ctx_sweep(a, rules, kept);
	}
	free(rules);
	return ret;
}

int admin_rule_ctx(struct admin *a, __u32 id, struct lwfp_rule_ctx *rc)
{
	return bpf_map_lookup_elem(a->fd[MAP_RULE_CTX], &id, rc) ? -errno : 0;
}

/* ---- tracked sockets ---- */

/* Append a hash map of hops (key u64; values of vsize bytes that start
 * with a hop) to the dump, in batches. */
static int hops_dump(int fd, size_t vsize, enum lwfp_role role, __u32 state,
		     struct lwfp_sk_dump **out, size_t *n, size_t cap)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	const __u32 chunk = 1024;
	__u64 keys[1024];
	unsigned char *values = malloc(chunk * vsize);
	__u32 batch, count;
	size_t seen = 0;
	void *in = NULL;
	int ret = values ? 0 : -ENOMEM, err = 0;

	while (!ret && err != -ENOENT && seen < cap) {
		struct lwfp_sk_dump *grown;

		count = chunk;
		err = bpf_map_lookup_batch(fd, in, &batch, keys, values,
					   &count, &opts);
		if (err && err != -ENOENT) {
			ret = err;
			break;
		}
		in = &batch;
		seen += count;
		/* an accepted flow that went on to its origin: one more */
		grown = realloc(*out, (*n + 2 * count + 1) * sizeof(**out));
		if (!grown) {
			ret = -ENOMEM;
			break;
		}
		*out = grown;
		for (__u32 i = 0; i < count; i++) {
			struct lwfp_hop *hop = &grown[*n].sk;

			memset(&grown[*n], 0, sizeof(grown[*n]));
			memcpy(hop, values + i * vsize, sizeof(*hop));
			/* a UDP flow's hop stands for its client socket, as
			 * the iterator would show it */
			hop->role = hop->orig.proto == IPPROTO_UDP ?
					    LWFP_ROLE_CLIENT : role;
			grown[*n].state = state;
			(*n)++;
			if (!(hop->flags & LWFP_HOP_AT_ORIGIN))
				continue;
			grown[*n] = grown[*n - 1];
			grown[*n].sk.role = LWFP_ROLE_OUTBOUND;
			(*n)++;
		}
	}
	free(values);
	return ret;
}

/* Without the iterator: the flows accepted (their hops in the live map)
 * and the connects not accepted yet (in the pending map). */
static int sockets_from_maps(struct admin *a, struct lwfp_sk_dump **out,
			     size_t *n)
{
	int ret;

	*out = NULL;
	*n = 0;
	ret = hops_dump(a->fd[MAP_LIVE], sizeof(struct lwfp_hop),
			LWFP_ROLE_ACCEPTED, LWFP_SK_STATE_UNKNOWN, out, n,
			LWFP_LIVE_MAX);
	if (!ret)
		ret = hops_dump(a->fd[MAP_PENDING], sizeof(struct lwfp_handoff),
				LWFP_ROLE_CLIENT, LWFP_SK_STATE_UNKNOWN, out,
				n, LWFP_PENDING_MAX);
	if (ret) {
		free(*out);
		*out = NULL;
	}
	return ret;
}

int admin_sockets(struct admin *a, struct lwfp_sk_dump **out, size_t *n)
{
	union bpf_iter_link_info linfo = { .map.map_fd = a->fd[MAP_SK] };
	LIBBPF_OPTS(bpf_link_create_opts, opts, .iter_info = &linfo,
		    .iter_info_len = sizeof(linfo));
	size_t cap = 64 * sizeof(struct lwfp_sk_dump), len = 0;
	char *buf = NULL, *grown;
	int link, it, ret = 0;
	ssize_t got;

	if (a->flows_prog_fd < 0)
		return sockets_from_maps(a, out, n);
	link = bpf_link_create(a->flows_prog_fd, 0, BPF_TRACE_ITER, &opts);
	if (link < 0)
		return -errno;
	it = bpf_iter_create(link);
	if (it < 0) {
		ret = -errno;
		goto out_link;
	}
	for (;;) {
		if (!buf || len == cap) {
			cap = buf ? 2 * cap : cap;
			grown = realloc(buf, cap);
			if (!grown) {
				ret = -ENOMEM;
				break;
			}
			buf = grown;
		}
		got = read(it, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			ret = got < 0 ? -errno : 0;
			break;
		}
		len += got;
	}
	close(it);
out_link:
	close(link);
	if (ret) {
		free(buf);
		return ret;
	}
	*out = (struct lwfp_sk_dump *)buf;
	*n = len / sizeof(struct lwfp_sk_dump);
	return 0;
}

/* In batches, bucket by bucket: a walk by next key restarts when the map
 * changes under it, and this one changes all the time. */
int admin_udp_flows(struct admin *a, struct lwfp_udp_flow **out, size_t *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	const __u32 cap = LWFP_UDP_FLOWS_MAX;
	struct lwfp_udp_key *keys = malloc(cap * sizeof(*keys));
	struct lwfp_udp_flow *flows = malloc(cap * sizeof(*flows));
	__u32 batch, count, have = 0;
	void *in = NULL;
	int ret = keys && flows ? 0 : -ENOMEM, err;

	while (!ret && have < cap) {
		count = cap - have;
		err = bpf_map_lookup_batch(a->fd[MAP_UDP_FLOWS], in, &batch,
					   keys + have, flows + have, &count,
					   &opts);
		have += count;
		if (err == -ENOENT)
			break;		/* that was the last batch */
		ret = err;
		in = &batch;
	}
	free(keys);
	if (ret) {
		free(flows);
		return ret;
	}
	*out = flows;
	*n = have;
	return 0;
}

/* ---- waiting for programs ---- */

/* Replacing an element of a map of maps from user space returns only once
 * every program then running has returned (the kernel waits an RCU grace
 * period so that none still holds the old inner map; its own selftests
 * wait the same way). A map of maps of our own, that no program uses,
 * gives that wait. */
int admin_wait_programs(void)
{
	int inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);
	LIBBPF_OPTS(bpf_map_create_opts, opts, .inner_map_fd = inner);
	int outer, ret = 0;
	__u32 zero = 0;

	if (inner < 0)
		return -errno;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, NULL, 4, 4, 1,
			       &opts);
	if (outer < 0 ||
	    bpf_map_update_elem(outer, &zero, &inner, BPF_ANY))
		ret = -errno;
	if (outer >= 0)
		close(outer);
	close(inner);
	return ret;
}
