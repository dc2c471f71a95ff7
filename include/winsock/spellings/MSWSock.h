/* SPDX-License-Identifier: MIT */
/* MSWSock.h as Windows sources spell it (docs/winsock.md). */
#include "../mswsock.h"
