/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* The redirect decision: which service, if any, a connect goes to. */
#ifndef LWFP_DECIDE_BPF_H
#define LWFP_DECIDE_BPF_H

/*
 * Records a service set on its outbound socket count only if they are well
 * formed, come from this engine instance, name a flow that is still open
 * (their random token is in the live map: forged or replayed records are
 * not), and the connect goes where that flow was going. The live map, not
 * the bytes handed back, says which services the flow went through.
 */
static __always_inline struct lwfp_hop *
records_check(const struct lwfp_records *rec, const struct lwfp_config *cfg,
	      const struct lwfp_endpoint *dst, bool *closed)
{
	struct lwfp_hop *live;

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
		*closed = true;
		return NULL;
	}
	if (!same_endpoint(&live->orig, dst)) {
		stat_inc(LWFP_STAT_RECORDS_WRONG_FLOW);
		return NULL;
	}
	return live;
}

/* Fail open or closed is decided now, by whether the service listens
 * (TCP) or has a socket bound to its address (UDP): its own socket, if it
 * was registered by pid or cgroup (binder.bpf.h). */
static __always_inline bool service_listening(struct bpf_sock_addr *ctx,
					      const struct lwfp_service *svc,
					      bool v6_socket, bool udp)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 len;
	bool ok;

	if (!v6_socket || lwfp_is_v4_mapped(svc->addr6)) {
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
	ok = bound_by_service(svc, sk);
	bpf_sk_release(sk);
	return ok;
}

/* Fill the client's hop: what the service will read from its accepted
 * socket; a new flow id unless it continues one (flow_id). */
static __always_inline void hop_fill(struct lwfp_hop *st,
				     const struct connect_info *ci,
				     const struct lwfp_config *cfg,
				     const struct lwfp_rule *r,
				     const struct lwfp_service *svc,
				     __u32 slot, __u64 flow_id)
{
	struct id_draw d;

	id_draw(&d);
	st->rec.magic = LWFP_RECORDS_MAGIC;
	st->rec.version = LWFP_RECORDS_VERSION;
	st->rec.engine_id = cfg->engine_id;
	st->rec.flow_id = flow_id ? flow_id : id_of(cfg, &d, 2);
	st->rec.token = id_of(cfg, &d, 0);
	for (int i = 0; i < LWFP_MAX_CHAIN; i++)
		st->rec.chain[i] = i < ci->chain_len ? ci->chain[i] : 0;
	if (ci->chain_len < LWFP_MAX_CHAIN)
		st->rec.chain[ci->chain_len & (LWFP_MAX_CHAIN - 1)] = slot;
	st->rec.chain_len = ci->chain_len + 1;

	st->hop_id = id_of(cfg, &d, 1);
	st->start_ns = bpf_ktime_get_boot_ns();
	st->cgroup_id = bpf_get_current_cgroup_id();
	st->orig = ci->dst;
	st->pid = ci->pid;
	st->uid = ci->uid;
	st->gid = bpf_get_current_uid_gid() >> 32;
	st->rule_id = r->id;
	bpf_get_current_comm(st->comm, sizeof(st->comm));
	st->service_gen = svc->gen;
	st->service = slot;
	st->role = LWFP_ROLE_CLIENT;
}

/* Is service slot's listener there, for this client? A global function:
 * the socket lookup's tuple stays off the stack of the classifier's
 * deepest calls. */
__global int lwfp_slot_listening(struct bpf_sock_addr *ctx, __u32 slot,
				 int v6_socket, int udp)
{
	const struct lwfp_service *svc;

	svc = bpf_map_lookup_elem(&lwfp_services, &slot);
	if (!svc)
		return 0;
	/* from another network namespace the service's address is not
	 * the service's, whoever listens on it there */
	if (svc->netns && svc->netns != bpf_get_netns_cookie(ctx))
		return 0;
	return service_listening(ctx, svc, v6_socket, udp);
}

enum { PICK_NONE = -1, PICK_REFUSE = -2, PICK_AGAIN = -3 };

/*
 * The next rule whose service can take the connect: its index if the
 * service is there to take it; if not, PICK_REFUSE (fail closed) or, the
 * service passed over from now on, PICK_AGAIN (fail open); PICK_NONE when
 * no rule is left.
 */
__global int lwfp_pick_next(struct bpf_sock_addr *ctx, struct cls_walk *s)
{
	const struct lwfp_service *svc;
	const struct lwfp_rule *r;
	__u32 key, slot;
	int idx;

	if (!s)
		return PICK_NONE;
	idx = cls_next(s);
	if (idx < 0 || idx >= LWFP_MAX_RULES)
		return PICK_NONE;
	key = (s->half & 1) * LWFP_MAX_RULES + idx;
	r = bpf_map_lookup_elem(&lwfp_rules, &key);
	slot = r ? r->service : LWFP_MAX_SERVICES;
	svc = bpf_map_lookup_elem(&lwfp_services, &slot);
	if (!svc)
		return PICK_NONE;
	if (lwfp_slot_listening(ctx, slot, s->ci.dst.family == AF_INET6,
				s->ci.dst.proto == IPPROTO_UDP) > 0)
		return idx;
	if (svc->flags & LWFP_SVC_FAIL_CLOSED)
		return PICK_REFUSE;	/* counted by the caller */
	stat_inc(LWFP_STAT_FAIL_OPEN);
	s->excluded |= 1ull << (slot & 63);
	s->pos = idx + 1;
	return PICK_AGAIN;
}

/*
 * The first rule whose service can take the connect and is there to take
 * it: a service that does not listen is passed over (fail open) or
 * refuses the connect (fail closed). Returns the rule's index in its
 * table half, PICK_NONE or PICK_REFUSE.
 */
__global int lwfp_pick(struct bpf_sock_addr *ctx, struct cls_walk *s)
{
	int idx = PICK_NONE;

	if (!s)
		return PICK_NONE;
	lwfp_cls_addr(s);
	/* each service is passed over at most once */
	for (int i = 0; i < LWFP_MAX_SERVICES; i++) {
		if (!i && lwfp_cls_query(s) <= 0)
			break;	/* no candidate at all */
		idx = lwfp_pick_next(ctx, s);
		if (idx != PICK_AGAIN)
			break;
		idx = PICK_NONE;
	}
	if (s->skipped_self)
		stat_inc(LWFP_STAT_SKIP_SELF);
	if (s->skipped_chain)
		stat_inc(LWFP_STAT_SKIP_CHAIN);
	if (s->mismatch)
		stat_inc(LWFP_STAT_CLS_MISMATCH);
	if (idx == PICK_NONE && s->no_target)
		stat_inc(LWFP_STAT_NO_TARGET);
	return idx;
}

/* Count a refused connect or send, and tell lwfp events who it was. */
static __always_inline void refused(const struct connect_info *ci,
				    __u32 cause)
{
	struct lwfp_event *ev = refusal(cause, &ci->dst);

	if (!ev)
		return;
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->pid = ci->pid;
	ev->uid = ci->uid;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
}

/* No service takes the connect: a service's outbound socket remembers
 * its flow reached the origin. */
static __always_inline void went_direct(struct lwfp_hop *st,
					struct lwfp_hop *live,
					const struct connect_info *ci)
{
	if (!live || !st)
		return;
	live->flags |= LWFP_HOP_AT_ORIGIN;
	st->rec = live->rec;
	st->role = LWFP_ROLE_OUTBOUND;
	st->orig = ci->dst;
	st->start_ns = bpf_ktime_get_boot_ns();
}

/*
 * Record the redirect by rule idx on the client's socket st (created if
 * need be) and, for TCP, reserve its hand-off. Returns the rule's service,
 * or NULL with *cause the counter of why it cannot be recorded.
 */
static __always_inline const struct lwfp_service *
redirect_record(struct bpf_sock_addr *ctx, struct cls_walk *w,
		const struct lwfp_config *cfg, struct lwfp_hop *st, int idx,
		__u64 flow_id, int *cause)
{
	const struct connect_info *ci = &w->ci;
	const struct lwfp_service *svc;
	const struct lwfp_rule *r;
	__u32 key, slot;

	*cause = LWFP_STAT_REFUSED_FULL;
	key = w->half * LWFP_MAX_RULES + idx;
	r = bpf_map_lookup_elem(&lwfp_rules, &key);
	slot = r ? r->service : LWFP_MAX_SERVICES;
	svc = bpf_map_lookup_elem(&lwfp_services, &slot);
	if (svc && !st)
		st = bpf_sk_storage_get(&lwfp_sk, ctx->sk, 0,
					BPF_SK_STORAGE_GET_F_CREATE);
	if (!r || !svc || !st)
		return NULL;
	hop_fill(st, ci, cfg, r, svc, slot, flow_id);
	*cause = ci->dst.proto != IPPROTO_TCP ? 0 :
		 handoff_reserve(st, cfg->pending_per_user);
	if (!*cause)
		return svc;
	st->role = LWFP_ROLE_NONE;
	return NULL;
}

/*
 * The callout: decide where a connect goes. Returns the service to
 * redirect to, or NULL to let the connect go to its destination; sets
 * *refuse to the errno the connect fails with instead: ECONNREFUSED when
 * a fail-closed service is not listening, EPERM when the engine cannot
 * record the redirect (no memory for the socket's state: a client can
 * use up its socket option memory on purpose; no room for its hand-off,
 * or its uid's share used up). A connect a rule covers never goes direct
 * for want of resources. A TCP socket that connects again is no longer
 * its earlier flow's client: no hand-off to its new peer, a truthful
 * getpeername().
 */
static __always_inline const struct lwfp_service *
lwfp_decide(struct bpf_sock_addr *ctx, struct cls_walk *w, int *refuse)
{
	struct connect_info *ci = &w->ci;
	struct lwfp_hop *live = NULL;
	const struct lwfp_service *svc;
	const struct lwfp_config *cfg;
	struct lwfp_hop *st;
	__u64 flow_id = 0, pid_tgid, uid_gid;
	int idx = PICK_NONE, cause;
	bool closed = false;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&lwfp_config, &zero);
	if (!cfg)
		return NULL;
	pid_tgid = bpf_get_current_pid_tgid();
	uid_gid = bpf_get_current_uid_gid();
	ci->pid = pid_tgid >> 32;
	ci->uid = (__u32)uid_gid;

	/* an outbound UDP socket decides again at each destination, with
	 * the records it went out with */
	st = bpf_sk_storage_get(&lwfp_sk, ctx->sk, 0, 0);
	if (st && ci->dst.proto == IPPROTO_TCP)
		client_reset(st);
	if (st && (st->role == LWFP_ROLE_RECORDS ||
		   st->role == LWFP_ROLE_OUTBOUND))
		live = records_check(&st->rec, cfg, &ci->dst, &closed);
	if (closed) {
		/* the engine took these records from the service of an open
		 * flow, which has closed since: deciding afresh could send
		 * the flow back round its chain */
		refused(ci, LWFP_STAT_REFUSED_RECORDS);
		*refuse = EPERM;
		return NULL;
	}
	if (live) {
		flow_id = live->rec.flow_id;
		ci->chain_len = live->rec.chain_len;
		for (int i = 0; i < LWFP_MAX_CHAIN; i++)
			ci->chain[i] = live->rec.chain[i];
	}

	w->half = LWFP_TABLE_HALF(cfg->table);
	if (ci->chain_len >= LWFP_MAX_CHAIN)
		stat_inc(LWFP_STAT_CHAIN_FULL);
	else if (LWFP_TABLE_COUNT(cfg->table))
		idx = lwfp_pick(ctx, w);
	if (idx == PICK_REFUSE) {
		refused(ci, LWFP_STAT_FAIL_CLOSED);
		*refuse = ECONNREFUSED;
		return NULL;
	}
	if (idx < 0 || idx >= LWFP_MAX_RULES) {
		went_direct(st, live, ci);
		return NULL;
	}
	svc = redirect_record(ctx, w, cfg, st, idx, flow_id, &cause);
	if (!svc) {
		refused(ci, cause);
		*refuse = EPERM;
		return NULL;
	}
	stat_inc(LWFP_STAT_REDIRECTED);
	return svc;
}

#endif /* LWFP_DECIDE_BPF_H */
