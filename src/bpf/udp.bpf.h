/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * UDP: there is no accepted socket to carry a hop to the service, so the
 * engine keeps one per flow, keyed by what the service sees of it (the
 * datagram's source and the service port), from the moment the client's
 * first datagram to the service leaves until the client socket closes or
 * the flow has been idle for udp_idle_s.
 */
#ifndef LWFP_UDP_BPF_H
#define LWFP_UDP_BPF_H

static __always_inline struct lwfp_hop *udp_client(struct bpf_sock *sk)
{
	struct lwfp_hop *st = client_hop(sk);

	return st && st->orig.proto == IPPROTO_UDP ? st : NULL;
}

/* The address a client socket of this family was sent to for a service,
 * v4-mapped if IPv4, or NULL if the slot changed hands since. */
static __always_inline const struct lwfp_service *
hop_service(const struct lwfp_hop *st, __u8 *addr)
{
	__u32 slot = st->service;
	const struct lwfp_service *svc;

	svc = bpf_map_lookup_elem(&lwfp_services, &slot);
	if (!svc || svc->gen != st->service_gen)
		return NULL;
	if (st->orig.family == AF_INET) {
		__builtin_memset(addr, 0, 10);
		addr[10] = 0xff;
		addr[11] = 0xff;
		__builtin_memcpy(addr + 12, svc->addr4, 4);
	} else {
		__builtin_memcpy(addr, svc->addr6, 16);
	}
	return svc;
}

/*
 * An unconnected socket goes through the callout at every send. Sending
 * on to the destination its hop was decided for, under the same rule
 * table, continues that flow: the same service, the same records. After a
 * rule change it is decided again; the socket's lwfp_udp_sk keeps the hop
 * meanwhile, so that the flow continues if the same service takes it
 * (udp_decided). (Kept there, not on the stack: a stack copy multiplies
 * the verifier's states through the rule walk past its limit.)
 */
static __always_inline const struct lwfp_service *
udp_same_flow(struct bpf_sock_addr *ctx, const struct connect_info *ci)
{
	const struct lwfp_service *svc;
	const struct lwfp_config *cfg;
	struct lwfp_udp_sk *u;
	struct lwfp_hop *st;
	__u8 addr[16];
	__u32 zero = 0;

	st = udp_client(ctx->sk);
	if (!st || !same_endpoint(&st->orig, &ci->dst))
		return NULL;
	cfg = bpf_map_lookup_elem(&lwfp_config, &zero);
	u = bpf_sk_storage_get(&lwfp_udp_sk, ctx->sk, 0, 0);
	if (!cfg || !u)
		return NULL;
	if (u->table == cfg->table) {
		svc = hop_service(st, addr);
		/* a service gone since: decide again (fail open or closed) */
		if (svc && service_listening(ctx, svc,
					     st->orig.family == AF_INET6, true))
			return svc;
		return NULL;
	}
	u->prev_rec = st->rec;
	u->prev_start_ns = st->start_ns;
	u->prev_service_gen = st->service_gen;
	u->prev_service = st->service;
	u->prev_valid = 1;
	return NULL;
}

/* Remove a flow, and give its place back to its uid. */
static __always_inline void flow_remove(void *map,
					const struct lwfp_udp_key *key,
					__u32 uid)
{
	if (!bpf_map_delete_elem(map, key))
		share_give(LWFP_SHARE_UDP, uid);
}

/* The socket's flow ends now: its records stop counting, the service
 * no longer finds it. */
static __always_inline void udp_flow_end(void *sk)
{
	struct lwfp_udp_flow *f;
	struct lwfp_udp_sk *u;

	u = bpf_sk_storage_get(&lwfp_udp_sk, sk, 0, 0);
	if (!u || !u->token)
		return;
	bpf_map_delete_elem(&lwfp_live, &u->token);
	f = bpf_map_lookup_elem(&lwfp_udp_flows, &u->key);
	if (f && f->hop.rec.token == u->token)
		flow_remove(&lwfp_udp_flows, &u->key, f->hop.uid);
	u->token = 0;
}

/* After a decision: remember the table (later sends may reuse it), keep
 * the flow going if the same service took it again, or, for a UDP connect
 * that is not redirected, drop the hop the socket had. */
static __always_inline void udp_decided(struct bpf_sock_addr *ctx,
					const struct lwfp_service *svc,
					bool connect)
{
	const struct lwfp_config *cfg;
	struct lwfp_udp_sk *u;
	struct lwfp_hop *st;
	__u32 zero = 0;

	if (!svc) {
		u = bpf_sk_storage_get(&lwfp_udp_sk, ctx->sk, 0, 0);
		if (u)
			u->prev_valid = 0;
		st = connect ? udp_client(ctx->sk) : NULL;
		if (st) {
			st->role = LWFP_ROLE_NONE;
			udp_flow_end(ctx->sk);
		}
		return;
	}
	cfg = bpf_map_lookup_elem(&lwfp_config, &zero);
	u = bpf_sk_storage_get(&lwfp_udp_sk, ctx->sk, 0,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (!cfg || !u)
		return;
	u->table = cfg->table;
	u->netns = bpf_get_netns_cookie(ctx);
	st = udp_client(ctx->sk);
	if (st && u->prev_valid && st->service == u->prev_service &&
	    st->service_gen == u->prev_service_gen) {
		st->rec = u->prev_rec;
		st->start_ns = u->prev_start_ns;
	}
	u->prev_valid = 0;
}

static __always_inline __u64 udp_idle_ns(void)
{
	const struct lwfp_config *cfg;
	__u32 zero = 0;
	__u64 s;

	cfg = bpf_map_lookup_elem(&lwfp_config, &zero);
	s = cfg && cfg->udp_idle_s ? cfg->udp_idle_s : LWFP_UDP_IDLE_DEFAULT_S;
	return s * NSEC_PER_SEC;
}

struct sweep_ctx {
	__u64 now;
	__u64 timeout;
};

static long sweep_one(struct bpf_map *map, struct lwfp_udp_key *key,
		      struct lwfp_udp_flow *f, struct sweep_ctx *c)
{
	/* signed: a flow refreshed on another CPU during the walk is newer
	 * than c->now */
	__u32 uid = f->hop.uid;

	if ((__s64)(c->now - f->last_ns) < (__s64)c->timeout)
		return 0;
	bpf_map_delete_elem(&lwfp_live, &f->hop.rec.token);
	flow_remove(map, key, uid);
	stat_inc(LWFP_STAT_UDP_IDLE);
	return 0;
}

/* Every quarter of the timeout, end the flows idle for a whole one. */
static int sweep(void *map, __u32 *key, struct lwfp_sweeper *sw)
{
	struct sweep_ctx c = {
		.now = bpf_ktime_get_boot_ns(),
		.timeout = udp_idle_ns(),
	};

	bpf_for_each_map_elem(&lwfp_udp_flows, sweep_one, &c, 0);
	bpf_timer_start(&sw->timer, c.timeout / 4, 0);
	return 0;
}

/*
 * One timer for all flows, armed by the first: a timer per flow would
 * reprogram the CPU's timer at each flow's start and end, which a VM pays
 * with an exit each time.
 */
static __always_inline void sweeper_arm(void)
{
	struct lwfp_sweeper *sw;
	__u32 zero = 0;

	sw = bpf_map_lookup_elem(&lwfp_udp_sweeper, &zero);
	if (!sw || sw->armed ||
	    __sync_val_compare_and_swap(&sw->armed, 0, 1) != 0)
		return;
	bpf_timer_init(&sw->timer, &lwfp_udp_sweeper, CLOCK_BOOTTIME);
	bpf_timer_set_callback(&sw->timer, sweep);
	bpf_timer_start(&sw->timer, udp_idle_ns() / 4, 0);
}

/* IPv6 extension headers walked to find UDP: hop-by-hop, routing,
 * fragment, destination options. */
#define IPV6_EXT_MAX	4

/* The offset of the UDP header after IPv6 header ip6, or 0. */
static __always_inline __u32 ipv6_udp_offset(struct __sk_buff *skb,
					     const struct ipv6hdr *ip6)
{
	__u32 off = sizeof(*ip6);
	__u8 next = ip6->nexthdr;

#pragma clang loop unroll(full)
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		__u8 h[2];

		if (next == IPPROTO_UDP)
			return off;
		if (next != 0 && next != 43 && next != 44 && next != 60)
			return 0;
		if (bpf_skb_load_bytes(skb, off, h, sizeof(h)))
			return 0;
		off += next == 44 ? 8 : (h[1] + 1) * 8;
		next = h[0];
	}
	return next == IPPROTO_UDP ? off : 0;
}

/* The datagram's source and destination; false if it is not UDP, or its
 * UDP header cannot be found. */
static __always_inline bool udp_tuple(struct __sk_buff *skb,
				      struct lwfp_udp_key *key, __u8 *dst)
{
	struct udphdr uh;
	__u32 off;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) ||
		    ip.protocol != IPPROTO_UDP ||
		    (ip.frag_off & bpf_htons(IP_OFFSET)))
			return false;
		__builtin_memset(key->client, 0, 10);
		key->client[10] = key->client[11] = 0xff;
		__builtin_memcpy(key->client + 12, &ip.saddr, 4);
		__builtin_memset(dst, 0, 10);
		dst[10] = dst[11] = 0xff;
		__builtin_memcpy(dst + 12, &ip.daddr, 4);
		off = ip.ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return false;
		off = ipv6_udp_offset(skb, &ip6);
		if (!off)
			return false;
		__builtin_memcpy(key->client, &ip6.saddr, 16);
		__builtin_memcpy(dst, &ip6.daddr, 16);
	} else {
		return false;
	}
	if (bpf_skb_load_bytes(skb, off, &uh, sizeof(uh)))
		return false;
	key->client_port_be = uh.source;
	key->service_port_be = uh.dest;
	return true;
}

static __always_inline bool same_key(const struct lwfp_udp_key *a,
				     const struct lwfp_udp_key *b)
{
	return same_addr(a->client, b->client) &&
	       a->client_port_be == b->client_port_be &&
	       a->service_port_be == b->service_port_be;
}

/* The socket's flow under another source (it sent from another address
 * with IP_PKTINFO) goes: one flow per socket, or one socket could fill
 * the table. */
static __always_inline void flow_moved(struct lwfp_udp_sk *u,
				       const struct lwfp_udp_key *key,
				       __u64 cookie)
{
	struct lwfp_udp_flow *f;

	if (!u->token || same_key(&u->key, key))
		return;
	f = bpf_map_lookup_elem(&lwfp_udp_flows, &u->key);
	if (f && f->cookie == cookie)
		flow_remove(&lwfp_udp_flows, &u->key, f->hop.uid);
	/* that flow has ended: its records too */
	bpf_map_delete_elem(&lwfp_live, &u->token);
	u->token = 0;
}

/* Publish the flow nf at key: false if its uid's share or the table is
 * full, or another socket published there meanwhile (counted). old, if not
 * NULL, is what held key: the socket's own earlier flow (counted already,
 * unless its uid changed), or another socket's expired one, whose place
 * and records go. */
static __always_inline bool flow_publish(const struct lwfp_udp_key *key,
					 const struct lwfp_udp_flow *nf,
					 const struct lwfp_udp_flow *old,
					 __u32 share)
{
	bool counted = old && old->cookie == nf->cookie &&
		       old->hop.uid == nf->hop.uid;
	__u32 old_uid = old ? old->hop.uid : 0;
	__u64 old_token = old ? old->hop.rec.token : 0;
	bool foreign = old && old->cookie != nf->cookie;

	if (!counted && !share_take(LWFP_SHARE_UDP, nf->hop.uid, share)) {
		refused_hop(&nf->hop, LWFP_STAT_UDP_QUOTA);
		return false;
	}
	/* NOEXIST for a new key: a flow another socket published since we
	 * looked is not overwritten */
	if (bpf_map_update_elem(&lwfp_udp_flows, key, nf,
				old ? BPF_EXIST : BPF_NOEXIST)) {
		if (!counted)
			share_give(LWFP_SHARE_UDP, nf->hop.uid);
		refused_hop(&nf->hop, old ? LWFP_STAT_UDP_FULL :
					     LWFP_STAT_UDP_FLOW_TAKEN);
		return false;
	}
	if (old && !counted)
		share_give(LWFP_SHARE_UDP, old_uid);
	if (foreign)
		bpf_map_delete_elem(&lwfp_live, &old_token);
	return true;
}

/*
 * A new flow, or the socket's hop changed. Several CPUs may send the
 * socket's first datagrams at once: the one that takes the socket's claim
 * publishes; the others let their datagram go (the service finds the flow
 * once it is in place). A token published once whose flow has ended (idle,
 * or pushed out) is not published again: an ended flow's records never
 * revive, the next datagram starts a new flow. Another socket's flow on
 * the same source (sent from it with IP_PKTINFO) is not taken over while
 * it lives. Returns the datagram's fate: false, dropped.
 */
static __always_inline bool udp_flow_start(struct __sk_buff *skb,
					   struct bpf_sock *sk,
					   struct lwfp_hop *st,
					   const struct lwfp_udp_key *key,
					   const __u8 *dst, __u64 now)
{
	__u64 old, token, cookie = bpf_get_socket_cookie(skb);
	const struct lwfp_config *cfg;
	struct lwfp_udp_flow nf = {};
	struct lwfp_udp_flow *f;
	struct lwfp_udp_sk *u;
	bool pass = true;
	__u32 zero = 0;

	f = bpf_map_lookup_elem(&lwfp_udp_flows, key);
	if (f && f->cookie != cookie &&
	    (__s64)(now - f->last_ns) < (__s64)udp_idle_ns()) {
		refused_hop(st, LWFP_STAT_UDP_FLOW_TAKEN);
		return false;
	}
	cfg = bpf_map_lookup_elem(&lwfp_config, &zero);
	u = bpf_sk_storage_get(&lwfp_udp_sk, sk, 0,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (!cfg || !u) {
		refused_hop(st, LWFP_STAT_REFUSED_FULL);
		return false;	/* no flow, so no tag */
	}
	/* another CPU publishes this socket's flow: the datagram goes tagged
	 * only if the flow there is already this socket's */
	if (__sync_val_compare_and_swap(&u->claim, 0, 1) != 0)
		return f && f->cookie == cookie;
	f = bpf_map_lookup_elem(&lwfp_udp_flows, key);
	if (f && f->hop.rec.token == st->rec.token)
		goto out;	/* another CPU published it meanwhile */
	old = u->token;
	flow_moved(u, key, cookie);
	/* a new flow of this socket: a new token */
	token = st->rec.token == old ? secret_id(cfg) : st->rec.token;
	nf.hop = *st;
	nf.hop.rec.token = token;
	nf.hop.role = LWFP_ROLE_ACCEPTED;
	nf.hop.start_ns = now;
	nf.cookie = cookie;
	nf.last_ns = now;
	nf.datagrams = 1;
	nf.bytes = skb->len;
	__builtin_memcpy(nf.service_addr, dst, 16);
	nf.netns = u->netns;
	pass = flow_publish(key, &nf, f, cfg->udp_flows_per_user);
	if (!pass)
		goto out;
	/* one flow per socket holds live records: the one it sends on */
	if (old)
		bpf_map_delete_elem(&lwfp_live, &old);
	st->rec.token = token;
	u->key = *key;
	u->token = token;
	sweeper_arm();
	if (bpf_map_update_elem(&lwfp_live, &token, &nf.hop, BPF_NOEXIST))
		stat_inc(LWFP_STAT_LIVE_FULL);
	stat_inc(LWFP_STAT_UDP_FLOW);
out:
	u->claim = 0;
	return pass;
}

/*
 * A datagram of a redirected client socket leaves: if it goes to its
 * service, it starts the flow or keeps it alive, and is tagged as the
 * engine's (skb priority LWFP_UDP_TAG, which no unprivileged sender can
 * set) so that the service side knows it from a forgery. Returns the
 * egress verdict.
 */
static __always_inline int udp_egress(struct __sk_buff *skb,
				      struct bpf_sock *sk, struct lwfp_hop *st)
{
	struct lwfp_udp_key key = {};
	const struct lwfp_service *svc;
	struct lwfp_udp_flow *f;
	__u8 dst[16], svc_addr[16];
	__u64 now;

	if (!udp_tuple(skb, &key, dst))
		return 1;
	svc = hop_service(st, svc_addr);
	if (!svc || key.service_port_be != svc->port_be ||
	    !same_addr(dst, svc_addr))
		return 1;
	now = bpf_ktime_get_boot_ns();
	f = bpf_map_lookup_elem(&lwfp_udp_flows, &key);
	if (f && f->hop.rec.token == st->rec.token) {
		f->last_ns = now;
		__sync_fetch_and_add(&f->datagrams, 1);
		__sync_fetch_and_add(&f->bytes, skb->len);
	} else if (!udp_flow_start(skb, sk, st, &key, dst, now)) {
		return 0;
	}
	skb->priority = LWFP_UDP_TAG;
	return 1;
}

/*
 * A datagram reaches a socket in scope. If it comes from the source of a
 * live flow to that port, it must carry the engine's tag: else someone
 * else sent it from that source (a process out of scope, or one whose
 * socket is not the flow's), and the service would take it for the
 * flow's client. Dropped.
 */
static __always_inline int udp_ingress(struct __sk_buff *skb)
{
	struct lwfp_udp_key key = {};
	__u8 dst[16];

	if (skb->priority == LWFP_UDP_TAG)
		return 1;
	/* a datagram for a UDP socket whose source cannot be told (more
	 * extension headers than walked) could claim any flow's */
	if (!udp_tuple(skb, &key, dst) ||
	    bpf_map_lookup_elem(&lwfp_udp_flows, &key)) {
		stat_inc(LWFP_STAT_UDP_FORGED);
		return 0;
	}
	return 1;
}

/*
 * A datagram reaches a redirected client: if it comes from the client's
 * service, show it as coming from the original destination, so resolvers
 * and QUIC stacks that check the source accept it.
 */
static __always_inline bool udp_reply_from_service(struct bpf_sock_addr *ctx,
						   const __u8 *src,
						   struct lwfp_endpoint *orig)
{
	const struct lwfp_service *svc;
	struct lwfp_udp_flow *f;
	struct lwfp_udp_sk *u;
	struct lwfp_hop *st;
	__u8 svc_addr[16];

	st = udp_client(ctx->sk);
	if (!st)
		return false;
	svc = hop_service(st, svc_addr);
	if (!svc || ctx->user_port != svc->port_be || !same_addr(src, svc_addr))
		return false;
	*orig = st->orig;
	/* a reply is traffic too: the flow is idle only if neither sends */
	u = bpf_sk_storage_get(&lwfp_udp_sk, ctx->sk, 0, 0);
	f = u && u->token ? bpf_map_lookup_elem(&lwfp_udp_flows, &u->key) :
			    NULL;
	if (f && f->hop.rec.token == u->token)
		f->last_ns = bpf_ktime_get_boot_ns();
	stat_inc(LWFP_STAT_UDP_REPLY);
	return true;
}

/* Is sk bound to where the flow's datagrams go (or to any address)? */
static __always_inline bool bound_to(struct bpf_sock *sk, const __u8 *addr)
{
	__u32 w[4];

	if (sk->family == AF_INET) {
		w[0] = sk->src_ip4;
		return !w[0] || (lwfp_is_v4_mapped(addr) &&
				 !__builtin_memcmp(&addr[12], w, 4));
	}
	w[0] = sk->src_ip6[0];
	w[1] = sk->src_ip6[1];
	w[2] = sk->src_ip6[2];
	w[3] = sk->src_ip6[3];
	return !(w[0] | w[1] | w[2] | w[3]) || same_addr((const __u8 *)w, addr);
}

/*
 * A UDP service asks for the flow from a peer to its socket; the answer
 * goes in that socket's storage, read back with getsockopt. A process
 * learns only of flows to a socket it holds, bound to the flow's port and
 * address (or any address) in the flow's network namespace, and, for a
 * service registered by pid or cgroup, only if it is that service; any
 * other question gets the same ENODATA, so nobody learns which flows
 * exist.
 */
static __always_inline int udp_answer(struct bpf_sockopt *ctx,
				      struct bpf_sock *sk)
{
	struct lwfp_udp_key *q = ctx->optval;
	struct lwfp_udp_answer *a;
	struct lwfp_udp_flow *f;
	struct lwfp_udp_key key;
	int err = 0;

	if ((void *)(q + 1) > ctx->optval_end || ctx->optlen != sizeof(*q)) {
		bpf_set_retval(-EINVAL);
		return 0;
	}
	key = *q;
	key.service_port_be = bpf_htons((__u16)sk->src_port);
	a = bpf_sk_storage_get(&lwfp_udp_answer, sk, 0,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (!a) {
		bpf_set_retval(-ENOMEM);
		return 0;
	}
	a->key = key;
	f = bpf_map_lookup_elem(&lwfp_udp_flows, &key);
	if (!f || f->netns != bpf_get_netns_cookie(ctx) ||
	    !bound_to(sk, f->service_addr))
		err = -ENODATA;
	else if (!hop_service_asks(&f->hop))
		err = -ENODATA;	/* no oracle: as if there were none */
	if (err) {
		__builtin_memset(&a->hop, 0, sizeof(a->hop));
		bpf_set_retval(err);
		return 0;
	}
	a->hop = f->hop;
	ctx->optlen = -1;	/* answered: the kernel has nothing to do */
	return 1;
}

#endif /* LWFP_UDP_BPF_H */
