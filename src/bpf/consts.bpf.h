/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Constants kernel.bpf.h does not carry (the kernel #defines them in
 * headers outside its UAPI). */
#ifndef LWFP_CONSTS_BPF_H
#define LWFP_CONSTS_BPF_H

#define AF_INET		2
#define AF_INET6	10
#define SOCK_STREAM	1
#define SOCK_DGRAM	2
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff
#define CLOCK_BOOTTIME	7
#define NSEC_PER_SEC	1000000000ull

#define TCPHDR_SYN	0x02

#define SK_DROP		0
#define SK_PASS		1

#define SOL_IP		0
#define SOL_IPV6	41
#define SO_ORIGINAL_DST	80	/* and IP6T_SO_ORIGINAL_DST at SOL_IPV6 */
#define EPERM		1
#define EINVAL		22
#define ECONNREFUSED	111
#define ENODATA		61
#define ENOMEM		12
#define EACCES		13
#define EPROTONOSUPPORT	93
#define EISCONN		106
#define ESTALE		116
#define ENOMSG		42

#endif /* LWFP_CONSTS_BPF_H */
