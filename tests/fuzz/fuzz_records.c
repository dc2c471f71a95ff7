// SPDX-License-Identifier: MIT
/* libFuzzer: the records parser a service's bytes go through. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lwfp_records rec;

	if (records_parse(data, size, &rec))
		return 0;
	/* what passes is exactly the bytes, well formed */
	if (size != sizeof(rec) || memcmp(&rec, data, sizeof(rec)) ||
	    rec.magic != LWFP_RECORDS_MAGIC || rec.chain_len > LWFP_MAX_CHAIN)
		abort();
	for (unsigned int i = 0; i < rec.chain_len; i++)
		if (rec.chain[i] >= LWFP_MAX_SERVICES)
			abort();
	return 0;
}
