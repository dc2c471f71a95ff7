/* SPDX-License-Identifier: MIT */
/* Winbase.h as Windows sources spell it (docs/winsock.md). */
#include "../winbase.h"
