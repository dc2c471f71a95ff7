/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * The offloaded relay's verdict (lwfp_abi.h, lwfp-offload(7)): every skb
 * arriving on a paired socket goes to its peer's egress, unless its
 * direction spills. Attached to lwfp_offload_relay as BPF_SK_SKB_VERDICT
 * (5.13+): libbpf 1.1 knows no section name for that attach type, so the
 * section is plain "sk_skb" and the loader attaches it.
 */
#ifndef LWFP_OFFLOAD_BPF_H
#define LWFP_OFFLOAD_BPF_H

/*
 * Would redirecting len more bytes from this socket leave more than
 * ctl->bound waiting? Redirected bytes not yet in the peer's write queue
 * wait on the peer's psock, charged to no socket. The peer's write_seq
 * counts what reached its write queue, the broker's own writes too
 * (ctl->peer_user); sequence arithmetic is mod 2^32, and what waits is
 * far below 2^31. The first redirect finds nothing waiting and takes
 * the peer's sequence base then.
 */
static __always_inline bool offload_over_bound(
	const struct lwfp_offload_ctl *ctl, struct lwfp_offload_count *cnt,
	__u32 len)
{
	__u64 key = ctl->peer;
	struct bpf_sock *peer = bpf_map_lookup_elem(&lwfp_offload_peers, &key);
	struct tcp_sock *tp;
	__u32 seq, waiting;

	if (!peer)
		return true;
	tp = bpf_skc_to_tcp_sock(peer);
	seq = tp ? tp->write_seq : 0;
	bpf_sk_release(peer);
	if (!tp)
		return true;
	seq -= (__u32)ctl->peer_user;
	if (!cnt->redirected)
		cnt->peer_seq0 = seq;
	waiting = (__u32)cnt->redirected - (seq - cnt->peer_seq0);
	return waiting + len > ctl->bound;
}

SEC("sk_skb")
int lwfp_offload_verdict(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb), peer;
	const struct lwfp_offload_ctl *ctl;
	struct lwfp_offload_count *cnt;
	__u32 len = skb->len;

	ctl = bpf_map_lookup_elem(&lwfp_offload_ctl, &cookie);
	cnt = bpf_map_lookup_elem(&lwfp_offload_count, &cookie);
	/* A bare FIN: TCP has shut the socket's receive side already, which
	 * is how the broker learns of it; the skb carries nothing. Not
	 * redirected (a 0-byte send is a hard error to the peer's psock),
	 * nor passed (queued behind bytes waiting to leave through this
	 * socket, the psock's worker would take it as one and stop the
	 * socket with EPIPE). */
	if (!len)
		return SK_DROP;
	/* the broker makes both before the socket joins the relay map */
	if (!ctl || !cnt)
		return SK_PASS;
	if (ctl->paused || cnt->spilled != ctl->drained ||
	    offload_over_bound(ctl, cnt, len))
		goto spill;
	peer = ctl->peer;
	if (bpf_sk_redirect_hash(skb, &lwfp_offload_peers, &peer, 0) !=
	    SK_PASS)
		goto spill;	/* the peer is gone: the broker sees it */
	__sync_fetch_and_add(&cnt->redirected, len);
	return SK_PASS;
spill:
	__sync_fetch_and_add(&cnt->spilled, len);
	return SK_PASS;
}

#endif /* LWFP_OFFLOAD_BPF_H */
