// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * The lwfp callout: cgroup hooks that redirect connects (and UDP sends) to
 * a redirect service, hand the client's redirect state to the socket the
 * service accepts (or, for UDP, to the flow it receives), and keep
 * getpeername() and UDP reply sources truthful for the client.
 */
#include "kernel.bpf.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lwfp_abi.h"
#include "siphash.h"
#include "consts.bpf.h"
#include "maps.bpf.h"
#include "helpers.bpf.h"
#include "share.bpf.h"
#include "pending.bpf.h"
#include "classify.bpf.h"
#include "binder.bpf.h"
#include "decide.bpf.h"
#include "udp.bpf.h"
#include "sockopt.bpf.h"
#include "skops.bpf.h"
#include "mptcp.bpf.h"
#include "handoff.bpf.h"
#include "offload.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* A connect the engine refuses fails now with err (see lwfp_decide). */
static __always_inline int refuse_connect(int err)
{
	bpf_set_retval(-err);
	return 0;
}

/* TCP connects; UDP connects and sends: their protocol, or 0. Each ctx
 * field is read once (clang would otherwise reuse a ctx+off pointer,
 * which the verifier refuses). */
static __always_inline __u8 hooked(struct bpf_sock_addr *ctx)
{
	__u32 type = ctx->type, proto = ctx->protocol;

	if ((type == SOCK_STREAM && proto == IPPROTO_TCP) ||
	    (type == SOCK_DGRAM && proto == IPPROTO_UDP))
		return proto;
	return 0;
}

/* Where a connect or a UDP send goes: the service, or NULL for where it
 * was going. An unconnected UDP socket sending on to the destination of
 * its hop continues that flow without a new decision. */
static __always_inline const struct lwfp_service *
redirect(struct bpf_sock_addr *ctx, struct cls_walk *w, bool connect,
	 int *refuse)
{
	const struct lwfp_service *svc = NULL;

	if (w->ci.dst.proto == IPPROTO_UDP && !connect)
		svc = udp_same_flow(ctx, &w->ci);
	if (svc)
		return svc;
	svc = lwfp_decide(ctx, w, refuse);
	if (w->ci.dst.proto == IPPROTO_UDP)
		udp_decided(ctx, svc, connect);
	return svc;
}

static __always_inline int redirect4(struct bpf_sock_addr *ctx, bool connect)
{
	struct cls_walk w = {};
	struct connect_info *ci = &w.ci;
	const struct lwfp_service *svc;
	__u32 ip4 = ctx->user_ip4;
	__u8 proto = hooked(ctx);
	int refuse = 0;

	if (!proto)
		return SK_PASS;
	ci->dst.addr[10] = 0xff;
	ci->dst.addr[11] = 0xff;
	__builtin_memcpy(&ci->dst.addr[12], &ip4, 4);
	ci->dst.port_be = (__u16)ctx->user_port;
	ci->dst.family = AF_INET;
	ci->dst.proto = proto;

	svc = redirect(ctx, &w, connect, &refuse);
	if (refuse)
		return refuse_connect(refuse);
	if (!svc)
		return SK_PASS;
	__builtin_memcpy(&ip4, svc->addr4, 4);
	ctx->user_ip4 = ip4;
	ctx->user_port = svc->port_be;
	return SK_PASS;
}

static __always_inline int redirect6(struct bpf_sock_addr *ctx, bool connect)
{
	struct cls_walk walk = {};
	struct connect_info *ci = &walk.ci;
	__u32 *dst = (__u32 *)ci->dst.addr;
	const struct lwfp_service *svc;
	__u8 proto = hooked(ctx);
	int refuse = 0;

	if (!proto)
		return SK_PASS;
	/* user_ip6 allows only 4-byte accesses (and the stack is tight on
	 * 6.1: no copy buffer) */
	dst[0] = ctx->user_ip6[0];
	dst[1] = ctx->user_ip6[1];
	dst[2] = ctx->user_ip6[2];
	dst[3] = ctx->user_ip6[3];
	ci->dst.port_be = (__u16)ctx->user_port;
	ci->dst.family = AF_INET6;
	ci->dst.proto = proto;
	ci->v6_send = !connect;	/* sendmsg6 is UDP only */

	svc = redirect(ctx, &walk, connect, &refuse);
	if (refuse)
		return refuse_connect(refuse);
	if (!svc)
		return SK_PASS;
	ctx->user_ip6[0] = ((const __u32 *)svc->addr6)[0];
	ctx->user_ip6[1] = ((const __u32 *)svc->addr6)[1];
	ctx->user_ip6[2] = ((const __u32 *)svc->addr6)[2];
	ctx->user_ip6[3] = ((const __u32 *)svc->addr6)[3];
	ctx->user_port = svc->port_be;
	return SK_PASS;
}

SEC("cgroup/connect4")
int lwfp_connect4(struct bpf_sock_addr *ctx)
{
	return redirect4(ctx, true);
}

SEC("cgroup/connect6")
int lwfp_connect6(struct bpf_sock_addr *ctx)
{
	return redirect6(ctx, true);
}

/* Unconnected UDP: each sendto()/sendmsg() with a destination. */
SEC("cgroup/sendmsg4")
int lwfp_sendmsg4(struct bpf_sock_addr *ctx)
{
	return redirect4(ctx, false);
}

SEC("cgroup/sendmsg6")
int lwfp_sendmsg6(struct bpf_sock_addr *ctx)
{
	return redirect6(ctx, false);
}

/* Replies from the service appear to come from the original peer. */
SEC("cgroup/recvmsg4")
int lwfp_recvmsg4(struct bpf_sock_addr *ctx)
{
	struct lwfp_endpoint orig;
	__u32 ip4 = ctx->user_ip4;
	__u8 src[16] = { [10] = 0xff, [11] = 0xff };

	__builtin_memcpy(&src[12], &ip4, 4);
	if (!udp_reply_from_service(ctx, src, &orig) ||
	    orig.family != AF_INET)
		return 1;
	__builtin_memcpy(&ip4, &orig.addr[12], 4);
	ctx->user_ip4 = ip4;
	ctx->user_port = orig.port_be;
	return 1;
}

SEC("cgroup/recvmsg6")
int lwfp_recvmsg6(struct bpf_sock_addr *ctx)
{
	struct lwfp_endpoint orig;
	__u32 w[4];

	w[0] = ctx->user_ip6[0];
	w[1] = ctx->user_ip6[1];
	w[2] = ctx->user_ip6[2];
	w[3] = ctx->user_ip6[3];
	/* an IPv6 socket's unconnected send to a v4-mapped address went
	 * through sendmsg4: its hop is IPv4, stored v4-mapped as always */
	if (!udp_reply_from_service(ctx, (const __u8 *)w, &orig))
		return 1;
	__builtin_memcpy(w, orig.addr, 16);
	ctx->user_ip6[0] = w[0];
	ctx->user_ip6[1] = w[1];
	ctx->user_ip6[2] = w[2];
	ctx->user_ip6[3] = w[3];
	ctx->user_port = orig.port_be;
	return 1;
}

/*
 * Only here is a UDP flow's source known (a connect, or a send from an
 * unbound socket, picks it after the hooks above): a redirected UDP
 * socket's datagrams to its service start or refresh its flow. Every
 * other packet costs a socket-protocol check.
 */
SEC("cgroup_skb/egress")
int lwfp_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct lwfp_hop *st;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_UDP)
		return 1;
	st = udp_client(sk);
	return st ? udp_egress(skb, sk, st) : 1;
}

/* A UDP datagram from a flow's source must be the flow's (udp_ingress).
 * Every other packet costs a socket-protocol check. */
SEC("cgroup_skb/ingress")
int lwfp_ingress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_UDP)
		return 1;
	return udp_ingress(skb);
}

/* Who binds each socket: a service's listener is known as its own. */
SEC("cgroup/post_bind4")
int lwfp_post_bind4(struct bpf_sock *sk)
{
	binder_mark(sk);
	return 1;
}

SEC("cgroup/post_bind6")
int lwfp_post_bind6(struct bpf_sock *sk)
{
	binder_mark(sk);
	return 1;
}

/* A socket's last descriptor closes: its UDP flow ends; a TCP connect
 * that never sent its SYN frees its hand-off (one that did frees it when
 * the connection closes, see on_state). */
SEC("cgroup/sock_release")
int lwfp_sock_release(struct bpf_sock *sk)
{
	__u32 proto = sk->protocol, state = sk->state;
	struct lwfp_hop *st;

	if (proto == IPPROTO_UDP) {
		udp_flow_end(sk);
	} else if (proto == IPPROTO_TCP && state == BPF_TCP_CLOSE) {
		st = bpf_sk_storage_get(&lwfp_sk, sk, 0, 0);
		if (st)
			client_reset(st);
	}
	return 1;
}

/* The client sees the peer it asked for, not the service: the original
 * destination of a redirected client socket (an MPTCP socket's is kept
 * apart, see mptcp.bpf.h). */
static __always_inline const struct lwfp_endpoint *
client_orig(struct bpf_sock_addr *ctx, bool v6)
{
	struct lwfp_hop *st = client_hop(ctx->sk);

	return st ? &st->orig : mptcp_orig(ctx, v6);
}

SEC("cgroup/getpeername4")
int lwfp_getpeername4(struct bpf_sock_addr *ctx)
{
	const struct lwfp_endpoint *orig = client_orig(ctx, false);
	__u32 ip4;

	if (!orig || orig->family != AF_INET)
		return SK_PASS;
	__builtin_memcpy(&ip4, &orig->addr[12], 4);
	ctx->user_ip4 = ip4;
	ctx->user_port = orig->port_be;
	return SK_PASS;
}

SEC("cgroup/getpeername6")
int lwfp_getpeername6(struct bpf_sock_addr *ctx)
{
	const struct lwfp_endpoint *orig = client_orig(ctx, true);
	__u32 w[4];

	if (!orig || orig->family != AF_INET6)
		return SK_PASS;
	__builtin_memcpy(w, orig->addr, 16);
	ctx->user_ip6[0] = w[0];
	ctx->user_ip6[1] = w[1];
	ctx->user_ip6[2] = w[2];
	ctx->user_ip6[3] = w[3];
	ctx->user_port = orig->port_be;
	return SK_PASS;
}

SEC("sockops")
int lwfp_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		on_connect(skops);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		on_active_established(skops);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		on_write_opt(skops, true);
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		on_write_opt(skops, false);
		break;
	case BPF_SOCK_OPS_PARSE_HDR_OPT_CB:
		on_parse_opt(skops);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		on_passive_established(skops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		on_state(skops);
		break;
	}
	return 1;
}

/*
 * Unmodified transparent proxies ask getsockopt(SO_ORIGINAL_DST) where
 * an iptables REDIRECT was: answer like netfilter's getorigdst() does
 * (same struct, EINVAL for a short buffer, optlen left as given) for the
 * sockets a service accepted from a redirected flow. Other sockets keep
 * the kernel's own answer.
 */
SEC("cgroup/getsockopt")
int lwfp_getsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	struct lwfp_hop *st;
	bool v4;

	/* an engine over this one answered already (nested engines) */
	if (ctx->level == SOL_LWFP && sk && ctx->retval != 0) {
		int name = ctx->optname;

		switch (name) {
		case LWFP_SO_HOP:
			return get_hop(ctx, sk);
		case LWFP_SO_RULE_CONTEXT:
		case LWFP_SO_RULE_LAYOUT:
			return get_rule_context(ctx, sk,
						name == LWFP_SO_RULE_LAYOUT);
		case LWFP_SO_UDP_PEER:
			return get_udp_answer(ctx, sk);
		}
	}
	if (ctx->optname != SO_ORIGINAL_DST ||
	    (ctx->level != SOL_IP && ctx->level != SOL_IPV6) || !sk) {
		if (ctx->optlen > 4096)
			ctx->optlen = 0;	/* as in lwfp_setsockopt */
		return 1;
	}
	st = bpf_sk_storage_get(&lwfp_sk, sk, 0, 0);
	if (!st || st->role != LWFP_ROLE_ACCEPTED)
		return 1;
	v4 = lwfp_is_v4_mapped(st->orig.addr);
	if (v4 != (ctx->level == SOL_IP))
		return 1;
	if (v4) {
		struct sockaddr_in *sin = ctx->optval;

		if (ctx->optlen < (int)sizeof(*sin)) {
			ctx->retval = -EINVAL;
			return 1;
		}
		if ((void *)(sin + 1) > ctx->optval_end)
			return 1;
		__builtin_memset(sin, 0, sizeof(*sin));
		sin->sin_family = AF_INET;
		sin->sin_port = st->orig.port_be;
		__builtin_memcpy(&sin->sin_addr, &st->orig.addr[12], 4);
	} else {
		struct sockaddr_in6 *sin6 = ctx->optval;

		if (ctx->optlen < (int)sizeof(*sin6)) {
			ctx->retval = -EINVAL;
			return 1;
		}
		if ((void *)(sin6 + 1) > ctx->optval_end)
			return 1;
		__builtin_memset(sin6, 0, sizeof(*sin6));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = st->orig.port_be;
		__builtin_memcpy(&sin6->sin6_addr, st->orig.addr, 16);
	}
	ctx->retval = 0;
	return 1;
}

/* Records for an outbound socket, a UDP service's question about a
 * peer (see SOL_LWFP). */
SEC("cgroup/setsockopt")
int lwfp_setsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	if (ctx->level != SOL_LWFP || (ctx->optname != LWFP_SO_UDP_PEER &&
				       ctx->optname != LWFP_SO_RECORDS)) {
		/* not ours: the kernel takes the caller's buffer as it is
		 * (before 6.5, one over a page would fail without this) */
		if (ctx->optlen > 4096)
			ctx->optlen = 0;
		return 1;
	}
	if (ctx->optlen == -1)
		return 1;	/* another engine over the socket took it */
	if (!sk)
		return sockopt_refuse(EPROTONOSUPPORT);
	if (ctx->optname == LWFP_SO_RECORDS)
		return set_records(ctx, sk);
	if (sk->protocol != IPPROTO_UDP)
		return sockopt_refuse(EPROTONOSUPPORT);
	return udp_answer(ctx, sk);
}

/* `lwfp flows`: every socket the engine tracks, with its TCP state. */
SEC("iter/bpf_sk_storage_map")
int lwfp_flows(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct sock *sk = ctx->sk;
	struct lwfp_hop *v = ctx->value;
	struct lwfp_sk_dump d = {};

	if (!sk || !v)
		return 0;
	__builtin_memcpy(&d.sk, v, sizeof(d.sk));
	d.state = sk->__sk_common.skc_state;
	bpf_seq_write(ctx->meta->seq, &d, sizeof(d));
	return 0;
}
