/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: where Windows sources find inet_pton(), inet_ntop() and
 * getaddrinfo() (and InetPton, InetNtop); here they are the POSIX
 * functions.
 */
#ifndef LWFP_WINSOCK_WS2TCPIP_H
#define LWFP_WINSOCK_WS2TCPIP_H

#include <arpa/inet.h>
#include <netdb.h>

#include "winsock2.h"
#include "ws2ipdef.h"

/* Windows' names for getaddrinfo's types: the POSIX ones. */
typedef struct addrinfo ADDRINFOA, *PADDRINFOA;
#ifndef UNICODE
typedef struct addrinfo ADDRINFO, *LPADDRINFO;
#endif

/* Windows' names for the text conversions: the POSIX functions. */
#define InetPtonA	inet_pton
#define InetNtopA	inet_ntop
#ifndef UNICODE
#define InetPton	inet_pton
#define InetNtop	inet_ntop
#endif

#endif /* LWFP_WINSOCK_WS2TCPIP_H */
