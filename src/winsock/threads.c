// SPDX-License-Identifier: MIT
/*
 * Threads as CreateThread makes them: a handle that is signalled when the
 * thread has ended and keeps its exit code until closed. The thread runs
 * detached; whichever of its end and CloseHandle comes last frees it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

struct ws_thread {
	LPTHREAD_START_ROUTINE start;
	LPVOID arg;
	DWORD exit_code;
	DWORD tid;	/* 0 until it runs */
	bool done;	/* it has returned */
	bool closed;	/* its handle is closed */
};

int ws_thread_state(HANDLE h)
{
	struct ws_thread *t = ws_handle_get(h, WS_HANDLE_CREATED_THREAD);

	return t ? t->done : -1;
}

bool ws_thread_close(HANDLE h)
{
	struct ws_thread *t = ws_handle_del(h, WS_HANDLE_CREATED_THREAD);

	if (!t)
		return false;
	if (t->done)
		free(t);
	else
		t->closed = true;
	return true;
}

/* The CreateThread thread running here, for ExitThread. */
static WS_TLS struct ws_thread *self;

static void thread_end(struct ws_thread *t, DWORD code)
{
	ws_lock();
	t->exit_code = code;
	t->done = true;
	if (t->closed)
		free(t);
	ws_broadcast();
	ws_unlock();
}

static void *thread_main(void *arg)
{
	struct ws_thread *t = arg;

	ws_lock();
	t->tid = (DWORD)gettid();
	ws_broadcast();
	ws_unlock();
	self = t;
	thread_end(t, t->start(t->arg));
	return NULL;
}

WS_EXPORT void WINAPI ExitThread(DWORD dwExitCode)
{
	struct ws_thread *t = self;

	self = NULL;
	if (t)
		thread_end(t, dwExitCode);
	pthread_exit(NULL);
}

static int thread_start(struct ws_thread *t, SIZE_T stack)
{
	pthread_attr_t attr;
	pthread_t pt;
	int ret;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (stack)
		pthread_attr_setstacksize(&attr, stack < (SIZE_T)PTHREAD_STACK_MIN ?
					  (SIZE_T)PTHREAD_STACK_MIN : stack);
	ret = pthread_create(&pt, &attr, thread_main, t);
	pthread_attr_destroy(&attr);
	return ret;
}

WS_EXPORT HANDLE WINAPI CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes,
				     SIZE_T dwStackSize,
				     LPTHREAD_START_ROUTINE lpStartAddress,
				     LPVOID lpParameter, DWORD dwCreationFlags,
				     LPDWORD lpThreadId)
{
	struct ws_thread *t;
	HANDLE h;

	(void)lpThreadAttributes;
	if (!lpStartAddress || dwCreationFlags & CREATE_SUSPENDED) {
		/* no ResumeThread here: a suspended start is refused */
		ws_set_error(lpStartAddress ? ERROR_NOT_SUPPORTED :
					      ERROR_INVALID_PARAMETER);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		ws_set_error(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	t->start = lpStartAddress;
	t->arg = lpParameter;
	ws_lock();
	h = ws_handle_add(t, WS_HANDLE_CREATED_THREAD);
	ws_unlock();
	if (h && thread_start(t, dwStackSize)) {
		ws_lock();
		ws_handle_del(h, WS_HANDLE_CREATED_THREAD);
		ws_unlock();
		h = NULL;
	}
	if (!h) {
		free(t);
		ws_set_error(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	if (lpThreadId) {
		/* its id is known once it runs; its handle keeps it alive */
		ws_lock();
		while (!t->tid)
			ws_wait(NULL);
		*lpThreadId = t->tid;
		ws_unlock();
	}
	return h;
}

WS_EXPORT BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode)
{
	struct ws_thread *t;

	ws_lock();
	t = ws_handle_get(hThread, WS_HANDLE_CREATED_THREAD);
	if (t && lpExitCode)
		*lpExitCode = t->done ? t->exit_code : STILL_ACTIVE;
	ws_unlock();
	if (!t || !lpExitCode) {
		ws_set_error(t ? ERROR_INVALID_PARAMETER : ERROR_INVALID_HANDLE);
		return FALSE;
	}
	return TRUE;
}

WS_EXPORT DWORD WINAPI GetCurrentThreadId(void)
{
	return (DWORD)gettid();
}

WS_EXPORT DWORD WINAPI GetCurrentProcessId(void)
{
	return (DWORD)getpid();
}
