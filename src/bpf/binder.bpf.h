/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * Listeners that cannot be stolen: who bound each socket is kept with it,
 * and a service registered by pid or cgroup counts as listening only on a
 * socket its user or its cgroup bound (lwfp_abi.h, struct lwfp_binder).
 */
#ifndef LWFP_BINDER_BPF_H
#define LWFP_BINDER_BPF_H

/* At bind: remember who. Without room to, the socket is nobody's. */
static __always_inline void binder_mark(struct bpf_sock *sk)
{
	struct lwfp_binder *b;

	b = bpf_sk_storage_get(&lwfp_binder, sk, 0,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (!b)
		return;
	b->uid = (__u32)bpf_get_current_uid_gid();
	for (int i = 0; i < LWFP_BINDER_LEVELS; i++)
		b->cgroup[i] = bpf_get_current_ancestor_cgroup_id(i);
}

/* Is sk, found on a service's address, the service's own? */
static __always_inline bool bound_by_service(const struct lwfp_service *svc,
					     struct bpf_sock *sk)
{
	const struct lwfp_binder *b;
	__u32 level = svc->cgroup_level;

	if (!svc->pid && !svc->cgroup_id)
		return true;	/* registered as anyone's: see lwfp(8) */
	b = bpf_sk_storage_get(&lwfp_binder, sk, 0, 0);
	if (!b)
		return false;
	/* root's too: a service may bind a low port as root, then drop to
	 * its user; whoever is root could take its place anyway */
	if (svc->pid)
		return b->uid == svc->uid || !b->uid;
	return level < LWFP_BINDER_LEVELS &&
	       b->cgroup[level] == svc->cgroup_id;
}

#endif /* LWFP_BINDER_BPF_H */
