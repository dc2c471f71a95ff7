/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: the C runtime's thread start (_beginthreadex), which
 * Windows services use in place of CreateThread; the handle it returns
 * is CreateThread's, closed with CloseHandle.
 */
#ifndef LWFP_WINSOCK_PROCESS_H
#define LWFP_WINSOCK_PROCESS_H

#include <stdint.h>
#include <unistd.h>

#include "windows.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline uintptr_t _beginthreadex(void *security, unsigned stack_size,
				       unsigned (__stdcall *start)(void *),
				       void *arg, unsigned initflag,
				       unsigned *thrdaddr)
{
	DWORD id = 0;
	HANDLE h = CreateThread((LPSECURITY_ATTRIBUTES)security, stack_size,
				start, arg, initflag, &id);

	if (thrdaddr)
		*thrdaddr = id;
	return (uintptr_t)h;
}

static inline void _endthreadex(unsigned retval)
{
	ExitThread(retval);
}

#define _getpid		getpid

#ifdef __cplusplus
}
#endif

#endif /* LWFP_WINSOCK_PROCESS_H */
