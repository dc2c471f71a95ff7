/* SPDX-License-Identifier: MIT */
/* What an engine pins under its pin directory. */
#ifndef LWFP_PINS_H
#define LWFP_PINS_H

/* Maps keep the names they have in lwfp.bpf.c. */
#define PIN_SK		"lwfp_sk"
#define PIN_PENDING	"lwfp_pending"
#define PIN_SERVICES	"lwfp_services"
#define PIN_RULES	"lwfp_rules"
#define PIN_CONFIG	"lwfp_config"
#define PIN_STATS	"lwfp_stats"
#define PIN_RULE_CTX	"lwfp_rule_ctx"
#define PIN_UDP_FLOWS	"lwfp_udp_flows"
#define PIN_UDP_ANSWER	"lwfp_udp_answer"
#define PIN_LIVE	"lwfp_live"
#define PIN_CLS_HDR	"lwfp_cls_hdr"
#define PIN_CLS_INDEX	"lwfp_cls_index"
#define PIN_CLS_PORTS	"lwfp_cls_ports"
#define PIN_CLS_BITMAPS	"lwfp_cls_bitmaps"
#define PIN_CLS_WORDS	"lwfp_cls_words"
/* Programs not attached to the cgroup are pinned as "prog_" + name: the
 * flows iterator, attached on demand by `lwfp flows` (optional). */
#define PIN_PROG_PREFIX	"prog_"
#define PIN_FLOWS_PROG	PIN_PROG_PREFIX "lwfp_flows"
/* Cgroup links are pinned as "link_" + program name. */
#define PIN_LINK_PREFIX	"link_"

#endif /* LWFP_PINS_H */
