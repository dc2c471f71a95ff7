// SPDX-License-Identifier: MIT
/*
 * Waits on objects: events (WSAEVENT and CreateEvent's) and threads
 * (CreateThread's), one loop over the layer's one condition. A wait for
 * any object returns the lowest index signalled; a wait for all, once all
 * are; either resets the automatic events it was satisfied by. An
 * alertable wait also runs the thread's completion routines.
 */
#include <string.h>

#include "internal.h"
#include "ops.h"

/* Lock held: 1 signalled, 0 not yet, -1 not a handle one can wait on. */
static int object_state(HANDLE h)
{
	int s = ws_event_state(h);

	return s >= 0 ? s : ws_thread_state(h);
}

/* Lock held: WAIT_OBJECT_0 + i when satisfied, WAIT_TIMEOUT when not
 * yet, WAIT_FAILED for a handle that is not (or no longer) an object. */
static DWORD check(const HANDLE *h, DWORD n, bool all)
{
	DWORD first = WAIT_TIMEOUT, signaled = 0;

	for (DWORD i = 0; i < n; i++) {
		int s = object_state(h[i]);

		if (s < 0)
			return WAIT_FAILED;
		if (s) {
			signaled++;
			if (first == WAIT_TIMEOUT)
				first = WAIT_OBJECT_0 + i;
		}
	}
	if (all && signaled != n)
		return WAIT_TIMEOUT;
	if (all)
		for (DWORD i = 0; i < n; i++)
			ws_event_taken(h[i]);
	else if (first != WAIT_TIMEOUT)
		ws_event_taken(h[first - WAIT_OBJECT_0]);
	return all ? WAIT_OBJECT_0 : first;
}

static bool has_duplicates(const HANDLE *h, DWORD n)
{
	for (DWORD i = 0; i < n; i++)
		for (DWORD k = i + 1; k < n; k++)
			if (h[i] == h[k])
				return true;
	return false;
}

static int wait_args(const HANDLE *in, DWORD n, bool all, HANDLE *h)
{
	if (!n || n > MAXIMUM_WAIT_OBJECTS)
		return WSA_INVALID_PARAMETER;
	if (!ws_mem_readable(in, n * sizeof(*in)))
		return WSAEFAULT;
	memcpy(h, in, n * sizeof(*h));
	return all && has_duplicates(h, n) ? WSA_INVALID_PARAMETER : 0;
}

DWORD ws_wait_objects(const HANDLE *handles, DWORD n, bool all, DWORD ms,
		      bool alertable, int *err)
{
	HANDLE h[MAXIMUM_WAIT_OBJECTS];
	struct timespec deadline;
	bool expired = false;
	DWORD ret;

	*err = wait_args(handles, n, all, h);
	if (*err)
		return WAIT_FAILED;
	if (ms != INFINITE)
		ws_deadline(&deadline, ms);
	ws_lock();
	for (;;) {
		ret = check(h, n, all);
		if (ret != WAIT_TIMEOUT)
			break;
		/* the objects first: "the object ... is not signaled yet" */
		if (alertable && ws_apc_run()) {
			ret = WAIT_IO_COMPLETION;
			break;
		}
		if (expired || !ms)
			break;
		expired = !ws_wait(ms == INFINITE ? NULL : &deadline);
	}
	ws_unlock();
	if (ret == WAIT_FAILED)
		*err = ERROR_INVALID_HANDLE;
	return ret;
}

WS_EXPORT DWORD WINAPI WaitForMultipleObjectsEx(DWORD nCount,
						const HANDLE *lpHandles,
						BOOL bWaitAll,
						DWORD dwMilliseconds,
						BOOL bAlertable)
{
	int err = 0;
	DWORD ret = ws_wait_objects(lpHandles, nCount, bWaitAll,
				    dwMilliseconds, bAlertable, &err);

	if (ret == WAIT_FAILED)
		ws_set_error(err);
	return ret;
}

WS_EXPORT DWORD WINAPI WaitForMultipleObjects(DWORD nCount,
					      const HANDLE *lpHandles,
					      BOOL bWaitAll,
					      DWORD dwMilliseconds)
{
	return WaitForMultipleObjectsEx(nCount, lpHandles, bWaitAll,
					dwMilliseconds, FALSE);
}

WS_EXPORT DWORD WINAPI WaitForSingleObjectEx(HANDLE hHandle,
					     DWORD dwMilliseconds,
					     BOOL bAlertable)
{
	return WaitForMultipleObjectsEx(1, &hHandle, FALSE, dwMilliseconds,
					bAlertable);
}

WS_EXPORT DWORD WINAPI WaitForSingleObject(HANDLE hHandle,
					   DWORD dwMilliseconds)
{
	return WaitForMultipleObjectsEx(1, &hHandle, FALSE, dwMilliseconds,
					FALSE);
}

WS_EXPORT BOOL WINAPI CloseHandle(HANDLE hObject)
{
	bool ok;

	ws_lock();
	ok = ws_event_close(hObject) || ws_thread_close(hObject) ||
	     ws_port_close(hObject);
	ws_unlock();
	if (!ok)
		ws_set_error(ERROR_INVALID_HANDLE);
	return ok ? TRUE : FALSE;
}

WS_EXPORT HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes,
				     BOOL bManualReset, BOOL bInitialState,
				     LPCSTR lpName)
{
	HANDLE h = NULL;

	(void)lpEventAttributes;
	if (lpName)
		ws_set_error(ERROR_NOT_SUPPORTED);	/* named: none */
	else if (!(h = ws_event_new(bManualReset, bInitialState)))
		ws_set_error(ERROR_NOT_ENOUGH_MEMORY);
	return h;
}

WS_EXPORT HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes,
				     BOOL bManualReset, BOOL bInitialState,
				     LPCWSTR lpName)
{
	return CreateEventA(lpEventAttributes, bManualReset, bInitialState,
			    lpName ? "" : NULL);
}

static BOOL event_set(HANDLE h, bool on)
{
	if (ws_event_set(h, on))
		return TRUE;
	ws_set_error(ERROR_INVALID_HANDLE);
	return FALSE;
}

WS_EXPORT BOOL WINAPI SetEvent(HANDLE hEvent)
{
	return event_set(hEvent, true);
}

WS_EXPORT BOOL WINAPI ResetEvent(HANDLE hEvent)
{
	return event_set(hEvent, false);
}
