/* SPDX-License-Identifier: MIT */
/* Process.h as Windows sources spell it (docs/winsock.md). */
#include "../process.h"
