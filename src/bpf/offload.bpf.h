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
 * The skb's TCP sequence: an sk_skb program's cb[] is the start of the
 * skb's control buffer (struct sk_skb_cb: so on every kernel with
 * bpf_loop(), 5.17+, which the cut needs anyway), where TCP keeps
 * struct tcp_skb_cb, whose first word is the sequence. No kfunc, so the
 * verdict loads on 6.1.
 */
static __always_inline __u32 offload_skb_seq(const struct __sk_buff *skb)
{
	return skb->cb[0];
}

#define OFFLOAD_TRIM_STEP	0xfff	/* most bpf_skb_adjust_room() cuts */
#define OFFLOAD_TRIM_STEPS	64	/* so at most 262,080 bytes */

struct offload_cut {
	struct __sk_buff *skb;
	__u32 left;
	bool failed;
};

/* bpf_loop() body: one cut from the skb's head (verified once). */
static int offload_cut_step(__u32 i, void *arg)
{
	struct offload_cut *c = arg;
	__u32 step = c->left < OFFLOAD_TRIM_STEP ? c->left : OFFLOAD_TRIM_STEP;

	if (bpf_skb_adjust_room(c->skb, -(__s32)step, 0, 0)) {
		c->failed = true;
		return 1;
	}
	c->left -= step;
	return !c->left;
}

/*
 * The kernel hands the verdict whole skbs off the receive queue
 * (tcp_read_skb()), and TCP queues a retransmission whole even when it
 * begins with bytes an earlier skb brought: redirected as it is, the
 * peer would get those bytes twice. Cut what the verdict has seen
 * already; it starts where the broker stopped reading (copied_seq).
 * False if the bytes could not be cut: the flow is broken.
 */
static __always_inline bool offload_trim(struct __sk_buff *skb,
					 struct lwfp_offload_count *cnt)
{
	__u32 seq = offload_skb_seq(skb), end = seq + skb->len, seen;
	struct offload_cut cut = { .skb = skb };

	if (!(cnt->flags & LWFP_OFFLOAD_RCV_KNOWN)) {
		struct bpf_sock *sk = skb->sk;
		struct tcp_sock *tp = sk ? bpf_skc_to_tcp_sock(sk) : NULL;

		/* TCP queues no byte past rcv_nxt, and the first skb
		 * starts where nothing was read yet or before: a kernel
		 * that kept the sequence elsewhere fails here, closed */
		if (!tp || (__s32)(tp->rcv_nxt - end) < 0 ||
		    (__s32)(tp->copied_seq - seq) < 0)
			return false;
		cnt->rcv_next = tp->copied_seq;
		cnt->flags |= LWFP_OFFLOAD_RCV_KNOWN;
	}
	seen = cnt->rcv_next - seq;
	cnt->rcv_next = end;
	if ((__s32)seen <= 0)
		return true;
	if (seen >= skb->len)
		return false;	/* TCP queues no skb it has all of */
	cut.left = seen;
	bpf_loop(OFFLOAD_TRIM_STEPS, offload_cut_step, &cut, 0);
	cnt->trimmed += seen - cut.left;
	return !cut.failed && !cut.left;
}

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
	if (!(cnt->flags & LWFP_OFFLOAD_BROKEN) && !offload_trim(skb, cnt))
		cnt->flags |= LWFP_OFFLOAD_BROKEN;
	len = skb->len;		/* less what was cut */
	/* broken: spilled, the broker resets the flow before it writes any
	 * of it */
	if (cnt->flags & LWFP_OFFLOAD_BROKEN || ctl->paused ||
	    cnt->spilled != ctl->drained || offload_over_bound(ctl, cnt, len))
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
