/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* What sock_ops programs read of a TCP socket. */
#ifndef LWFP_SKOPS_BPF_H
#define LWFP_SKOPS_BPF_H

/* A TCP socket's ends as sock_ops shows them, v4-mapped if IPv4. */
struct tcp_ends {
	__u8 local[16];
	__u8 remote[16];
	__u16 local_port_be;
	__u16 remote_port_be;
};

/* Read a sock_ops field into a register now: clang would otherwise
 * share one ctx+offset pointer between branches, which the verifier
 * refuses. */
#define SKOPS_READ(field) ({					\
	__u32 __v = skops->field;				\
	asm volatile("" : "+r"(__v));				\
	__v;							\
})

static __always_inline void skops_ends(struct bpf_sock_ops *skops,
				       struct tcp_ends *e)
{
	__u32 *l = (__u32 *)e->local, *r = (__u32 *)e->remote;
	__u32 rport = SKOPS_READ(remote_port);

	if (SKOPS_READ(family) == AF_INET) {
		l[0] = l[1] = r[0] = r[1] = 0;
		l[2] = r[2] = bpf_htonl(0xffff);
		l[3] = SKOPS_READ(local_ip4);
		r[3] = SKOPS_READ(remote_ip4);
	} else {
		/* an IPv6 socket's IPv4 connection is v4-mapped already */
		l[0] = SKOPS_READ(local_ip6[0]);
		l[1] = SKOPS_READ(local_ip6[1]);
		l[2] = SKOPS_READ(local_ip6[2]);
		l[3] = SKOPS_READ(local_ip6[3]);
		r[0] = SKOPS_READ(remote_ip6[0]);
		r[1] = SKOPS_READ(remote_ip6[1]);
		r[2] = SKOPS_READ(remote_ip6[2]);
		r[3] = SKOPS_READ(remote_ip6[3]);
	}
	e->local_port_be = bpf_htons((__u16)SKOPS_READ(local_port));
	/* remote_port holds the port's network-order bytes, and on a
	 * little-endian machine in its upper half */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	e->remote_port_be = (__u16)(rport >> 16);
#else
	e->remote_port_be = (__u16)rport;
#endif
}

#endif /* LWFP_SKOPS_BPF_H */
