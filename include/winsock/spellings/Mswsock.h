/* SPDX-License-Identifier: MIT */
/* Mswsock.h as Windows sources spell it (docs/winsock.md). */
#include "../mswsock.h"
