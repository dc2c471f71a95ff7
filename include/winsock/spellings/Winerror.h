/* SPDX-License-Identifier: MIT */
/* Winerror.h as Windows sources spell it (docs/winsock.md). */
#include "../winerror.h"
