/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * MPTCP: an MPTCP socket connects through its first subflow, a TCP socket
 * of the kernel's, which the connect hooks see and redirect like any
 * other (the hand-off works on it too). The application asks its MPTCP
 * socket for its peer, though, and that socket holds no hop: the engine
 * keeps the original destination by connection (lwfp_mptcp) while the
 * subflow lives, for getpeername() to find.
 */
#ifndef LWFP_MPTCP_BPF_H
#define LWFP_MPTCP_BPF_H

#include <bpf/bpf_core_read.h>

#define IPPROTO_MPTCP_SK	262	/* sk_protocol of an MPTCP socket */

/* Is the sock_ops socket an MPTCP subflow? (A kernel without MPTCP has
 * no such field: never.) */
static __always_inline bool skops_is_mptcp(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;	/* read once: see hooked() */
	struct tcp_sock *tp;

	if (!bpf_core_field_exists(((struct tcp_sock *)0)->is_mptcp) || !sk)
		return false;
	tp = bpf_skc_to_tcp_sock(sk);
	return tp && tp->is_mptcp;
}

static __always_inline void mptcp_key(struct lwfp_tuple *t,
				      const struct tcp_ends *e, __u64 netns)
{
	__builtin_memcpy(t->local, e->local, 16);
	__builtin_memcpy(t->peer, e->remote, 16);
	t->local_port_be = e->local_port_be;
	t->peer_port_be = e->remote_port_be;
	t->_pad = 0;
	t->netns = netns;
}

/* A redirected subflow connects: remember where its client was going. */
static __always_inline void mptcp_publish(struct bpf_sock_ops *skops,
					  const struct tcp_ends *e,
					  const struct lwfp_endpoint *orig)
{
	struct lwfp_tuple t;

	mptcp_key(&t, e, bpf_get_netns_cookie(skops));
	/* full: still redirected, but getpeername() shows the service */
	if (bpf_map_update_elem(&lwfp_mptcp, &t, orig, BPF_ANY))
		stat_inc(LWFP_STAT_MPTCP_FULL);
}

static __always_inline void mptcp_forget(struct bpf_sock_ops *skops,
					 const struct tcp_ends *e)
{
	struct lwfp_tuple t;

	mptcp_key(&t, e, bpf_get_netns_cookie(skops));
	bpf_map_delete_elem(&lwfp_mptcp, &t);
}

/* getpeername() on a redirected MPTCP socket: the original destination,
 * found by the socket's own address and the peer the kernel reports. */
static __always_inline const struct lwfp_endpoint *
mptcp_orig(struct bpf_sock_addr *ctx, bool v6)
{
	struct bpf_sock *sk = ctx->sk;
	struct lwfp_tuple t = {};
	__u32 *l = (__u32 *)t.local, *p = (__u32 *)t.peer;

	if (!sk || sk->protocol != IPPROTO_MPTCP_SK)
		return NULL;
	if (!v6) {
		l[2] = p[2] = bpf_htonl(0xffff);
		l[3] = sk->src_ip4;
		p[3] = ctx->user_ip4;
	} else {
		l[0] = sk->src_ip6[0];
		l[1] = sk->src_ip6[1];
		l[2] = sk->src_ip6[2];
		l[3] = sk->src_ip6[3];
		p[0] = ctx->user_ip6[0];
		p[1] = ctx->user_ip6[1];
		p[2] = ctx->user_ip6[2];
		p[3] = ctx->user_ip6[3];
	}
	t.local_port_be = bpf_htons((__u16)sk->src_port);
	t.peer_port_be = (__u16)ctx->user_port;
	t.netns = bpf_get_netns_cookie(ctx);
	return bpf_map_lookup_elem(&lwfp_mptcp, &t);
}

#endif /* LWFP_MPTCP_BPF_H */
