/* SPDX-License-Identifier: MIT */
/* Strsafe.h as Windows sources spell it (docs/winsock.md). */
#include "../strsafe.h"
