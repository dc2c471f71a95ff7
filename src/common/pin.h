/* SPDX-License-Identifier: MIT */
/* Opening an engine's pinned objects (names in pins.h). */
#ifndef LWFP_PIN_H
#define LWFP_PIN_H

#include <linux/types.h>

/* The pin directory to use when none is given: $LWFP_PIN_DIR or default. */
const char *pin_dir_default(void);

/* Open a pinned object of the engine at pin_dir: an fd or -errno. */
int pin_open(const char *pin_dir, const char *name);
/* The same with BPF_F_RDONLY / BPF_F_WRONLY. */
int pin_open_flags(const char *pin_dir, const char *name, __u32 flags);

#endif /* LWFP_PIN_H */
