/* SPDX-License-Identifier: MIT */
/* WS2def.h as Windows sources spell it (docs/winsock.md). */
#include "../ws2def.h"
