/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the protocol sniffers (examples/lib/sniff.c).
 * Checks the contract, not just the absence of crashes: documented return
 * values only, a NUL-terminated printable string on success, and every
 * prefix of an input that matched answers 0 or -EAGAIN only when it may.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "sniff.h"

static void check_out(const char *out, size_t outlen)
{
	size_t n = strnlen(out, outlen);

	assert(n < outlen);
	for (size_t i = 0; i < n; i++)
		assert(out[i] >= 0x20 && out[i] <= 0x7e);
}

static void fuzz_http(const uint8_t *data, size_t size, size_t outlen)
{
	char out[64];
	int ret;

	ret = sniff_http_request_line(data, size, out, outlen);
	assert(ret == 0 || ret == -EAGAIN || ret == -EINVAL);
	if (ret == 0 && outlen)
		check_out(out, outlen);
	/* a prefix of an incomplete line is incomplete too */
	if (ret == -EAGAIN && size)
		assert(sniff_http_request_line(data, size - 1, NULL, 0) ==
		       -EAGAIN);
}

static void fuzz_tls(const uint8_t *data, size_t size, size_t outlen)
{
	char out[SNIFF_SNI_MAX];
	int ret;

	ret = sniff_tls_sni(data, size, out, outlen);
	assert(ret == 0 || ret == -EAGAIN || ret == -EINVAL ||
	       ret == -ENOENT || ret == -ENOSPC);
	if (ret == 0)
		check_out(out, outlen);
	/* with room for any host_name, there is never -ENOSPC */
	if (outlen == sizeof(out))
		assert(ret != -ENOSPC);
	if (ret == -EAGAIN && size)
		assert(sniff_tls_sni(data, size - 1, NULL, 0) == -EAGAIN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte, if any, picks a small output size too (libFuzzer
	 * hands us an exact-size heap copy, so overreads hit a redzone) */
	size_t outlen = size ? data[0] % 70 : 64;

	fuzz_http(data, size, outlen < 64 ? outlen : 64);
	fuzz_http(data, size, 64);
	fuzz_tls(data, size, outlen);
	fuzz_tls(data, size, SNIFF_SNI_MAX);
	return 0;
}
