/* SPDX-License-Identifier: MIT */
/* Ws2TcpIp.h as Windows sources spell it (docs/winsock.md). */
#include "../ws2tcpip.h"
