/* SPDX-License-Identifier: MIT */
/* MSTcpIP.h as Windows sources spell it (docs/winsock.md). */
#include "../mstcpip.h"
