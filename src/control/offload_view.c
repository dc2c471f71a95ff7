// SPDX-License-Identifier: MIT
/*
 * The offloaded flows, from the broker's ctl entries (one per socket) and
 * the verdict's counts: the bytes of a direction are what the kernel
 * redirected plus what the broker wrote on itself (peer_user; as of its
 * last drain).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "offload_view.h"
#include "offload_wire.h"
#include "pin.h"

static __u64 direction_bytes(struct admin *a, __u64 cookie,
			     const struct lwfp_offload_ctl *c)
{
	struct lwfp_offload_count n = { 0 };

	bpf_map_lookup_elem(a->fd[MAP_OFFLOAD_COUNT], &cookie, &n);
	return n.redirected + c->peer_user;
}

static int by_hop(const void *pa, const void *pb)
{
	const struct offload_hop *x = pa, *y = pb;

	if (x->flow_id != y->flow_id)
		return x->flow_id < y->flow_id ? -1 : 1;
	return (int)x->service - (int)y->service;
}

int admin_offloads(struct admin *a, struct offload_hop **out, size_t *n)
{
	int fd = a->fd[MAP_OFFLOAD_CTL];
	struct offload_hop *h = NULL;
	size_t have = 0, cap = 0;
	__u64 key, *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &key)) {
		struct lwfp_offload_ctl c, p;

		prev = &key;
		/* one hop per pair: its accepted socket's entry */
		if (bpf_map_lookup_elem(fd, &key, &c) || c.side != 0 ||
		    bpf_map_lookup_elem(fd, &c.peer, &p))
			continue;
		if (have == cap) {
			struct offload_hop *g;

			cap = cap ? 2 * cap : 64;
			g = realloc(h, cap * sizeof(*h));
			if (!g) {
				free(h);
				return -ENOMEM;
			}
			h = g;
		}
		h[have++] = (struct offload_hop){
			.flow_id = c.flow_id, .service = c.service,
			.to_origin = direction_bytes(a, key, &c),
			.to_client = direction_bytes(a, c.peer, &p),
		};
	}
	if (have)
		qsort(h, have, sizeof(*h), by_hop);
	*out = h;
	*n = have;
	return 0;
}

const struct offload_hop *offload_find(const struct offload_hop *h, size_t n,
				       __u64 flow_id, __u8 service)
{
	struct offload_hop want = { .flow_id = flow_id, .service = service };

	return n ? bsearch(&want, h, n, sizeof(*h), by_hop) : NULL;
}

enum offload_state offload_state(const char *pin_dir, __u64 engine_id,
				 char *path, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = pin_open(pin_dir, PIN_PROG_PREFIX "lwfp_offload_verdict");
	bool up;

	path[0] = '\0';
	if (fd < 0)
		return OFFLOAD_NONE;
	close(fd);
	if (offload_socket_path(engine_id, sa.sun_path, sizeof(sa.sun_path)))
		return OFFLOAD_NO_BROKER;
	snprintf(path, len, "%s", sa.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	up = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (fd >= 0)
		close(fd);
	return up ? OFFLOAD_BROKER : OFFLOAD_NO_BROKER;
}
