/* SPDX-License-Identifier: MIT */
/* Wspiapi.h as Windows sources spell it (docs/winsock.md). */
#include "../wspiapi.h"
