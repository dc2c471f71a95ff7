// SPDX-License-Identifier: MIT
/* The redirect records blob, as services hand it back. */
#include <errno.h>
#include <string.h>

#include "records.h"

int records_parse(const void *buf, size_t len, struct lwfp_records *out)
{
	struct lwfp_records rec;

	if (!buf || len != sizeof(rec))
		return -EINVAL;
	memcpy(&rec, buf, sizeof(rec));
	if (rec.magic != LWFP_RECORDS_MAGIC ||
	    rec.version != LWFP_RECORDS_VERSION ||
	    rec.chain_len > LWFP_MAX_CHAIN)
		return -EINVAL;
	for (unsigned int i = 0; i < rec.chain_len; i++)
		if (rec.chain[i] >= LWFP_MAX_SERVICES)
			return -EINVAL;
	*out = rec;
	return 0;
}
