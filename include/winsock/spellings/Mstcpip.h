/* SPDX-License-Identifier: MIT */
/* Mstcpip.h as Windows sources spell it (docs/winsock.md). */
#include "../mstcpip.h"
