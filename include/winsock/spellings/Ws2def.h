/* SPDX-License-Identifier: MIT */
/* Ws2def.h as Windows sources spell it (docs/winsock.md). */
#include "../ws2def.h"
