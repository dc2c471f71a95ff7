/* SPDX-License-Identifier: MIT */
/* StrSafe.h as Windows sources spell it (docs/winsock.md). */
#include "../strsafe.h"
