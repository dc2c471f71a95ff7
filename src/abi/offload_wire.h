/* SPDX-License-Identifier: MIT */
/*
 * What liblwfp and the engine's offload broker (lwfp broker) say to each
 * other. The broker listens on a SOCK_SEQPACKET Unix socket named after
 * the engine (offload_socket_path); a service sends one struct
 * lwfp_offload_req (op PAIR) with the accepted and the outbound socket as
 * SCM_RIGHTS, and reads one struct lwfp_offload_reply, carrying the
 * flow's handle (SCM_RIGHTS) when error is 0. On the handle the service
 * may send a struct lwfp_offload_req (op CLOSE or RESET) and reads one
 * struct lwfp_offload_report when the flow has ended. Possession of both
 * sockets is the proof: the broker pairs them only if the engine's own
 * state says the outbound one carries the accepted one's flow.
 */
#ifndef LWFP_OFFLOAD_WIRE_H
#define LWFP_OFFLOAD_WIRE_H

#include <stdio.h>
#include <stdlib.h>
#include <linux/types.h>

#define LWFP_OFFLOAD_MAGIC	0x4f46574cu	/* "LWFO" little endian */
#define LWFP_OFFLOAD_VERSION	1

enum lwfp_offload_op {
	LWFP_OFFLOAD_OP_PAIR = 1,	/* + 2 fds: accepted, outbound */
	LWFP_OFFLOAD_OP_CLOSE,		/* on the handle: FIN both ways */
	LWFP_OFFLOAD_OP_RESET,		/* on the handle: reset both */
};

struct lwfp_offload_req {
	__u32 magic;
	__u16 version;
	__u16 op;
	__u32 flags;			/* none yet: 0 */
	__u32 _pad;
};

struct lwfp_offload_reply {
	__u32 magic;
	__s32 error;			/* 0 or -errno */
};

/* Direction 0: accepted -> outbound (client to origin); 1: back. */
struct lwfp_offload_report {
	__u32 magic;
	__s32 end;		/* 0 both ways closed; -ECONNRESET; ... */
	__u64 bytes[2];		/* relayed after the call, each way */
	__u64 user_bytes[2];	/* of them, moved by the broker */
};

/* Where the broker of engine engine_id listens: $LWFP_RUN_DIR (default
 * /run/lwfp) / offload-ID.sock. */
static inline int offload_socket_path(__u64 engine_id, char *out,
				      size_t len)
{
	const char *dir = getenv("LWFP_RUN_DIR");
	int n = snprintf(out, len, "%s/offload-%016llx.sock",
			 dir && *dir ? dir : "/run/lwfp",
			 (unsigned long long)engine_id);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

#endif /* LWFP_OFFLOAD_WIRE_H */
