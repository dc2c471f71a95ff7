/* SPDX-License-Identifier: MIT */
/* WinSock2.h as Windows sources spell it (docs/winsock.md). */
#include "../winsock2.h"
