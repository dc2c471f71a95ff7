/* SPDX-License-Identifier: MIT */
/* Winsock2.h as Windows sources spell it (docs/winsock.md). */
#include "../winsock2.h"
