/* SPDX-License-Identifier: MIT */
/* MsTcpIp.h as Windows sources spell it (docs/winsock.md). */
#include "../mstcpip.h"
