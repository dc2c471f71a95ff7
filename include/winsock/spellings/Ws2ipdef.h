/* SPDX-License-Identifier: MIT */
/* Ws2ipdef.h as Windows sources spell it (docs/winsock.md). */
#include "../ws2ipdef.h"
