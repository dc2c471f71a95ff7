// SPDX-License-Identifier: MIT
/*
 * Unit tests of the engine's id function (src/abi/siphash.h): SipHash-2-4
 * of 16 bytes, against the published test vector and values of an
 * independent implementation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/types.h>

#include "siphash.h"

static const __u64 key_seq[2] = { 0x0706050403020100ull,
				  0x0f0e0d0c0b0a0908ull };

/* The reference vector for a 16-byte message: key 00..0f, message 00..0f
 * (SipHash paper, vectors.h, length 16). */
static void test_reference_vector(void **state)
{
	assert_int_equal(lwfp_siphash16(key_seq, 0x0706050403020100ull,
					0x0f0e0d0c0b0a0908ull),
			 0x3f2acc7f57c29bdbull);
}

static void test_other_values(void **state)
{
	static const __u64 key_ones[2] = { ~0ull, ~0ull };

	assert_int_equal(lwfp_siphash16(key_seq, 0, 0), 0x98a0d3c0ef557701ull);
	assert_int_equal(lwfp_siphash16(key_ones, 0x0123456789abcdefull,
					0xfedcba9876543210ull),
			 0x16215a8edbb5821full);
}

/* Another key, another id: what one engine's ids say of another's. */
static void test_key_matters(void **state)
{
	static const __u64 other[2] = { 0x0706050403020100ull,
					0x0f0e0d0c0b0a0909ull };

	assert_int_not_equal(lwfp_siphash16(key_seq, 1, 2),
			     lwfp_siphash16(other, 1, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vector),
		cmocka_unit_test(test_other_values),
		cmocka_unit_test(test_key_matters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
