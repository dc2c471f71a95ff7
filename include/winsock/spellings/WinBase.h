/* SPDX-License-Identifier: MIT */
/* WinBase.h as Windows sources spell it (docs/winsock.md). */
#include "../winbase.h"
