/* SPDX-License-Identifier: MIT */
/* The redirect records blob, as services hand it back (internal). */
#ifndef LWFP_RECORDS_H
#define LWFP_RECORDS_H

#include <stddef.h>

#include "lwfp_abi.h"

/* Check the form of a records blob and copy it out: 0, or -EINVAL when
 * it is not records of this version. Whether they name a live flow of
 * this engine is for the engine to say at connect time. */
int records_parse(const void *buf, size_t len, struct lwfp_records *out);

#endif /* LWFP_RECORDS_H */
