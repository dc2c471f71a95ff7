/* SPDX-License-Identifier: MIT */
/* WinError.h as Windows sources spell it (docs/winsock.md). */
#include "../winerror.h"
