/* SPDX-License-Identifier: MIT */
/* lwfp_strerror() in the caller's language once it has called setlocale(),
 * English before; columns measured in display cells (src/cli/cli.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwfp.h"
#include "cli.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

/* every errno lwfp_strerror() has its own line for */
static const int errs[] = {
	ENOENT, EACCES, ENODATA, ERANGE, ENOTCONN, ENOTSOCK, EBADF, EISCONN,
	EINVAL, EPROTONOSUPPORT, EBADMSG, EPROTO, ENAMETOOLONG, ENOMEM, ESRCH,
	ENOMSG,
};
#define NERRS (sizeof(errs) / sizeof(errs[0]))
static char english[NERRS][128];

static void test_english_without_setlocale(void **state)
{
	assert_string_equal(lwfp_strerror(ENOENT),
			    "no lwfp engine is loaded at the pin directory");
	assert_string_equal(lwfp_strerror(-ESRCH), "no service with that name");
	for (size_t i = 0; i < NERRS; i++)
		snprintf(english[i], sizeof(english[i]), "%s",
			 lwfp_strerror(errs[i]));
}

static void each_translated(const char *locale, const char *sample)
{
	if (!setlocale(LC_ALL, locale))
		fail_msg("locale %s is not generated (scripts/deps.sh)", locale);
	for (size_t i = 0; i < NERRS; i++)
		if (!strcmp(lwfp_strerror(errs[i]), english[i]))
			fail_msg("%s: still English: %s", locale, english[i]);
	assert_string_equal(lwfp_strerror(ESRCH), sample);
	setlocale(LC_ALL, "C");
	assert_string_equal(lwfp_strerror(ESRCH), "no service with that name");
}

static void test_italian(void **state)
{
	each_translated("it_IT.UTF-8", "nessun servizio con quel nome");
}

static void test_russian(void **state)
{
	each_translated("ru_RU.UTF-8", "нет службы с таким именем");
}

static void test_display_width(void **state)
{
	if (!setlocale(LC_ALL, "ru_RU.UTF-8"))
		fail_msg("locale ru_RU.UTF-8 is not generated (scripts/deps.sh)");
	assert_int_equal(display_width("ENGINE"), 6);
	assert_int_equal(display_width("движок"), 6);	/* 12 bytes */
	assert_int_equal(display_width("ИСХОДНОЕ НАЗН."), 14);
	assert_int_equal(display_width(""), 0);
	setlocale(LC_ALL, "C");
	/* not valid in the locale: bytes */
	assert_int_equal(display_width("движок"), 12);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_english_without_setlocale),
		cmocka_unit_test(test_italian),
		cmocka_unit_test(test_russian),
		cmocka_unit_test(test_display_width),
	};
	char dir[PATH_MAX], self[PATH_MAX];

	/* the catalogues built beside the tests: BUILD/locale */
	if (!getenv("LWFP_LOCALEDIR") && realpath(argv[0], self)) {
		snprintf(dir, sizeof(dir), "%s/../locale", dirname(self));
		setenv("LWFP_LOCALEDIR", dir, 1);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
