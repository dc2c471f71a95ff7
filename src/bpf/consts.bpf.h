/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* Constants vmlinux.h does not carry (they are #defines in the kernel). */
#ifndef LWFP_CONSTS_BPF_H
#define LWFP_CONSTS_BPF_H

#define AF_INET		2
#define AF_INET6	10
#define SOCK_STREAM	1

#define TCPHDR_SYN	0x02

#define SK_PASS		1

#endif /* LWFP_CONSTS_BPF_H */
