/* SPDX-License-Identifier: MIT */
/* WS2ipdef.h as Windows sources spell it (docs/winsock.md). */
#include "../ws2ipdef.h"
