/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: generic-text mappings. Sources build as ANSI (no
 * _UNICODE), so _TCHAR is char and the _t functions are the C ones.
 */
#ifndef LWFP_WINSOCK_TCHAR_H
#define LWFP_WINSOCK_TCHAR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "windows.h"

#ifdef _UNICODE
#error "lwfp-winsock builds sources as ANSI: _UNICODE is not supported"
#endif

typedef char _TCHAR;
typedef char _TSCHAR;
#define _T(s)		s
#define _TEXT(s)	s
#define _tmain		main
#define _tprintf	printf
#define _ftprintf	fprintf
#define _stprintf	sprintf
#define _sntprintf	snprintf
#define _tcslen		strlen
#define _tcscpy		strcpy
#define _tcsncpy	strncpy
#define _tcscmp		strcmp
#define _tcsicmp	strcasecmp
#define _tcsncmp	strncmp
#define _tcschr		strchr
#define _tcsrchr	strrchr
#define _tcsstr		strstr
#define _tcstol		strtol
#define _tcstoul	strtoul
#define _ttoi		atoi
#define _tstoi		atoi
#define _tgetenv	getenv

#endif /* LWFP_WINSOCK_TCHAR_H */
