/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * Hand-offs in flight (lwfp_pending). A redirected TCP connect reserves
 * its hand-off when it is decided, so that a connect with no room for it
 * is refused there and then; the socket fills in its connection when it
 * sends its SYN (handoff.bpf.h). A reservation ends when the service
 * side takes it, when the client's connection closes, or, for a connect
 * that never sent its SYN, when the socket connects again or is closed.
 */
#ifndef LWFP_PENDING_BPF_H
#define LWFP_PENDING_BPF_H

/* Reserve the hand-off of a redirected TCP connect, against its uid's
 * share: 0, or the counter of why there is no room. Not inlined: the
 * hand-off stays off the stack of the classifier's deepest calls. */
static __noinline int handoff_reserve(const struct lwfp_hop *st, __u32 share)
{
	struct lwfp_handoff h = {};

	if (!st)
		return LWFP_STAT_REFUSED_FULL;
	if (!share_take(LWFP_SHARE_PENDING, st->uid, share))
		return LWFP_STAT_PENDING_SHARE;
	h.hop = *st;
	if (bpf_map_update_elem(&lwfp_pending, &st->hop_id, &h, BPF_NOEXIST)) {
		share_give(LWFP_SHARE_PENDING, st->uid);
		return LWFP_STAT_PENDING_FULL;
	}
	return 0;
}

/* Free hand-off hop_id, reserved by uid: taken, or never will be. */
static __always_inline void handoff_free(__u64 hop_id, __u32 uid)
{
	if (!bpf_map_delete_elem(&lwfp_pending, &hop_id))
		share_give(LWFP_SHARE_PENDING, uid);
}

/* Hand-off hop_id will never be taken: free it if it is still there.
 * Mostly the service side took it already, and a lookup that misses
 * costs less than a delete that misses (which locks its bucket). */
static __always_inline void handoff_drop(__u64 hop_id, __u32 uid)
{
	if (bpf_map_lookup_elem(&lwfp_pending, &hop_id))
		handoff_free(hop_id, uid);
}

/* A TCP socket connects again (its earlier connect failed or ended, or
 * it disconnected with AF_UNSPEC): it is no longer that flow's client. */
static __always_inline void client_reset(struct lwfp_hop *st)
{
	if (st->role != LWFP_ROLE_CLIENT)
		return;
	handoff_drop(st->hop_id, st->uid);
	st->role = LWFP_ROLE_NONE;
}

#endif /* LWFP_PENDING_BPF_H */
