// SPDX-License-Identifier: MIT
/*
 * The Microsoft extensions an IOCP service accepts and connects with:
 * AcceptEx, GetAcceptExSockaddrs, ConnectEx, DisconnectEx (found with
 * SIO_GET_EXTENSION_FUNCTION_POINTER, mswsock.h).
 *
 * AcceptEx takes a socket the caller made beforehand: the accepted
 * connection is moved onto that descriptor (dup3), so the SOCKET the
 * caller holds is the connection, with its redirect state (the engine
 * keeps that on the kernel socket). The listener is made non-blocking on
 * first use. The addresses are written after the first data, each in a
 * block of its own that GetAcceptExSockaddrs reads back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "ops.h"

/* An address block: its length (an int), then the address at the next
 * 8-byte boundary, which the 16 spare bytes Windows asks for make room
 * for wherever the block starts. */
#define ADDR_MIN	(sizeof(struct sockaddr_in6) + 16)

static char *addr_in_block(char *block)
{
	uintptr_t p = (uintptr_t)block + sizeof(int);

	return block + ((p + 7) / 8 * 8 - (uintptr_t)block);
}

static void addr_block(char *block, int fd, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int ilen;

	memset(&ss, 0, sizeof(ss));
	if (peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
		   getsockname(fd, (struct sockaddr *)&ss, &len))
		len = 0;
	if (len > sizeof(struct sockaddr_in6))
		len = sizeof(struct sockaddr_in6);
	ilen = (int)len;
	memcpy(block, &ilen, sizeof(ilen));
	memcpy(addr_in_block(block), &ss, len);
}

/* Stage 1: the first data, on the accepted socket. */
static int io_accept_data(struct ws_op *op, DWORD *bytes)
{
	ssize_t n = recv(op->x.accept_fd, op->x.buf, op->x.recv_len,
			 MSG_DONTWAIT);

	if (n >= 0) {
		*bytes = (DWORD)n;
		return 0;
	}
	return ws_io_failed();
}

/* Stage 0: the connection, moved onto the caller's socket. */
static int io_accept(struct ws_op *op, DWORD *bytes)
{
	int fd = accept4(op->fd, NULL, NULL, SOCK_CLOEXEC), cloexec, err;
	char *blocks;

	if (fd < 0)
		return ws_io_failed();
	cloexec = fcntl(op->x.accept_fd, F_GETFD) & FD_CLOEXEC;
	if (dup3(fd, op->x.accept_fd, cloexec ? O_CLOEXEC : 0) < 0) {
		close(fd);
		return ws_socket_error();
	}
	close(fd);
	blocks = op->x.buf + op->x.recv_len;
	addr_block(blocks, op->x.accept_fd, false);
	addr_block(blocks + op->x.local_len, op->x.accept_fd, true);
	if (!op->x.recv_len)
		return 0;
	/* then the first data: wait for it on the accepted socket */
	op->io = io_accept_data;
	err = io_accept_data(op, bytes);
	return err == EAGAIN ? ws_aio_requeue(op, op->x.accept_fd) : err;
}

/* Start op (lock not held): TRUE if done at once, else FALSE with the
 * last error set (WSA_IO_PENDING when under way). */
static BOOL start(const struct ws_op_args *a, ws_io_fn io, enum ws_io_dir dir,
		  const struct ws_io *x, LPDWORD bytes)
{
	struct ws_op *op;
	DWORD done = 0;
	int err = ws_op_begin(a, &op);

	if (op && !err) {
		op->io = io;
		op->dir = dir;
		op->x = *x;
		err = ws_aio_start(op, &done);
	} else if (op) {
		ws_op_free(op);
	}
	if (op)
		ws_unlock();
	if (!err && bytes)
		*bytes = done;
	if (err)
		ws_set_error(err);
	return err ? FALSE : TRUE;
}

static int accept_check(SOCKET sListen, SOCKET sAccept, PVOID buf,
			DWORD local_len, DWORD remote_len, LPOVERLAPPED ov,
			int *lfd, int *afd)
{
	int fl;

	if (!ws_started())
		return WSANOTINITIALISED;
	if (ws_socket_fd(sListen, lfd) || ws_socket_fd(sAccept, afd))
		return WSAENOTSOCK;
	if (!ov || !buf || local_len < ADDR_MIN || remote_len < ADDR_MIN)
		return WSAEINVAL;
	if (!ws_mem_writable(ov, sizeof(*ov)))
		return WSAEFAULT;
	fl = fcntl(*lfd, F_GETFL);
	if (fl < 0 || (!(fl & O_NONBLOCK) &&
		       fcntl(*lfd, F_SETFL, fl | O_NONBLOCK)))
		return WSAEINVAL;
	return 0;
}

WS_EXPORT BOOL WSAAPI AcceptEx(SOCKET sListen, SOCKET sAccept, PVOID buf,
			DWORD recv_len, DWORD local_len, DWORD remote_len,
			LPDWORD bytes, LPOVERLAPPED ov)
{
	struct ws_io x = { .buf = buf, .recv_len = recv_len,
			   .local_len = local_len, .remote_len = remote_len };
	struct ws_op_args a = { .overlapped = ov };
	int err = accept_check(sListen, sAccept, buf, local_len, remote_len,
			       ov, &a.fd, &x.accept_fd);

	if (err) {
		ws_set_error(err);
		return FALSE;
	}
	return start(&a, io_accept, WS_IO_READ, &x, bytes);
}

WS_EXPORT void WSAAPI GetAcceptExSockaddrs(PVOID buf, DWORD recv_len,
				    DWORD local_len, DWORD remote_len,
				    struct sockaddr **local, LPINT local_size,
				    struct sockaddr **remote,
				    LPINT remote_size)
{
	char *blocks = (char *)buf + recv_len;

	(void)remote_len;
	memcpy(local_size, blocks, sizeof(int));
	*local = (struct sockaddr *)addr_in_block(blocks);
	memcpy(remote_size, blocks + local_len, sizeof(int));
	*remote = (struct sockaddr *)addr_in_block(blocks + local_len);
}

/* ConnectEx: stage 0 starts the connect (non-blocking for its while),
 * 1 waits for it; then its first data go as WSASend's do. */
static int io_connect(struct ws_op *op, DWORD *bytes)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (op->x.stage == 0) {
		op->x.stage = 1;
		op->x.saved_fl = fcntl(op->fd, F_GETFL);
		fcntl(op->fd, F_SETFL, op->x.saved_fl | O_NONBLOCK);
		if (!connect(op->fd, (struct sockaddr *)&op->x.addr,
			     op->x.addr_len))
			err = 0;	/* connected at once */
		else if (errno == EINPROGRESS)
			return EAGAIN;
		else
			err = ws_socket_error();
	} else {
		if (getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
		err = err ? ws_from_errno_or(err, WSAECONNREFUSED) : 0;
	}
	fcntl(op->fd, F_SETFL, op->x.saved_fl);	/* its mode back */
	if (err || !op->x.niov)
		return err;
	/* then the first data, sent as an overlapped WSASend sends */
	op->io = ws_io_send;
	return ws_io_send(op, bytes);
}

BOOL WSAAPI ws_connectex(SOCKET s, const struct sockaddr *name, int namelen,
			 PVOID send_buf, DWORD send_len, LPDWORD sent,
			 LPOVERLAPPED ov)
{
	struct ws_io x = { .addr_len = (socklen_t)namelen };
	struct ws_op_args a = { .overlapped = ov };
	struct sockaddr_storage me;
	socklen_t mlen = sizeof(me);
	int err = ws_started() ? ws_socket_fd(s, &a.fd) : WSANOTINITIALISED;

	if (!err && (!ov || !name || namelen <= 0 ||
		     (size_t)namelen > sizeof(x.addr)))
		err = WSAEINVAL;
	if (!err && (!ws_mem_readable(name, (size_t)namelen) ||
		     !ws_mem_writable(ov, sizeof(*ov))))
		err = WSAEFAULT;
	/* ConnectEx wants a bound socket, as on Windows */
	if (!err && (getsockname(a.fd, (struct sockaddr *)&me, &mlen) ||
		     !((struct sockaddr_in *)&me)->sin_port))
		err = WSAEINVAL;
	if (err) {
		ws_set_error(err);
		return FALSE;
	}
	memcpy(&x.addr, name, (size_t)namelen);
	if (send_buf && send_len) {
		x.iov[0].iov_base = send_buf;
		x.iov[0].iov_len = send_len;
		x.niov = 1;
	}
	return start(&a, io_connect, WS_IO_WRITE, &x, sent);
}

static int io_disconnect(struct ws_op *op, DWORD *bytes)
{
	*bytes = 0;
	return shutdown(op->fd, SHUT_WR) ? ws_socket_error() : 0;
}

/* DisconnectEx: the send side shut; a socket is not reused here
 * (TF_REUSE_SOCKET is refused). */
BOOL WSAAPI ws_disconnectex(SOCKET s, LPOVERLAPPED ov, DWORD flags,
			    DWORD reserved)
{
	struct ws_op_args a = { .overlapped = ov };
	struct ws_io x = { 0 };
	int err = ws_started() ? ws_socket_fd(s, &a.fd) : WSANOTINITIALISED;

	(void)reserved;
	if (!err && (flags & TF_REUSE_SOCKET))
		err = WSAEOPNOTSUPP;
	if (!err && !ov) {
		err = shutdown(a.fd, SHUT_WR) ? ws_socket_error() : 0;
		if (!err)
			return TRUE;
	}
	if (err) {
		ws_set_error(err);
		return FALSE;
	}
	return start(&a, io_disconnect, WS_IO_WRITE, &x, NULL);
}
