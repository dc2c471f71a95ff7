/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* The engine's maps. User space finds them pinned under the pin directory. */
#ifndef LWFP_MAPS_BPF_H
#define LWFP_MAPS_BPF_H

/* Per-socket redirect state; dies with the socket. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lwfp_hop);
} lwfp_sk SEC(".maps");

/* Client hops waiting for the service side to accept them, by hop id. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LWFP_PENDING_MAX);
	__type(key, __u64);
	__type(value, struct lwfp_hop);
} lwfp_pending SEC(".maps");

/* Records handed out on accepted sockets that are still open, by token:
 * records are honoured only while the flow they name lives. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LWFP_LIVE_MAX);
	__type(key, __u64);
	__type(value, struct lwfp_hop);
} lwfp_live SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LWFP_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct lwfp_service);
} lwfp_services SEC(".maps");

/* Two halves; lwfp_config.table says which one is live. Mmapable: the
 * control plane writes the idle half with memcpy. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * LWFP_MAX_RULES);
	__type(key, __u32);
	__type(value, struct lwfp_rule);
} lwfp_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lwfp_config);
} lwfp_config SEC(".maps");

/* The rule classifier (see lwfp_abi.h), one per table half: its header,
 * the field indexes, the bitmaps and their words. The big arrays are
 * mmapable: the control plane writes a half with memcpy, not a syscall
 * per element. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct lwfp_cls_hdr);
} lwfp_cls_hdr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2 * 4 * LWFP_MAX_RULES);
	__type(key, struct lwfp_cls_key);
	__type(value, __u32);
} lwfp_cls_index SEC(".maps");

/* the network mask of each prefix length, written at load */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LWFP_CLS_LENS + 1);
	__type(key, __u32);
	__type(value, struct lwfp_cls_mask);
} lwfp_cls_masks SEC(".maps");

/* port trie node to bitmap id: half * LWFP_CLS_PORT_NODES + node */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * LWFP_CLS_PORT_NODES);
	__type(key, __u32);
	__type(value, __u32);
} lwfp_cls_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * LWFP_CLS_BITMAPS_MAX);
	__type(key, __u32);
	__type(value, struct lwfp_cls_bitmap);
} lwfp_cls_bitmaps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * LWFP_CLS_POOL_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lwfp_cls_words SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LWFP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lwfp_stats SEC(".maps");

/* Rule context bytes, by rule id. Read by the library, never by programs:
 * flows keep only the rule id, so kernel memory per flow stays small. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2 * LWFP_MAX_RULES);
	__type(key, __u32);
	__type(value, struct lwfp_rule_ctx);
} lwfp_rule_ctx SEC(".maps");

/* UDP flows by their source and service port: the hop a UDP service
 * reads for a peer. Freed on idle, on client close, or least recently
 * used first when full. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LWFP_UDP_FLOWS_MAX);
	__type(key, struct lwfp_udp_key);
	__type(value, struct lwfp_udp_flow);
} lwfp_udp_flows SEC(".maps");

/* The timer that ends idle UDP flows; armed by the first flow. */
struct lwfp_sweeper {
	struct bpf_timer timer;
	__u64 armed;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lwfp_sweeper);
} lwfp_udp_sweeper SEC(".maps");

/* A redirected UDP client socket: the flow it published last (to end it
 * when the socket closes), the rule table its hop was decided on, and
 * that hop while a send after a rule change is decided again. */
struct lwfp_udp_sk {
	struct lwfp_udp_key key;
	__u64 token;		/* of the flow published; 0 = none */
	__u64 table;		/* lwfp_config.table at the decision */
	/* the hop while an unconnected send is decided again */
	struct lwfp_records prev_rec;
	__u64 prev_start_ns;
	__u32 prev_service_gen;
	__u8 prev_service;
	__u8 prev_valid;
	__u32 claim;		/* 1 while a CPU publishes the socket's flow */
	__u32 _pad;
	__u64 netns;		/* cookie of its network namespace */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lwfp_udp_sk);
} lwfp_udp_sk SEC(".maps");

/* A UDP service socket's answer to its last LWFP_SO_UDP_PEER question. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lwfp_udp_answer);
} lwfp_udp_answer SEC(".maps");

#endif /* LWFP_MAPS_BPF_H */
