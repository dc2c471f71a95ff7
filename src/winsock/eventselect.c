// SPDX-License-Identifier: MIT
/*
 * WSAEventSelect and WSAEnumNetworkEvents. A socket registered with an
 * event and a set of network events (FD_READ, FD_WRITE, FD_ACCEPT,
 * FD_CONNECT, FD_CLOSE, FD_OOB) is watched, edge-triggered, in an epoll
 * instance of its own by one thread; what happens is recorded (with its
 * error code) and the event set. WSAEnumNetworkEvents hands the record
 * over and clears it.
 *
 * Windows posts FD_READ and FD_ACCEPT again after each recv() or
 * accept() while more is waiting (the "re-enabling" calls); recv() and
 * accept() of a source that includes winsock2.h come here for that
 * (lwfp_winsock_recv, lwfp_winsock_accept). FD_WRITE comes after a
 * connect and whenever room frees up after a send that would block.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include "internal.h"
#include "ops.h"

#define ES_ALL	(FD_READ | FD_WRITE | FD_OOB | FD_ACCEPT | FD_CONNECT | FD_CLOSE)

struct es {
	WSAEVENT event;		/* NULL: not registered */
	long mask;
	long pending;
	int error[FD_MAX_EVENTS];
	bool listening, connecting;
};

/* All under the lock. */
static struct es *table;
static int ntable;
static int esfd = -1;
static bool thread_started;

static struct es *es_of(int fd)
{
	return fd >= 0 && fd < ntable && table[fd].event ? &table[fd] : NULL;
}

static void post(struct es *e, int bit, int err)
{
	if (!(e->mask & (1L << bit)))
		return;
	e->pending |= 1L << bit;
	e->error[bit] = err;
	ws_event_signal(e->event);
}

static int so_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || !err)
		return 0;
	return ws_from_errno_or(err, WSAECONNRESET);
}

/* A TCP socket's state (TCP_ESTABLISHED...), or TCP_ESTABLISHED for a
 * socket that has none (UDP). */
static int tcp_state(int fd)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len))
		return TCP_ESTABLISHED;
	return info.tcpi_state;
}

static bool readable_now(int fd)
{
	int n = 0;

	return !ioctl(fd, FIONREAD, &n) && n > 0;
}

/* What epoll saw on fd (lock held). */
static void es_event(int fd, uint32_t ev)
{
	struct es *e = es_of(fd);
	int err, state;

	if (!e)
		return;
	if (e->listening) {
		if (ev & EPOLLIN)
			post(e, FD_ACCEPT_BIT, 0);
		return;
	}
	if (e->connecting) {
		/* an unconnected socket polls as hung up and writable: only
		 * a connect's end counts */
		state = tcp_state(fd);
		err = state == TCP_CLOSE ? so_error(fd) : 0;
		if (state == TCP_SYN_SENT || (state == TCP_CLOSE && !err))
			return;
		e->connecting = false;
		post(e, FD_CONNECT_BIT, err);
		if (err)
			return;
	}
	if (ev & EPOLLOUT)
		post(e, FD_WRITE_BIT, 0);
	if (ev & EPOLLPRI)
		post(e, FD_OOB_BIT, 0);
	if ((ev & EPOLLIN) && readable_now(fd))
		post(e, FD_READ_BIT, 0);
	if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		post(e, FD_CLOSE_BIT, (ev & EPOLLERR) ? so_error(fd) : 0);
}

static void *es_main(void *arg)
{
	struct epoll_event evs[64];

	(void)arg;
	for (;;) {
		int n = epoll_wait(esfd, evs, 64, -1);

		if (n < 0 && errno != EINTR)
			break;
		ws_lock();
		for (int i = 0; i < n; i++)
			es_event(evs[i].data.fd, evs[i].events);
		ws_unlock();
	}
	return NULL;
}

/* The epoll instance and its thread, once per process (lock held). */
static int es_start(void)
{
	pthread_attr_t attr;
	pthread_t th;
	int ret;

	if (thread_started)
		return 0;
	if (esfd < 0)
		esfd = epoll_create1(EPOLL_CLOEXEC);
	if (esfd < 0)
		return WSAENOBUFS;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&th, &attr, es_main, NULL);
	pthread_attr_destroy(&attr);
	if (ret)
		return WSAENOBUFS;
	thread_started = true;
	return 0;
}

void ws_es_forget(int fd)
{
	if (fd >= 0 && fd < ntable && table[fd].event) {
		epoll_ctl(esfd, EPOLL_CTL_DEL, fd, NULL);
		memset(&table[fd], 0, sizeof(table[fd]));
	}
}

/* Register fd (lock held): 0 or a WSA error. */
static int es_register(int fd, WSAEVENT ev, long mask)
{
	struct epoll_event e = {
		.events = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLET,
		.data.fd = fd,
	};
	int listening = 0, fl = fcntl(fd, F_GETFL);
	socklen_t len = sizeof(listening);
	bool had = es_of(fd);

	if (!ws_event_valid(ev))
		return WSAEINVAL;
	if (fd >= ntable &&
	    !ws_by_fd_grow((void **)&table, &ntable, fd, sizeof(*table)))
		return WSAENOBUFS;
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) || es_start())
		return WSAENOBUFS;
	getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
	table[fd] = (struct es){ .event = ev, .mask = mask,
				 .listening = listening != 0 };
	/* not connected yet (and not listening): FD_CONNECT to come */
	table[fd].connecting = !listening && tcp_state(fd) == TCP_CLOSE &&
			       !so_error(fd);
	/* adding reports what holds now: a connected socket is writable */
	if (epoll_ctl(esfd, had ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e) &&
	    (errno != ENOENT || epoll_ctl(esfd, EPOLL_CTL_ADD, fd, &e))) {
		memset(&table[fd], 0, sizeof(table[fd]));
		return ws_socket_error();
	}
	return 0;
}

WS_EXPORT int WSAAPI WSAEventSelect(SOCKET s, WSAEVENT hEventObject,
				    long lNetworkEvents)
{
	int err, fd;

	err = ws_started() ? ws_socket_fd(s, &fd) : WSANOTINITIALISED;
	if (!err && (lNetworkEvents & ~ES_ALL))
		err = WSAEINVAL;
	if (!err) {
		ws_lock();
		if (!lNetworkEvents)
			ws_es_forget(fd);
		else
			err = es_register(fd, hEventObject, lNetworkEvents);
		ws_unlock();
	}
	if (err)
		ws_set_error(err);
	return err ? SOCKET_ERROR : 0;
}

WS_EXPORT int WSAAPI WSAEnumNetworkEvents(SOCKET s, WSAEVENT hEventObject,
					  LPWSANETWORKEVENTS lpNetworkEvents)
{
	struct es *e;
	int err, fd;

	err = ws_started() ? ws_socket_fd(s, &fd) : WSANOTINITIALISED;
	if (!err && !ws_mem_writable(lpNetworkEvents, sizeof(*lpNetworkEvents)))
		err = WSAEFAULT;
	if (!err) {
		ws_lock();
		if (hEventObject && !ws_event_valid(hEventObject))
			err = WSAEINVAL;
		e = es_of(fd);
		memset(lpNetworkEvents, 0, sizeof(*lpNetworkEvents));
		if (!err && e) {
			lpNetworkEvents->lNetworkEvents = e->pending;
			memcpy(lpNetworkEvents->iErrorCode, e->error,
			       sizeof(e->error));
			e->pending = 0;
		}
		if (!err && hEventObject)
			ws_event_reset(hEventObject);
		ws_unlock();
	}
	if (err)
		ws_set_error(err);
	return err ? SOCKET_ERROR : 0;
}

/* After a re-enabling call that got something: more waiting means the
 * event again. */
static void reenable(int fd, int bit)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct es *e;

	if (!__atomic_load_n(&ntable, __ATOMIC_RELAXED))
		return;	/* nothing registered in this process */
	ws_lock();
	e = es_of(fd);
	if (e && (bit == FD_READ_BIT ? readable_now(fd) :
				       poll(&p, 1, 0) == 1))
		post(e, bit, 0);
	ws_unlock();
}

WS_EXPORT int WSAAPI lwfp_winsock_recv(SOCKET s, char *buf, int len,
				       int flags)
{
	ssize_t n;
	int saved;

	if (s > INT32_MAX) {
		errno = EBADF;
		return SOCKET_ERROR;
	}
	n = recv((int)s, buf, (size_t)(len < 0 ? 0 : len), flags);
	saved = errno;
	if (n > 0)
		reenable((int)s, FD_READ_BIT);
	errno = saved;
	return (int)n;
}

WS_EXPORT SOCKET WSAAPI lwfp_winsock_accept(SOCKET s, struct sockaddr *addr,
					    int *addrlen)
{
	int fd, saved;

	if (s > INT32_MAX) {
		errno = EBADF;
		return INVALID_SOCKET;
	}
	fd = accept((int)s, addr, (socklen_t *)addrlen);
	saved = errno;
	if (fd >= 0)
		reenable((int)s, FD_ACCEPT_BIT);
	errno = saved;
	return fd < 0 ? INVALID_SOCKET : (SOCKET)fd;
}
