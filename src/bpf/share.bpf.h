/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * Each uid's share of the tables one user could otherwise fill for
 * everyone: UDP flows, hand-offs in flight, live TCP flows. The tables
 * evict nobody (an LRU map would drop another user's flow), so a full
 * one refuses; the shares keep one uid from filling it. Counts are kept
 * where entries come and go: taken before an entry is added, given back
 * only when a delete removed one.
 */
#ifndef LWFP_SHARE_BPF_H
#define LWFP_SHARE_BPF_H

/* Take one of uid's share of kind; false if it has none left, or there
 * is no room to count it (refuse: fail closed). */
static __always_inline bool share_take(__u32 kind, __u32 uid, __u32 share)
{
	struct lwfp_share_key key = { .uid = uid, .kind = kind };
	__u32 *n = bpf_map_lookup_elem(&lwfp_shares, &key), one = 1;

	if (!n) {
		if (!bpf_map_update_elem(&lwfp_shares, &key, &one,
					 BPF_NOEXIST))
			return true;
		n = bpf_map_lookup_elem(&lwfp_shares, &key);
		if (!n)
			return false;
	}
	/* take, then look: CPUs taking at once cannot all slip under */
	if (__sync_fetch_and_add(n, 1) < share)
		return true;
	__sync_fetch_and_add(n, -1);
	return false;
}

/* A uid holding nothing leaves the table, so that uids that come and go
 * cannot fill it (a count another CPU raised in between is lost: a uid
 * may then hold one more than its share). */
static __always_inline void share_give(__u32 kind, __u32 uid)
{
	struct lwfp_share_key key = { .uid = uid, .kind = kind };
	__u32 *n = bpf_map_lookup_elem(&lwfp_shares, &key);

	if (n && *n && __sync_fetch_and_add(n, -1) == 1)
		bpf_map_delete_elem(&lwfp_shares, &key);
}

#endif /* LWFP_SHARE_BPF_H */
