/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* The redirect decision: which service, if any, a connect goes to. */
#ifndef LWFP_HELPERS_BPF_H
#define LWFP_HELPERS_BPF_H

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&lwfp_stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline __u64 rand64(void)
{
	return ((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32();
}

/* A redirected client socket's hop. */
static __always_inline struct lwfp_sk *client_hop(struct bpf_sock *sk)
{
	struct lwfp_sk *st;

	if (!sk)
		return NULL;
	st = bpf_sk_storage_get(&lwfp_sk, sk, 0, 0);

	return st && st->role == LWFP_ROLE_CLIENT ? st : NULL;
}

/* What the connect hooks know about one connect. */
struct connect_info {
	struct lwfp_endpoint dst;
	__u64 cgroup_id;
	__u32 pid;
	__u32 uid;
	__u32 gid;
	__u8 chain_len;
	__u8 chain[LWFP_MAX_CHAIN];
	/* an IPv6 UDP send: the kernel refuses a v4-mapped target there */
	bool v6_send;
};

/* State of the rule walk (bpf_loop callback context). */
struct match_ctx {
	const struct connect_info *ci;
	__u64 excluded;		/* slots found not listening (fail open) */
	__u32 base;		/* first index of the live rule table */
	__u32 rule_idx;		/* result: index of the rule that won */
	int slot;		/* result: service slot, or -1 */
	bool skipped_self;
	bool skipped_chain;
	bool no_target;
};

static __always_inline bool is_v4_mapped(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return !w[0] && !w[1] && w[2] == bpf_htonl(0xffff);
}

static __always_inline bool addr_in_net(const __u8 *addr, const __u8 *net,
					const __u8 *mask)
{
	const __u32 *a = (const __u32 *)addr;
	const __u32 *n = (const __u32 *)net;
	const __u32 *m = (const __u32 *)mask;

	return ((a[0] & m[0]) == n[0]) && ((a[1] & m[1]) == n[1]) &&
	       ((a[2] & m[2]) == n[2]) && ((a[3] & m[3]) == n[3]);
}

static __always_inline bool in_cgroup(__u64 id, __u32 level)
{
	return bpf_get_current_ancestor_cgroup_id(level) == id;
}

/* Can this service take this connect? Records why not, for the stats. */
static __always_inline bool service_usable(struct match_ctx *m,
					   const struct lwfp_rule *r,
					   const struct lwfp_service *svc,
					   __u32 slot)
{
	const struct connect_info *ci = m->ci;
	int state;

	if (!(svc->flags & LWFP_SVC_IN_USE) || (m->excluded >> slot) & 1)
		return false;
	/* the analogue of WFP's localRedirectTargetPID */
	if ((svc->pid && svc->pid == ci->pid) ||
	    (svc->cgroup_id && in_cgroup(svc->cgroup_id, svc->cgroup_level))) {
		m->skipped_self = true;
		return false;
	}
	/* never back to the service that just redirected the flow; to
	 * one that did earlier only if its rule asks to re-inspect */
	state = lwfp_chain_state(ci->chain, ci->chain_len, slot);
	if (state == LWFP_STATE_REDIRECTED_BY_SELF ||
	    (state == LWFP_STATE_PREVIOUSLY_REDIRECTED_BY_SELF &&
	     !(r->flags & LWFP_RULE_REINSPECT))) {
		m->skipped_chain = true;
		return false;
	}
	if (svc->flags & (ci->dst.proto == IPPROTO_UDP ? LWFP_SVC_NO_UDP :
							 LWFP_SVC_NO_TCP))
		return false;
	if (!(svc->flags & (ci->dst.family == AF_INET ? LWFP_SVC_HAS_V4 :
						      LWFP_SVC_HAS_V6)) ||
	    (ci->v6_send && is_v4_mapped(svc->addr6))) {
		m->no_target = true;
		return false;
	}
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

/* Rules are sorted by user space in arbitration order: first usable wins. */
static long match_one(__u32 i, void *data)
{
	struct match_ctx *m = data;
	__u32 idx = m->base + i;
	const struct lwfp_rule *r = bpf_map_lookup_elem(&lwfp_rules, &idx);
	const struct lwfp_service *svc;
	__u32 slot;

	if (!r)
		return 1;
	if (!rule_matches(r, m->ci))
		return 0;
	slot = r->service;
	svc = bpf_map_lookup_elem(&lwfp_services, &slot);
	if (!svc || !service_usable(m, r, svc, slot))
		return 0;
	m->slot = slot;
	m->rule_idx = idx;
	return 1;
}

static __always_inline bool same_endpoint(const struct lwfp_endpoint *a,
					  const struct lwfp_endpoint *b)
{
	const __u32 *x = (const __u32 *)a->addr, *y = (const __u32 *)b->addr;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       a->port_be == b->port_be;
}

/*
 * Records a service set on its outbound socket count only if they are well
 * formed, come from this engine instance, name a flow that is still open
 * (their random token is in the live map: forged or replayed records are
 * not), and the connect goes where that flow was going. The live map, not
 * the bytes handed back, says which services the flow went through.
 */
static __always_inline const struct lwfp_live *
records_check(const struct lwfp_records *rec, const struct lwfp_config *cfg,
	      const struct lwfp_endpoint *dst)
{
	const struct lwfp_live *live;

	if (rec->magic != LWFP_RECORDS_MAGIC ||
	    rec->version != LWFP_RECORDS_VERSION) {
		stat_inc(LWFP_STAT_BAD_RECORDS);
		return NULL;
	}
	if (rec->engine_id != cfg->engine_id) {
		stat_inc(LWFP_STAT_RECORDS_FOREIGN);
		return NULL;
	}
	live = bpf_map_lookup_elem(&lwfp_live, &rec->token);
	if (!live) {
		stat_inc(LWFP_STAT_RECORDS_STALE);
		return NULL;
	}
	if (!same_endpoint(&live->orig, dst)) {
		stat_inc(LWFP_STAT_RECORDS_WRONG_FLOW);
		return NULL;
	}
	return live;
}

/* Fail open or closed is decided now, by whether the service listens
 * (TCP) or has a socket bound to its address (UDP). */
static __always_inline bool service_listening(struct bpf_sock_addr *ctx,
					      const struct lwfp_service *svc,
					      bool v6_socket, bool udp)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 len;

	if (!v6_socket || is_v4_mapped(svc->addr6)) {
		__builtin_memcpy(&t.ipv4.daddr,
				 v6_socket ? &svc->addr6[12] : svc->addr4, 4);
		t.ipv4.dport = svc->port_be;
		len = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.daddr, svc->addr6, 16);
		t.ipv6.dport = svc->port_be;
		len = sizeof(t.ipv6);
	}
	if (udp)
		sk = bpf_sk_lookup_udp(ctx, &t, len, BPF_F_CURRENT_NETNS, 0);
	else
		sk = bpf_sk_lookup_tcp(ctx, &t, len, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return false;
	bpf_sk_release(sk);
	return true;
}

/* Fill the client's hop: what the service will read from its accepted
 * socket. */
static __always_inline void hop_fill(struct lwfp_sk *st,
				     const struct connect_info *ci,
				     const struct lwfp_config *cfg,
				     const struct lwfp_rule *r,
				     const struct lwfp_service *svc,
				     __u32 slot, __u64 flow_id)
{
	st->rec.magic = LWFP_RECORDS_MAGIC;
	st->rec.version = LWFP_RECORDS_VERSION;
	st->rec.engine_id = cfg->engine_id;
	st->rec.flow_id = flow_id;
	st->rec.token = rand64();
	for (int i = 0; i < LWFP_MAX_CHAIN; i++)
		st->rec.chain[i] = i < ci->chain_len ? ci->chain[i] : 0;
	if (ci->chain_len < LWFP_MAX_CHAIN)
		st->rec.chain[ci->chain_len & (LWFP_MAX_CHAIN - 1)] = slot;
	st->rec.chain_len = ci->chain_len + 1;

	st->hop_id = rand64();
	st->start_ns = bpf_ktime_get_boot_ns();
	st->cgroup_id = ci->cgroup_id;
	st->orig = ci->dst;
	st->pid = ci->pid;
	st->uid = ci->uid;
	st->gid = ci->gid;
	st->rule_id = r->id;
	bpf_get_current_comm(st->comm, sizeof(st->comm));
	st->service_gen = svc->gen;
	st->service = slot;
	st->role = LWFP_ROLE_CLIENT;
}

/*
 * The callout: decide where a connect goes. Returns the service to
 * redirect to, or NULL to let the connect go to its destination; sets
 * *refuse when a fail-closed service is not listening.
 */
static __always_inline const struct lwfp_service *
lwfp_decide(struct bpf_sock_addr *ctx, struct connect_info *ci, bool *refuse)
{
	const struct lwfp_service *svc = NULL;
	const struct lwfp_live *live = NULL;
	const struct lwfp_config *cfg;
	const struct lwfp_rule *r;
	struct match_ctx m = { .ci = ci, .slot = -1 };
	struct lwfp_sk *st;
	__u64 flow_id = 0, pid_tgid, uid_gid;
	__u32 zero = 0, count, slot;

	cfg = bpf_map_lookup_elem(&lwfp_config, &zero);
	if (!cfg)
		return NULL;

	/* an outbound UDP socket decides again at each destination, with
	 * the records it went out with */
	st = bpf_sk_storage_get(&lwfp_sk, ctx->sk, 0, 0);
	if (st && (st->role == LWFP_ROLE_RECORDS ||
		   st->role == LWFP_ROLE_OUTBOUND))
		live = records_check(&st->rec, cfg, &ci->dst);
	if (live) {
		flow_id = live->rec.flow_id;
		ci->chain_len = live->rec.chain_len;
		for (int i = 0; i < LWFP_MAX_CHAIN; i++)
			ci->chain[i] = live->rec.chain[i];
	}

	pid_tgid = bpf_get_current_pid_tgid();
	uid_gid = bpf_get_current_uid_gid();
	ci->pid = pid_tgid >> 32;
	ci->uid = (__u32)uid_gid;
	ci->gid = uid_gid >> 32;
	ci->cgroup_id = bpf_get_current_cgroup_id();

	count = LWFP_TABLE_COUNT(cfg->table);
	if (count > LWFP_MAX_RULES)
		count = LWFP_MAX_RULES;
	m.base = LWFP_TABLE_HALF(cfg->table) * LWFP_MAX_RULES;
	if (ci->chain_len >= LWFP_MAX_CHAIN) {
		stat_inc(LWFP_STAT_CHAIN_FULL);
		count = 0;
	}
	/* a service that does not listen is passed over (fail open) or
	 * refuses the connect (fail closed); each try excludes one more */
	for (int attempt = 0; count && attempt < LWFP_MAX_CHAIN; attempt++) {
		/* the verifier's inlined bpf_loop checks all 64 bits, and
		 * clang may pass a u32 with stale upper bits: zero them */
		__u64 nr_loops = count;

		asm volatile("" : "+r"(nr_loops));
		m.slot = -1;
		bpf_loop(nr_loops, match_one, &m, 0);
		if (m.slot < 0)
			break;
		slot = m.slot;
		svc = bpf_map_lookup_elem(&lwfp_services, &slot);
		if (!svc)
			return NULL;
		if (service_listening(ctx, svc, ci->dst.family == AF_INET6,
				      ci->dst.proto == IPPROTO_UDP))
			break;
		if (svc->flags & LWFP_SVC_FAIL_CLOSED) {
			stat_inc(LWFP_STAT_FAIL_CLOSED);
			*refuse = true;
			return NULL;
		}
		stat_inc(LWFP_STAT_FAIL_OPEN);
		m.excluded |= 1ull << (slot & 63);
		m.slot = -1;
	}
	if (m.skipped_self)
		stat_inc(LWFP_STAT_SKIP_SELF);
	if (m.skipped_chain)
		stat_inc(LWFP_STAT_SKIP_CHAIN);

	if (m.slot < 0) {
		if (m.no_target)
			stat_inc(LWFP_STAT_NO_TARGET);
		/* a service's outbound socket: remember it went direct */
		if (live && st) {
			st->rec = live->rec;
			st->role = LWFP_ROLE_OUTBOUND;
			st->orig = ci->dst;
			st->start_ns = bpf_ktime_get_boot_ns();
		}
		return NULL;
	}

	slot = m.slot;
	svc = bpf_map_lookup_elem(&lwfp_services, &slot);
	r = bpf_map_lookup_elem(&lwfp_rules, &m.rule_idx);
	if (!svc || !r)
		return NULL;
	if (!st)
		st = bpf_sk_storage_get(&lwfp_sk, ctx->sk, 0,
					BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return NULL;
	hop_fill(st, ci, cfg, r, svc, slot, flow_id ? flow_id : rand64());
	stat_inc(LWFP_STAT_REDIRECTED);
	return svc;
}

#endif /* LWFP_HELPERS_BPF_H */
