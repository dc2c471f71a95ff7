/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the library and the CLI. */
#ifndef LWFP_UTIL_H
#define LWFP_UTIL_H

#include <stddef.h>

#define LWFP_EXPORT __attribute__((visibility("default")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* LWFP_UTIL_H */
