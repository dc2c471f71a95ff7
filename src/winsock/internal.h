/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock internals: what the modules of the Winsock layer offer
 * each other. One file per job:
 *
 *   sync.c       the process-wide lock and condition every wait uses
 *   errors.c     the per-thread last error, errno <-> WSA codes
 *   call.c       the "inside a call" mark (WSAEINPROGRESS), errno kept
 *   session.c    WSAStartup/WSACleanup and the session's engine
 *   memcheck.c   is a user pointer valid memory (WSAEFAULT)
 *   handles.c    HANDLE values for events and threads
 *   events.c     WSAEVENT objects, WSAWaitForMultipleEvents
 *   apc.c        per-thread completion-routine queues, SleepEx, WPU*
 *   sockets.c    WSASocket, closesocket, per-socket attributes
 *   ioctl.c      WSAIoctl/WSPIoctl: checks, the table of control codes
 *   msg.c        setsockopt (the WFP options), WSARecvMsg, WSASendMsg
 *   overlapped.c pending operations, the worker, WSAGetOverlappedResult
 */
#ifndef LWFP_WINSOCK_INTERNAL_H
#define LWFP_WINSOCK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

/* The library calls the POSIX setsockopt(), recv(), accept()..., never
 * its own. */
#define LWFP_WINSOCK_POSIX_CALLS
#include <winsock2.h>
#include <ws2spi.h>
#include <mstcpip.h>
#include <mswsock.h>

#include "lwfp.h"

#define WS_EXPORT __attribute__((visibility("default")))
#define WS_TLS __thread __attribute__((tls_model("initial-exec")))
#define WS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- sync.c: one lock for all shared state, conditions to wait on */

void ws_lock(void);
void ws_unlock(void);
/* Wake every thread in ws_wait() (lock held). */
void ws_broadcast(void);
/* An overlapped operation has ended: wake the threads in ws_wait_done()
 * (lock held). */
void ws_broadcast_done(void);
/* Wait for an operation to end (lock held). */
void ws_wait_done(void);
/* In a child after fork() (lock held): no thread waits any more. */
void ws_sync_atfork_child(void);
/* now + ms on CLOCK_MONOTONIC */
void ws_deadline(struct timespec *ts, DWORD ms);
/* Wait for a broadcast (lock held). deadline NULL: no time-out. Returns
 * false once the deadline has passed. */
bool ws_wait(const struct timespec *deadline);
/* The same on a condition of the caller's (lock held). */
void ws_wait_cond(pthread_cond_t *cond);
/* The same on a condition of one's own, until deadline (NULL: none);
 * false once it has passed. */
bool ws_wait_on(pthread_cond_t *cond, const struct timespec *deadline);
/* Grow *array (of *n elements of size bytes, indexed by descriptor) to
 * hold index fd, the new elements zeroed; false if out of memory. */
bool ws_by_fd_grow(void **array, int *n, int fd, size_t size);

/* ---- errors.c */

/* Set the calling thread's last error (what WSAGetLastError returns). */
void ws_set_error(int code);
/* A POSIX errno as a Winsock error; 0 when it has no Winsock meaning. */
int ws_from_errno(int err);
/* The same, or otherwise if it has none. */
int ws_from_errno_or(int err, int otherwise);
/* The Winsock error of the POSIX call that just failed (errno). */
int ws_socket_error(void);
/* A negative errno from liblwfp as the Winsock error of the ioctl. */
int ws_from_lwfp(int err);

/* ---- call.c */

/*
 * Each API call marks the thread busy for its duration: a call made on a
 * thread that is already inside one (from a signal handler) fails with
 * WSAEINPROGRESS instead of deadlocking. Completion routines run outside
 * the mark. ws_call_leave() restores errno unless the call failed.
 */
struct ws_call {
	int saved_errno;
};
int ws_call_enter(struct ws_call *call);
void ws_call_leave(struct ws_call *call, bool failed);
/* ws_call_enter(), setting the thread's last error if it fails: false
 * then, and the caller returns its failure value. */
bool ws_call_begin(struct ws_call *call);
bool ws_call_suspend(void);
void ws_call_resume(bool was);

/* ---- session.c */

/* Between a WSAStartup and its WSACleanup. */
bool ws_started(void);

/* The engine, opened on first use within a WSAStartup session. */
struct ws_engine;
int ws_engine_get(struct ws_engine **out);	/* 0 or a WSA error */
struct lwfp *ws_engine_lwfp(const struct ws_engine *e);
void ws_engine_put(struct ws_engine *e);

/* ---- memcheck.c: probes through syscalls, never faults */

bool ws_mem_readable(const void *p, size_t len);
bool ws_mem_writable(void *p, size_t len);

/* Several buffers at once: all valid (and writable where asked)? */
struct ws_span {
	const void *p;
	size_t len;
	bool write;
};
bool ws_mem_ok(const struct ws_span *spans, int n);

/* Unaligned-safe stores and loads through user pointers. */
static inline void ws_put_dword(void *p, DWORD v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void ws_put_int(void *p, INT v)
{
	memcpy(p, &v, sizeof(v));
}

/* ---- handles.c (lock held) */

enum ws_handle_type {
	WS_HANDLE_EVENT = 1,
	WS_HANDLE_THREAD,		/* a WSATHREADID's APC queue */
	WS_HANDLE_CREATED_THREAD,	/* CreateThread's */
	WS_HANDLE_PORT,			/* an I/O completion port */
};

HANDLE ws_handle_add(void *obj, enum ws_handle_type type); /* NULL: ENOMEM */
void *ws_handle_get(HANDLE h, enum ws_handle_type type);
void *ws_handle_del(HANDLE h, enum ws_handle_type type);

/* ---- events.c (lock held, but for ws_event_new and ws_event_set) */

bool ws_event_valid(WSAEVENT h);
void ws_event_signal(WSAEVENT h);
void ws_event_reset(WSAEVENT h);
/* 1 signalled, 0 not, -1 not an event */
int ws_event_state(HANDLE h);
/* a wait was satisfied by h: an automatic event resets */
void ws_event_taken(HANDLE h);
bool ws_event_close(HANDLE h);
HANDLE ws_event_new(bool manual, bool initial);	/* NULL: ENOMEM */
bool ws_event_set(HANDLE h, bool signaled);	/* false: no such event */

/* ---- threads.c (lock held) */

/* 1 ended, 0 running, -1 not a thread */
int ws_thread_state(HANDLE h);
bool ws_thread_close(HANDLE h);

/* ---- waits.c */

/* Wait for any or all of n handles (events, threads): WAIT_OBJECT_0 + i,
 * WAIT_TIMEOUT, WAIT_IO_COMPLETION, or WAIT_FAILED with *err set. */
DWORD ws_wait_objects(const HANDLE *h, DWORD n, bool all, DWORD ms,
		      bool alertable, int *err);

/* ---- apc.c */

/* A completion routine (or a WPUQueueApc call) waiting for its thread. */
struct ws_apc {
	struct ws_apc *next;
	LPWSAOVERLAPPED_COMPLETION_ROUTINE routine;
	DWORD error;
	DWORD bytes;
	LPWSAOVERLAPPED overlapped;
	LPWSAUSERAPC user;
	DWORD_PTR context;
};

struct ws_apcq;

/* The calling thread's queue, made on first use (lock not held); NULL
 * if out of memory. Owned by the thread: take a reference to keep it. */
struct ws_apcq *ws_apcq_self(void);
/* Lock held from here on. */
void ws_apcq_ref(struct ws_apcq *q);
void ws_apcq_unref(struct ws_apcq *q);
/* The live thread a WSATHREADID names, or NULL. */
struct ws_apcq *ws_apcq_lookup(HANDLE thread);
/* Queue apc (ownership passes) and wake the thread; dropped if the
 * thread has exited. */
void ws_apcq_push(struct ws_apcq *q, struct ws_apc *apc);
/* Run what is queued to the calling thread, unlocking around the calls.
 * Returns whether anything ran. */
bool ws_apc_run(void);
/* While the calling thread waits alertably on cond rather than on the
 * layer's condition (a completion port's waiter): an APC queued to it
 * signals cond. NULL when the wait ends. */
void ws_apc_alert_on(pthread_cond_t *cond);

/* ---- sockets.c */

/* The descriptor a SOCKET names, or WSAENOTSOCK. */
int ws_socket_fd(SOCKET s, int *fd);
/* The same for WSARecv/WSASend, remembered until closesocket(). */
int ws_socket_fd_io(SOCKET s, int *fd);
/* Family, type and protocol of fd (0 or WSAENOTSOCK). */
int ws_socket_kind(int fd, int *domain, int *type, int *protocol);
/* Per-socket state, kept while the socket lives. */
#define WS_SOCK_PLAIN		0x1	/* no overlapped attribute */
#define WS_SOCK_WFP_CONTEXT	0x2	/* IP_WFP_REDIRECT_CONTEXT set */
unsigned int ws_socket_flags(int fd);
/* 0 or a WSA error (WSAENOTSOCK, WSAENOBUFS). */
int ws_socket_set_flag(int fd, unsigned int flag, bool on);
/* Created with the overlapped attribute (everything but WSASocket
 * without WSA_FLAG_OVERLAPPED). */
bool ws_socket_overlapped(int fd);

/* ---- ioctl.c: WSAIoctl/WSPIoctl and the table of control codes */

/* ---- msg.c */

/* The extension functions of SIO_GET_EXTENSION_FUNCTION_POINTER. */
INT WSAAPI ws_recvmsg(SOCKET s, LPWSAMSG lpMsg,
		      LPDWORD lpdwNumberOfBytesRecvd,
		      LPWSAOVERLAPPED lpOverlapped,
		      LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);

/* ---- acceptex.c: the extensions found by GUID (mswsock.h) */

BOOL WSAAPI ws_connectex(SOCKET s, const struct sockaddr *name, int namelen,
			 PVOID send_buf, DWORD send_len, LPDWORD sent,
			 LPOVERLAPPED ov);
BOOL WSAAPI ws_disconnectex(SOCKET s, LPOVERLAPPED ov, DWORD flags,
			    DWORD reserved);

/* ---- overlapped.c */

/*
 * What an operation does with the engine, now or on the worker: out and
 * out_len are where a query's result goes. Returns 0 or a WSA error;
 * *bytes is the number written, or the size needed with
 * ERROR_INSUFFICIENT_BUFFER.
 */
typedef int (*ws_op_fn)(struct lwfp *l, int fd, const void *in, size_t in_len,
			void *out, size_t out_len, DWORD *bytes);

/* Run fn with engine e's library handle. */
int ws_op_run(ws_op_fn fn, struct ws_engine *e, int fd, const void *in,
	      size_t in_len, void *out, size_t out_len, DWORD *bytes);

struct ws_op_args {
	int fd;
	ws_op_fn fn;
	const void *in;		/* copied */
	size_t in_len;
	void *out;		/* written at completion */
	DWORD out_len;
	LPWSAOVERLAPPED overlapped;
	LPWSAOVERLAPPED_COMPLETION_ROUTINE routine;
	/* where the routine runs: a thread's queue, or a WSATHREADID's */
	struct ws_apcq *thread;
	HANDLE thread_handle;
	struct ws_engine *engine; /* reference passes to the operation */
};

/* Start an operation; 0 (pending) or a WSA error (nothing started). */
int ws_op_submit(const struct ws_op_args *a);
/* Signal the completion of an operation that finished at once. */
int ws_op_complete_now(const struct ws_op_args *a, DWORD status,
		       DWORD bytes);
/* End fd's pending operations with WSA_OPERATION_ABORTED. */
void ws_ops_abort(int fd);
/* Session start and end: the end cancels what is pending without
 * notification and stops the worker. */
void ws_ops_begin(void);
void ws_ops_end(void);
/* After fork(), in the child: the worker thread is gone. */
void ws_ops_atfork_child(void);

#endif /* LWFP_WINSOCK_INTERNAL_H */
