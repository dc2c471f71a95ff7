// SPDX-License-Identifier: MIT
/*
 * Sockets are POSIX descriptors. What Winsock adds is per-socket state:
 * the overlapped attribute (socket() and accept() make sockets that have
 * it, as on Windows, and WSASocket makes one only with
 * WSA_FLAG_OVERLAPPED) and IP_WFP_REDIRECT_CONTEXT. The few sockets with
 * something to remember (no overlapped attribute, the option set) are
 * kept by descriptor and inode (a descriptor number is reused once
 * closed; the inode of a live socket is not), so everything else,
 * including sockets this layer never saw, is overlapped and without
 * the option.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "ops.h"

/* A socket with something to remember: the attributes below. */
struct marked {
	int fd;
	dev_t dev;
	ino_t ino;
	unsigned int flags;	/* WS_SOCK_* */
};

/* Sockets with flags; under the lock. */
static struct marked *marked;
static size_t nmarked, cap;

/*
 * Descriptors WSARecv and WSASend have seen to be sockets, until
 * closesocket(): they run for every buffer a relay moves, so the answer
 * is remembered rather than asked of the kernel each time. A socket
 * closed behind the layer's back (close()) stays marked; the call on it
 * then fails in the kernel with EBADF or ENOTSOCK, WSAENOTSOCK all the
 * same. Every other call asks the kernel.
 */
#define KNOWN_MAX 65536
static unsigned char known[KNOWN_MAX / 8];

static void mark_known(int fd, bool on)
{
	unsigned char bit = (unsigned char)(1u << fd % 8);

	if (fd >= KNOWN_MAX)
		return;
	if (on)
		__atomic_fetch_or(&known[fd / 8], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&known[fd / 8], (unsigned char)~bit,
				   __ATOMIC_RELAXED);
}

int ws_socket_fd_io(SOCKET s, int *fd)
{
	int err;

	if (s < KNOWN_MAX &&
	    (__atomic_load_n(&known[s / 8], __ATOMIC_RELAXED) >> s % 8) & 1) {
		*fd = (int)s;
		return 0;
	}
	err = ws_socket_fd(s, fd);
	if (!err)
		mark_known(*fd, true);
	return err;
}

/* fstat(), not getsockopt(): a getsockopt() inside an engine's scope runs
 * the engine's getsockopt program. */
int ws_socket_fd(SOCKET s, int *fd)
{
	struct stat st;

	if (s > INT_MAX || fstat((int)s, &st) || !S_ISSOCK(st.st_mode))
		return WSAENOTSOCK;	/* EBADF, or not a socket */
	*fd = (int)s;
	return 0;
}

int ws_socket_kind(int fd, int *domain, int *type, int *protocol)
{
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, domain, &len) < 0)
		return WSAENOTSOCK;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) < 0)
		return WSAENOTSOCK;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, protocol, &len) < 0)
		return WSAENOTSOCK;
	return 0;
}

static bool identity(int fd, struct marked *p)
{
	struct stat st;

	if (fstat(fd, &st))
		return false;
	p->fd = fd;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->flags = 0;
	return true;
}

/* Lock held. */
static void forget_locked(int fd)
{
	for (size_t i = 0; i < nmarked; i++) {
		if (marked[i].fd == fd) {
			marked[i] = marked[--nmarked];
			return;
		}
	}
}

/* fd's entry if it is still the socket it was made for. Lock held. */
static struct marked *find_locked(const struct marked *me)
{
	for (size_t i = 0; i < nmarked; i++) {
		if (marked[i].fd != me->fd)
			continue;
		if (marked[i].dev == me->dev && marked[i].ino == me->ino)
			return &marked[i];
		forget_locked(me->fd);	/* closed with close() */
		break;
	}
	return NULL;
}

unsigned int ws_socket_flags(int fd)
{
	struct marked me, *m;
	unsigned int flags = 0;

	if (!identity(fd, &me))
		return 0;
	ws_lock();
	m = find_locked(&me);
	if (m)
		flags = m->flags;
	ws_unlock();
	return flags;
}

bool ws_socket_overlapped(int fd)
{
	return !(ws_socket_flags(fd) & WS_SOCK_PLAIN);
}

int ws_socket_set_flag(int fd, unsigned int flag, bool on)
{
	struct marked me, *m;
	int err = 0;

	if (!identity(fd, &me))
		return WSAENOTSOCK;
	ws_lock();
	m = find_locked(&me);
	if (m) {
		m->flags = on ? m->flags | flag : m->flags & ~flag;
		if (!m->flags)
			forget_locked(fd);
	} else if (on) {
		if (nmarked == cap) {
			size_t n = cap ? cap * 2 : 16;
			struct marked *p = realloc(marked, n * sizeof(*p));

			if (p) {
				marked = p;
				cap = n;
			}
		}
		if (nmarked < cap) {
			me.flags = flag;
			marked[nmarked++] = me;
		} else {
			err = WSAENOBUFS;
		}
	}
	ws_unlock();
	return err;
}

#define WS_SOCKET_FLAGS (WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT)

/* The A and W structures differ only in their last field. */
#define INFO_FIELD(f) offsetof(WSAPROTOCOL_INFOA, f)
_Static_assert(INFO_FIELD(iAddressFamily) ==
	       offsetof(WSAPROTOCOL_INFOW, iAddressFamily), "info layout");
_Static_assert(INFO_FIELD(iSocketType) ==
	       offsetof(WSAPROTOCOL_INFOW, iSocketType), "info layout");
_Static_assert(INFO_FIELD(iProtocol) ==
	       offsetof(WSAPROTOCOL_INFOW, iProtocol), "info layout");

static void info_int(const void *info, size_t off, int *v)
{
	if (*v == FROM_PROTOCOL_INFO)
		memcpy(v, (const char *)info + off, sizeof(*v));
}

static SOCKET make_socket(int af, int type, int protocol, const void *info,
			  size_t info_len, GROUP g, DWORD flags)
{
	struct ws_call call;
	int err = ws_call_enter(&call), fd = -1;

	if (err) {
		ws_set_error(err);
		return INVALID_SOCKET;
	}
	if (!ws_started()) {
		err = WSANOTINITIALISED;
	} else if (info && !ws_mem_readable(info, info_len)) {
		err = WSAEFAULT;
	} else if (g || (flags & ~WS_SOCKET_FLAGS)) {
		/* no socket groups, multipoint, security or RIO sockets */
		err = WSAEINVAL;
	}
	if (!err && info) {
		info_int(info, INFO_FIELD(iAddressFamily), &af);
		info_int(info, INFO_FIELD(iSocketType), &type);
		info_int(info, INFO_FIELD(iProtocol), &protocol);
	}
	if (!err) {
		if (flags & WSA_FLAG_NO_HANDLE_INHERIT)
			type |= SOCK_CLOEXEC;
		fd = socket(af, type, protocol);
		if (fd < 0)
			err = ws_socket_error();
	}
	if (!err && !(flags & WSA_FLAG_OVERLAPPED)) {
		err = ws_socket_set_flag(fd, WS_SOCK_PLAIN, true);
		if (err) {
			close(fd);
			fd = -1;
		}
	}
	if (err)
		ws_set_error(err);
	ws_call_leave(&call, err);
	return err ? INVALID_SOCKET : (SOCKET)fd;
}

WS_EXPORT SOCKET WSAAPI WSASocketA(int af, int type, int protocol,
				   LPWSAPROTOCOL_INFOA lpProtocolInfo,
				   GROUP g, DWORD dwFlags)
{
	return make_socket(af, type, protocol, lpProtocolInfo,
			   sizeof(WSAPROTOCOL_INFOA), g, dwFlags);
}

WS_EXPORT SOCKET WSAAPI WSASocketW(int af, int type, int protocol,
				   LPWSAPROTOCOL_INFOW lpProtocolInfo,
				   GROUP g, DWORD dwFlags)
{
	return make_socket(af, type, protocol, lpProtocolInfo,
			   sizeof(WSAPROTOCOL_INFOW), g, dwFlags);
}

WS_EXPORT int WSAAPI closesocket(SOCKET s)
{
	struct ws_call call;
	int err = ws_call_enter(&call), fd;

	if (err) {
		ws_set_error(err);
		return SOCKET_ERROR;
	}
	if (!ws_started())
		err = WSANOTINITIALISED;
	else
		err = ws_socket_fd(s, &fd);
	if (!err) {
		/* pending operations end first, with WSA_OPERATION_ABORTED */
		ws_ops_abort(fd);
		mark_known(fd, false);
		ws_lock();
		forget_locked(fd);
		ws_port_forget(fd);
		ws_es_forget(fd);
		ws_unlock();
		if (close(fd) && errno != EINTR)
			err = ws_from_errno_or(errno, WSAENOTSOCK);
	}
	if (err)
		ws_set_error(err);
	ws_call_leave(&call, err);
	return err ? SOCKET_ERROR : 0;
}
