/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: the safe string functions (strsafe.h) a service uses to
 * format into fixed buffers. Each returns S_OK, or
 * STRSAFE_E_INSUFFICIENT_BUFFER with the text truncated and terminated,
 * or STRSAFE_E_INVALID_PARAMETER for no room at all. ANSI ("A") forms;
 * the unsuffixed names are those.
 */
#ifndef LWFP_WINSOCK_STRSAFE_H
#define LWFP_WINSOCK_STRSAFE_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "windows.h"

#define STRSAFE_MAX_CCH			2147483647
#define STRSAFE_E_INSUFFICIENT_BUFFER	_HRESULT_TYPEDEF_(0x8007007A)
#define STRSAFE_E_INVALID_PARAMETER	_HRESULT_TYPEDEF_(0x80070057)
#define STRSAFE_E_END_OF_FILE		_HRESULT_TYPEDEF_(0x80070026)

static inline HRESULT StringCchVPrintfA(char *dst, size_t cch,
					const char *fmt, va_list ap)
{
	int n;

	if (!dst || !cch || cch > STRSAFE_MAX_CCH)
		return STRSAFE_E_INVALID_PARAMETER;
	n = vsnprintf(dst, cch, fmt, ap);
	if (n < 0) {
		dst[0] = '\0';
		return STRSAFE_E_INVALID_PARAMETER;
	}
	return (size_t)n < cch ? S_OK : STRSAFE_E_INSUFFICIENT_BUFFER;
}

static inline HRESULT StringCchPrintfA(char *dst, size_t cch,
				       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline HRESULT StringCchPrintfA(char *dst, size_t cch,
				       const char *fmt, ...)
{
	va_list ap;
	HRESULT hr;

	va_start(ap, fmt);
	hr = StringCchVPrintfA(dst, cch, fmt, ap);
	va_end(ap);
	return hr;
}

static inline HRESULT StringCchCopyA(char *dst, size_t cch, const char *src)
{
	return StringCchPrintfA(dst, cch, "%s", src);
}

static inline HRESULT StringCchCatA(char *dst, size_t cch, const char *src)
{
	size_t len;

	if (!dst || !cch || cch > STRSAFE_MAX_CCH)
		return STRSAFE_E_INVALID_PARAMETER;
	len = strnlen(dst, cch);
	if (len == cch)
		return STRSAFE_E_INVALID_PARAMETER;
	return StringCchCopyA(dst + len, cch - len, src);
}

static inline HRESULT StringCchLengthA(const char *s, size_t max,
				       size_t *len)
{
	size_t n = s && max <= STRSAFE_MAX_CCH ? strnlen(s, max) : max;

	if (!s || max > STRSAFE_MAX_CCH || n == max) {
		if (len)
			*len = 0;
		return STRSAFE_E_INVALID_PARAMETER;
	}
	if (len)
		*len = n;
	return S_OK;
}

/* The byte-count forms: for char, bytes are characters. */
#define StringCbPrintfA		StringCchPrintfA
#define StringCbVPrintfA	StringCchVPrintfA
#define StringCbCopyA		StringCchCopyA
#define StringCbCatA		StringCchCatA
#define StringCbLengthA		StringCchLengthA

#define StringCchPrintf		StringCchPrintfA
#define StringCchVPrintf	StringCchVPrintfA
#define StringCchCopy		StringCchCopyA
#define StringCchCat		StringCchCatA
#define StringCchLength		StringCchLengthA
#define StringCbPrintf		StringCbPrintfA
#define StringCbVPrintf		StringCbVPrintfA
#define StringCbCopy		StringCbCopyA
#define StringCbCat		StringCbCatA
#define StringCbLength		StringCbLengthA

#endif /* LWFP_WINSOCK_STRSAFE_H */
