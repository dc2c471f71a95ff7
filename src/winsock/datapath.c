// SPDX-License-Identifier: MIT
/*
 * WSARecv and WSASend, blocking or overlapped (aio.c), and CancelIoEx.
 * An overlapped operation that completes at once returns 0 and still
 * completes as Windows does: its port gets a packet, its event is set,
 * its routine is queued. An overlapped send completes once all its bytes
 * are sent. The buffers are the caller's until completion; a bad one
 * fails with WSAEFAULT when the kernel finds it so.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "internal.h"
#include "ops.h"

static int io_recv(struct ws_op *op, DWORD *bytes)
{
	struct msghdr m = { .msg_iov = op->x.iov,
			    .msg_iovlen = (size_t)op->x.niov };
	ssize_t n = recvmsg(op->fd, &m, op->x.msg_flags | MSG_DONTWAIT);

	if (n >= 0) {
		*bytes = (DWORD)n;
		return 0;
	}
	return ws_io_failed();
}

/* Consume n bytes from the front of the iovecs. */
static void iov_advance(struct ws_io *x, size_t n)
{
	int i = 0;

	while (i < x->niov && n >= x->iov[i].iov_len)
		n -= x->iov[i++].iov_len;
	if (i < x->niov) {
		x->iov[i].iov_base = (char *)x->iov[i].iov_base + n;
		x->iov[i].iov_len -= n;
	}
	memmove(x->iov, x->iov + i, (size_t)(x->niov - i) * sizeof(x->iov[0]));
	x->niov -= i;
}

int ws_io_send(struct ws_op *op, DWORD *bytes)
{
	for (;;) {
		struct msghdr m = { .msg_iov = op->x.iov,
				    .msg_iovlen = (size_t)op->x.niov };
		ssize_t n;

		if (!op->x.niov) {
			*bytes = (DWORD)op->x.done;
			return 0;
		}
		n = sendmsg(op->fd, &m,
			    op->x.msg_flags | MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return ws_io_failed();
		op->x.done += (size_t)n;
		iov_advance(&op->x, (size_t)n);
	}
}

/* Copy the WSABUFs (probed by the caller): 0 or a WSA error. Empty
 * buffers are dropped. */
static int bufs_copy(struct ws_io *x, const WSABUF *bufs, DWORD n)
{
	if (!n || n > WS_IO_IOV_MAX)
		return n ? WSAENOBUFS : WSAEINVAL;
	x->niov = 0;
	for (DWORD i = 0; i < n; i++) {
		if (!bufs[i].len)
			continue;
		x->iov[x->niov].iov_base = bufs[i].buf;
		x->iov[x->niov++].iov_len = bufs[i].len;
	}
	return 0;
}

/* Without an OVERLAPPED: the socket's own blocking mode. */
static int plain_io(int fd, struct ws_io *x, bool send, DWORD *bytes)
{
	struct msghdr m = { .msg_iov = x->iov, .msg_iovlen = (size_t)x->niov };
	ssize_t n = send ? sendmsg(fd, &m, x->msg_flags | MSG_NOSIGNAL) :
			   recvmsg(fd, &m, x->msg_flags);

	if (n < 0)
		return ws_socket_error();
	*bytes = (DWORD)n;
	return 0;
}

struct io_call {
	SOCKET s;
	const WSABUF *bufs;
	DWORD nbufs;
	LPDWORD bytes;
	LPDWORD flags;		/* WSARecv's, in and out */
	int msg_flags;
	LPWSAOVERLAPPED ov;
	LPWSAOVERLAPPED_COMPLETION_ROUTINE routine;
	bool send;
};

/* Start the overlapped operation: 0 done, WSA_IO_PENDING, or an error. */
static int overlapped_io(int fd, const struct io_call *c, const struct ws_io *x)
{
	struct ws_op_args a = { .fd = fd, .overlapped = c->ov,
				.routine = c->routine };
	struct ws_op *op;
	DWORD done = 0;
	int err;

	if (c->routine && !(a.thread = ws_apcq_self()))
		return WSAENOBUFS;
	err = ws_op_begin(&a, &op);
	if (!op)
		return err;
	if (err) {
		ws_op_free(op);
		ws_unlock();
		return err;
	}
	op->io = c->send ? ws_io_send : io_recv;
	op->dir = c->send ? WS_IO_WRITE : WS_IO_READ;
	op->x = *x;
	err = ws_aio_start(op, &done);
	ws_unlock();
	if (!err && c->bytes)
		*c->bytes = done;
	return err;
}

/* The caller's memory the call reads and writes: WSAEFAULT if any of
 * it is not, one probe for all of it. */
static int io_mem_check(const struct io_call *c)
{
	struct ws_span s[4] = {
		{ c->bufs, c->nbufs * sizeof(*c->bufs), false },
		{ c->bytes, c->bytes ? sizeof(DWORD) : 0, true },
		{ c->ov, c->ov ? sizeof(*c->ov) : 0, true },
		{ c->flags, c->flags ? sizeof(DWORD) : 0, true },
	};

	if (c->nbufs > WS_IO_IOV_MAX)
		return 0;	/* bufs_copy refuses it */
	return ws_mem_ok(s, 4) ? 0 : WSAEFAULT;
}

static int io_call(const struct io_call *c)
{
	struct ws_io x = { .msg_flags = c->msg_flags };
	struct ws_call call;
	DWORD done = 0;
	int err, fd = -1;

	if (!ws_call_begin(&call))
		return SOCKET_ERROR;
	err = ws_started() ? ws_socket_fd_io(c->s, &fd) : WSANOTINITIALISED;
	if (!err)
		err = io_mem_check(c);
	if (!err && c->flags)
		x.msg_flags = (int)*c->flags;
	if (!err)
		err = bufs_copy(&x, c->bufs, c->nbufs);
	if (!err && c->ov) {
		err = overlapped_io(fd, c, &x);
	} else if (!err) {
		err = plain_io(fd, &x, c->send, &done);
		if (!err && c->bytes)
			*c->bytes = done;
	}
	if (err)
		ws_set_error(err);
	ws_call_leave(&call, err);
	return err ? SOCKET_ERROR : 0;
}

WS_EXPORT int WSAAPI WSARecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
			     LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags,
			     LPWSAOVERLAPPED lpOverlapped,
			     LPWSAOVERLAPPED_COMPLETION_ROUTINE routine)
{
	struct io_call c = { .s = s, .bufs = lpBuffers, .nbufs = dwBufferCount,
			     .bytes = lpNumberOfBytesRecvd, .flags = lpFlags,
			     .ov = lpOverlapped, .routine = routine };
	int ret;

	if (!lpFlags) {
		WSASetLastError(WSAEFAULT);
		return SOCKET_ERROR;
	}
	ret = io_call(&c);
	if (!ret)
		*lpFlags = 0;
	return ret;
}

WS_EXPORT int WSAAPI WSASend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
			     LPDWORD lpNumberOfBytesSent, DWORD dwFlags,
			     LPWSAOVERLAPPED lpOverlapped,
			     LPWSAOVERLAPPED_COMPLETION_ROUTINE routine)
{
	struct io_call c = { .s = s, .bufs = lpBuffers, .nbufs = dwBufferCount,
			     .bytes = lpNumberOfBytesSent,
			     .msg_flags = (int)dwFlags, .ov = lpOverlapped,
			     .routine = routine, .send = true };

	return io_call(&c);
}

WS_EXPORT BOOL WINAPI CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped)
{
	int fd, n;

	if (ws_socket_fd((SOCKET)(UINT_PTR)hFile, &fd)) {
		ws_set_error(ERROR_INVALID_HANDLE);
		return FALSE;
	}
	ws_lock();
	n = ws_ops_cancel(fd, lpOverlapped);
	ws_unlock();
	if (!n)
		ws_set_error(ERROR_NOT_FOUND);
	return n ? TRUE : FALSE;
}

/* As CancelIoEx, but nothing to cancel is no failure. */
WS_EXPORT BOOL WINAPI CancelIo(HANDLE hFile)
{
	int fd;

	if (ws_socket_fd((SOCKET)(UINT_PTR)hFile, &fd)) {
		ws_set_error(ERROR_INVALID_HANDLE);
		return FALSE;
	}
	ws_lock();
	ws_ops_cancel(fd, NULL);
	ws_unlock();
	return TRUE;
}
