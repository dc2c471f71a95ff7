// SPDX-License-Identifier: MIT
/*
 * Socket I/O as Windows overlaps it, on epoll. Each socket has two
 * queues of operations, reads (WSARecv, AcceptEx) and writes (WSASend,
 * ConnectEx), each run in the order it was started. An operation whose
 * queue is empty runs at once, without blocking (MSG_DONTWAIT); if the
 * socket is not ready it is queued and the socket armed in epoll
 * (one-shot). One I/O thread per session waits in epoll_wait and, for
 * each ready socket, runs its queues' heads until one would block.
 * Finished operations complete as every overlapped operation does
 * (ws_op_finish: the port, the event or the routine).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"
#include "ops.h"

struct fdq {
	struct ws_op *head[2], *tail[2];
	bool added;		/* in the epoll set */
};

/* All under the lock. */
static struct fdq *queues;
static int nqueues;
static int epfd = -1, wakefd = -1;
static bool running;
static pthread_t thread;

static const uint32_t dir_events[2] = { EPOLLIN, EPOLLOUT };

static struct fdq *fdq_of(int fd, bool grow)
{
	if (fd < 0)
		return NULL;
	if (fd >= nqueues &&
	    (!grow || !ws_by_fd_grow((void **)&queues, &nqueues, fd,
				    sizeof(*queues))))
		return NULL;
	return &queues[fd];
}

/* Arm fd for what its queues' heads wait for (one-shot). */
static void arm(int fd)
{
	struct fdq *q = fdq_of(fd, false);
	struct epoll_event ev = { .data.fd = fd };

	if (!q)
		return;
	for (int d = 0; d < 2; d++)
		if (q->head[d])
			ev.events |= dir_events[d];
	if (!ev.events)
		return;
	ev.events |= EPOLLONESHOT;
	if (!epoll_ctl(epfd, q->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd,
		       &ev))
		q->added = true;
	else if (errno == ENOENT && !epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
		q->added = true;	/* the descriptor was closed and reused */
}

void ws_aio_unlink(struct ws_op *op)
{
	struct fdq *q = fdq_of(op->fd, false);
	struct ws_op **pp;

	if (!q)
		return;
	for (pp = &q->head[op->dir]; *pp; pp = &(*pp)->qnext) {
		if (*pp != op)
			continue;
		*pp = op->qnext;
		if (q->tail[op->dir] == op) {
			struct ws_op *t = q->head[op->dir];

			while (t && t->qnext)
				t = t->qnext;
			q->tail[op->dir] = t;
		}
		op->qnext = NULL;
		return;
	}
}

static void enqueue(struct fdq *q, struct ws_op *op)
{
	op->qnext = NULL;
	if (q->tail[op->dir])
		q->tail[op->dir]->qnext = op;
	else
		q->head[op->dir] = op;
	q->tail[op->dir] = op;
}

/* Run fd's queue d until its head would block. */
static void run_queue(int fd, int d)
{
	struct fdq *q;
	struct ws_op *op;
	DWORD bytes;
	int r;

	while ((q = fdq_of(fd, false)) && (op = q->head[d])) {
		bytes = 0;
		r = op->io(op, &bytes);
		if (r == EAGAIN)
			return;
		if (r == WSA_IO_PENDING)
			continue;	/* moved to another socket's queue */
		ws_op_finish(op, (DWORD)r, bytes);	/* unlinks it */
		ws_op_free(op);
	}
}

static void *io_main(void *arg)
{
	struct epoll_event evs[64];

	(void)arg;
	for (;;) {
		int n = epoll_wait(epfd, evs, 64, -1);
		bool stop = false;

		if (n < 0 && errno != EINTR)
			break;
		ws_lock();
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == wakefd) {
				stop = !running;
				continue;
			}
			for (int d = 0; d < 2; d++)
				run_queue(fd, d);
			arm(fd);
		}
		ws_unlock();
		if (stop)
			break;
	}
	return NULL;
}

/* The I/O thread, started with the first operation that must wait. */
static int io_start(void)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (running)
		return 0;
	if (epfd < 0) {
		epfd = epoll_create1(EPOLL_CLOEXEC);
		wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ev.data.fd = wakefd;
		if (epfd < 0 || wakefd < 0 ||
		    epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev))
			return WSAENOBUFS;
	}
	if (pthread_create(&thread, NULL, io_main, NULL))
		return WSAENOBUFS;
	running = true;
	return 0;
}

/* No I/O thread: the epoll instance and the queues go (lock held). */
static void io_reset(void)
{
	if (epfd >= 0) {
		close(epfd);
		close(wakefd);
		epfd = wakefd = -1;
	}
	free(queues);
	queues = NULL;
	nqueues = 0;
}

void ws_aio_stop(void)
{
	uint64_t one = 1;
	bool join;

	ws_lock();
	join = running;
	running = false;
	if (join)
		(void)!write(wakefd, &one, sizeof(one));
	ws_unlock();
	if (join)
		pthread_join(thread, NULL);
	ws_lock();
	io_reset();
	ws_unlock();
}

int ws_aio_start(struct ws_op *op, DWORD *bytes)
{
	struct fdq *q = fdq_of(op->fd, true);
	int r;

	if (!q) {
		ws_op_free(op);
		return WSAENOBUFS;
	}
	ws_op_list_add(op);
	if (!q->head[op->dir]) {
		*bytes = 0;
		r = op->io(op, bytes);
		if (r != EAGAIN && r != WSA_IO_PENDING) {
			if (r) {	/* failed at once: no notification */
				ws_op_list_del(op);
				ws_op_free(op);
				return r;
			}
			op->at_once = true;
			ws_op_finish(op, 0, *bytes);
			ws_op_free(op);
			return 0;
		}
		if (r == WSA_IO_PENDING) {
			/* moved to another socket's queue, armed there */
			ws_ov_store(op->overlapped, STATUS_PENDING, 0);
			return io_start() ? WSAENOBUFS : WSA_IO_PENDING;
		}
	}
	r = io_start();
	if (r) {
		ws_op_list_del(op);
		ws_op_free(op);
		return r;
	}
	ws_ov_store(op->overlapped, STATUS_PENDING, 0);
	enqueue(q, op);
	arm(op->fd);
	return WSA_IO_PENDING;
}

int ws_aio_requeue(struct ws_op *op, int fd)
{
	struct fdq *q = fdq_of(fd, true), *old = fdq_of(op->fd, false);

	if (!q)
		return WSAENOBUFS;
	if (old && old->head[op->dir] == op)
		ws_aio_unlink(op);
	op->fd = fd;
	op->dir = WS_IO_READ;
	enqueue(q, op);
	arm(fd);
	return WSA_IO_PENDING;
}

/* After fork(), in the child: the I/O thread did not come along, and the
 * epoll instance is the parent's. Pending operations are the parent's
 * business; the child starts afresh. */
void ws_aio_atfork_child(void)
{
	running = false;
	io_reset();
}
