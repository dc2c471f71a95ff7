/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: the Win32 error codes and HRESULTs a network service
 * meets, with their Windows values: those Winsock's WSA_* codes are made
 * of, those GetLastError() and the completion calls return, the common
 * E_* results and the WFP ones a redirect helper returns.
 */
#ifndef LWFP_WINSOCK_WINERROR_H
#define LWFP_WINSOCK_WINERROR_H

#include <stdint.h>

#ifndef LWFP_WINSOCK_HRESULT_DEFINED
#define LWFP_WINSOCK_HRESULT_DEFINED
typedef int32_t HRESULT;
#endif

#define NO_ERROR			0
#define ERROR_SUCCESS			0
#define ERROR_INVALID_FUNCTION		1
#define ERROR_FILE_NOT_FOUND		2
#define ERROR_ACCESS_DENIED		5
#define ERROR_INVALID_HANDLE		6
#define ERROR_NOT_ENOUGH_MEMORY		8
#define ERROR_OUTOFMEMORY		14
#define ERROR_GEN_FAILURE		31
#define ERROR_HANDLE_EOF		38
#define ERROR_NOT_SUPPORTED		50
#define ERROR_NETNAME_DELETED		64
#define ERROR_INVALID_PARAMETER		87
#define ERROR_BROKEN_PIPE		109
#define ERROR_SEM_TIMEOUT		121
#define ERROR_INSUFFICIENT_BUFFER	122
#define ERROR_ALREADY_EXISTS		183
#define ERROR_MORE_DATA			234
#define ERROR_NO_MORE_ITEMS		259
#define ERROR_OPERATION_ABORTED		995
#define ERROR_IO_INCOMPLETE		996
#define ERROR_IO_PENDING		997
#define ERROR_ABANDONED_WAIT_0		735
#define ERROR_NOT_FOUND			1168
#define ERROR_CONNECTION_REFUSED	1225
#define ERROR_CONNECTION_ABORTED	1236
#define ERROR_TIMEOUT			1460

/* HRESULTs: severity bit, facility, code */
#define FACILITY_WIN32			7
#define SEVERITY_SUCCESS		0
#define SEVERITY_ERROR			1
#define _HRESULT_TYPEDEF_(sc)		((HRESULT)(sc))
#define SUCCEEDED(hr)			(((HRESULT)(hr)) >= 0)
#define FAILED(hr)			(((HRESULT)(hr)) < 0)
#define IS_ERROR(hr)			((uint32_t)(hr) >> 31 == SEVERITY_ERROR)
#define HRESULT_CODE(hr)		((hr) & 0xFFFF)
#define HRESULT_FACILITY(hr)		(((hr) >> 16) & 0x1FFF)
#define HRESULT_SEVERITY(hr)		(((hr) >> 31) & 0x1)
#define MAKE_HRESULT(sev, fac, code)					\
	((HRESULT)(((uint32_t)(sev) << 31) | ((uint32_t)(fac) << 16) |	\
		   (uint32_t)(code)))
#define HRESULT_FROM_WIN32(x)						\
	((HRESULT)(x) <= 0 ? (HRESULT)(x) :				\
	 (HRESULT)(((uint32_t)(x) & 0x0000FFFF) | (FACILITY_WIN32 << 16) | \
		   0x80000000u))

#define S_OK				_HRESULT_TYPEDEF_(0x00000000)
#define S_FALSE				_HRESULT_TYPEDEF_(0x00000001)
#define E_NOTIMPL			_HRESULT_TYPEDEF_(0x80004001)
#define E_POINTER			_HRESULT_TYPEDEF_(0x80004003)
#define E_ABORT				_HRESULT_TYPEDEF_(0x80004004)
#define E_FAIL				_HRESULT_TYPEDEF_(0x80004005)
#define E_UNEXPECTED			_HRESULT_TYPEDEF_(0x8000FFFF)
#define E_ACCESSDENIED			_HRESULT_TYPEDEF_(0x80070005)
#define E_HANDLE			_HRESULT_TYPEDEF_(0x80070006)
#define E_OUTOFMEMORY			_HRESULT_TYPEDEF_(0x8007000E)
#define E_INVALIDARG			_HRESULT_TYPEDEF_(0x80070057)

/* The Windows Filtering Platform's (fwpmu.h users check these) */
#define FWP_E_CALLOUT_NOT_FOUND		_HRESULT_TYPEDEF_(0x80320001)
#define FWP_E_CONDITION_NOT_FOUND	_HRESULT_TYPEDEF_(0x80320002)
#define FWP_E_FILTER_NOT_FOUND		_HRESULT_TYPEDEF_(0x80320003)
#define FWP_E_LAYER_NOT_FOUND		_HRESULT_TYPEDEF_(0x80320004)
#define FWP_E_PROVIDER_NOT_FOUND	_HRESULT_TYPEDEF_(0x80320005)
#define FWP_E_PROVIDER_CONTEXT_NOT_FOUND _HRESULT_TYPEDEF_(0x80320006)
#define FWP_E_SUBLAYER_NOT_FOUND	_HRESULT_TYPEDEF_(0x80320007)
#define FWP_E_NOT_FOUND			_HRESULT_TYPEDEF_(0x80320008)
#define FWP_E_ALREADY_EXISTS		_HRESULT_TYPEDEF_(0x80320009)
#define FWP_E_IN_USE			_HRESULT_TYPEDEF_(0x8032000A)

#endif /* LWFP_WINSOCK_WINERROR_H */
