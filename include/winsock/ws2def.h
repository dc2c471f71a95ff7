/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: Winsock address types over the POSIX ones, and the
 * WSAIoctl control-code encoding (IOC_*, _WSAIO*).
 */
#ifndef LWFP_WINSOCK_WS2DEF_H
#define LWFP_WINSOCK_WS2DEF_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "windows.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef sa_family_t ADDRESS_FAMILY;

typedef struct sockaddr SOCKADDR;
typedef struct sockaddr *PSOCKADDR;
typedef struct sockaddr *LPSOCKADDR;
typedef struct sockaddr_storage SOCKADDR_STORAGE;
typedef struct sockaddr_storage *PSOCKADDR_STORAGE;
typedef struct sockaddr_storage *LPSOCKADDR_STORAGE;
typedef struct sockaddr_in SOCKADDR_IN;
typedef struct sockaddr_in *PSOCKADDR_IN;
typedef struct sockaddr_in *LPSOCKADDR_IN;
typedef struct in_addr IN_ADDR;
typedef struct in_addr *PIN_ADDR;
typedef struct in_addr *LPIN_ADDR;

/*
 * Control codes: bit 31 in, 30 out, 29 no parameters; bits 27-28 the
 * vendor/family; the low 16 bits the operation. Linux's uapi headers use
 * the names IOC_IN/IOC_OUT for its own ioctl encoding: a Winsock source
 * means these.
 */
#undef IOC_IN
#undef IOC_OUT
#undef IOC_INOUT
#undef IOC_VOID
#define IOC_UNIX	0x00000000u
#define IOC_WS2		0x08000000u
#define IOC_PROTOCOL	0x10000000u
#define IOC_VENDOR	0x18000000u
#define IOC_VOID	0x20000000u
#define IOC_OUT		0x40000000u
#define IOC_IN		0x80000000u
#define IOC_INOUT	(IOC_IN | IOC_OUT)

#define _WSAIO(x, y)	(IOC_VOID | (x) | (y))
#define _WSAIOR(x, y)	(IOC_OUT | (x) | (y))
#define _WSAIOW(x, y)	(IOC_IN | (x) | (y))
#define _WSAIORW(x, y)	(IOC_INOUT | (x) | (y))

/* A buffer of WSASendMsg/WSARecvMsg. */
typedef struct _WSABUF {
	ULONG len;
	CHAR *buf;
} WSABUF, *LPWSABUF;

/*
 * The msghdr of WSASendMsg/WSARecvMsg. The MSG_* flags of dwFlags are
 * the <sys/socket.h> ones a source gets from these headers (MSG_PEEK,
 * MSG_TRUNC, MSG_CTRUNC...), with Linux's values.
 */
typedef struct _WSAMSG {
	LPSOCKADDR name;
	INT namelen;
	LPWSABUF lpBuffers;
	ULONG dwBufferCount;
	WSABUF Control;
	ULONG dwFlags;
} WSAMSG, *PWSAMSG, *LPWSAMSG;

/*
 * A control message header, followed by its data. It has the layout of
 * Linux's struct cmsghdr, and the macros align as CMSG_* do: to the size
 * of a pointer (Windows' MAX_NATURAL_ALIGNMENT on both 32 and 64 bits).
 */
typedef struct _WSACMSGHDR {
	SIZE_T cmsg_len;
	INT cmsg_level;
	INT cmsg_type;
	/* followed by UCHAR cmsg_data[] */
} WSACMSGHDR, *PWSACMSGHDR, *LPWSACMSGHDR;

#define WSA_CMSG_ALIGNMENT_	(sizeof(ULONG_PTR))
#define WSA_CMSGHDR_ALIGN(length)					\
	(((length) + WSA_CMSG_ALIGNMENT_ - 1) & ~(WSA_CMSG_ALIGNMENT_ - 1))
#define WSA_CMSGDATA_ALIGN(length)	WSA_CMSGHDR_ALIGN(length)

#define WSA_CMSG_FIRSTHDR(msg)						\
	((msg)->Control.len >= sizeof(WSACMSGHDR) ?			\
	 (LPWSACMSGHDR)(void *)(msg)->Control.buf : (LPWSACMSGHDR)NULL)
#define WSA_CMSG_NXTHDR(msg, cmsg)					\
	(!(cmsg) ? WSA_CMSG_FIRSTHDR(msg) :				\
	 ((PUCHAR)(cmsg) + WSA_CMSGHDR_ALIGN((cmsg)->cmsg_len) +	\
	  sizeof(WSACMSGHDR) >						\
	  (PUCHAR)(msg)->Control.buf + (msg)->Control.len) ?		\
	 (LPWSACMSGHDR)NULL :						\
	 (LPWSACMSGHDR)(void *)((PUCHAR)(cmsg) +			\
				WSA_CMSGHDR_ALIGN((cmsg)->cmsg_len)))
#define WSA_CMSG_DATA(cmsg)						\
	((PUCHAR)(cmsg) + WSA_CMSGDATA_ALIGN(sizeof(WSACMSGHDR)))
#define WSA_CMSG_SPACE(length)						\
	(WSA_CMSGDATA_ALIGN(sizeof(WSACMSGHDR) + WSA_CMSGHDR_ALIGN(length)))
#define WSA_CMSG_LEN(length)						\
	(WSA_CMSGDATA_ALIGN(sizeof(WSACMSGHDR)) + (length))

#ifdef __cplusplus
}
#endif

#endif /* LWFP_WINSOCK_WS2DEF_H */
