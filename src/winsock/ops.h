/* SPDX-License-Identifier: MIT */
/*
 * An overlapped operation, as overlapped.c (control codes, run by its
 * worker) and aio.c (socket I/O, run when the socket is ready) share it.
 * Everything here is under the layer's lock.
 */
#ifndef LWFP_WINSOCK_OPS_H
#define LWFP_WINSOCK_OPS_H

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "internal.h"

#define WS_IO_IOV_MAX	16	/* WSABUFs of one WSARecv/WSASend */

enum ws_io_dir { WS_IO_READ, WS_IO_WRITE };

struct ws_op;

/* Try a socket operation now: 0 done (*bytes), EAGAIN not yet, or a WSA
 * error. Called with the lock held, never blocking. */
typedef int (*ws_io_fn)(struct ws_op *op, DWORD *bytes);

/* What a socket operation works with. */
struct ws_io {
	struct iovec iov[WS_IO_IOV_MAX];
	int niov;
	size_t done;		/* bytes moved so far (a send in parts) */
	int msg_flags;
	LPDWORD flags_out;	/* WSARecv's lpFlags */
	/* AcceptEx */
	int accept_fd;
	int stage;
	char *buf;
	DWORD recv_len, local_len, remote_len;
	/* ConnectEx */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int saved_fl;
};

struct ws_op {
	struct ws_op *next, *prev;	/* in the pending list */
	int fd;
	int port_fd;			/* whose port gets the completion */
	ws_op_fn fn;
	unsigned char in[LWFP_RECORDS_LEN];
	size_t in_len;
	void *out;
	DWORD out_len;
	LPWSAOVERLAPPED overlapped;
	LPWSAOVERLAPPED_COMPLETION_ROUTINE routine;
	WSAEVENT event;			/* without a routine */
	struct ws_apcq *thread;		/* with one: referenced */
	struct ws_apc *apc;		/* ... and its APC, ready */
	struct ws_engine *engine;
	bool running;			/* the worker has it */
	bool aborted;			/* ... and must drop it */
	bool no_port;			/* no completion packet */
	bool at_once;			/* completed in the call */
	/* a socket I/O operation (aio.c); NULL: a control code */
	ws_io_fn io;
	enum ws_io_dir dir;
	struct ws_op *qnext;		/* in its socket's queue */
	struct ws_io x;
};

void ws_ov_store(LPWSAOVERLAPPED ov, ULONG_PTR status, ULONG_PTR bytes);
void ws_op_list_add(struct ws_op *op);
void ws_op_list_del(struct ws_op *op);
void ws_op_free(struct ws_op *op);
/* Result, then notification: the port the socket is associated with, the
 * event, or the routine's thread. */
void ws_op_finish(struct ws_op *op, DWORD status, DWORD bytes);
/* A new operation, attached to its OVERLAPPED; returns with the lock
 * held unless allocating failed (then *op is NULL). */
int ws_op_begin(const struct ws_op_args *a, struct ws_op **op);

/* End fd's pending operations (only ov's, if not NULL) with
 * WSA_OPERATION_ABORTED; how many (lock held). */
int ws_ops_cancel(int fd, LPWSAOVERLAPPED ov);

/* What a non-blocking socket call that failed means for its operation:
 * EAGAIN (not yet: wait for the socket), or its WSA error. */
static inline int ws_io_failed(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? EAGAIN :
							 ws_socket_error();
}

/* ---- datapath.c */

/* An overlapped send of op's buffers: done when all of them are sent. */
int ws_io_send(struct ws_op *op, DWORD *bytes);

/* ---- aio.c */

/* Start socket operation op (lock held): run it now if nothing is queued
 * before it on its socket, else queue it. 0: done now (*bytes, finished
 * and freed); WSA_IO_PENDING: queued; a WSA error: failed, freed, no
 * notification. */
int ws_aio_start(struct ws_op *op, DWORD *bytes);
/* Take op off its socket's queue (lock held). */
void ws_aio_unlink(struct ws_op *op);
/* Move op to the read queue of another socket (AcceptEx's second stage). */
int ws_aio_requeue(struct ws_op *op, int fd);
/* Session end (lock not held): the I/O thread stops. */
void ws_aio_stop(void);
/* In a child after fork() (lock held). */
void ws_aio_atfork_child(void);

/* ---- eventselect.c */

/* fd is closed: no more network events (lock held). */
void ws_es_forget(int fd);

/* ---- iocp.c */

/* Queue a completion packet if fd is associated with a port; false if it
 * is not (lock held). */
bool ws_port_post_for(int fd, LPWSAOVERLAPPED ov, DWORD status, DWORD bytes);
/* fd is closed: it belongs to no port any more (lock held). */
void ws_port_forget(int fd);
/* Does fd's SetFileCompletionNotificationModes include mode? */
bool ws_port_skips(int fd, UCHAR mode);
/* 1 port closed ... see iocp.c; for CloseHandle (lock held). */
bool ws_port_close(HANDLE h);
/* In a child after fork() (lock held): the ports keep only the waits of
 * the thread that forked. */
void ws_ports_atfork_child(void);

#endif /* LWFP_WINSOCK_OPS_H */
