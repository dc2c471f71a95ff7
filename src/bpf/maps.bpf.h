/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/* The engine's maps. User space finds them pinned under the pin directory. */
#ifndef LWFP_MAPS_BPF_H
#define LWFP_MAPS_BPF_H

/*
 * The kinds of map the engine declares, so that each map below is one
 * line: its name, size, key and value types, and flags.
 */
#define MAP_OF(kind, name, n, key_t, val_t, flags)			\
	struct {							\
		__uint(type, kind);					\
		__uint(max_entries, n);					\
		__uint(map_flags, flags);				\
		__type(key, key_t);					\
		__type(value, val_t);					\
	} name SEC(".maps")
#define MAP_ARRAY(name, n, val_t, flags)				\
	MAP_OF(BPF_MAP_TYPE_ARRAY, name, n, __u32, val_t, flags)
#define MAP_PERCPU_ARRAY(name, n, val_t, flags)				\
	MAP_OF(BPF_MAP_TYPE_PERCPU_ARRAY, name, n, __u32, val_t, flags)
#define MAP_HASH(name, n, key_t, val_t, flags)				\
	MAP_OF(BPF_MAP_TYPE_HASH, name, n, key_t, val_t, flags)
/* per-socket state: dies with the socket */
#define SK_STORAGE(name, val_t)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_SK_STORAGE);			\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__type(key, int);					\
		__type(value, val_t);					\
	} name SEC(".maps")

/* Per-socket redirect state; dies with the socket. */
SK_STORAGE(lwfp_sk, struct lwfp_hop);

/* Who bound a socket: is a listener the service's own (lwfp_abi.h). */
SK_STORAGE(lwfp_binder, struct lwfp_binder);

/* Redirected MPTCP clients' original destinations, by connection. */
MAP_HASH(lwfp_mptcp, LWFP_PENDING_MAX, struct lwfp_tuple,
	 struct lwfp_endpoint, BPF_F_NO_PREALLOC);

/* Client hops waiting for the service side to accept them, by hop id.
 * Never evicted: a full table, or a uid at its share, refuses connects. */
MAP_HASH(lwfp_pending, LWFP_PENDING_MAX, __u64, struct lwfp_handoff, 0);

/* Records handed out on accepted sockets that are still open, by token:
 * records are honoured only while the flow they name lives. */
MAP_HASH(lwfp_live, LWFP_LIVE_MAX, __u64, struct lwfp_hop, BPF_F_NO_PREALLOC);

MAP_ARRAY(lwfp_services, LWFP_MAX_SERVICES, struct lwfp_service, 0);

/* Two halves; lwfp_config.table says which one is live. Mmapable: the
 * control plane writes the idle half with memcpy. */
MAP_ARRAY(lwfp_rules, 2 * LWFP_MAX_RULES, struct lwfp_rule, BPF_F_MMAPABLE);

MAP_ARRAY(lwfp_config, 1, struct lwfp_config, 0);

/* The rule classifier (see lwfp_abi.h), one per table half: its header,
 * the field indexes, the bitmaps and their words. The big arrays are
 * mmapable: the control plane writes a half with memcpy, not a syscall
 * per element. */
MAP_ARRAY(lwfp_cls_hdr, 2, struct lwfp_cls_hdr, 0);

MAP_HASH(lwfp_cls_index, 2 * 4 * LWFP_MAX_RULES, struct lwfp_cls_key, __u32,
         BPF_F_NO_PREALLOC);

/* the network mask of each prefix length, written at load */
MAP_ARRAY(lwfp_cls_masks, LWFP_CLS_LENS + 1, struct lwfp_cls_mask, 0);

/* port trie node to bitmap id: half * LWFP_CLS_PORT_NODES + node */
MAP_ARRAY(lwfp_cls_ports, 2 * LWFP_CLS_PORT_NODES, __u32, BPF_F_MMAPABLE);

MAP_ARRAY(lwfp_cls_bitmaps, 2 * LWFP_CLS_BITMAPS_MAX, struct lwfp_cls_bitmap,
          BPF_F_MMAPABLE);

MAP_ARRAY(lwfp_cls_words, 2 * LWFP_CLS_POOL_MAX, __u64, BPF_F_MMAPABLE);

MAP_PERCPU_ARRAY(lwfp_stats, LWFP_STAT_MAX, __u64, 0);

/* Rule context bytes, by rule id, read out through a service's socket:
 * flows keep only the rule id, so kernel memory per flow stays small. */
MAP_HASH(lwfp_rule_ctx, 2 * LWFP_MAX_RULES, __u32, struct lwfp_rule_ctx,
         BPF_F_NO_PREALLOC);

/* UDP flows by their source and service port: the hop a UDP service
 * reads for a peer. Freed on idle or on client close, never evicted: a
 * full table refuses new flows, and each uid holds at most its share. */
MAP_HASH(lwfp_udp_flows, LWFP_UDP_FLOWS_MAX, struct lwfp_udp_key,
         struct lwfp_udp_flow, 0);

/* What each uid holds of the three tables above (lwfp_abi.h): at most
 * one entry per entry of theirs, so never full before they are. */
MAP_HASH(lwfp_shares, LWFP_UDP_FLOWS_MAX + LWFP_PENDING_MAX + LWFP_LIVE_MAX,
	 struct lwfp_share_key, __u32, BPF_F_NO_PREALLOC);

/* The timer that ends idle UDP flows; armed by the first flow. */
struct lwfp_sweeper {
	struct bpf_timer timer;
	__u64 armed;
};

MAP_ARRAY(lwfp_udp_sweeper, 1, struct lwfp_sweeper, 0);

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

SK_STORAGE(lwfp_udp_sk, struct lwfp_udp_sk);

/* A UDP service socket's answer to its last LWFP_SO_UDP_PEER question. */
SK_STORAGE(lwfp_udp_answer, struct lwfp_udp_answer);

/* The offloaded relay (lwfp_abi.h): sockets a verdict may redirect to;
 * sockets whose arriving skbs the verdict program relays (the program is
 * attached to this map); and the broker's words and the verdict's counts
 * per socket. Keys are socket cookies; only the broker writes them. */
MAP_OF(BPF_MAP_TYPE_SOCKHASH, lwfp_offload_peers, 2 * LWFP_OFFLOAD_MAX,
       __u64, __u64, 0);
MAP_OF(BPF_MAP_TYPE_SOCKHASH, lwfp_offload_relay, 2 * LWFP_OFFLOAD_MAX,
       __u64, __u64, 0);
MAP_HASH(lwfp_offload_ctl, 2 * LWFP_OFFLOAD_MAX, __u64,
	 struct lwfp_offload_ctl, BPF_F_NO_PREALLOC);
MAP_HASH(lwfp_offload_count, 2 * LWFP_OFFLOAD_MAX, __u64,
	 struct lwfp_offload_count, BPF_F_NO_PREALLOC);

/* Connects and sends refused, for lwfp events (lwfp_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LWFP_EVENTS_BYTES);
} lwfp_events SEC(".maps");

#endif /* LWFP_MAPS_BPF_H */
