/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * The hand-off: a redirected client's hop travels to the socket the
 * service accepts. The client publishes it in lwfp_pending under a secret
 * hop id and writes that id in a TCP option; the service side takes it
 * only for the connection it was made for (see handoff_for), and only
 * once. An id that leaks is worth nothing on any other connection.
 */
#ifndef LWFP_HANDOFF_BPF_H
#define LWFP_HANDOFF_BPF_H

/*
 * Is the accepted socket (ends e) the other end of the client's connection
 * the hand-off was made for: the same namespace, the same addresses, the
 * same service port? Not the client's port: conntrack remaps it when
 * tuples clash under a nat table (tests/e2e/test_nat.c). The addresses
 * are enough against anyone else: a packet from outside with a source
 * address of this host (loopback's above all) is a martian, dropped.
 */
static __always_inline bool handoff_for(const struct lwfp_handoff *h,
					const struct tcp_ends *e, __u64 netns)
{
	return h->netns == netns && same_addr(h->client, e->remote) &&
	       same_addr(h->service, e->local) &&
	       h->service_port_be == e->local_port_be;
}

/* Client: fill in the connection its reserved hand-off is for, and ask
 * to see it close (on_state); the option waits for the handshake. */
static __always_inline void on_connect(struct bpf_sock_ops *skops)
{
	struct lwfp_hop *st = client_hop(skops->sk);
	struct lwfp_handoff *h;
	struct tcp_ends e;

	if (!st)
		return;
	h = bpf_map_lookup_elem(&lwfp_pending, &st->hop_id);
	if (!h)
		return;	/* reserved at the decision: not here, no hand-off */
	skops_ends(skops, &e);
	__builtin_memcpy(h->client, e.local, 16);
	__builtin_memcpy(h->service, e.remote, 16);
	h->client_port_be = e.local_port_be;
	h->service_port_be = e.remote_port_be;
	h->netns = bpf_get_netns_cookie(skops);
	if (skops_is_mptcp(skops))
		mptcp_publish(skops, &e, &st->orig);
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
				  BPF_SOCK_OPS_STATE_CB_FLAG);
}

/*
 * Client: the SYN-ACK came, the ACK is next: from now on write the
 * option, and parse what comes back to know when to stop. Not earlier:
 * the SYN never carries it, and the SYN-ACK is not worth parsing (two
 * program runs per connection). on_connect asked for the state callback
 * only of a socket whose hand-off it filled in.
 */
static __always_inline void on_active_established(struct bpf_sock_ops *skops)
{
	__u32 flags = skops->bpf_sock_ops_cb_flags;

	if (!(flags & BPF_SOCK_OPS_STATE_CB_FLAG) || !client_hop(skops->sk))
		return;
	bpf_sock_ops_cb_flags_set(skops, flags |
				  BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG |
				  BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG);
}

/*
 * Client: the option goes on every packet after the SYN until the service
 * side has shown it is established. The ACK that concludes the handshake
 * is what it sees at PASSIVE_ESTABLISHED, but a full accept queue drops
 * that ACK, and then a later segment completes the handshake.
 */
static __always_inline void on_write_opt(struct bpf_sock_ops *skops,
					 bool reserve)
{
	struct lwfp_tcpopt opt = {
		.kind = LWFP_TCPOPT_KIND,
		.len = LWFP_TCPOPT_LEN,
		.exid = { LWFP_TCPOPT_EXID >> 8, LWFP_TCPOPT_EXID & 0xff },
	};
	struct lwfp_hop *st;

	if (skops->skb_tcp_flags & TCPHDR_SYN)
		return;
	if (reserve) {
		bpf_reserve_hdr_opt(skops, LWFP_TCPOPT_LEN, 0);
		return;
	}
	st = client_hop(skops->sk);
	if (st) {
		__builtin_memcpy(opt.hop_id, &st->hop_id, 8);
		bpf_store_hdr_opt(skops, &opt, sizeof(opt), 0);
	}
}

/* Client: anything but a SYN-ACK from the service side means its socket
 * is established (and has taken the hop): stop writing the option. */
static __always_inline void on_parse_opt(struct bpf_sock_ops *skops)
{
	if (skops->skb_tcp_flags & TCPHDR_SYN)
		return;
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
				  ~(BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG |
				    BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG));
}

/*
 * Service side: the accepted flow's records count while its socket lives
 * (records_check), if its client's uid has room in its share of the live
 * table. If not, its service cannot set them (ESTALE): the flow ends at
 * the service, never loops.
 */
static __always_inline void live_register(const struct lwfp_hop *st)
{
	const struct lwfp_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&lwfp_config, &zero);
	if (!cfg || !share_take(LWFP_SHARE_LIVE, st->uid, cfg->live_per_user)) {
		refused_hop(st, LWFP_STAT_LIVE_SHARE);
		return;
	}
	if (bpf_map_update_elem(&lwfp_live, &st->rec.token, st, BPF_NOEXIST)) {
		share_give(LWFP_SHARE_LIVE, st->uid);
		refused_hop(st, LWFP_STAT_LIVE_FULL);
	}
}

/* Service side: find the client's hop by the option and keep a copy. */
static __always_inline void on_passive_established(struct bpf_sock_ops *skops)
{
	struct lwfp_tcpopt opt = {
		.kind = LWFP_TCPOPT_KIND,
		.len = 4,	/* search by kind and 2-byte ExID */
		.exid = { LWFP_TCPOPT_EXID >> 8, LWFP_TCPOPT_EXID & 0xff },
	};
	struct lwfp_handoff *h;
	struct bpf_sock *sk;
	struct lwfp_hop *st;
	struct tcp_ends e;
	__u64 hop_id;

	if (bpf_load_hdr_opt(skops, &opt, sizeof(opt), 0) != LWFP_TCPOPT_LEN)
		return;
	__builtin_memcpy(&hop_id, opt.hop_id, 8);
	h = bpf_map_lookup_elem(&lwfp_pending, &hop_id);
	if (!h) {
		stat_inc(LWFP_STAT_HANDOFF_MISS);
		return;
	}
	skops_ends(skops, &e);
	if (!handoff_for(h, &e, bpf_get_netns_cookie(skops))) {
		/* the id, on a connection it was not made for */
		stat_inc(LWFP_STAT_HANDOFF_FOREIGN);
		return;
	}
	sk = skops->sk;
	if (!sk)
		return;
	st = bpf_sk_storage_get(&lwfp_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return;
	__builtin_memcpy(st, &h->hop, sizeof(*st));
	st->role = LWFP_ROLE_ACCEPTED;
	handoff_free(hop_id, st->uid);
	stat_inc(LWFP_STAT_HANDOFF);
	live_register(st);
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
				  BPF_SOCK_OPS_STATE_CB_FLAG);
}

/*
 * A socket closes. An accepted one: its records stop counting. A client:
 * its hop, if nobody took it, never will be (a client reaches CLOSE only
 * after the service side saw its FIN, or with a reset that ends it).
 */
static __always_inline void on_state(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct lwfp_hop *st;

	if (skops->args[1] != BPF_TCP_CLOSE || !sk)
		return;
	st = bpf_sk_storage_get(&lwfp_sk, sk, 0, 0);
	if (!st)
		return;
	if (st->role == LWFP_ROLE_ACCEPTED) {
		if (!bpf_map_delete_elem(&lwfp_live, &st->rec.token))
			share_give(LWFP_SHARE_LIVE, st->uid);
	} else if (st->role == LWFP_ROLE_CLIENT) {
		handoff_drop(st->hop_id, st->uid);
		if (skops_is_mptcp(skops)) {
			struct tcp_ends e;

			skops_ends(skops, &e);
			mptcp_forget(skops, &e);
		}
	}
}

#endif /* LWFP_HANDOFF_BPF_H */
