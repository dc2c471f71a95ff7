/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * The kernel's types as the callout sees them, in place of a vmlinux.h
 * dumped from the build host's running kernel (which made the object
 * depend on the machine that built it): the UAPI from the distribution's
 * headers, and, declared by hand, the few kernel-internal fields the
 * programs read.
 *
 * Every record here is preserve_access_index: each field access is a
 * CO-RE relocation that libbpf resolves against the BTF of the kernel
 * that loads the object, so a field may sit anywhere on that kernel and
 * these declarations need only the fields used (docs/hacking.md).
 */
#ifndef LWFP_KERNEL_BPF_H
#define LWFP_KERNEL_BPF_H

#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef _Bool bool;
enum { false = 0, true = 1 };

#pragma clang attribute push(__attribute__((preserve_access_index)), \
			     apply_to = record)

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

/* bpf_get_current_task_btf(): when the thread group's leader started */
struct task_struct {
	struct task_struct *group_leader;
	u64 start_boottime;
};

/* bpf_skc_to_tcp_sock(): is_mptcp only on kernels built with MPTCP, so
 * read behind bpf_core_field_exists() (mptcp.bpf.h); write_seq for the
 * offload's bound, copied_seq where its verdict starts and rcv_nxt to
 * check its first skb (offload.bpf.h) */
struct tcp_sock {
	bool is_mptcp;
	u32 write_seq;
	u32 copied_seq;
	u32 rcv_nxt;
};

/* the flows iterator reads a socket's TCP state */
struct sock_common {
	volatile unsigned char skc_state;
};

struct sock {
	struct sock_common __sk_common;
};

struct seq_file;
struct bpf_map;

/* the context of SEC("iter/bpf_sk_storage_map") programs */
struct bpf_iter_meta {
	union {
		struct seq_file *seq;
	};
	u64 session_id;
	u64 seq_num;
};

struct bpf_iter__bpf_sk_storage_map {
	union {
		struct bpf_iter_meta *meta;
	};
	union {
		struct bpf_map *map;
	};
	union {
		struct sock *sk;
	};
	union {
		void *value;
	};
};

#pragma clang attribute pop

#endif /* LWFP_KERNEL_BPF_H */
