// SPDX-License-Identifier: MIT
/*
 * Overlapped operations. An overlapped WSAIoctl/WSPIoctl validates its
 * arguments, queues the operation and returns WSA_IO_PENDING; one worker
 * thread per session runs queued operations in order and completes them:
 * the result goes to the caller's output buffer and WSAOVERLAPPED
 * (Internal: the WSA error, InternalHigh: the byte count), then hEvent
 * is set, or the completion routine is queued to its thread as an APC.
 *
 * closesocket() and SIO_FLUSH end an operation still pending on the
 * socket with WSA_OPERATION_ABORTED. An operation already running when
 * aborted has its result thrown away: nothing is written after the
 * abort. The last WSACleanup cancels what is pending without any
 * notification (as Windows does) and joins the worker.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "internal.h"
#include "ops.h"
#include "testhooks.h"

/* All under the lock. */
static struct ws_op pending = { .next = &pending, .prev = &pending };
static bool live;			/* inside a session */
static bool hold;			/* test hook */
static bool worker_running, worker_stop;
static pthread_t worker;
static pthread_cond_t worker_cond = PTHREAD_COND_INITIALIZER;

/* The overlapped structure is the caller's: never assume alignment. */
#define OV_FIELD(ov, f) ((char *)(ov) + offsetof(WSAOVERLAPPED, f))

void ws_ov_store(LPWSAOVERLAPPED ov, ULONG_PTR status, ULONG_PTR bytes)
{
	memcpy(OV_FIELD(ov, Internal), &status, sizeof(status));
	memcpy(OV_FIELD(ov, InternalHigh), &bytes, sizeof(bytes));
}

static void ov_load(LPWSAOVERLAPPED ov, ULONG_PTR *status, ULONG_PTR *bytes)
{
	memcpy(status, OV_FIELD(ov, Internal), sizeof(*status));
	memcpy(bytes, OV_FIELD(ov, InternalHigh), sizeof(*bytes));
}

static WSAEVENT ov_event(LPWSAOVERLAPPED ov)
{
	WSAEVENT ev;

	memcpy(&ev, OV_FIELD(ov, hEvent), sizeof(ev));
	return ev;
}

void ws_op_list_add(struct ws_op *op)
{
	op->prev = pending.prev;
	op->next = &pending;
	pending.prev->next = op;
	pending.prev = op;
}

void ws_op_list_del(struct ws_op *op)
{
	op->prev->next = op->next;
	op->next->prev = op->prev;
	op->next = op->prev = op;
}

void ws_op_free(struct ws_op *op)
{
	ws_apcq_unref(op->thread);
	free(op->apc);
	ws_engine_put(op->engine);
	free(op);
}

/* The operation is over: result, then notification. Lock held. */
void ws_op_finish(struct ws_op *op, DWORD status, DWORD bytes)
{
	ws_ov_store(op->overlapped, status, bytes);
	if (op->routine) {
		struct ws_apc *apc = op->apc;

		op->apc = NULL;
		apc->routine = op->routine;
		apc->error = status;
		apc->bytes = status ? 0 : bytes;
		apc->overlapped = op->overlapped;
		ws_apcq_push(op->thread, apc);
	} else {
		bool at_once = op->at_once && !status;

		if (op->event && !(at_once &&
				   ws_port_skips(op->port_fd,
						 FILE_SKIP_SET_EVENT_ON_HANDLE)))
			ws_event_signal(op->event);
		/* hEvent with its low bit set: no completion packet */
		if (!op->no_port &&
		    !(at_once && ws_port_skips(op->port_fd,
					       FILE_SKIP_COMPLETION_PORT_ON_SUCCESS)))
			ws_port_post_for(op->port_fd, op->overlapped, status,
					 bytes);
	}
	if (op->io)
		ws_aio_unlink(op);
	ws_op_list_del(op);
	ws_broadcast_done();
}

static void *worker_main(void *arg)
{
	unsigned char buf[LWFP_CONTEXT_MAX_LEN];

	(void)arg;
	ws_lock();
	for (;;) {
		struct ws_op *op = NULL;
		size_t cap;
		DWORD bytes;
		int status;

		if (!worker_stop && !hold)
			for (op = pending.next;
			     op != &pending && (op->running || op->io);
			     op = op->next)
				;
		if (!op || op == &pending) {
			if (worker_stop)
				break;
			ws_wait_cond(&worker_cond);
			continue;
		}
		op->running = true;
		ws_unlock();

		cap = op->out_len < sizeof(buf) ? op->out_len : sizeof(buf);
		status = ws_op_run(op->fn, op->engine, op->fd, op->in,
				   op->in_len, cap ? buf : NULL, cap, &bytes);

		ws_lock();
		if (!op->aborted) {
			if (!status && bytes)
				memcpy(op->out, buf, bytes);
			ws_op_finish(op, status, bytes);
		}
		ws_op_free(op);
	}
	ws_unlock();
	return NULL;
}

int ws_op_run(ws_op_fn fn, struct ws_engine *e, int fd, const void *in,
	      size_t in_len, void *out, size_t out_len, DWORD *bytes)
{
	*bytes = 0;
	return fn(ws_engine_lwfp(e), fd, in, in_len, out_len ? out : NULL,
		  out_len, bytes);
}

/* Allocate what completing needs, so that completing cannot fail. */
static int op_new(const struct ws_op_args *a, struct ws_op **out)
{
	struct ws_op *op = calloc(1, sizeof(*op));

	if (!op)
		return WSAENOBUFS;
	if (a->routine) {
		op->apc = calloc(1, sizeof(*op->apc));
		if (!op->apc) {
			free(op);
			return WSAENOBUFS;
		}
	} else {
		uintptr_t ev = (uintptr_t)ov_event(a->overlapped);

		op->event = (WSAEVENT)(ev & ~(uintptr_t)1);
		op->no_port = ev & 1;
	}
	op->next = op->prev = op;
	op->fd = a->fd;
	op->port_fd = a->fd;
	op->fn = a->fn;
	op->in_len = a->in_len < sizeof(op->in) ? a->in_len : sizeof(op->in);
	if (op->in_len)
		memcpy(op->in, a->in, op->in_len);
	op->out = a->out;
	op->out_len = a->out_len;
	op->overlapped = a->overlapped;
	op->routine = a->routine;
	*out = op;
	return 0;
}

/* Where it will be signalled. Lock held. */
static int op_attach(struct ws_op *op, const struct ws_op_args *a)
{
	if (!live)
		return WSANOTINITIALISED;
	if (op->routine) {
		op->thread = a->thread ? a->thread :
					 ws_apcq_lookup(a->thread_handle);
		if (!op->thread)
			return WSAEFAULT;	/* no such thread */
		ws_apcq_ref(op->thread);
	} else if (op->event) {
		if (!ws_event_valid(op->event))
			return WSAEINVAL;
		/* signalled now means: this operation completed */
		ws_event_reset(op->event);
	}
	return 0;
}

/* A new operation, attached to its OVERLAPPED; returns with the lock
 * held unless op_new failed (then *op is NULL). */
int ws_op_begin(const struct ws_op_args *a, struct ws_op **op)
{
	int err = op_new(a, op);

	if (err) {
		*op = NULL;
		return err;
	}
	ws_lock();
	return op_attach(*op, a);
}

int ws_op_submit(const struct ws_op_args *a)
{
	struct ws_op *op;
	int err = ws_op_begin(a, &op);

	if (!op)
		return err;
	if (!err && !worker_running) {
		if (pthread_create(&worker, NULL, worker_main, NULL))
			err = WSAENOBUFS;
		else
			worker_running = true;
	}
	if (!err) {
		op->engine = a->engine;
		ws_ov_store(op->overlapped, STATUS_PENDING, 0);
		ws_op_list_add(op);
		pthread_cond_signal(&worker_cond);
	} else {
		ws_op_free(op);
	}
	ws_unlock();
	return err;
}

int ws_op_complete_now(const struct ws_op_args *a, DWORD status,
		       DWORD bytes)
{
	struct ws_op *op;
	int err = ws_op_begin(a, &op);

	if (!op)
		return err;
	if (!err)
		ws_op_finish(op, status, bytes);
	ws_op_free(op);
	ws_unlock();
	return err;
}

int ws_ops_cancel(int fd, LPWSAOVERLAPPED ov)
{
	struct ws_op *op, *next;
	int n = 0;

	for (op = pending.next; op != &pending; op = next) {
		next = op->next;
		if ((op->fd != fd && op->port_fd != fd) ||
		    (ov && op->overlapped != ov))
			continue;
		ws_op_finish(op, WSA_OPERATION_ABORTED, 0);
		if (op->running)
			op->aborted = true;	/* the worker frees it */
		else
			ws_op_free(op);
		n++;
	}
	return n;
}

void ws_ops_abort(int fd)
{
	ws_lock();
	ws_ops_cancel(fd, NULL);
	ws_unlock();
}

void ws_ops_begin(void)
{
	ws_lock();
	live = true;
	ws_unlock();
}

void ws_ops_end(void)
{
	struct ws_op *op, *next;
	bool join;

	ws_lock();
	live = false;
	for (op = pending.next; op != &pending; op = next) {
		next = op->next;
		/* cancelled without notification */
		ws_ov_store(op->overlapped, WSA_OPERATION_ABORTED, 0);
		if (op->io)
			ws_aio_unlink(op);
		ws_op_list_del(op);
		if (op->running)
			op->aborted = true;
		else
			ws_op_free(op);
	}
	ws_broadcast_done();
	worker_stop = true;
	pthread_cond_signal(&worker_cond);
	join = worker_running;
	ws_unlock();
	if (join)
		pthread_join(worker, NULL);
	ws_aio_stop();
	ws_lock();
	worker_running = false;
	worker_stop = false;
	ws_unlock();
}

void ws_ops_atfork_child(void)
{
	ws_lock();
	/* the worker did not come along: a new one takes over its work */
	worker_running = false;
	worker_stop = false;
	for (struct ws_op *op = pending.next; op != &pending; op = op->next)
		op->running = false;
	ws_aio_atfork_child();
	ws_ports_atfork_child();
	ws_unlock();
}

WS_EXPORT void lwfp_winsock_hold_completions(int on)
{
	ws_lock();
	hold = on;
	pthread_cond_signal(&worker_cond);
	ws_unlock();
}

static struct ws_op *find(LPWSAOVERLAPPED ov)
{
	for (struct ws_op *op = pending.next; op != &pending; op = op->next)
		if (op->overlapped == ov)
			return op;
	return NULL;
}

WS_EXPORT BOOL WSAAPI WSAGetOverlappedResult(SOCKET s,
					     LPWSAOVERLAPPED lpOverlapped,
					     LPDWORD lpcbTransfer, BOOL fWait,
					     LPDWORD lpdwFlags)
{
	ULONG_PTR status, bytes;
	struct ws_call call;
	int err = 0;

	if (!ws_call_begin(&call))
		return FALSE;
	if (!ws_started())
		err = WSANOTINITIALISED;
	else if (s == INVALID_SOCKET)
		err = WSAENOTSOCK;
	/* only read here: a write probe would race with the worker */
	else if (!ws_mem_readable(lpOverlapped, sizeof(*lpOverlapped)) ||
		 !ws_mem_writable(lpcbTransfer, sizeof(*lpcbTransfer)) ||
		 !ws_mem_writable(lpdwFlags, sizeof(*lpdwFlags)))
		err = WSAEFAULT;
	if (!err) {
		ws_lock();
		while (find(lpOverlapped)) {
			if (!fWait) {
				err = WSA_IO_INCOMPLETE;
				break;
			}
			ws_wait_done();
		}
		if (!err) {
			ov_load(lpOverlapped, &status, &bytes);
			if (status == STATUS_PENDING)
				err = WSA_INVALID_PARAMETER; /* none of ours */
			else
				err = (int)status;
			/* the size needed is the one failure with a count */
			if (!err || err == ERROR_INSUFFICIENT_BUFFER)
				ws_put_dword(lpcbTransfer, (DWORD)bytes);
			if (!err)
				ws_put_dword(lpdwFlags, 0);
		}
		ws_unlock();
	}
	if (err)
		ws_set_error(err);
	ws_call_leave(&call, err);
	return err ? FALSE : TRUE;
}
