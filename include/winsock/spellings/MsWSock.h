/* SPDX-License-Identifier: MIT */
/* MsWSock.h as Windows sources spell it (docs/winsock.md). */
#include "../mswsock.h"
