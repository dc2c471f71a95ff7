/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: wspiapi.h made getaddrinfo() available on old Windows;
 * here it is the POSIX one, from ws2tcpip.h.
 */
#ifndef LWFP_WINSOCK_WSPIAPI_H
#define LWFP_WINSOCK_WSPIAPI_H

#include "ws2tcpip.h"

#endif /* LWFP_WINSOCK_WSPIAPI_H */
