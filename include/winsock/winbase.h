/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: the kernel32 calls a network service makes besides
 * Winsock: threads and waits, events, critical sections, interlocked
 * operations, the heap, the last error, the clock, the processor count
 * and the console control handler. Included by windows.h.
 */
#ifndef LWFP_WINSOCK_WINBASE_H
#define LWFP_WINSOCK_WINBASE_H

#include <pthread.h>

#include "windows.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Suspend the calling thread for dwMilliseconds (INFINITE: no time-out).
 * With bAlertable, completion routines queued to this thread run inside
 * the call, which then returns WAIT_IO_COMPLETION; otherwise 0.
 */
DWORD WINAPI SleepEx(DWORD dwMilliseconds, BOOL bAlertable);
void WINAPI Sleep(DWORD dwMilliseconds);
/* Milliseconds since boot (CLOCK_MONOTONIC), as Windows counts them. */
ULONGLONG WINAPI GetTickCount64(void);
DWORD WINAPI GetTickCount(void);
BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER *lpPerformanceCount);
BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER *lpFrequency);

/* The calling thread's last error: the same one WSAGetLastError() reads. */
DWORD WINAPI GetLastError(void);
void WINAPI SetLastError(DWORD dwErrCode);

/* An overlapped operation's state (WSAOVERLAPPED is the same type). */
typedef struct _OVERLAPPED {
	ULONG_PTR Internal;	/* the status: STATUS_PENDING, then the error */
	ULONG_PTR InternalHigh;	/* bytes transferred */
	union {
		struct {
			DWORD Offset;
			DWORD OffsetHigh;
		};
		PVOID Pointer;
	};
	HANDLE hEvent;
} OVERLAPPED, *LPOVERLAPPED;

#define HasOverlappedIoCompleted(ov) ((ov)->Internal != STATUS_PENDING)

/*
 * I/O completion ports. A socket associated with a port (its handle is
 * (HANDLE)socket) has its overlapped operations' completions queued there
 * with the key given, unless the OVERLAPPED's hEvent has its low bit set.
 */
typedef struct _OVERLAPPED_ENTRY {
	ULONG_PTR lpCompletionKey;
	LPOVERLAPPED lpOverlapped;
	ULONG_PTR Internal;
	DWORD dwNumberOfBytesTransferred;
} OVERLAPPED_ENTRY, *LPOVERLAPPED_ENTRY;
HANDLE WINAPI CreateIoCompletionPort(HANDLE FileHandle,
				     HANDLE ExistingCompletionPort,
				     ULONG_PTR CompletionKey,
				     DWORD NumberOfConcurrentThreads);
BOOL WINAPI GetQueuedCompletionStatus(HANDLE CompletionPort,
				      LPDWORD lpNumberOfBytesTransferred,
				      PULONG_PTR lpCompletionKey,
				      LPOVERLAPPED *lpOverlapped,
				      DWORD dwMilliseconds);
BOOL WINAPI GetQueuedCompletionStatusEx(HANDLE CompletionPort,
					LPOVERLAPPED_ENTRY lpEntries,
					ULONG ulCount,
					PULONG ulNumEntriesRemoved,
					DWORD dwMilliseconds, BOOL fAlertable);
BOOL WINAPI PostQueuedCompletionStatus(HANDLE CompletionPort,
				       DWORD dwNumberOfBytesTransferred,
				       ULONG_PTR dwCompletionKey,
				       LPOVERLAPPED lpOverlapped);
/* What an operation that completes at once (returns 0, TRUE) leaves out:
 * its completion packet, its event. */
#define FILE_SKIP_COMPLETION_PORT_ON_SUCCESS	0x1
#define FILE_SKIP_SET_EVENT_ON_HANDLE		0x2
BOOL WINAPI SetFileCompletionNotificationModes(HANDLE FileHandle,
					       UCHAR Flags);
/* End a socket's pending operations (all of them, or the one of
 * lpOverlapped) with ERROR_OPERATION_ABORTED. */
BOOL WINAPI CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped);
BOOL WINAPI CancelIo(HANDLE hFile);

typedef struct _SECURITY_ATTRIBUTES {
	DWORD nLength;
	LPVOID lpSecurityDescriptor;
	BOOL bInheritHandle;
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

/* Threads. A thread's handle is signalled when it has ended; its exit
 * code stays readable until the handle is closed. */
typedef DWORD (WINAPI *LPTHREAD_START_ROUTINE)(LPVOID lpThreadParameter);
typedef LPTHREAD_START_ROUTINE PTHREAD_START_ROUTINE;
#define CREATE_SUSPENDED	0x00000004
#define STILL_ACTIVE		0x00000103
HANDLE WINAPI CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes,
			   SIZE_T dwStackSize,
			   LPTHREAD_START_ROUTINE lpStartAddress,
			   LPVOID lpParameter, DWORD dwCreationFlags,
			   LPDWORD lpThreadId);
BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode);
/* End the calling thread now (its handle is then signalled). */
void WINAPI ExitThread(DWORD dwExitCode) __attribute__((noreturn));
DWORD WINAPI GetCurrentThreadId(void);
DWORD WINAPI GetCurrentProcessId(void);

/* Waits on thread and event handles (also WSAEVENTs). */
#define MAXIMUM_WAIT_OBJECTS	64
DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds);
DWORD WINAPI WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds,
				   BOOL bAlertable);
DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles,
				    BOOL bWaitAll, DWORD dwMilliseconds);
DWORD WINAPI WaitForMultipleObjectsEx(DWORD nCount, const HANDLE *lpHandles,
				      BOOL bWaitAll, DWORD dwMilliseconds,
				      BOOL bAlertable);
BOOL WINAPI CloseHandle(HANDLE hObject);

/* Events: manual or automatic reset. Unnamed only (lpName NULL). */
HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes,
			   BOOL bManualReset, BOOL bInitialState,
			   LPCSTR lpName);
HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes,
			   BOOL bManualReset, BOOL bInitialState,
			   LPCWSTR lpName);
BOOL WINAPI SetEvent(HANDLE hEvent);
BOOL WINAPI ResetEvent(HANDLE hEvent);
#ifdef UNICODE
#define CreateEvent CreateEventW
#else
#define CreateEvent CreateEventA
#endif

/* Critical sections: recursive mutexes, as on Windows. */
typedef struct _CRITICAL_SECTION {
	pthread_mutex_t mutex;
} CRITICAL_SECTION, *PCRITICAL_SECTION, *LPCRITICAL_SECTION;
void WINAPI InitializeCriticalSection(LPCRITICAL_SECTION cs);
BOOL WINAPI InitializeCriticalSectionAndSpinCount(LPCRITICAL_SECTION cs,
						  DWORD dwSpinCount);
void WINAPI EnterCriticalSection(LPCRITICAL_SECTION cs);
BOOL WINAPI TryEnterCriticalSection(LPCRITICAL_SECTION cs);
void WINAPI LeaveCriticalSection(LPCRITICAL_SECTION cs);
void WINAPI DeleteCriticalSection(LPCRITICAL_SECTION cs);

/* Interlocked operations: full barriers, on 32- and 64-bit values. */
static inline LONG InterlockedIncrement(LONG volatile *p)
{
	return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}

static inline LONG InterlockedDecrement(LONG volatile *p)
{
	return __atomic_sub_fetch(p, 1, __ATOMIC_SEQ_CST);
}

static inline LONG InterlockedExchange(LONG volatile *p, LONG v)
{
	return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}

static inline LONG InterlockedExchangeAdd(LONG volatile *p, LONG v)
{
	return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

static inline LONG InterlockedCompareExchange(LONG volatile *p, LONG v,
					      LONG cmp)
{
	__atomic_compare_exchange_n(p, &cmp, v, 0, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return cmp;
}

static inline LONG64 InterlockedIncrement64(LONG64 volatile *p)
{
	return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}

static inline LONG64 InterlockedDecrement64(LONG64 volatile *p)
{
	return __atomic_sub_fetch(p, 1, __ATOMIC_SEQ_CST);
}

static inline LONG64 InterlockedExchangeAdd64(LONG64 volatile *p, LONG64 v)
{
	return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

static inline PVOID InterlockedExchangePointer(PVOID volatile *p, PVOID v)
{
	return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}

static inline PVOID InterlockedCompareExchangePointer(PVOID volatile *p,
						      PVOID v, PVOID cmp)
{
	__atomic_compare_exchange_n(p, &cmp, v, 0, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return cmp;
}

/* The heap: one process heap, malloc underneath. */
#define HEAP_NO_SERIALIZE		0x00000001
#define HEAP_GENERATE_EXCEPTIONS	0x00000004
#define HEAP_ZERO_MEMORY		0x00000008
#define HEAP_REALLOC_IN_PLACE_ONLY	0x00000010
#define LMEM_FIXED			0x0000
#define LMEM_ZEROINIT			0x0040
#define LPTR				(LMEM_FIXED | LMEM_ZEROINIT)
#define GMEM_FIXED			0x0000
#define GMEM_ZEROINIT			0x0040
#define GPTR				(GMEM_FIXED | GMEM_ZEROINIT)
HANDLE WINAPI GetProcessHeap(void);
LPVOID WINAPI HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes);
LPVOID WINAPI HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem,
			  SIZE_T dwBytes);
BOOL WINAPI HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem);
HLOCAL WINAPI LocalAlloc(UINT uFlags, SIZE_T uBytes);
HLOCAL WINAPI LocalFree(HLOCAL hMem);
HGLOBAL WINAPI GlobalAlloc(UINT uFlags, SIZE_T dwBytes);
HGLOBAL WINAPI GlobalFree(HGLOBAL hMem);

/* The processor count (IOCP services size their worker pools by it). */
typedef struct _SYSTEM_INFO {
	WORD wProcessorArchitecture;
	WORD wReserved;
	DWORD dwPageSize;
	LPVOID lpMinimumApplicationAddress;
	LPVOID lpMaximumApplicationAddress;
	DWORD_PTR dwActiveProcessorMask;
	DWORD dwNumberOfProcessors;
	DWORD dwProcessorType;
	DWORD dwAllocationGranularity;
	WORD wProcessorLevel;
	WORD wProcessorRevision;
} SYSTEM_INFO, *LPSYSTEM_INFO;
void WINAPI GetSystemInfo(LPSYSTEM_INFO lpSystemInfo);

/* The console control handler: SIGINT is CTRL_C_EVENT, SIGTERM
 * CTRL_CLOSE_EVENT, SIGQUIT CTRL_BREAK_EVENT. The handlers run, last
 * added first, on a thread of their own, as on Windows; if none returns
 * TRUE the process exits. */
#define CTRL_C_EVENT		0
#define CTRL_BREAK_EVENT	1
#define CTRL_CLOSE_EVENT	2
#define CTRL_LOGOFF_EVENT	5
#define CTRL_SHUTDOWN_EVENT	6
typedef BOOL (WINAPI *PHANDLER_ROUTINE)(DWORD dwCtrlType);
BOOL WINAPI SetConsoleCtrlHandler(PHANDLER_ROUTINE HandlerRoutine, BOOL Add);

#ifdef __cplusplus
}
#endif

#endif /* LWFP_WINSOCK_WINBASE_H */
