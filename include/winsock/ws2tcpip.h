/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: where Windows sources find inet_pton(), inet_ntop() and
 * getaddrinfo(); here they are the POSIX functions.
 */
#ifndef LWFP_WINSOCK_WS2TCPIP_H
#define LWFP_WINSOCK_WS2TCPIP_H

#include <arpa/inet.h>
#include <netdb.h>

#include "winsock2.h"
#include "ws2ipdef.h"

#endif /* LWFP_WINSOCK_WS2TCPIP_H */
