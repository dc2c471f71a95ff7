// SPDX-License-Identifier: MIT
/* An offloaded flow's start (the pairing) and end (report, teardown). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "broker_int.h"
#include "i18n.h"

/* Undo what map_join did for the first n sockets of f. */
static void maps_leave(struct broker *b, struct flow *f, int n)
{
	for (int i = 0; i < n; i++) {
		bpf_map_delete_elem(b->map_peers, &f->cookie[i]);
		bpf_map_delete_elem(b->map_ctl, &f->cookie[i]);
		bpf_map_delete_elem(b->map_count, &f->cookie[i]);
	}
}

/* Undo the first n of socket i's three entries (ctl, count, peers). */
static void entries_leave(struct broker *b, struct flow *f, int i, int n)
{
	if (n > 2)
		bpf_map_delete_elem(b->map_peers, &f->cookie[i]);
	if (n > 1)
		bpf_map_delete_elem(b->map_count, &f->cookie[i]);
	if (n > 0)
		bpf_map_delete_elem(b->map_ctl, &f->cookie[i]);
}

/*
 * Make each socket's ctl and count, and make it a target (it joins the
 * relay map, where the verdict reads them, only later: dir_join). On
 * failure undo only what this call made: a socket offloaded already
 * (EEXIST) keeps its running flow's entries.
 */
static int maps_join(struct broker *b, struct flow *f)
{
	for (int i = 0; i < 2; i++) {
		struct lwfp_offload_ctl c = flow_ctl(f, i);
		struct lwfp_offload_count n = { 0 };
		__u64 fd = f->fd[i];
		int made = 0, err = 0;

		if (!bpf_map_update_elem(b->map_ctl, &f->cookie[i], &c,
					 BPF_NOEXIST))
			made++;
		if (made == 1 &&
		    !bpf_map_update_elem(b->map_count, &f->cookie[i], &n,
					 BPF_NOEXIST))
			made++;
		if (made == 2 &&
		    !bpf_map_update_elem(b->map_peers, &f->cookie[i], &fd,
					 BPF_NOEXIST))
			made++;
		if (made < 3)
			err = errno == EEXIST ? -EBUSY : -errno;
		if (err) {
			entries_leave(b, f, i, made);
			maps_leave(b, f, i);
			return err;
		}
	}
	return 0;
}

/* A test knob: LWFP_BROKER_PRE_READ_MAX=N reads at most N bytes of each
 * socket before the pairing, so that the verdict's first skb begins with
 * bytes read already (what it must cut, offload.bpf.h). */
static size_t pre_read_most(void)
{
	const char *v = getenv("LWFP_BROKER_PRE_READ_MAX");

	return v && *v ? strtoull(v, NULL, 10) : SIZE_MAX;
}

/*
 * Read what each socket holds before it is paired: read to the end, so
 * that the verdict starts on whole skbs (it would cut the part read
 * already, but reading it all costs nothing more).
 */
static int pre_read(struct flow *f)
{
	size_t most = pre_read_most();

	for (int i = 0; i < 2; i++) {
		struct direction *d = &f->dir[i];

		while (d->pre_read < most) {
			size_t room;
			ssize_t n;

			if (d->len == d->cap) {
				char *p = realloc(d->buf, d->cap * 2);

				if (!p)
					return -ENOMEM;
				d->buf = p;
				d->cap *= 2;
			}
			room = d->cap - d->len;
			if (room > most - d->pre_read)
				room = most - d->pre_read;
			n = recv(f->fd[i], d->buf + d->len, room, MSG_DONTWAIT);
			if (n > 0) {
				d->len += n;
				d->pre_read += n;
			} else if (n == 0) {
				d->eof = true;
				break;
			} else if (errno == EAGAIN) {
				break;
			} else if (errno != EINTR) {
				return -errno;
			}
		}
	}
	return 0;
}

static int watch_add(struct broker *b, int fd, struct watch *w,
		     unsigned int events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/*
 * Pair f's sockets: targets first (a redirect to a socket that is not
 * one yet drops the skb TCP has acknowledged); what each holds is read
 * and written on by the broker, then it joins the relay map (dir_join).
 * A socket that said its end already stays with the broker: nothing
 * more will come. A socket the verdict has run on never goes back to
 * plain reads, nor leaves the relay map before the end (the verdict
 * does not keep its copied_seq, and a verdict running as the socket
 * leaves the map drops the skb it holds). 0, or -errno with nothing
 * read (the service may go on relaying).
 */
int flow_start(struct broker *b, struct flow *f)
{
	int err = maps_join(b, f);

	if (err)
		return err;
	err = pre_read(f);
	for (int i = 0; i < 2; i++)
		f->base[i] = stream_written(f->fd[i]);
	/* each direction joins the relay map once the broker has written on
	 * what its socket held (dir_join) */
	for (int i = 0; i < 2; i++)
		f->dir[i].joining = !err && !f->dir[i].eof;
	for (int i = 0; i < 2; i++) {
		f->w_sock[i] = (struct watch){ W_SOCK, f, i };
		watch_add(b, f->fd[i], &f->w_sock[i],
			  EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
	}
	f->w_handle = (struct watch){ W_HANDLE, f, 0 };
	watch_add(b, f->handle, &f->w_handle, EPOLLIN | EPOLLRDHUP);
	f->next = b->flows;
	if (b->flows)
		b->flows->prev = f;
	b->flows = f;
	b->nflows++;
	if (err) {	/* bytes read, then a socket failed: end it all */
		socket_reset(f->fd[0]);
		socket_reset(f->fd[1]);
		flow_end(b, f, err);
		return 0;
	}
	flow_first_step(b, f);
	return 0;
}

static void report(struct broker *b, struct flow *f, int end)
{
	struct lwfp_offload_report r = {
		.magic = LWFP_OFFLOAD_MAGIC, .end = end,
	};
	__u64 trimmed = 0;

	for (int d = 0; d < 2; d++) {
		struct lwfp_offload_count c = { 0 };

		bpf_map_lookup_elem(b->map_count, &f->cookie[d], &c);
		r.user_bytes[d] = f->dir[d].user_written;
		r.bytes[d] = c.redirected + r.user_bytes[d];
		trimmed += c.trimmed;
	}
	if (f->handle >= 0)
		send(f->handle, &r, sizeof(r), MSG_DONTWAIT | MSG_NOSIGNAL);
	if (!b->o->quiet) {
		printf(_("flow %lu: %s; %llu bytes to the origin, %llu to the "
			 "client (%llu and %llu through the broker)\n"),
		       f->id, end ? strerror(-end) : _("closed"),
		       (unsigned long long)r.bytes[0],
		       (unsigned long long)r.bytes[1],
		       (unsigned long long)r.user_bytes[0],
		       (unsigned long long)r.user_bytes[1]);
		if (trimmed)
			printf(_("flow %lu: %llu bytes the kernel delivered "
				 "twice were cut\n"),
			       f->id, (unsigned long long)trimmed);
		fflush(stdout);
	}
}

/* Tell the service how the flow ended; give its sockets back to plain
 * TCP (out of the relay map first: no verdict runs after) and forget it. */
void flow_end(struct broker *b, struct flow *f, int end)
{
	report(b, f, end);
	for (int i = 0; i < 2; i++)
		if (f->dir[i].relayed)
			bpf_map_delete_elem(b->map_relay, &f->cookie[i]);
	maps_leave(b, f, 2);
	for (int i = 0; i < 2; i++) {
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, f->fd[i], NULL);
		close(f->fd[i]);
		free(f->dir[i].buf);
	}
	if (f->handle >= 0) {
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, f->handle, NULL);
		close(f->handle);
	}
	if (f->prev)
		f->prev->next = f->next;
	else
		b->flows = f->next;
	if (f->next)
		f->next->prev = f->prev;
	b->nflows--;
	/* other events of this round may name it still */
	f->dead = true;
	f->next = b->dead;
	b->dead = f;
}

void flows_reap(struct broker *b)
{
	while (b->dead) {
		struct flow *f = b->dead;

		b->dead = f->next;
		free(f);
	}
}

/* A drain to wait for: look again in a millisecond. */
void broker_want_timer(struct broker *b, struct flow *f)
{
	struct itimerspec t = { .it_value.tv_nsec = 1000000 };

	f->waiting = true;
	if (b->timer_armed)
		return;
	if (!timerfd_settime(b->timer_fd, 0, &t, NULL))
		b->timer_armed = true;
}

void broker_timer_tick(struct broker *b)
{
	__u64 ticks;
	struct flow *f, *next;

	if (read(b->timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
	b->timer_armed = false;
	for (f = b->flows; f; f = next) {
		next = f->next;
		if (!f->waiting)
			continue;
		f->waiting = false;
		flow_step(b, f);	/* may end f, never another flow */
	}
}
