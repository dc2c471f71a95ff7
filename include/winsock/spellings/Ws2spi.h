/* SPDX-License-Identifier: MIT */
/* Ws2spi.h as Windows sources spell it (docs/winsock.md). */
#include "../ws2spi.h"
