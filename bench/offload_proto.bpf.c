// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Prototype for issue 15 (bench_offload): a proxy's accepted socket and
 * its outbound socket, paired, relay each other's bytes in the kernel.
 * Both sockets are in `targets`, a SOCKHASH keyed by socket cookie with
 * no program (a socket there is only a place to redirect to), and then in
 * a SOCKHASH with the verdict program (a socket there has its arriving
 * skbs redirected). `peers` maps a cookie to its peer's cookie and counts
 * the bytes redirected from it. The verdict program redirects every skb
 * that arrives on one socket to the egress of the other (flags 0: sent by
 * the peer socket, as if the proxy had written it).
 *
 * Why two maps: a socket starts being relayed when it joins the map with
 * the program (under its socket lock; what it already holds stays in its
 * receive queue, in order), and by then its peer must already be a
 * target, or the redirect fails and the skb is dropped after TCP has
 * acknowledged it. With one map the second socket of the pair is missing
 * while the first is already relayed.
 *
 * Two copies, so that one run measures both psock modes: relay_strp is
 * attached with a stream parser (BPF_SK_SKB_STREAM_PARSER +
 * BPF_SK_SKB_STREAM_VERDICT, on socks_strp), relay_verd without
 * (BPF_SK_SKB_VERDICT, 5.13+, on socks_verd).
 *
 * Not the engine: a prototype, throwaway quality, loaded by the
 * benchmark only.
 */
#include "kernel.bpf.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct peer {
	__u64 peer;	/* the peer's cookie: its key in the sockhash */
	__u64 bytes;	/* redirected from this socket to the peer */
	__u64 drops;	/* skbs the redirect refused */
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} socks_strp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} socks_verd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct peer);
} peers SEC(".maps");

/* set before load: 1 keeps an skb without data (a bare FIN) on its own
 * socket instead of redirecting it */
const volatile int ZERO_LEN_PASS = 0;

static __always_inline int relay(struct __sk_buff *skb)
{
	__u64 c = bpf_get_socket_cookie(skb);
	struct peer *p = bpf_map_lookup_elem(&peers, &c);
	int v;

	if (!p)
		return SK_PASS;	/* not paired (yet): the owner reads it */
	if (!skb->len && ZERO_LEN_PASS)
		return SK_PASS;	/* a bare FIN: see the prototype's notes */
	v = bpf_sk_redirect_hash(skb, &targets, &p->peer, 0);
	if (v == SK_PASS)
		__sync_fetch_and_add(&p->bytes, skb->len);
	else
		__sync_fetch_and_add(&p->drops, 1);
	return v;
}

SEC("sk_skb/stream_parser")
int relay_parser(struct __sk_buff *skb)
{
	return skb->len;	/* no message framing: all of it */
}

SEC("sk_skb/stream_verdict")
int relay_strp(struct __sk_buff *skb)
{
	return relay(skb);
}

SEC("sk_skb")	/* attached as BPF_SK_SKB_VERDICT: libbpf 1.1 has no section name for it */
int relay_verd(struct __sk_buff *skb)
{
	return relay(skb);
}

/*
 * The local bypass (variant "bypass"): when the client and the origin are
 * both on this host, their own sockets can be joined and neither TCP
 * connection carries the bytes. A sockops program (attached to the
 * benchmark's cgroup "local" only) puts every established socket there
 * into `local_socks`, keyed by its 4-tuple as seen from it. The relay
 * fills `bypass`: its accepted socket's tuple -> its outbound socket's
 * tuple and back. On a sendmsg() of the client (K), the sk_msg program
 * finds the relay's accepted socket C (K's tuple reversed), C's outbound
 * socket O, and the origin's socket A (O's tuple reversed), and puts the
 * bytes straight on A's receive side (BPF_F_INGRESS).
 */
struct tuple {
	__u32 lip, rip;		/* network order */
	__u32 lport, rport;	/* host order */
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 4096);
	__type(key, struct tuple);
	__type(value, __u64);
} local_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tuple);
	__type(value, struct tuple);
} bypass SEC(".maps");

__u64 bypassed_bytes;

SEC("sockops")
int local_ops(struct bpf_sock_ops *s)
{
	struct tuple t;

	if (s->family != 2 /* AF_INET */ ||
	    (s->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	     s->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB))
		return 1;
	t.lip = s->local_ip4;
	t.rip = s->remote_ip4;
	t.lport = s->local_port;
	t.rport = bpf_ntohl(s->remote_port);
	bpf_sock_hash_update(s, &local_socks, &t, BPF_ANY);
	return 1;
}

SEC("sk_msg")
int local_msg(struct sk_msg_md *m)
{
	struct tuple c = { m->remote_ip4, m->local_ip4,
			   bpf_ntohl(m->remote_port), m->local_port };
	struct tuple *o = bpf_map_lookup_elem(&bypass, &c);
	struct tuple a;

	if (!o)
		return SK_PASS;
	a.lip = o->rip;
	a.rip = o->lip;
	a.lport = o->rport;
	a.rport = o->lport;
	__sync_fetch_and_add(&bypassed_bytes, m->size);
	return bpf_msg_redirect_hash(m, &local_socks, &a, BPF_F_INGRESS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
