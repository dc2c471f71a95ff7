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

#ifdef __cplusplus
}
#endif

#endif /* LWFP_WINSOCK_WS2DEF_H */
