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
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

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

char LICENSE[] SEC("license") = "Dual MIT/GPL";
