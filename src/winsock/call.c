// SPDX-License-Identifier: MIT
/*
 * The per-thread "inside a call" mark behind WSAEINPROGRESS: a call made
 * from a signal handler that interrupted another call of this thread
 * fails, as a blocking call's would on Windows. Every exported function
 * enters and leaves it; leaving restores errno unless the call failed.
 */
#include <errno.h>
#include <signal.h>

#include "internal.h"

static WS_TLS volatile sig_atomic_t in_call;

int ws_call_enter(struct ws_call *call)
{
	call->saved_errno = errno;
	if (in_call)
		return WSAEINPROGRESS;
	in_call = 1;
	return 0;
}

bool ws_call_begin(struct ws_call *call)
{
	int err = ws_call_enter(call);

	if (err)
		ws_set_error(err);
	return !err;
}

void ws_call_leave(struct ws_call *call, bool failed)
{
	in_call = 0;
	if (!failed)
		errno = call->saved_errno;
}

bool ws_call_suspend(void)
{
	bool was = in_call;

	in_call = 0;
	return was;
}

void ws_call_resume(bool was)
{
	in_call = was;
}
