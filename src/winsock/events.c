// SPDX-License-Identifier: MIT
/*
 * WSAEVENT objects: manual-reset events, created non-signalled, as
 * WSACreateEvent makes them. The state lives under the layer's lock and
 * every change broadcasts, so a wait on several events (and, when
 * alertable, on the thread's completion routines) is one loop over one
 * condition.
 */
#include <stdlib.h>

#include "internal.h"

struct ws_event {
	bool signaled;
};

bool ws_event_valid(WSAEVENT h)
{
	return ws_handle_get(h, WS_HANDLE_EVENT);
}

void ws_event_signal(WSAEVENT h)
{
	struct ws_event *ev = ws_handle_get(h, WS_HANDLE_EVENT);

	if (ev) {
		ev->signaled = true;
		ws_broadcast();
	}
}

void ws_event_reset(WSAEVENT h)
{
	struct ws_event *ev = ws_handle_get(h, WS_HANDLE_EVENT);

	if (ev)
		ev->signaled = false;
}

/* The common shape of the small calls: guard, session, then the job. */
/* Enter a call of a started session; false (the error set) if not. */
static bool begin(struct ws_call *call)
{
	if (!ws_call_begin(call))
		return false;
	if (!ws_started()) {
		ws_set_error(WSANOTINITIALISED);
		ws_call_leave(call, true);
		return false;
	}
	return true;
}

WS_EXPORT WSAEVENT WSAAPI WSACreateEvent(void)
{
	struct ws_event *ev;
	struct ws_call call;
	WSAEVENT h = NULL;

	if (!begin(&call))
		return WSA_INVALID_EVENT;
	ev = calloc(1, sizeof(*ev));
	if (ev) {
		ws_lock();
		h = ws_handle_add(ev, WS_HANDLE_EVENT);
		ws_unlock();
		if (!h)
			free(ev);
	}
	if (!h)
		ws_set_error(WSA_NOT_ENOUGH_MEMORY);
	ws_call_leave(&call, !h);
	return h;
}

WS_EXPORT BOOL WSAAPI WSACloseEvent(WSAEVENT hEvent)
{
	struct ws_event *ev;
	struct ws_call call;

	if (!begin(&call))
		return FALSE;
	ws_lock();
	ev = ws_handle_del(hEvent, WS_HANDLE_EVENT);
	if (ev)
		ws_broadcast();	/* waiters on it fail now */
	ws_unlock();
	free(ev);
	if (!ev)
		ws_set_error(WSA_INVALID_HANDLE);
	ws_call_leave(&call, !ev);
	return ev ? TRUE : FALSE;
}

static BOOL set_state(WSAEVENT h, bool signaled)
{
	struct ws_event *ev;
	struct ws_call call;

	if (!begin(&call))
		return FALSE;
	ws_lock();
	ev = ws_handle_get(h, WS_HANDLE_EVENT);
	if (ev) {
		ev->signaled = signaled;
		if (signaled)
			ws_broadcast();
	}
	ws_unlock();
	if (!ev)
		ws_set_error(WSA_INVALID_HANDLE);
	ws_call_leave(&call, !ev);
	return ev ? TRUE : FALSE;
}

WS_EXPORT BOOL WSAAPI WSASetEvent(WSAEVENT hEvent)
{
	return set_state(hEvent, true);
}

WS_EXPORT BOOL WSAAPI WSAResetEvent(WSAEVENT hEvent)
{
	return set_state(hEvent, false);
}

/* Lock held. WSA_WAIT_EVENT_0 + i when satisfied, WSA_WAIT_TIMEOUT when
 * not yet, WSA_WAIT_FAILED for a handle that is not (or no longer) an
 * event. */
static DWORD check(const WSAEVENT *h, DWORD n, bool all)
{
	DWORD first = WSA_WAIT_TIMEOUT, signaled = 0;

	for (DWORD i = 0; i < n; i++) {
		struct ws_event *ev = ws_handle_get(h[i], WS_HANDLE_EVENT);

		if (!ev)
			return WSA_WAIT_FAILED;
		if (ev->signaled) {
			signaled++;
			if (first == WSA_WAIT_TIMEOUT)
				first = WSA_WAIT_EVENT_0 + i;
		}
	}
	if (all)
		return signaled == n ? WSA_WAIT_EVENT_0 : WSA_WAIT_TIMEOUT;
	return first;
}

static bool has_duplicates(const WSAEVENT *h, DWORD n)
{
	for (DWORD i = 0; i < n; i++)
		for (DWORD k = i + 1; k < n; k++)
			if (h[i] == h[k])
				return true;
	return false;
}

WS_EXPORT DWORD WSAAPI WSAWaitForMultipleEvents(DWORD cEvents,
						const WSAEVENT *lphEvents,
						BOOL fWaitAll, DWORD dwTimeout,
						BOOL fAlertable)
{
	WSAEVENT h[WSA_MAXIMUM_WAIT_EVENTS];
	struct timespec deadline;
	bool expired = false;
	struct ws_call call;
	DWORD ret;
	int err = 0;

	if (!begin(&call))
		return WSA_WAIT_FAILED;
	if (!cEvents || cEvents > WSA_MAXIMUM_WAIT_EVENTS)
		err = WSA_INVALID_PARAMETER;
	else if (!ws_mem_readable(lphEvents, cEvents * sizeof(*lphEvents)))
		err = WSAEFAULT;
	if (!err) {
		memcpy(h, lphEvents, cEvents * sizeof(*h));
		if (fWaitAll && has_duplicates(h, cEvents))
			err = WSA_INVALID_PARAMETER;
	}
	if (err) {
		ws_set_error(err);
		ws_call_leave(&call, true);
		return WSA_WAIT_FAILED;
	}
	if (dwTimeout != WSA_INFINITE)
		ws_deadline(&deadline, dwTimeout);

	ws_lock();
	for (;;) {
		ret = check(h, cEvents, fWaitAll);
		if (ret != WSA_WAIT_TIMEOUT)
			break;
		/* the events first: "the event ... is not signaled yet" */
		if (fAlertable && ws_apc_run()) {
			ret = WSA_WAIT_IO_COMPLETION;
			break;
		}
		if (expired || !dwTimeout)
			break;
		expired = !ws_wait(dwTimeout == WSA_INFINITE ? NULL :
							       &deadline);
	}
	ws_unlock();
	if (ret == WSA_WAIT_FAILED)
		ws_set_error(WSA_INVALID_HANDLE);
	ws_call_leave(&call, ret == WSA_WAIT_FAILED);
	return ret;
}
