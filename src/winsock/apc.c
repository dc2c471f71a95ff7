// SPDX-License-Identifier: MIT
/*
 * Completion routines run as Windows runs them: as APCs, on the thread
 * that issued the operation (for WSPIoctl, the thread its WSATHREADID
 * names), and only while that thread is in an alertable wait: SleepEx(…,
 * TRUE) or WSAWaitForMultipleEvents(…, TRUE). Each thread that needs one
 * has a queue; the worker that completes an operation appends to it and
 * broadcasts, the waiting thread runs what it finds, outside the lock.
 *
 * A queue lives while its thread runs, plus while a WSATHREADID or a
 * pending operation refers to it. APCs for a thread that has exited are
 * dropped, as Windows drops them.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct ws_apcq {
	int refs;
	bool dead;			/* its thread has exited */
	struct ws_apc *head;
	struct ws_apc **tail;
	pthread_cond_t *alert;	/* its alertable wait on a port, or NULL */
};

static WS_TLS struct ws_apcq *self;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static bool exit_key_ok;

static void free_apcs(struct ws_apc *a)
{
	while (a) {
		struct ws_apc *next = a->next;

		free(a);
		a = next;
	}
}

void ws_apcq_ref(struct ws_apcq *q)
{
	q->refs++;
}

void ws_apcq_unref(struct ws_apcq *q)
{
	if (q && !--q->refs) {
		free_apcs(q->head);
		free(q);
	}
}

static void thread_exit(void *p)
{
	struct ws_apcq *q = p;

	ws_lock();
	q->dead = true;
	free_apcs(q->head);
	q->head = NULL;
	q->tail = &q->head;
	ws_apcq_unref(q);	/* the thread's own reference */
	ws_unlock();
	self = NULL;
}

static void make_exit_key(void)
{
	exit_key_ok = !pthread_key_create(&exit_key, thread_exit);
}

struct ws_apcq *ws_apcq_self(void)
{
	struct ws_apcq *q = self;

	if (q)
		return q;
	pthread_once(&exit_once, make_exit_key);
	if (!exit_key_ok)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->refs = 1;
	q->tail = &q->head;
	if (pthread_setspecific(exit_key, q)) {
		free(q);
		return NULL;
	}
	self = q;
	return q;
}

struct ws_apcq *ws_apcq_lookup(HANDLE thread)
{
	struct ws_apcq *q = ws_handle_get(thread, WS_HANDLE_THREAD);

	return q && !q->dead ? q : NULL;
}

void ws_apcq_push(struct ws_apcq *q, struct ws_apc *apc)
{
	if (q->dead) {
		free(apc);
		return;
	}
	apc->next = NULL;
	*q->tail = apc;
	q->tail = &apc->next;
	if (q->alert)
		pthread_cond_signal(q->alert);
	ws_broadcast();
}

void ws_apc_alert_on(pthread_cond_t *cond)
{
	if (self)
		self->alert = cond;
}

bool ws_apc_run(void)
{
	struct ws_apcq *q = self;
	struct ws_apc *list;
	bool was;

	if (!q || !q->head)
		return false;
	list = q->head;
	q->head = NULL;
	q->tail = &q->head;
	ws_unlock();
	/* a routine may call into the layer: it is not inside our call */
	was = ws_call_suspend();
	while (list) {
		struct ws_apc *next = list->next;

		if (list->routine)
			list->routine(list->error, list->bytes,
				      list->overlapped, 0);
		else
			list->user(list->context);
		free(list);
		list = next;
	}
	ws_call_resume(was);
	ws_lock();
	return true;
}

/* A sleep that no completion routine ends. */
static void plain_sleep(DWORD ms)
{
	struct timespec until;

	if (ms == INFINITE) {
		for (;;)
			pause();
	}
	if (!ms) {
		sched_yield();
		return;
	}
	ws_deadline(&until, ms);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) ==
	       EINTR)
		;
}

WS_EXPORT DWORD WINAPI SleepEx(DWORD dwMilliseconds, BOOL bAlertable)
{
	struct timespec deadline;
	bool expired = false;
	struct ws_call call;
	DWORD ret = 0;

	if (ws_call_enter(&call)) {
		/* from a signal handler inside a call: no routines here */
		plain_sleep(dwMilliseconds);
		return 0;
	}
	if (!bAlertable) {
		plain_sleep(dwMilliseconds);
		ws_call_leave(&call, false);
		return 0;
	}
	if (dwMilliseconds != INFINITE)
		ws_deadline(&deadline, dwMilliseconds);
	ws_lock();
	for (;;) {
		if (ws_apc_run()) {
			ret = WAIT_IO_COMPLETION;
			break;
		}
		if (expired || !dwMilliseconds)
			break;
		expired = !ws_wait(dwMilliseconds == INFINITE ? NULL :
								 &deadline);
	}
	ws_unlock();
	ws_call_leave(&call, false);
	return ret;
}

WS_EXPORT void WINAPI Sleep(DWORD dwMilliseconds)
{
	SleepEx(dwMilliseconds, FALSE);
}

/* ---- the upcalls of ws2spi.h ------------------------------------------ */

static bool read_thread_id(LPWSATHREADID id, HANDLE *h)
{
	WSATHREADID t;

	if (!ws_mem_readable(id, sizeof(*id)))
		return false;
	memcpy(&t, id, sizeof(t));
	*h = t.ThreadHandle;
	return true;
}

/* Guard and error pointer, common to the three. Returns false (and has
 * reported) when the call cannot go on. */
static bool wpu_begin(struct ws_call *call, LPINT lpErrno)
{
	if (!ws_mem_writable(lpErrno, sizeof(*lpErrno)))
		return false;
	if (ws_call_enter(call)) {
		ws_put_int(lpErrno, WSAEINPROGRESS);
		return false;
	}
	return true;
}

static int wpu_end(struct ws_call *call, LPINT lpErrno, int err)
{
	if (err)
		ws_put_int(lpErrno, err);
	ws_call_leave(call, false);
	return err ? SOCKET_ERROR : 0;
}

WS_EXPORT int WSPAPI WPUOpenCurrentThread(LPWSATHREADID lpThreadId,
					  LPINT lpErrno)
{
	struct ws_apcq *q;
	struct ws_call call;
	HANDLE h = NULL;
	int err = 0;

	if (!wpu_begin(&call, lpErrno))
		return SOCKET_ERROR;
	if (!ws_mem_writable(lpThreadId, sizeof(*lpThreadId))) {
		err = WSAEFAULT;
	} else if (!(q = ws_apcq_self())) {
		err = WSAENOBUFS;
	} else {
		ws_lock();
		h = ws_handle_add(q, WS_HANDLE_THREAD);
		if (h)
			ws_apcq_ref(q);
		ws_unlock();
		if (h) {
			WSATHREADID t = { .ThreadHandle = h };

			memcpy(lpThreadId, &t, sizeof(t));
		} else {
			err = WSAENOBUFS;
		}
	}
	return wpu_end(&call, lpErrno, err);
}

WS_EXPORT int WSPAPI WPUCloseThread(LPWSATHREADID lpThreadId, LPINT lpErrno)
{
	struct ws_apcq *q = NULL;
	struct ws_call call;
	HANDLE h;

	if (!wpu_begin(&call, lpErrno))
		return SOCKET_ERROR;
	if (read_thread_id(lpThreadId, &h)) {
		ws_lock();
		q = ws_handle_del(h, WS_HANDLE_THREAD);
		ws_apcq_unref(q);
		ws_unlock();
	}
	return wpu_end(&call, lpErrno, q ? 0 : WSAEFAULT);
}

WS_EXPORT int WSPAPI WPUQueueApc(LPWSATHREADID lpThreadId,
				 LPWSAUSERAPC lpfnUserApc, DWORD_PTR dwContext,
				 LPINT lpErrno)
{
	struct ws_apcq *q = NULL;
	struct ws_apc *apc;
	struct ws_call call;
	HANDLE h;
	int err = 0;

	if (!wpu_begin(&call, lpErrno))
		return SOCKET_ERROR;
	if (!read_thread_id(lpThreadId, &h) ||
	    !ws_mem_readable((const void *)(uintptr_t)lpfnUserApc, 1))
		err = WSAEFAULT;
	else if (!(apc = calloc(1, sizeof(*apc))))
		err = WSAENOBUFS;
	if (!err) {
		apc->user = lpfnUserApc;
		apc->context = dwContext;
		ws_lock();
		q = ws_apcq_lookup(h);
		if (q)
			ws_apcq_push(q, apc);
		ws_unlock();
		if (!q) {
			free(apc);
			err = WSAEFAULT;	/* not a valid thread */
		}
	}
	return wpu_end(&call, lpErrno, err);
}
