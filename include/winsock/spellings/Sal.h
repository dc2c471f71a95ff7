/* SPDX-License-Identifier: MIT */
/* Sal.h as Windows sources spell it (docs/winsock.md). */
#include "../sal.h"
