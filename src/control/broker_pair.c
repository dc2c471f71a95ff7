// SPDX-License-Identifier: MIT
/*
 * A service's request to the broker: one PAIR message with its two
 * sockets. The engine's own state decides: the first must be a socket a
 * service accepted from a redirected flow, the second an outbound socket
 * that carries the same flow (the records set on it), both connected TCP.
 * Nobody can hand in a socket of another flow: its records would not
 * match, and records are set only by the service of their flow.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <bpf/bpf.h>

#include "broker_int.h"
#include "fdpass.h"

#define CLIENTS_MAX	1024	/* connections waiting to ask */

/* A connected TCP socket? 0 or -errno. */
static int tcp_connected(int fd)
{
	int type = 0, proto = 0;
	socklen_t len = sizeof(type);
	struct tcp_info ti;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len))
		return -errno;
	len = sizeof(proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len))
		return -errno;
	if (type != SOCK_STREAM || proto != IPPROTO_TCP)
		return -EPROTONOSUPPORT;
	len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -errno;
	return ti.tcpi_state == TCP_ESTABLISHED ? 0 : -ENOTCONN;
}

/* Does outbound carry accepted's flow? The engine's state on each;
 * *a is the accepted socket's hop. */
static int same_flow(struct broker *b, int accepted, int outbound,
		     struct lwfp_hop *a)
{
	struct lwfp_hop o;

	if (bpf_map_lookup_elem(b->map_sk, &accepted, a) ||
	    a->role != LWFP_ROLE_ACCEPTED)
		return -ENODATA;
	if (bpf_map_lookup_elem(b->map_sk, &outbound, &o) ||
	    (o.role != LWFP_ROLE_OUTBOUND && o.role != LWFP_ROLE_CLIENT))
		return -EPERM;
	if (o.rec.engine_id != a->rec.engine_id ||
	    o.rec.flow_id != a->rec.flow_id ||
	    o.rec.chain_len < a->rec.chain_len ||
	    memcmp(o.rec.chain, a->rec.chain, a->rec.chain_len))
		return -EPERM;
	return 0;
}

/*
 * The most bytes that may wait between a socket and its peer (on the
 * peer's psock, redirected but not yet in its write queue): the two
 * sockets' buffers, the receiving one's as large as TCP may autotune it.
 * The kernel's worker sends what waits a jiffy after the peer's send
 * buffer filled, so a bound below that burst would spill bulk flows.
 */
static __u32 bound_of(int fd, int peer)
{
	int rcv = 0, snd = 0;
	socklen_t len = sizeof(rcv);
	__u32 most = 6 << 20;

	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &len);
	len = sizeof(snd);
	getsockopt(peer, SOL_SOCKET, SO_SNDBUF, &snd, &len);
	return (rcv > (int)most ? (__u32)rcv : most) +
	       (snd > 0 ? (__u32)snd : 0);
}

/*
 * The kernel announces no reopened window when the relay frees receive
 * space (docs/offload.md), so a socket whose window closes waits for the
 * sender's zero-window probe: with the small receive buffer a service may
 * have set, every window would cost a probe (4 KiB: a few KB/s). A
 * socket below the floor is set to it (which ends its autotuning, as any
 * SO_RCVBUF does); one above keeps its size and its autotuning. A buffer
 * made small before the handshake also fixed the window's scale, which
 * no later size changes (docs/offload.md).
 */
static void rcvbuf_floor(int fd)
{
	int have = 0, floor = OFFLOAD_RCVBUF_FLOOR;
	socklen_t len = sizeof(have);

	/* the kernel reports twice what was set (it doubles what it is
	 * given); FORCE only: a plain SO_RCVBUF, capped by rmem_max, could
	 * lock a buffer TCP had grown larger at a smaller size */
	if (!getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &have, &len) &&
	    have < 2 * floor)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &floor,
			   sizeof(floor));
}

static int flow_make(struct broker *b, int fds[2], int handle,
		     const struct lwfp_hop *hop, struct flow **out)
{
	struct flow *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		f->fd[i] = fds[i];
		f->cookie[i] = socket_cookie(fds[i]);
		f->dir[i].buf = malloc(DIR_BUF);
		f->dir[i].cap = DIR_BUF;
		if (b->o->sndbuf)
			setsockopt(fds[i], SOL_SOCKET, SO_SNDBUFFORCE,
				   &b->o->sndbuf, sizeof(b->o->sndbuf));
		rcvbuf_floor(fds[i]);
	}
	for (int i = 0; i < 2; i++)
		f->bound[i] = bound_of(fds[i], fds[!i]);
	f->handle = handle;
	f->id = ++b->next_id;
	f->flow_id = hop->rec.flow_id;
	f->service = hop->service;
	if (!f->cookie[0] || !f->cookie[1] || !f->dir[0].buf ||
	    !f->dir[1].buf) {
		free(f->dir[0].buf);
		free(f->dir[1].buf);
		free(f);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

/* Check and pair; on success *handle is the service's end. */
static int pair(struct broker *b, int fds[2], int *handle)
{
	struct lwfp_hop hop;
	int hp[2], err;
	struct flow *f;

	for (int i = 0; i < 2; i++) {
		err = tcp_connected(fds[i]);
		if (err)
			return err;
	}
	err = same_flow(b, fds[0], fds[1], &hop);
	if (err)
		return err;
	if (b->nflows >= LWFP_OFFLOAD_MAX)
		return -ENOSPC;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, hp))
		return -errno;
	err = flow_make(b, fds, hp[0], &hop, &f);
	if (!err) {
		err = flow_start(b, f);
		if (err) {
			free(f->dir[0].buf);
			free(f->dir[1].buf);
			free(f);
		}
	}
	if (err) {
		close(hp[0]);
		close(hp[1]);
		return err;
	}
	*handle = hp[1];
	return 0;
}

/* The request on conn: its header and its two descriptors, or -errno. */
static int request_read(int conn, int fds[2])
{
	struct lwfp_offload_req req;
	size_t got;
	ssize_t n = fdpass_recv(conn, &req, sizeof(req), fds, 2, &got,
				MSG_DONTWAIT);

	for (size_t i = n < 0 ? 0 : got; i < 2; i++)
		fds[i] = -1;
	if (n == -EMSGSIZE)
		return -EINVAL;
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOTCONN;	/* hung up: lwfp status looking */
	if (n != (ssize_t)sizeof(req) || req.magic != LWFP_OFFLOAD_MAGIC ||
	    req.version != LWFP_OFFLOAD_VERSION ||
	    req.op != LWFP_OFFLOAD_OP_PAIR || req.flags || got != 2)
		return -EINVAL;
	return 0;
}

static void reply(int conn, int error, int handle)
{
	struct lwfp_offload_reply r = {
		.magic = LWFP_OFFLOAD_MAGIC, .error = error,
	};

	fdpass_send(conn, &r, sizeof(r), &handle, handle >= 0, MSG_DONTWAIT);
}

/* A service's connection has its request: answer it and hang up. */
void broker_request(struct broker *b, struct watch *w)
{
	int fds[2], handle = -1, err = request_read(w->side, fds);

	if (err == -EAGAIN)
		return;
	if (!err)
		err = pair(b, fds, &handle);
	if (err) {
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	if (err != -ENOTCONN)
		reply(w->side, err, handle);
	if (handle >= 0)
		close(handle);
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, w->side, NULL);
	close(w->side);
	free(w);
	b->nclients--;
}

/* A service connects: wait for its request without blocking the rest. */
void broker_accept(struct broker *b)
{
	for (;;) {
		int conn = accept4(b->listen_fd, NULL, NULL,
				   SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		struct watch *w;

		if (conn < 0)
			return;
		/* connections that never ask must not eat our descriptors */
		w = b->nclients < CLIENTS_MAX ? calloc(1, sizeof(*w)) : NULL;
		if (!w) {
			close(conn);
			continue;
		}
		*w = (struct watch){ W_CLIENT, NULL, conn };
		ev.data.ptr = w;
		if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, conn, &ev)) {
			close(conn);
			free(w);
			continue;
		}
		b->nclients++;
	}
}
