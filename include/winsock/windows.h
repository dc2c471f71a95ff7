/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: the few Win32 base types, constants and kernel32 calls a
 * Windows redirect service needs next to Winsock (DWORD, BOOL, HANDLE,
 * SleepEx...). Not the Windows SDK: only what lwfp-winsock provides.
 */
#ifndef LWFP_WINSOCK_WINDOWS_H
#define LWFP_WINSOCK_WINDOWS_H

#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Calling conventions and pointer qualifiers mean nothing here. */
#define WINAPI
#define CALLBACK
#define WSAAPI
#define WSPAPI
#define FAR
#define NEAR

/* Win32 integer types: LONG and ULONG are 32 bits, as on Windows. */
typedef uint8_t BYTE;
typedef uint16_t WORD;
typedef uint32_t DWORD;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef int INT;
typedef unsigned int UINT;
typedef short SHORT;
typedef unsigned short USHORT;
typedef unsigned char UCHAR;
typedef int BOOL;
typedef char CHAR;
typedef wchar_t WCHAR;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef size_t SIZE_T;
typedef uintptr_t ULONG_PTR;
typedef uintptr_t DWORD_PTR;
typedef uintptr_t UINT_PTR;
typedef intptr_t LONG_PTR;
typedef intptr_t INT_PTR;

typedef void *PVOID;
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef void *HANDLE;
typedef HANDLE *PHANDLE;
typedef HANDLE *LPHANDLE;
typedef BYTE *PBYTE;
typedef BYTE *LPBYTE;
typedef UCHAR *PUCHAR;
typedef SIZE_T *PSIZE_T;
typedef WORD *PWORD;
typedef WORD *LPWORD;
typedef DWORD *PDWORD;
typedef DWORD *LPDWORD;
typedef ULONG *PULONG;
typedef INT *PINT;
typedef INT *LPINT;
typedef BOOL *PBOOL;
typedef BOOL *LPBOOL;
typedef CHAR *LPSTR;
typedef const CHAR *LPCSTR;
typedef WCHAR *LPWSTR;
typedef const WCHAR *LPCWSTR;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

#define MAKEWORD(lo, hi) ((WORD)(((BYTE)(lo)) | (((WORD)((BYTE)(hi))) << 8)))
#define LOBYTE(w) ((BYTE)((w) & 0xff))
#define HIBYTE(w) ((BYTE)(((w) >> 8) & 0xff))
#define LOWORD(l) ((WORD)((l) & 0xffff))
#define HIWORD(l) ((WORD)(((l) >> 16) & 0xffff))

/* Waits */
#define INFINITE		0xFFFFFFFFu
#define WAIT_OBJECT_0		0x00000000u
#define WAIT_ABANDONED		0x00000080u
#define WAIT_IO_COMPLETION	0x000000C0u
#define WAIT_TIMEOUT		0x00000102u
#define WAIT_FAILED		0xFFFFFFFFu
#define STATUS_PENDING		0x00000103u

/* The Win32 errors that Winsock's WSA_* codes are made of. */
#define ERROR_SUCCESS			0
#define ERROR_INVALID_HANDLE		6
#define ERROR_NOT_ENOUGH_MEMORY		8
#define ERROR_INVALID_PARAMETER		87
#define ERROR_INSUFFICIENT_BUFFER	122
#define ERROR_OPERATION_ABORTED		995
#define ERROR_IO_INCOMPLETE		996
#define ERROR_IO_PENDING		997

/*
 * Suspend the calling thread for dwMilliseconds (INFINITE: no time-out).
 * With bAlertable, completion routines queued to this thread run inside
 * the call, which then returns WAIT_IO_COMPLETION; otherwise 0.
 */
DWORD SleepEx(DWORD dwMilliseconds, BOOL bAlertable);
void Sleep(DWORD dwMilliseconds);
/* Milliseconds since boot (CLOCK_MONOTONIC), as Windows counts them. */
ULONGLONG GetTickCount64(void);

#ifdef __cplusplus
}
#endif

#endif /* LWFP_WINSOCK_WINDOWS_H */
