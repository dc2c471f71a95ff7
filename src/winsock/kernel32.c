// SPDX-License-Identifier: MIT
/*
 * The small kernel32 calls a network service makes: the last error (the
 * same one as WSAGetLastError's), critical sections, the heap, the clock,
 * the processor count. None needs WSAStartup.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

WS_EXPORT DWORD WINAPI GetLastError(void)
{
	return (DWORD)WSAGetLastError();
}

WS_EXPORT void WINAPI SetLastError(DWORD dwErrCode)
{
	ws_set_error((int)dwErrCode);
}

/* Critical sections: recursive, as a thread may enter one it holds. */
WS_EXPORT BOOL WINAPI InitializeCriticalSectionAndSpinCount(
	LPCRITICAL_SECTION cs, DWORD dwSpinCount)
{
	pthread_mutexattr_t attr;

	(void)dwSpinCount;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&cs->mutex, &attr);
	pthread_mutexattr_destroy(&attr);
	return TRUE;
}

WS_EXPORT void WINAPI InitializeCriticalSection(LPCRITICAL_SECTION cs)
{
	InitializeCriticalSectionAndSpinCount(cs, 0);
}

WS_EXPORT void WINAPI EnterCriticalSection(LPCRITICAL_SECTION cs)
{
	pthread_mutex_lock(&cs->mutex);
}

WS_EXPORT BOOL WINAPI TryEnterCriticalSection(LPCRITICAL_SECTION cs)
{
	return pthread_mutex_trylock(&cs->mutex) == 0;
}

WS_EXPORT void WINAPI LeaveCriticalSection(LPCRITICAL_SECTION cs)
{
	pthread_mutex_unlock(&cs->mutex);
}

WS_EXPORT void WINAPI DeleteCriticalSection(LPCRITICAL_SECTION cs)
{
	pthread_mutex_destroy(&cs->mutex);
}

/* The heap: the process heap is malloc's; its handle is a token. */
static char process_heap;

WS_EXPORT HANDLE WINAPI GetProcessHeap(void)
{
	return &process_heap;
}

static bool heap_valid(HANDLE h)
{
	if (h == &process_heap)
		return true;
	ws_set_error(ERROR_INVALID_HANDLE);
	return false;
}

WS_EXPORT LPVOID WINAPI HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes)
{
	void *p;

	if (!heap_valid(hHeap))
		return NULL;
	p = dwFlags & HEAP_ZERO_MEMORY ? calloc(1, dwBytes ? dwBytes : 1) :
					 malloc(dwBytes ? dwBytes : 1);
	if (!p)
		ws_set_error(ERROR_NOT_ENOUGH_MEMORY);
	return p;
}

WS_EXPORT LPVOID WINAPI HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem,
				    SIZE_T dwBytes)
{
	void *p;

	if (!heap_valid(hHeap))
		return NULL;
	if (dwFlags & (HEAP_ZERO_MEMORY | HEAP_REALLOC_IN_PLACE_ONLY)) {
		/* malloc does not say how large the old block was */
		ws_set_error(ERROR_NOT_SUPPORTED);
		return NULL;
	}
	p = realloc(lpMem, dwBytes ? dwBytes : 1);
	if (!p)
		ws_set_error(ERROR_NOT_ENOUGH_MEMORY);
	return p;
}

WS_EXPORT BOOL WINAPI HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem)
{
	(void)dwFlags;
	if (!heap_valid(hHeap))
		return FALSE;
	free(lpMem);
	return TRUE;
}

WS_EXPORT HLOCAL WINAPI LocalAlloc(UINT uFlags, SIZE_T uBytes)
{
	return HeapAlloc(&process_heap,
			 uFlags & LMEM_ZEROINIT ? HEAP_ZERO_MEMORY : 0, uBytes);
}

WS_EXPORT HLOCAL WINAPI LocalFree(HLOCAL hMem)
{
	free(hMem);
	return NULL;
}

WS_EXPORT HGLOBAL WINAPI GlobalAlloc(UINT uFlags, SIZE_T dwBytes)
{
	return LocalAlloc(uFlags, dwBytes);
}

WS_EXPORT HGLOBAL WINAPI GlobalFree(HGLOBAL hMem)
{
	return LocalFree(hMem);
}

/* The clocks: a monotonic millisecond count, and nanoseconds for
 * QueryPerformanceCounter. */
WS_EXPORT ULONGLONG WINAPI GetTickCount64(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ULONGLONG)ts.tv_sec * 1000 + (ULONGLONG)ts.tv_nsec / 1000000;
}

WS_EXPORT DWORD WINAPI GetTickCount(void)
{
	return (DWORD)GetTickCount64();
}

WS_EXPORT BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER *count)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	count->QuadPart = (LONGLONG)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	return TRUE;
}

WS_EXPORT BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER *frequency)
{
	frequency->QuadPart = 1000000000LL;
	return TRUE;
}

WS_EXPORT void WINAPI GetSystemInfo(LPSYSTEM_INFO info)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long page = sysconf(_SC_PAGESIZE);

	memset(info, 0, sizeof(*info));
#if defined(__x86_64__)
	info->wProcessorArchitecture = 9;	/* PROCESSOR_ARCHITECTURE_AMD64 */
#elif defined(__aarch64__)
	info->wProcessorArchitecture = 12;	/* PROCESSOR_ARCHITECTURE_ARM64 */
#else
	info->wProcessorArchitecture = 0xffff;	/* ..._UNKNOWN */
#endif
	info->dwPageSize = page > 0 ? (DWORD)page : 4096;
	info->dwNumberOfProcessors = cpus > 0 ? (DWORD)cpus : 1;
	info->dwActiveProcessorMask = info->dwNumberOfProcessors >= 64 ?
		~(DWORD_PTR)0 : ((DWORD_PTR)1 << info->dwNumberOfProcessors) - 1;
	info->dwAllocationGranularity = 65536;
	info->lpMinimumApplicationAddress = (LPVOID)0x10000;
	info->lpMaximumApplicationAddress = (LPVOID)0x7ffffffeffff;
}
