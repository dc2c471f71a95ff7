/* SPDX-License-Identifier: MIT */
/* TChar.h as Windows sources spell it (docs/winsock.md). */
#include "../tchar.h"
