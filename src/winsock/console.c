// SPDX-License-Identifier: MIT
/*
 * SetConsoleCtrlHandler: SIGINT (Ctrl+C), SIGQUIT (Ctrl+Break) and SIGTERM
 * (the console closing) become control events. As on Windows the handlers
 * run on a thread of their own, not in the signal handler: the signal
 * only writes its event to a pipe the thread reads. The handlers are
 * called last added first until one returns TRUE; if none does, the
 * process ends as the signal would have ended it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "internal.h"

#define MAX_HANDLERS	32

static pthread_mutex_t console_lock = PTHREAD_MUTEX_INITIALIZER;
static PHANDLER_ROUTINE handlers[MAX_HANDLERS];
static int nhandlers;
static bool ignore_ctrl_c;
static int event_pipe[2] = { -1, -1 };

static const struct {
	int sig;
	DWORD type;
} signals[] = {
	{ SIGINT, CTRL_C_EVENT },
	{ SIGQUIT, CTRL_BREAK_EVENT },
	{ SIGTERM, CTRL_CLOSE_EVENT },
};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	(void)!write(event_pipe[1], &c, 1);
	errno = saved;
}

/* Lock held: the handlers' answer to the event. */
static bool handled(DWORD type)
{
	for (int i = nhandlers - 1; i >= 0; i--)
		if (handlers[i](type))
			return true;
	return type == CTRL_C_EVENT && ignore_ctrl_c;
}

static void *dispatch(void *arg)
{
	unsigned char sig;

	(void)arg;
	while (read(event_pipe[0], &sig, 1) == 1) {
		DWORD type = CTRL_C_EVENT;
		bool done;

		for (size_t i = 0; i < WS_ARRAY_SIZE(signals); i++)
			if (signals[i].sig == sig)
				type = signals[i].type;
		pthread_mutex_lock(&console_lock);
		done = handled(type);
		pthread_mutex_unlock(&console_lock);
		if (!done) {
			signal(sig, SIG_DFL);
			raise(sig);
		}
	}
	return NULL;
}

/* Lock held: the pipe, the thread and the signal handlers, once. */
static bool console_start(void)
{
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = SA_RESTART };
	pthread_attr_t attr;
	pthread_t th;
	int ret;

	if (event_pipe[0] >= 0)
		return true;
	if (pipe2(event_pipe, O_CLOEXEC))
		return false;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&th, &attr, dispatch, NULL);
	pthread_attr_destroy(&attr);
	if (ret) {
		close(event_pipe[0]);
		close(event_pipe[1]);
		event_pipe[0] = event_pipe[1] = -1;
		return false;
	}
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < WS_ARRAY_SIZE(signals); i++)
		sigaction(signals[i].sig, &sa, NULL);
	return true;
}

/* Lock held: remove routine, or add it on top. */
static DWORD handler_change(PHANDLER_ROUTINE routine, BOOL add)
{
	for (int i = 0; i < nhandlers; i++) {
		if (handlers[i] != routine)
			continue;
		if (add)
			return ERROR_SUCCESS;	/* already there */
		for (; i + 1 < nhandlers; i++)
			handlers[i] = handlers[i + 1];
		nhandlers--;
		return ERROR_SUCCESS;
	}
	if (!add)
		return ERROR_INVALID_PARAMETER;
	if (nhandlers == MAX_HANDLERS)
		return ERROR_NOT_ENOUGH_MEMORY;
	handlers[nhandlers++] = routine;
	return ERROR_SUCCESS;
}

/* A NULL routine: Ctrl+C is ignored (Add) or not (!Add). */
WS_EXPORT BOOL WINAPI SetConsoleCtrlHandler(PHANDLER_ROUTINE HandlerRoutine,
					    BOOL Add)
{
	DWORD err = ERROR_SUCCESS;

	pthread_mutex_lock(&console_lock);
	if (!console_start())
		err = ERROR_NOT_ENOUGH_MEMORY;
	else if (!HandlerRoutine)
		ignore_ctrl_c = Add;
	else
		err = handler_change(HandlerRoutine, Add);
	pthread_mutex_unlock(&console_lock);
	if (err)
		ws_set_error((int)err);
	return err ? FALSE : TRUE;
}
