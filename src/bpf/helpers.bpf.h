/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Helpers of the callout: counters, ids, socket state, rule fields. */
#ifndef LWFP_HELPERS_BPF_H
#define LWFP_HELPERS_BPF_H

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&lwfp_stats, &idx);

	if (v)
		*v += 1;
}

/*
 * An id that authorises something (a hop id, a records token, a flow id):
 * SipHash-2-4 keyed with the engine's secret, of the time and fresh
 * randomness. bpf_get_prandom_u32() alone is a linear generator whose
 * next values an observer of a few can compute; without the key, the ids
 * one has seen tell nothing of the next. Several ids of one connect share
 * one draw and differ in the message's last byte (id_of): outputs of the
 * keyed function for distinct messages, as unpredictable as separate
 * draws, for a third of the helper calls.
 */
struct id_draw {
	__u64 time;
	__u64 noise;	/* random word, CPU, and a zero byte for the index */
};

static __always_inline void id_draw(struct id_draw *d)
{
	d->time = bpf_ktime_get_ns();
	d->noise = ((__u64)bpf_get_prandom_u32() << 32) |
		   ((__u64)bpf_get_smp_processor_id() << 8);
}

static __always_inline __u64 id_of(const struct lwfp_config *cfg,
				   const struct id_draw *d, __u8 i)
{
	return lwfp_siphash16(cfg->id_key, d->time, d->noise | i);
}

static __always_inline __u64 secret_id(const struct lwfp_config *cfg)
{
	struct id_draw d;

	id_draw(&d);
	return id_of(cfg, &d, 0);
}

/* Count a refusal, and start its event for lwfp events (NULL when the
 * events ring is full: counted all the same); the caller says who. */
static __always_inline struct lwfp_event *refusal(__u32 cause,
						  const struct lwfp_endpoint *dst)
{
	struct lwfp_event *ev;

	stat_inc(cause);
	ev = bpf_ringbuf_reserve(&lwfp_events, sizeof(*ev), 0);
	if (!ev)
		return NULL;
	ev->boot_ns = bpf_ktime_get_boot_ns();
	ev->cause = cause;
	ev->_pad = 0;
	ev->dst = *dst;
	return ev;
}

/* Count a refusal where the process is not current (a send seen at
 * egress, a flow seen by the service side): its hop names it. */
static __always_inline void refused_hop(const struct lwfp_hop *st,
					__u32 cause)
{
	struct lwfp_event *ev = refusal(cause, &st->orig);

	if (!ev)
		return;
	ev->cgroup_id = st->cgroup_id;
	ev->pid = st->pid;
	ev->uid = st->uid;
	__builtin_memcpy(ev->comm, st->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
}

/* A redirected client socket's hop. */
static __always_inline struct lwfp_hop *client_hop(struct bpf_sock *sk)
{
	struct lwfp_hop *st;

	if (!sk)
		return NULL;
	st = bpf_sk_storage_get(&lwfp_sk, sk, 0, 0);

	return st && st->role == LWFP_ROLE_CLIENT ? st : NULL;
}

/* What the connect hooks know about one connect. */
struct connect_info {
	struct lwfp_endpoint dst;
	__u32 pid;
	__u32 uid;
	__u8 chain_len;
	__u8 chain[LWFP_MAX_CHAIN];
	/* an IPv6 UDP send: the kernel refuses a v4-mapped target there */
	bool v6_send;
};

static __always_inline bool addr_in_net(const __u8 *addr, const __u8 *net,
					const __u8 *mask)
{
	const __u32 *a = (const __u32 *)addr;
	const __u32 *n = (const __u32 *)net;
	const __u32 *m = (const __u32 *)mask;

	return ((a[0] & m[0]) == n[0]) && ((a[1] & m[1]) == n[1]) &&
	       ((a[2] & m[2]) == n[2]) && ((a[3] & m[3]) == n[3]);
}

/* When the current process started, in /proc's clock ticks. */
static __always_inline __u64 current_start_ticks(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->group_leader->start_boottime / LWFP_NS_PER_TICK;
}

/* Is the current process the one a service registered by pid: the same
 * pid and the same start time, so that a process that gets the pid after
 * it exits is not exempt. */
static __always_inline bool is_service_process(const struct lwfp_service *svc,
					       __u32 pid)
{
	if (!svc->pid || svc->pid != pid)
		return false;
	return current_start_ticks() == svc->pid_start;
}

static __always_inline bool in_cgroup(__u64 id, __u32 level)
{
	return bpf_get_current_ancestor_cgroup_id(level) == id;
}

/* Is the caller the service a hop went to? Only that process, or a
 * process in that cgroup, when the service is registered by pid or
 * cgroup; anyone holding the hop's socket otherwise. */
static __always_inline bool hop_service_asks(const struct lwfp_hop *h)
{
	__u32 slot = h->service;
	const struct lwfp_service *svc;

	svc = bpf_map_lookup_elem(&lwfp_services, &slot);
	if (!svc || svc->gen != h->service_gen)
		return false;
	if (svc->pid)
		return is_service_process(svc,
					  bpf_get_current_pid_tgid() >> 32);
	if (svc->cgroup_id)
		return in_cgroup(svc->cgroup_id, svc->cgroup_level);
	return true;
}

static __always_inline bool rule_matches(const struct lwfp_rule *r,
					 const struct connect_info *ci)
{
	__u16 dport = bpf_ntohs(ci->dst.port_be);

	if (r->proto && r->proto != ci->dst.proto)
		return false;
	if (dport < r->dport_lo || dport > r->dport_hi)
		return false;
	if (!addr_in_net(ci->dst.addr, r->dst, r->mask))
		return false;
	if ((r->flags & LWFP_RULE_UID) && r->uid != ci->uid)
		return false;
	if ((r->flags & LWFP_RULE_CGROUP) &&
	    !in_cgroup(r->cgroup_id, r->cgroup_level))
		return false;
	return true;
}

/* Two 16-byte addresses (v4-mapped for IPv4) alike? */
static __always_inline bool same_addr(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

static __always_inline bool same_endpoint(const struct lwfp_endpoint *a,
					  const struct lwfp_endpoint *b)
{
	return same_addr(a->addr, b->addr) && a->port_be == b->port_be;
}

#endif /* LWFP_HELPERS_BPF_H */
