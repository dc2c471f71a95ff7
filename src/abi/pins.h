/* SPDX-License-Identifier: MIT */
/* What an engine pins under its pin directory. */
#ifndef LWFP_PINS_H
#define LWFP_PINS_H

/*
 * Every map of the engine (src/bpf/maps.bpf.h), pinned under the name it
 * has there, and what members of the engine's group (lwfp load --group)
 * may do with it: 0 nothing, 0040 read, 0060 read and write. The loader
 * pins every map of the object; this table names them for user space.
 *   X(ENUM, name, group mode)
 */
#define LWFP_MAPS(X)					\
	X(SK, "lwfp_sk", 0)				\
	X(PENDING, "lwfp_pending", 0)			\
	X(LIVE, "lwfp_live", 0)				\
	X(SERVICES, "lwfp_services", 0040)		\
	X(RULES, "lwfp_rules", 0)			\
	X(CONFIG, "lwfp_config", 0)			\
	X(STATS, "lwfp_stats", 0)			\
	X(RULE_CTX, "lwfp_rule_ctx", 0)		\
	X(CLS_HDR, "lwfp_cls_hdr", 0)			\
	X(CLS_INDEX, "lwfp_cls_index", 0)		\
	X(CLS_MASKS, "lwfp_cls_masks", 0)		\
	X(CLS_PORTS, "lwfp_cls_ports", 0)		\
	X(CLS_BITMAPS, "lwfp_cls_bitmaps", 0)		\
	X(CLS_WORDS, "lwfp_cls_words", 0)		\
	X(UDP_FLOWS, "lwfp_udp_flows", 0)		\
	X(UDP_SWEEPER, "lwfp_udp_sweeper", 0)		\
	X(UDP_SK, "lwfp_udp_sk", 0)			\
	X(SHARES, "lwfp_shares", 0)			\
	X(UDP_ANSWER, "lwfp_udp_answer", 0)		\
	X(EVENTS, "lwfp_events", 0)			\
	X(BINDER, "lwfp_binder", 0)			\
	X(MPTCP, "lwfp_mptcp", 0)			\
	X(OFFLOAD_PEERS, "lwfp_offload_peers", 0)	\
	X(OFFLOAD_RELAY, "lwfp_offload_relay", 0)	\
	X(OFFLOAD_CTL, "lwfp_offload_ctl", 0)		\
	X(OFFLOAD_COUNT, "lwfp_offload_count", 0)

enum lwfp_map {
#define LWFP_MAP_ENUM(e, name, mode) MAP_##e,
	LWFP_MAPS(LWFP_MAP_ENUM)
#undef LWFP_MAP_ENUM
	MAP_COUNT
};

#define LWFP_MAP_PIN(e, name, mode) static const char PIN_##e[] = name;
LWFP_MAPS(LWFP_MAP_PIN)
#undef LWFP_MAP_PIN

/* Programs not attached to the cgroup are pinned as "prog_" + name: the
 * flows iterator, attached on demand by `lwfp flows` (optional). */
#define PIN_PROG_PREFIX	"prog_"
#define PIN_FLOWS_PROG	PIN_PROG_PREFIX "lwfp_flows"
/* Cgroup links are pinned as "link_" + program name. */
#define PIN_LINK_PREFIX	"link_"

#endif /* LWFP_PINS_H */
