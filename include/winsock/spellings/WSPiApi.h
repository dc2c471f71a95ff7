/* SPDX-License-Identifier: MIT */
/* WSPiApi.h as Windows sources spell it (docs/winsock.md). */
#include "../wspiapi.h"
