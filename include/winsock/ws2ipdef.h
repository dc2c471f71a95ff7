/* SPDX-License-Identifier: MIT */
/* lwfp-winsock: IPv6 address types and the WFP IPPROTO_IP options. */
#ifndef LWFP_WINSOCK_WS2IPDEF_H
#define LWFP_WINSOCK_WS2IPDEF_H

#include <netinet/in.h>

#include "ws2def.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sockaddr_in6 SOCKADDR_IN6;
typedef struct sockaddr_in6 *PSOCKADDR_IN6;
typedef struct sockaddr_in6 *LPSOCKADDR_IN6;
typedef struct in6_addr IN6_ADDR;
typedef struct in6_addr *PIN6_ADDR;
typedef struct in6_addr *LPIN6_ADDR;

/* An IPv4 or IPv6 address with its port, in 28 bytes. */
typedef union _SOCKADDR_INET {
	struct sockaddr_in Ipv4;
	struct sockaddr_in6 Ipv6;
	ADDRESS_FAMILY si_family;
} SOCKADDR_INET, *PSOCKADDR_INET;

/*
 * Options and control-message types of WFP redirect services (Windows
 * values), at level IPPROTO_IP or IPPROTO_IPV6. setsockopt() of a source
 * that includes winsock2.h handles them (docs/winsock.md):
 *   _CONTEXT, a DWORD, on a UDP socket: WSARecvMsg() delivers the records
 *     and the context of each redirected flow with its first datagram;
 *   _RECORDS, the records, on a socket not yet connected: its connect or
 *     its sends continue that flow (as SIO_SET_WFP_..._RECORDS does).
 * WSASendMsg() takes a _RECORDS control message to the same effect.
 */
#define IP_WFP_REDIRECT_RECORDS		60
#define IP_WFP_REDIRECT_CONTEXT		70
#define IPV6_WFP_REDIRECT_RECORDS	60
#define IPV6_WFP_REDIRECT_CONTEXT	70

#ifdef __cplusplus
}
#endif

#endif /* LWFP_WINSOCK_WS2IPDEF_H */
