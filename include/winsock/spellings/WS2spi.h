/* SPDX-License-Identifier: MIT */
/* WS2spi.h as Windows sources spell it (docs/winsock.md). */
#include "../ws2spi.h"
