/* SPDX-License-Identifier: MIT */
/* Unit tests for the examples' log lines (examples/lib/logline.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "logline.h"

/* cmocka hands every test a state pointer; these do not use it. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

static void test_escape_plain(void **state)
{
	char out[64];

	assert_string_equal(log_escape("curl/8.1", (size_t)-1, out,
				       sizeof(out)), "curl/8.1");
}

static void test_escape_hostile(void **state)
{
	char out[64];

	/* a newline would split the line, ESC reach the terminal, a quote
	 * end the quoted field, a backslash fake an escape */
	assert_string_equal(log_escape("a\nb\033[2J\"\\", (size_t)-1, out,
				       sizeof(out)),
			    "a\\x0ab\\x1b[2J\\x22\\x5c");
}

static void test_escape_bytes(void **state)
{
	static const unsigned char in[] = { 'x', 0, 0xff, 'y' };
	char out[64];

	/* a length: NULs and high bytes are bytes like any other */
	assert_string_equal(log_escape(in, sizeof(in), out, sizeof(out)),
			    "x\\x00\\xffy");
}

static void test_escape_truncates_whole(void **state)
{
	char out[6];

	/* "ab" fits, "\x0a" (4) would need 7 with the NUL: never half */
	assert_string_equal(log_escape("ab\ncd", (size_t)-1, out,
				       sizeof(out)), "ab");
	assert_string_equal(log_escape("abcdefgh", (size_t)-1, out,
				       sizeof(out)), "abcde");
	assert_string_equal(log_escape("x", (size_t)-1, out, 1), "");
}

static void test_escape_room(void **state)
{
	char in[16], out[LOG_ESCAPED_LEN(sizeof(in))];

	memset(in, '\n', sizeof(in));
	log_escape(in, sizeof(in), out, sizeof(out));
	assert_int_equal(strlen(out), 4 * sizeof(in));
}

static void test_rate_burst_then_drop(void **state)
{
	struct log_rate r;
	char buf[256] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	/* no refill to speak of: the burst, then nothing */
	log_rate_init(&r, 0.001, 3);
	for (int i = 0; i < 3; i++)
		assert_true(log_rate_take(&r, f, "t"));
	for (int i = 0; i < 5; i++)
		assert_false(log_rate_take(&r, f, "t"));
	assert_int_equal(r.dropped, 5);
	/* the next line allowed first says what was dropped */
	r.tokens = 1;
	assert_true(log_rate_take(&r, f, "t"));
	fflush(f);
	assert_non_null(strstr(buf, "t: 5 log lines dropped"));
	assert_int_equal(r.dropped, 0);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_plain),
		cmocka_unit_test(test_escape_hostile),
		cmocka_unit_test(test_escape_bytes),
		cmocka_unit_test(test_escape_truncates_whole),
		cmocka_unit_test(test_escape_room),
		cmocka_unit_test(test_rate_burst_then_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
