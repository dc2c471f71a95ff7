// SPDX-License-Identifier: MIT
/*
 * Readiness: WSAPoll(), select() and ioctlsocket(), as a Windows service
 * uses them to serve many sockets from one thread (non-blocking sockets,
 * one poll).
 *
 * WSAPOLLFD holds a SOCKET (pointer-sized), not an int, so the array is
 * copied into struct pollfd for poll(2). The POLL* names are the POSIX
 * ones (<poll.h>), so that a source including both sets of headers sees
 * one value per name. As on Windows, a readable socket reports both
 * POLLRDNORM and POLLIN, a writable one POLLWRNORM and POLLOUT, whichever
 * of the pair was asked for.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "internal.h"

#define WS_POLL_READ	(POLLIN | POLLRDNORM)
#define WS_POLL_WRITE	(POLLOUT | POLLWRNORM)
/* what a WSAPOLLFD may ask for */
#define WS_POLL_ASKABLE	(WS_POLL_READ | POLLRDBAND | POLLPRI | WS_POLL_WRITE | \
			 POLLWRBAND)

static short poll_ask(short events)
{
	short ask = events & (POLLRDBAND | POLLPRI | POLLWRBAND);

	if (events & WS_POLL_READ)
		ask |= WS_POLL_READ;
	if (events & WS_POLL_WRITE)
		ask |= WS_POLL_WRITE;
	return ask;
}

static short poll_seen(short revents)
{
	short seen = revents & (POLLRDBAND | POLLPRI | POLLWRBAND | POLLERR |
				POLLHUP | POLLNVAL);

	if (revents & WS_POLL_READ)
		seen |= WS_POLL_READ;
	if (revents & WS_POLL_WRITE)
		seen |= WS_POLL_WRITE;
	return seen;
}

/* The array as poll(2) takes it: 0 or a WSA error. Entries whose fd is
 * negative (INVALID_SOCKET) are skipped, as Windows does. */
static int poll_copy_in(const WSAPOLLFD *in, ULONG n, struct pollfd *out)
{
	for (ULONG i = 0; i < n; i++) {
		if (in[i].events & ~WS_POLL_ASKABLE)
			return WSAEINVAL;
		out[i].fd = (INT_PTR)in[i].fd < 0 || in[i].fd > INT32_MAX ?
			    -1 : (int)in[i].fd;
		out[i].events = poll_ask(in[i].events);
		out[i].revents = 0;
	}
	return 0;
}

WS_EXPORT int WSAAPI WSAPoll(LPWSAPOLLFD fdArray, ULONG fds, INT timeout)
{
	struct pollfd *pfd = NULL;
	struct ws_call call;
	int err = 0, n = SOCKET_ERROR;

	if (!ws_call_begin(&call))
		return SOCKET_ERROR;
	if (!ws_started())
		err = WSANOTINITIALISED;
	else if (!fdArray || !fds)
		err = WSAEINVAL;
	else if (!ws_mem_writable(fdArray, (size_t)fds * sizeof(*fdArray)))
		err = WSAEFAULT;
	else if (!(pfd = calloc(fds, sizeof(*pfd))))
		err = WSAENOBUFS;
	else
		err = poll_copy_in(fdArray, fds, pfd);
	if (!err) {
		n = poll(pfd, fds, timeout < 0 ? -1 : timeout);
		if (n < 0)
			err = ws_socket_error();
		for (ULONG i = 0; n >= 0 && i < fds; i++)
			fdArray[i].revents = poll_seen(pfd[i].revents);
	}
	free(pfd);
	if (err) {
		ws_set_error(err);
		n = SOCKET_ERROR;
	}
	ws_call_leave(&call, err);
	return n;
}

/* FIONBIO: *argp non-zero makes the socket non-blocking; FIONREAD: the
 * bytes ready to read; SIOCATMARK: whether all out-of-band data is read
 * (TRUE then, as Windows says it). */
static int ioctl_socket_fd(int fd, long cmd, u_long *argp)
{
	int v;

	if (cmd == FIONBIO) {
		v = *argp != 0;
		return ioctl(fd, FIONBIO, &v) ? errno : 0;
	}
	if (cmd == FIONREAD || cmd == SIOCATMARK) {
		if (ioctl(fd, (unsigned long)cmd, &v))
			return errno;
		*argp = cmd == SIOCATMARK ? (u_long)!v : (u_long)v;
		return 0;
	}
	return EINVAL;
}

WS_EXPORT int WSAAPI ioctlsocket(SOCKET s, long cmd, u_long *argp)
{
	struct ws_call call;
	int err = 0, fd;

	if (!ws_call_begin(&call))
		return SOCKET_ERROR;
	if (!ws_started())
		err = WSANOTINITIALISED;
	else if (!argp || !ws_mem_writable(argp, sizeof(*argp)))
		err = WSAEFAULT;
	else
		err = ws_socket_fd(s, &fd);
	if (!err) {
		err = ioctl_socket_fd(fd, cmd, argp);
		if (err)
			err = ws_from_errno_or(err, WSAEINVAL);
	}
	if (err)
		ws_set_error(err);
	ws_call_leave(&call, err);
	return err ? SOCKET_ERROR : 0;
}


WS_EXPORT int WSAAPI __WSAFDIsSet(SOCKET s, fd_set *set)
{
	for (u_int i = 0; set && i < set->fd_count; i++)
		if (set->fd_array[i] == s)
			return 1;
	return 0;
}

/* The three sets as one pollfd array (a socket in several sets once):
 * its length, or -1 with a WSA error in *err. */
static int select_gather(fd_set *const sets[3], struct pollfd **out, int *err)
{
	static const short ask[3] = { POLLIN, POLLOUT, POLLPRI };
	size_t n = 0, cap = 0;
	struct pollfd *p = NULL;

	for (int k = 0; k < 3; k++)
		cap += sets[k] ? sets[k]->fd_count : 0;
	if (cap && !(p = calloc(cap, sizeof(*p)))) {
		*err = WSAENOBUFS;
		return -1;
	}
	for (int k = 0; k < 3; k++) {
		for (u_int i = 0; sets[k] && i < sets[k]->fd_count; i++) {
			SOCKET s = sets[k]->fd_array[i];
			size_t j = 0;

			while (j < n && (SOCKET)p[j].fd != s)
				j++;
			if (j == n) {
				if (s > INT32_MAX) {
					free(p);
					*err = WSAENOTSOCK;
					return -1;
				}
				p[n++].fd = (int)s;
			}
			p[j].events |= ask[k];
		}
	}
	*out = p;
	return (int)n;
}

/* Is the socket's pollfd ready for set k (read, write, except)? As on
 * Windows, a failed connect is exceptional, not writable. */
static bool select_ready(const struct pollfd *p, int k)
{
	short r = p->revents;

	if (k == 0)
		return (p->events & POLLIN) && (r & (POLLIN | POLLHUP | POLLERR));
	if (k == 1)
		return (p->events & POLLOUT) && (r & POLLOUT) && !(r & POLLERR);
	return (p->events & POLLPRI) && (r & (POLLPRI | POLLERR));
}

/* Keep in each set the sockets ready for it; how many in all. */
static int select_scatter(fd_set *const sets[3], const struct pollfd *p,
			  int n)
{
	int total = 0;

	for (int k = 0; k < 3; k++) {
		u_int kept = 0;

		for (u_int i = 0; sets[k] && i < sets[k]->fd_count; i++) {
			int j = 0;

			while (j < n && (SOCKET)p[j].fd != sets[k]->fd_array[i])
				j++;
			if (j < n && select_ready(&p[j], k))
				sets[k]->fd_array[kept++] = sets[k]->fd_array[i];
		}
		if (sets[k]) {
			sets[k]->fd_count = kept;
			total += (int)kept;
		}
	}
	return total;
}

static int select_timeout(const struct timeval *tv, int *err)
{
	if (!tv)
		return -1;
	if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_sec > INT32_MAX / 1000) {
		*err = WSAEINVAL;
		return 0;
	}
	return (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000);
}

WS_EXPORT int WSAAPI lwfp_winsock_select(int nfds, fd_set *readfds,
					 fd_set *writefds, fd_set *exceptfds,
					 const struct timeval *timeout)
{
	fd_set *const sets[3] = { readfds, writefds, exceptfds };
	struct pollfd *p = NULL;
	struct ws_call call;
	int err = 0, n = 0, ms = 0, ret = SOCKET_ERROR;

	(void)nfds;
	if (!ws_call_begin(&call))
		return SOCKET_ERROR;
	if (!ws_started())
		err = WSANOTINITIALISED;
	else if (!readfds && !writefds && !exceptfds)
		err = WSAEINVAL;
	else
		ms = select_timeout(timeout, &err);
	if (!err)
		n = select_gather(sets, &p, &err);
	if (!err && poll(p, (nfds_t)n, ms) < 0)
		err = ws_socket_error();
	for (int j = 0; !err && j < n; j++)
		if (p[j].revents & POLLNVAL)
			err = WSAENOTSOCK;
	if (!err)
		ret = select_scatter(sets, p, n);
	free(p);
	if (err)
		ws_set_error(err);
	ws_call_leave(&call, err);
	return ret;
}
