/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the DNS question parser (examples/lib/dns.c).
 * Checks the contract, not just the absence of crashes: documented return
 * values only; on success a printable name that fits, a question that ends
 * inside the datagram, and the same answer from the datagram cut right
 * after the question, while any shorter cut is truncated.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"

static void check_name(const char *name)
{
	size_t n = strnlen(name, DNS_NAME_TEXT_MAX), chars = 0;

	assert(n > 0 && n < DNS_NAME_TEXT_MAX);
	for (size_t i = 0; i < n; i++) {
		assert(name[i] > 0x20 && name[i] < 0x7f);
		assert(name[i] < 'A' || name[i] > 'Z');
		/* \DDD is one byte of the name */
		if (name[i] == '\\') {
			assert(i + 3 < n);
			for (int k = 1; k <= 3; k++)
				assert(name[i + k] >= '0' && name[i + k] <= '9');
			i += 3;
		}
		chars++;
	}
	assert(chars <= 253);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_question q, again;
	char buf[16];
	int ret;

	ret = dns_parse_question(data, size, &q);
	assert(ret == 0 || ret == -EBADMSG || ret == -ENOENT ||
	       ret == -ENAMETOOLONG);
	if (ret)
		return 0;
	check_name(q.qname);
	assert(q.qdcount > 0);
	assert(q.end >= DNS_HEADER_LEN + 1 + 4 && q.end <= size);

	/* what follows the question does not matter */
	assert(!dns_parse_question(data, q.end, &again));
	assert(again.id == q.id && again.flags == q.flags &&
	       again.qtype == q.qtype && again.qclass == q.qclass &&
	       again.end == q.end && !strcmp(again.qname, q.qname));
	/* one byte less is a truncated question */
	assert(dns_parse_question(data, q.end - 1, &again) == -EBADMSG);

	assert(dns_type_str(q.qtype, buf, sizeof(buf))[0]);
	assert(dns_rcode_str(DNS_RCODE(q.flags), buf, sizeof(buf))[0]);
	return 0;
}
