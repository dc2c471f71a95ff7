// SPDX-License-Identifier: MIT
/*
 * One offloaded flow in the broker (broker.h, lwfp_abi.h). Each direction
 * d (from side d to side !d) is, in turn:
 *  - redirected: the verdict moves its skbs to the peer's egress and the
 *    broker hears nothing until a FIN, an error, or a spill;
 *  - spilling: the verdict leaves its bytes to the socket; the broker
 *    reads them (and, at the start, what was queued before the pairing),
 *    waits until nothing redirected earlier is still on its way, writes
 *    them on, then says so in the socket's ctl: drained catches up with
 *    spilled and the verdict redirects again.
 * A FIN (the verdict leaves it to its socket) is passed on with
 * shutdown() once every byte before it is in the peer's write queue.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "broker_int.h"

static struct lwfp_offload_count counts(struct broker *b, struct flow *f,
					int d)
{
	struct lwfp_offload_count c = { 0 };

	if (f->dir[d].relayed)
		bpf_map_lookup_elem(b->map_count, &f->cookie[d], &c);
	return c;
}

static __u64 redirected(struct broker *b, struct flow *f, int d)
{
	return counts(b, f, d).redirected;
}

/* Bytes redirected from side d not yet in side !d's write queue. */
static __u64 waiting(struct broker *b, struct flow *f, int d)
{
	__u64 r = redirected(b, f, d), in;

	if (!r)
		return 0;
	in = stream_written(f->fd[!d]) - f->base[!d] -
	     f->dir[d].user_written;
	return r > in ? r - in : 0;
}

/* What the broker tells the verdict of side d now. */
struct lwfp_offload_ctl flow_ctl(const struct flow *f, int d)
{
	return (struct lwfp_offload_ctl){
		.peer = f->cookie[!d],
		.drained = f->dir[d].spill_read,
		.peer_user = f->dir[d].user_written,
		.flow_id = f->flow_id,
		.bound = f->bound[d],
		.paused = f->closing,
		.service = f->service,
		.side = d,
	};
}

static int ctl_write(struct broker *b, struct flow *f, int d)
{
	struct lwfp_offload_ctl c = flow_ctl(f, d);

	return bpf_map_update_elem(b->map_ctl, &f->cookie[d], &c, BPF_EXIST) ?
		       -errno : 0;
}

static void flow_reset(struct broker *b, struct flow *f, int end)
{
	socket_reset(f->fd[0]);
	socket_reset(f->fd[1]);
	flow_end(b, f, end);
}

/* Read what side d holds for us; false if nothing came. Only into an
 * empty buffer: each buffer written on is then said drained before more
 * is read, so that the verdict can catch up and redirect again. */
static bool dir_read(struct broker *b, struct flow *f, int d, bool *gone)
{
	struct direction *dr = &f->dir[d];
	struct lwfp_offload_count c;
	ssize_t n;

	if (dr->eof || f->closing || dr->len || dr->joining)
		return false;
	c = counts(b, f, d);
	/* bytes the verdict could not cut (lwfp_abi.h): nothing of them is
	 * written on, the flow ends */
	if (c.flags & LWFP_OFFLOAD_BROKEN) {
		flow_reset(b, f, -EPROTO);
		*gone = true;
		return false;
	}
	/* A read on a paired socket runs the verdict on what waits in its
	 * receive queue, and then sets the socket's copied_seq, overwriting
	 * what the verdict's redirects added meanwhile: read only when
	 * there is something spilled to read (the verdict spills then, it
	 * does not redirect), or to see the end. */
	if (dr->relayed && !dr->rdhup && c.spilled <= dr->spill_read)
		return false;
	n = recv(f->fd[d], dr->buf + dr->len, dr->cap - dr->len,
		 MSG_DONTWAIT);
	if (n > 0) {
		dr->len += n;
		dr->spill_read += n;
		return true;
	}
	/* a FIN shows at once, but what the verdict left to the socket
	 * before it may still wait on the psock's queue, behind bytes
	 * redirected to this socket: the end only once all of it was read
	 * (a socket that closed has left the maps: its reads are plain) */
	if (n == 0 && counts(b, f, d).spilled > dr->spill_read) {
		broker_want_timer(b, f);
		return false;
	}
	if (n == 0) {
		dr->eof = true;
		return true;
	}
	if (errno != EAGAIN && errno != EINTR) {
		flow_reset(b, f, -errno);
		*gone = true;
	}
	return false;
}

/*
 * What side d held at the pairing is written on: now it joins the relay
 * map, unpaused, and the verdict takes over from the next byte on (what
 * came meanwhile waits, whole, in its receive queue). The bytes before
 * were read with plain reads, which is safe only while no verdict has
 * run on the socket. If the map refuses it (its peer has closed since:
 * the kernel pairs only established sockets), the direction stays with
 * the broker to its end.
 */
static bool dir_join(struct broker *b, struct flow *f, int d)
{
	struct direction *dr = &f->dir[d];
	__u64 fd = f->fd[d];
	char c;

	dr->joining = false;
	if (f->closing || ctl_write(b, f, d) ||
	    bpf_map_update_elem(b->map_relay, &f->cookie[d], &fd, BPF_NOEXIST))
		return true;
	dr->relayed = true;
	/* what waits in the receive queue waits for the psock's data_ready
	 * to run again: a read runs it (MSG_PEEK leaves copied_seq alone) */
	recv(f->fd[d], &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return true;
}

/*
 * Say in side d's ctl that what it spilled is written on: the verdict
 * redirects again once drained has caught up with spilled, so this
 * follows each emptied buffer at once, before the next read.
 */
static bool dir_drained(struct broker *b, struct flow *f, int d, bool *gone)
{
	struct direction *dr = &f->dir[d];

	dr->off = dr->len = 0;
	if (dr->joining)
		return dir_join(b, f, d);
	if (!dr->ctl_stale)
		return false;
	dr->ctl_stale = false;
	if (ctl_write(b, f, d)) {
		flow_reset(b, f, -EIO);
		*gone = true;
	}
	return true;
}

/* Write on what side d gave us, once nothing redirected is ahead of it. */
static bool dir_write(struct broker *b, struct flow *f, int d, bool *gone)
{
	struct direction *dr = &f->dir[d];
	ssize_t n;

	if (dr->off == dr->len)
		return dir_drained(b, f, d, gone);
	if (waiting(b, f, d)) {
		broker_want_timer(b, f);
		return false;
	}
	n = send(f->fd[!d], dr->buf + dr->off, dr->len - dr->off,
		 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n > 0) {
		dr->off += n;
		dr->user_written += n;
		dr->ctl_stale = dr->relayed;
		if (dr->off == dr->len)
			dir_drained(b, f, d, gone);
		return true;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		flow_reset(b, f, -errno);
		*gone = true;
	}
	return false;
}

/* Side d said FIN (or the service closes): pass it on after the rest. */
static bool dir_fin(struct broker *b, struct flow *f, int d)
{
	struct direction *dr = &f->dir[d];

	if (dr->fin_sent || !(dr->eof || f->closing) || dr->off != dr->len)
		return false;
	if (waiting(b, f, d)) {
		broker_want_timer(b, f);
		return false;
	}
	shutdown(f->fd[!d], SHUT_WR);
	dr->fin_sent = true;
	return true;
}

/* Do all that can be done now. */
void flow_step(struct broker *b, struct flow *f)
{
	bool progress = true, gone = false;

	while (progress && !gone) {
		progress = false;
		for (int d = 0; d < 2 && !gone; d++) {
			progress |= dir_read(b, f, d, &gone);
			if (!gone)
				progress |= dir_write(b, f, d, &gone);
			if (!gone)
				progress |= dir_fin(b, f, d);
		}
		if (!gone && f->dir[0].fin_sent && f->dir[1].fin_sent) {
			flow_end(b, f, 0);
			return;
		}
	}
}

/*
 * The first step of a paired flow. A direction with nothing to write on
 * joins first: bytes the broker writes into the other socket may bring
 * an answer at once, and an answer that arrives before its socket joins
 * fills the socket's window, which then opens only on the sender's
 * zero-window probe, 200 ms later.
 */
void flow_first_step(struct broker *b, struct flow *f)
{
	bool gone = false;

	for (int d = 0; d < 2 && !gone; d++)
		if (f->dir[d].joining && f->dir[d].off == f->dir[d].len)
			dir_drained(b, f, d, &gone);
	if (!gone)
		flow_step(b, f);
}

void flow_sock_event(struct broker *b, struct flow *f, int side,
		     unsigned int events)
{
	if (events & (EPOLLRDHUP | EPOLLHUP))
		f->dir[side].rdhup = true;
	if (events & EPOLLERR) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(f->fd[side], SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			flow_reset(b, f, -err);
			return;
		}
	}
	flow_step(b, f);
}

/* The service's word on its handle, or its handle closed. */
void flow_handle_event(struct broker *b, struct flow *f)
{
	struct lwfp_offload_req req;
	ssize_t n = recv(f->handle, &req, sizeof(req), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == (ssize_t)sizeof(req) && req.magic == LWFP_OFFLOAD_MAGIC &&
	    req.op == LWFP_OFFLOAD_OP_CLOSE) {
		/* both directions pause: what comes now stays unread */
		f->closing = true;
		for (int d = 0; d < 2; d++) {
			if (f->dir[d].relayed && ctl_write(b, f, d)) {
				flow_reset(b, f, -EIO);
				return;
			}
		}
		flow_step(b, f);
		return;
	}
	/* a reset asked for, a handle closed (the service is gone), or
	 * words we do not know */
	flow_reset(b, f, -ECANCELED);
}
