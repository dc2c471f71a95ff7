/* SPDX-License-Identifier: MIT */
/* Windows.h as Windows sources spell it (docs/winsock.md). */
#include "../windows.h"
