/* SPDX-License-Identifier: MIT */
/* The engine's offloaded flows as lwfp flows and status show them. */
#ifndef LWFP_OFFLOAD_VIEW_H
#define LWFP_OFFLOAD_VIEW_H

#include <stddef.h>
#include <linux/types.h>

#include "admin.h"

/* One service's offload of one flow: its two sockets paired. */
struct offload_hop {
	__u64 flow_id;
	__u8 service;		/* slot of the service that offloaded */
	__u64 to_origin;	/* bytes relayed, accepted -> outbound */
	__u64 to_client;	/* and back */
};

/* Every offloaded hop (*out malloc'ed, sorted by flow id then service),
 * or -errno. An engine whose kernel has no offload has none. */
int admin_offloads(struct admin *a, struct offload_hop **out, size_t *n);

/* The hop of flow_id that service offloaded, or NULL. */
const struct offload_hop *offload_find(const struct offload_hop *h, size_t n,
				       __u64 flow_id, __u8 service);

enum offload_state {
	OFFLOAD_NONE,		/* the kernel refused the verdict program */
	OFFLOAD_NO_BROKER,	/* nobody listens where the library asks */
	OFFLOAD_BROKER,		/* a broker answers there */
};

/* Can the engine at pin_dir (id engine_id) offload now? path: where its
 * broker listens. */
enum offload_state offload_state(const char *pin_dir, __u64 engine_id,
				 char *path, size_t len);

#endif /* LWFP_OFFLOAD_VIEW_H */
