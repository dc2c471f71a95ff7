// SPDX-License-Identifier: MIT
/*
 * Event objects: manual-reset ones, created non-signalled, as
 * WSACreateEvent makes them, and those CreateEvent makes (manual or
 * automatic reset). The state lives under the layer's lock and every
 * change broadcasts, so a wait on several objects (and, when alertable,
 * on the thread's completion routines) is one loop over one condition
 * (waits.c).
 */
#include <stdlib.h>

#include "internal.h"

struct ws_event {
	bool signaled;
	bool automatic;	/* a wait it satisfies resets it */
};

int ws_event_state(HANDLE h)
{
	struct ws_event *ev = ws_handle_get(h, WS_HANDLE_EVENT);

	return ev ? ev->signaled : -1;
}

void ws_event_taken(HANDLE h)
{
	struct ws_event *ev = ws_handle_get(h, WS_HANDLE_EVENT);

	if (ev && ev->automatic)
		ev->signaled = false;
}

HANDLE ws_event_new(bool manual, bool initial)
{
	struct ws_event *ev = calloc(1, sizeof(*ev));
	HANDLE h = NULL;

	if (!ev)
		return NULL;
	ev->automatic = !manual;
	ev->signaled = initial;
	ws_lock();
	h = ws_handle_add(ev, WS_HANDLE_EVENT);
	ws_unlock();
	if (!h)
		free(ev);
	return h;
}

/* Lock held: free an event; waiters on it fail now. */
bool ws_event_close(HANDLE h)
{
	struct ws_event *ev = ws_handle_del(h, WS_HANDLE_EVENT);

	if (ev)
		ws_broadcast();
	free(ev);
	return ev;
}

bool ws_event_set(HANDLE h, bool signaled)
{
	struct ws_event *ev;

	ws_lock();
	ev = ws_handle_get(h, WS_HANDLE_EVENT);
	if (ev) {
		ev->signaled = signaled;
		if (signaled)
			ws_broadcast();
	}
	ws_unlock();
	return ev;
}

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
	struct ws_call call;
	WSAEVENT h;

	if (!begin(&call))
		return WSA_INVALID_EVENT;
	h = ws_event_new(true, false);
	if (!h)
		ws_set_error(WSA_NOT_ENOUGH_MEMORY);
	ws_call_leave(&call, !h);
	return h;
}

WS_EXPORT BOOL WSAAPI WSACloseEvent(WSAEVENT hEvent)
{
	struct ws_call call;
	bool ok;

	if (!begin(&call))
		return FALSE;
	ws_lock();
	ok = ws_event_close(hEvent);
	ws_unlock();
	if (!ok)
		ws_set_error(WSA_INVALID_HANDLE);
	ws_call_leave(&call, !ok);
	return ok ? TRUE : FALSE;
}

static BOOL set_state(WSAEVENT h, bool signaled)
{
	struct ws_call call;
	bool ok;

	if (!begin(&call))
		return FALSE;
	ok = ws_event_set(h, signaled);
	if (!ok)
		ws_set_error(WSA_INVALID_HANDLE);
	ws_call_leave(&call, !ok);
	return ok ? TRUE : FALSE;
}

WS_EXPORT BOOL WSAAPI WSASetEvent(WSAEVENT hEvent)
{
	return set_state(hEvent, true);
}

WS_EXPORT BOOL WSAAPI WSAResetEvent(WSAEVENT hEvent)
{
	return set_state(hEvent, false);
}

WS_EXPORT DWORD WSAAPI WSAWaitForMultipleEvents(DWORD cEvents,
						const WSAEVENT *lphEvents,
						BOOL fWaitAll, DWORD dwTimeout,
						BOOL fAlertable)
{
	struct ws_call call;
	DWORD ret;
	int err = 0;

	if (!begin(&call))
		return WSA_WAIT_FAILED;
	ret = ws_wait_objects(lphEvents, cEvents, fWaitAll, dwTimeout,
			      fAlertable, &err);
	if (ret == WSA_WAIT_FAILED)
		ws_set_error(err);
	ws_call_leave(&call, ret == WSA_WAIT_FAILED);
	return ret;
}
