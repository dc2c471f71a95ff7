/* SPDX-License-Identifier: MIT */
/*
 * The rule classifier's tables, built from a rule table in arbitration
 * order (layout in lwfp_abi.h). Pure: no maps, no system calls; the
 * control plane writes the result into a table half.
 */
#ifndef LWFP_CLASSIFY_H
#define LWFP_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "lwfp_abi.h"

struct cls_table {
	struct lwfp_cls_hdr hdr;
	struct lwfp_cls_bitmap *bitmaps;	/* hdr.bitmaps; [0] is empty */
	__u64 *words;				/* hdr.words */
	__u32 *ports;				/* LWFP_CLS_PORT_NODES */
	struct lwfp_cls_key *keys;		/* index entries, half 0 */
	__u32 *ids;
	size_t nindex;
};

/* Returns 0, or -EINVAL (a malformed rule) or -ENOSPC (the tables would
 * not fit the engine's maps), with a message in err. */
int cls_build(const struct lwfp_rule *rules, __u32 n, struct cls_table *t,
	      char *err, size_t errlen);
void cls_free(struct cls_table *t);

/* One connect, as the engine sees it (for tests and tools). */
struct cls_conn {
	__u8 addr[16];		/* v4-mapped if IPv4 */
	__u16 port;		/* host order */
	__u8 proto;
	__u32 uid;
	/* the connecting task's cgroup ancestor at a level, 0 if none */
	__u64 (*ancestor)(const void *arg, __u32 level);
	const void *arg;
};

bool cls_rule_matches(const struct lwfp_rule *r, const struct cls_conn *c);
/* What the engine's lookup computes: the connect's candidates, bit i for
 * rule i. */
void cls_lookup(const struct cls_table *t, const struct cls_conn *c,
		__u64 out[LWFP_CLS_WORDS]);

#endif /* LWFP_CLASSIFY_H */
