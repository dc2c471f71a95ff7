/* SPDX-License-Identifier: MIT */
/* Ws2tcpip.h as Windows sources spell it (docs/winsock.md). */
#include "../ws2tcpip.h"
