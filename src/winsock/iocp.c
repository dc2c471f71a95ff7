// SPDX-License-Identifier: MIT
/*
 * I/O completion ports. A port is a queue of completion packets (bytes,
 * key, OVERLAPPED, status) and a stack of the threads blocked in
 * GetQueuedCompletionStatus on it. A packet wakes one thread, the one that
 * blocked last: Windows releases a port's threads in LIFO order, so that
 * the thread that has just run goes on with the next packet, on the CPU
 * whose caches hold its data. (Woken in turn, an IOCP relay's four
 * workers took turns on both CPUs, and it used 14% more CPU per GB.)
 * Sockets are associated with a port and a key by
 * CreateIoCompletionPort((HANDLE)socket, ...); their overlapped operations
 * then complete into it. Closing a port wakes its waiters, who return
 * ERROR_ABANDONED_WAIT_0. All state under the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"
#include "ops.h"
#include "testhooks.h"

struct packet {
	struct packet *next;
	OVERLAPPED_ENTRY e;
};

/* A thread blocked on a port: each thread has its own, on its own
 * condition, so that the port chooses which one wakes. */
struct waiter {
	pthread_cond_t cond;
	struct waiter *next;	/* below it on the port's stack */
	bool stacked;
};

static WS_TLS struct waiter me = { .cond = PTHREAD_COND_INITIALIZER };
/* The ports this thread is inside a wait on: a completion routine run
 * in an alertable wait may wait on a port again. */
struct take_frame {
	struct ws_port *port;
	struct take_frame *outer;
};

static WS_TLS struct take_frame *frames;

struct ws_port {
	struct ws_port *next;	/* every port of the process */
	struct packet *head, *tail;
	struct waiter *top;	/* the thread that blocked last */
	int waiters;		/* threads inside port_take, also not blocked */
	bool closed;
};

struct binding {
	HANDLE port;		/* NULL: none */
	ULONG_PTR key;
	UCHAR modes;		/* FILE_SKIP_* */
};

static struct ws_port *ports;
static struct binding *bindings;
static int nbindings;

static struct ws_port *port_get(HANDLE h)
{
	return ws_handle_get(h, WS_HANDLE_PORT);
}

static void port_free(struct ws_port *p)
{
	struct ws_port **at = &ports;

	while (*at != p)
		at = &(*at)->next;
	*at = p->next;
	while (p->head) {
		struct packet *k = p->head;

		p->head = k->next;
		free(k);
	}
	free(p);
}

static void waiter_push(struct ws_port *p, struct waiter *w)
{
	w->next = p->top;
	w->stacked = true;
	p->top = w;
}

/* Wake the thread on top of the stack, if any. */
static void waiter_wake(struct ws_port *p)
{
	struct waiter *w = p->top;

	if (!w)
		return;
	p->top = w->next;
	w->stacked = false;
	pthread_cond_signal(&w->cond);
}

/* A waiter that timed out or was alerted takes itself off the stack. */
static void waiter_remove(struct ws_port *p, struct waiter *w)
{
	struct waiter **at = &p->top;

	if (!w->stacked)
		return;
	while (*at != w)
		at = &(*at)->next;
	*at = w->next;
	w->stacked = false;
}

bool ws_port_close(HANDLE h)
{
	struct ws_port *p = ws_handle_del(h, WS_HANDLE_PORT);

	if (!p)
		return false;
	p->closed = true;
	if (!p->waiters) {
		port_free(p);
		return true;
	}
	while (p->top)		/* the last one out frees it */
		waiter_wake(p);
	return true;
}

/* Queue a packet (lock held): 0 or a Win32 error. */
static int port_push(struct ws_port *p, const OVERLAPPED_ENTRY *e)
{
	struct packet *k = malloc(sizeof(*k));

	if (!k)
		return ERROR_NOT_ENOUGH_MEMORY;
	k->next = NULL;
	k->e = *e;
	if (p->tail)
		p->tail->next = k;
	else
		p->head = k;
	p->tail = k;
	waiter_wake(p);
	return 0;
}

/* fork(): the parent's waiters did not come along. The thread that
 * forked may itself be inside waits, from a completion routine (or a
 * signal handler) it runs there: it stays those ports' waiter. */
void ws_ports_atfork_child(void)
{
	struct ws_port *p = ports, *next;

	for (; p; p = next) {
		next = p->next;
		p->waiters = 0;
		for (struct take_frame *f = frames; f; f = f->outer)
			p->waiters += f->port == p;
		p->top = NULL;
		if (me.stacked && frames && frames->port == p) {
			me.next = NULL;		/* the innermost wait blocks */
			p->top = &me;
		}
		if (p->closed && !p->waiters)
			port_free(p);	/* its last waiter was to free it */
	}
}

bool ws_port_skips(int fd, UCHAR mode)
{
	return fd >= 0 && fd < nbindings && (bindings[fd].modes & mode);
}

bool ws_port_post_for(int fd, LPWSAOVERLAPPED ov, DWORD status, DWORD bytes)
{
	struct ws_port *p;
	OVERLAPPED_ENTRY e;

	if (fd < 0 || fd >= nbindings || !bindings[fd].port)
		return false;
	p = port_get(bindings[fd].port);
	if (!p)
		return false;
	e.lpCompletionKey = bindings[fd].key;
	e.lpOverlapped = ov;
	e.Internal = status;
	e.dwNumberOfBytesTransferred = bytes;
	/* no memory for the packet: the OVERLAPPED still holds the result */
	return !port_push(p, &e);
}

void ws_port_forget(int fd)
{
	if (fd >= 0 && fd < nbindings) {
		bindings[fd].port = NULL;
		bindings[fd].modes = 0;
	}
}

/* An operation that completes at once (returns 0) queues no packet, or
 * sets no event, as the socket's modes say: the caller handles it there
 * and then, one thread hand-off less. */
WS_EXPORT BOOL WINAPI SetFileCompletionNotificationModes(HANDLE FileHandle,
							 UCHAR Flags)
{
	int fd;

	if (ws_socket_fd((SOCKET)(UINT_PTR)FileHandle, &fd) ||
	    (Flags & ~(FILE_SKIP_COMPLETION_PORT_ON_SUCCESS |
		       FILE_SKIP_SET_EVENT_ON_HANDLE))) {
		ws_set_error(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	ws_lock();
	if (fd >= nbindings && !ws_by_fd_grow((void **)&bindings, &nbindings,
					      fd, sizeof(*bindings))) {
		ws_unlock();
		ws_set_error(ERROR_NOT_ENOUGH_MEMORY);
		return FALSE;
	}
	bindings[fd].modes = Flags;
	ws_unlock();
	return TRUE;
}

static int bind_fd(int fd, HANDLE port, ULONG_PTR key)
{
	if (fd >= nbindings && !ws_by_fd_grow((void **)&bindings, &nbindings,
						 fd, sizeof(*bindings)))
		return ERROR_NOT_ENOUGH_MEMORY;
	if (bindings[fd].port && port_get(bindings[fd].port))
		return ERROR_INVALID_PARAMETER;	/* one port per socket */
	bindings[fd].port = port;
	bindings[fd].key = key;
	return 0;
}

/* A new port (lock held), or NULL. */
static HANDLE port_new(void)
{
	struct ws_port *p = calloc(1, sizeof(*p));
	HANDLE h;

	if (!p)
		return NULL;
	p->next = ports;
	ports = p;
	h = ws_handle_add(p, WS_HANDLE_PORT);
	if (!h)
		port_free(p);
	return h;
}

WS_EXPORT HANDLE WINAPI CreateIoCompletionPort(HANDLE FileHandle,
					       HANDLE ExistingCompletionPort,
					       ULONG_PTR CompletionKey,
					       DWORD NumberOfConcurrentThreads)
{
	HANDLE port = ExistingCompletionPort;
	int err = 0, fd = -1;

	(void)NumberOfConcurrentThreads;
	if (FileHandle != INVALID_HANDLE_VALUE &&
	    ws_socket_fd((SOCKET)(UINT_PTR)FileHandle, &fd)) {
		ws_set_error(ERROR_INVALID_HANDLE);
		return NULL;
	}
	ws_lock();
	if (port && !port_get(port))
		err = ERROR_INVALID_PARAMETER;
	else if (!port && !(port = port_new()))
		err = ERROR_NOT_ENOUGH_MEMORY;
	else if (fd >= 0)
		err = bind_fd(fd, port, CompletionKey);
	if (err && port && !ExistingCompletionPort)
		ws_port_close(port);
	ws_unlock();
	if (err) {
		ws_set_error(err);
		return NULL;
	}
	return port;
}

WS_EXPORT BOOL WINAPI PostQueuedCompletionStatus(HANDLE CompletionPort,
						 DWORD bytes, ULONG_PTR key,
						 LPOVERLAPPED ov)
{
	OVERLAPPED_ENTRY e = { .lpCompletionKey = key, .lpOverlapped = ov,
			       .dwNumberOfBytesTransferred = bytes };
	struct ws_port *p;
	int err;

	ws_lock();
	p = port_get(CompletionPort);
	err = p ? port_push(p, &e) : ERROR_INVALID_HANDLE;
	ws_unlock();
	if (err)
		ws_set_error(err);
	return err ? FALSE : TRUE;
}

/* The Win32 error GetQueuedCompletionStatus reports for a socket
 * operation's WSA error, as Windows' does. */
static DWORD win32_error(ULONG_PTR status)
{
	switch (status) {
	case WSAECONNRESET:
		return ERROR_NETNAME_DELETED;
	case WSAECONNABORTED:
		return ERROR_CONNECTION_ABORTED;
	case WSAECONNREFUSED:
		return ERROR_CONNECTION_REFUSED;
	case WSAETIMEDOUT:
		return ERROR_SEM_TIMEOUT;
	default:
		return (DWORD)status;
	}
}

/*
 * Block on p until a packet is there, the port is closed or the time is
 * up; alertable, a routine queued to the thread ends the wait too. Lock
 * held (ws_apc_run drops it around the routines). Returns whether a
 * routine ran.
 */
static bool port_wait(struct ws_port *p, DWORD ms, bool alertable)
{
	struct timespec deadline;
	bool expired = false, ran = false;

	if (ms != INFINITE)
		ws_deadline(&deadline, ms);
	if (alertable)
		ws_apc_alert_on(&me.cond);	/* an APC wakes us too */
	while (!p->closed && !p->head && !expired && ms) {
		if (alertable && (ran = ws_apc_run()))
			break;
		/* woken without a packet (another thread took it): on top
		 * again, as the thread that blocked last */
		waiter_push(p, &me);
		expired = !ws_wait_on(&me.cond,
				      ms == INFINITE ? NULL : &deadline);
		waiter_remove(p, &me);
	}
	if (alertable) {
		ws_apc_alert_on(NULL);
		if (!ran && !p->closed && !p->head)
			ran = ws_apc_run();	/* came in as time ran out */
	}
	return ran;
}

/*
 * Wait for up to max packets (lock held): how many were taken, 0 on
 * time-out (*err WAIT_TIMEOUT), when a routine ran (WAIT_IO_COMPLETION:
 * as on Windows, packets that came meanwhile stay queued), with the port
 * closed (ERROR_ABANDONED_WAIT_0), not a port (ERROR_INVALID_HANDLE), or
 * called from a signal handler that interrupted a blocked wait
 * (WSAEINPROGRESS: the thread's waiter is on a stack already).
 */
static ULONG port_take(HANDLE h, OVERLAPPED_ENTRY *out, ULONG max, DWORD ms,
		       bool alertable, DWORD *err)
{
	struct ws_port *p = port_get(h);
	struct take_frame frame = { p, frames };
	ULONG n = 0;
	bool ran;

	if (!p || me.stacked) {
		*err = p ? WSAEINPROGRESS : ERROR_INVALID_HANDLE;
		return 0;
	}
	frames = &frame;
	p->waiters++;
	ran = port_wait(p, ms, alertable);
	if (ran && !p->closed && p->head)
		waiter_wake(p);		/* ours to take: another thread's */
	while (!ran && !p->closed && p->head && n < max) {
		struct packet *k = p->head;

		p->head = k->next;
		if (!p->head)
			p->tail = NULL;
		out[n++] = k->e;
		free(k);
	}
	*err = p->closed ? ERROR_ABANDONED_WAIT_0 : n ? 0 :
	       ran ? WAIT_IO_COMPLETION : WAIT_TIMEOUT;
	frames = frame.outer;
	if (!--p->waiters && p->closed)
		port_free(p);
	return n;
}

WS_EXPORT BOOL WINAPI GetQueuedCompletionStatus(HANDLE CompletionPort,
						LPDWORD lpBytes,
						PULONG_PTR lpKey,
						LPOVERLAPPED *lpOverlapped,
						DWORD dwMilliseconds)
{
	OVERLAPPED_ENTRY e = { 0 };
	DWORD err;

	ws_lock();
	port_take(CompletionPort, &e, 1, dwMilliseconds, false, &err);
	ws_unlock();
	*lpBytes = e.dwNumberOfBytesTransferred;
	*lpKey = e.lpCompletionKey;
	*lpOverlapped = e.lpOverlapped;	/* NULL when nothing was taken */
	if (!err && e.Internal)
		err = win32_error(e.Internal);
	if (err)
		ws_set_error((int)err);
	return err ? FALSE : TRUE;
}

WS_EXPORT int lwfp_winsock_port_blocked(HANDLE port)
{
	struct ws_port *p;
	int n = -1;

	ws_lock();
	p = port_get(port);
	if (p) {
		n = 0;
		for (struct waiter *w = p->top; w; w = w->next)
			n++;
	}
	ws_unlock();
	return n;
}

WS_EXPORT BOOL WINAPI GetQueuedCompletionStatusEx(HANDLE CompletionPort,
						  LPOVERLAPPED_ENTRY lpEntries,
						  ULONG ulCount,
						  PULONG ulNumEntriesRemoved,
						  DWORD dwMilliseconds,
						  BOOL fAlertable)
{
	DWORD err = 0;
	ULONG n = 0;

	if (!lpEntries || !ulCount) {
		ws_set_error(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	ws_lock();
	n = port_take(CompletionPort, lpEntries, ulCount, dwMilliseconds,
		      fAlertable, &err);
	ws_unlock();
	*ulNumEntriesRemoved = n;
	if (err)
		ws_set_error((int)err);
	return n ? TRUE : FALSE;
}
