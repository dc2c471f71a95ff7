/* SPDX-License-Identifier: MIT */
/*
 * The offload broker (lwfp broker): the engine's part that pairs a
 * service's two sockets of one flow in the kernel (lwfp_abi.h,
 * offload_wire.h), passes each direction's FIN on once the bytes before
 * it have drained, resets one side when the other is reset, and moves
 * the bytes of a spilling direction itself. It holds its own duplicates
 * of every offloaded socket, so a service that exits leaves nothing
 * half-done: its flows are reset.
 */
#ifndef LWFP_BROKER_H
#define LWFP_BROKER_H

#include <stdbool.h>
#include <stddef.h>

/* The kernel's worker sends a paired socket's bytes until the peer's send
 * buffer is full, then waits a jiffy: 16 MiB makes that rare at loopback
 * speed (docs/performance.md, section 3). */
#define BROKER_SNDBUF_DEFAULT	(16 << 20)

struct broker_opts {
	int sndbuf;		/* SO_SNDBUFFORCE on offloaded sockets; 0 keep */
	bool quiet;		/* no line per flow */
};

/* Serve the engine at pin_dir until SIGINT/SIGTERM or the engine goes.
 * 0 or -errno (message in err). */
int broker_run(const char *pin_dir, const struct broker_opts *o, char *err,
	       size_t errlen);

#endif /* LWFP_BROKER_H */
