/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: the Win32 base a Windows network service uses next to
 * Winsock: the types (DWORD, BOOL, HANDLE...), the keywords and
 * annotations of Microsoft's compiler defined away, the memory macros,
 * the errors (winerror.h) and the kernel32 calls of winbase.h. Not the
 * Windows SDK: no GUI, registry or services API (docs/winsock.md).
 */
#ifndef LWFP_WINSOCK_WINDOWS_H
#define LWFP_WINSOCK_WINDOWS_H

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "sal.h"
#include "winerror.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Calling conventions, storage classes and pointer qualifiers of
 * Microsoft's compiler mean nothing here. */
#define WINAPI
#define WINAPIV
#define APIENTRY
#define CALLBACK
#define NTAPI
#define WSAAPI
#define WSPAPI
#define FAR
#define NEAR
#define far
#define near
#define CONST const
#ifndef __cdecl
#define __cdecl
#endif
#ifndef __stdcall
#define __stdcall
#endif
#ifndef __fastcall
#define __fastcall
#endif
#ifndef _cdecl
#define _cdecl
#endif
#ifndef __declspec
#define __declspec(x)
#endif
#ifndef __forceinline
#define __forceinline inline __attribute__((always_inline))
#endif
#define __int8 char
#define __int16 short
#define __int32 int
#define __int64 long long
#define __w64
#define __ptr64
#define __unaligned
#define UNREFERENCED_PARAMETER(p)		((void)(p))
#define DBG_UNREFERENCED_PARAMETER(p)		((void)(p))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(v)	((void)(v))
#define UNREFERENCED_LOCAL_VARIABLE(v)		((void)(v))

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
typedef intptr_t SSIZE_T;
typedef int8_t INT8;
typedef int16_t INT16;
typedef int32_t INT32;
typedef int64_t INT64;
typedef uint8_t UINT8;
typedef uint16_t UINT16;
typedef uint32_t UINT32;
typedef uint64_t UINT64;
typedef int32_t LONG32;
typedef int64_t LONG64;
typedef uint32_t ULONG32;
typedef uint64_t ULONG64;
typedef uint32_t DWORD32;
typedef uint64_t DWORD64;
typedef BYTE BOOLEAN;
typedef float FLOAT;
typedef double DOUBLE;
#define VOID void
typedef union _LARGE_INTEGER {
	struct {
		DWORD LowPart;
		LONG HighPart;
	} u;
	LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;
typedef union _ULARGE_INTEGER {
	struct {
		DWORD LowPart;
		DWORD HighPart;
	} u;
	ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

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
typedef CHAR *PCHAR;
typedef CHAR *PSTR;
typedef const CHAR *PCSTR;
typedef WCHAR *PWCHAR;
typedef WCHAR *PWSTR;
typedef const WCHAR *PCWSTR;
typedef LONG *PLONG;
typedef LONG *LPLONG;
typedef USHORT *PUSHORT;
typedef ULONGLONG *PULONGLONG;
typedef ULONG_PTR *PULONG_PTR;
typedef HANDLE HMODULE;
typedef HANDLE HWND;		/* declared by network code; no GUI here */
typedef HANDLE HINSTANCE;
typedef HANDLE HGLOBAL;
typedef HANDLE HLOCAL;

/* Text: this layer builds sources as ANSI (no UNICODE), as MinGW does
 * by default; UNICODE selects the W calls and WCHAR text. */
#ifdef UNICODE
typedef WCHAR TCHAR;
#define __TEXT(s) L##s
#else
typedef CHAR TCHAR;
#define __TEXT(s) s
#endif
#define TEXT(s) __TEXT(s)
typedef TCHAR *LPTSTR;
typedef const TCHAR *LPCTSTR;
typedef TCHAR *PTSTR;
typedef const TCHAR *PCTSTR;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/* The C runtime's Microsoft names, which Windows sources use freely. */
#define _stricmp		strcasecmp
#define _strnicmp		strncasecmp
#define stricmp			strcasecmp
#define strnicmp		strncasecmp
#define _strdup			strdup
#define _snprintf		snprintf
#define _vsnprintf		vsnprintf

#define MAX_PATH		260
#define INVALID_HANDLE_VALUE	((HANDLE)(LONG_PTR)-1)
#define ARRAYSIZE(a)		(sizeof(a) / sizeof((a)[0]))
#ifndef _countof
#define _countof(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/* Memory */
#define RtlZeroMemory(d, n)	((void)memset((d), 0, (n)))
#define RtlCopyMemory(d, s, n)	((void)memcpy((d), (s), (n)))
#define RtlMoveMemory(d, s, n)	((void)memmove((d), (s), (n)))
#define RtlFillMemory(d, n, c)	((void)memset((d), (c), (n)))
#define RtlEqualMemory(a, b, n)	(!memcmp((a), (b), (n)))
#define ZeroMemory		RtlZeroMemory
#define CopyMemory		RtlCopyMemory
#define MoveMemory		RtlMoveMemory
#define FillMemory		RtlFillMemory
#define EqualMemory		RtlEqualMemory
/* a write the compiler may not remove, for secrets */
#define SecureZeroMemory(d, n)	(explicit_bzero((d), (n)), (PVOID)(d))
#define RtlSecureZeroMemory	SecureZeroMemory

#if !defined(__cplusplus) && !defined(NOMINMAX)
#ifndef min
#define min(a, b)		(((a) < (b)) ? (a) : (b))
#endif
#ifndef max
#define max(a, b)		(((a) > (b)) ? (a) : (b))
#endif
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

#ifdef __cplusplus
}
#endif

#include "winbase.h"

#endif /* LWFP_WINSOCK_WINDOWS_H */
