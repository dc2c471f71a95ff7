/* SPDX-License-Identifier: MIT */
/* Tchar.h as Windows sources spell it (docs/winsock.md). */
#include "../tchar.h"
