/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: the service-provider side of WSAIoctl (WSPIoctl) and the
 * upcalls it relies on to deliver completion routines to a given thread.
 */
#ifndef LWFP_WINSOCK_WS2SPI_H
#define LWFP_WINSOCK_WS2SPI_H

#include "winsock2.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Names a thread that completion routines (APCs) can be queued to. */
typedef struct _WSATHREADID {
	HANDLE ThreadHandle;
	DWORD_PTR Reserved;
} WSATHREADID, *LPWSATHREADID;

typedef void (CALLBACK *LPWSAUSERAPC)(DWORD_PTR dwContext);

/*
 * WSAIoctl for providers: errors go to *lpErrno, not to WSAGetLastError();
 * an overlapped call's completion routine runs on the thread lpThreadId
 * names, when that thread is in an alertable wait.
 */
int WSPAPI WSPIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer,
		    DWORD cbInBuffer, LPVOID lpvOutBuffer, DWORD cbOutBuffer,
		    LPDWORD lpcbBytesReturned, LPWSAOVERLAPPED lpOverlapped,
		    LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine,
		    LPWSATHREADID lpThreadId, LPINT lpErrno);

/* A WSATHREADID for the calling thread; release it with WPUCloseThread. */
int WSPAPI WPUOpenCurrentThread(LPWSATHREADID lpThreadId, LPINT lpErrno);
int WSPAPI WPUCloseThread(LPWSATHREADID lpThreadId, LPINT lpErrno);
/* Run lpfnUserApc(dwContext) on that thread in its next alertable wait. */
int WSPAPI WPUQueueApc(LPWSATHREADID lpThreadId, LPWSAUSERAPC lpfnUserApc,
		       DWORD_PTR dwContext, LPINT lpErrno);

#ifdef __cplusplus
}
#endif

#endif /* LWFP_WINSOCK_WS2SPI_H */
