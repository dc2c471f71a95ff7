// SPDX-License-Identifier: MIT
/* Unit tests of the configuration file's words (src/cli/conf_parse.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf_parse.h"

static char err[256];
static struct conf_file f;

static int parse(const char *text)
{
	return conf_parse(text, strlen(text), &f, err, sizeof(err));
}

static void word_is(int s, int w, const char *text, size_t len, int line,
		    int col)
{
	assert_true(s < f.nstmts);
	assert_true(w < f.stmt[s].nwords);
	assert_int_equal(f.stmt[s].word[w].len, len);
	assert_memory_equal(f.stmt[s].word[w].text, text, len);
	assert_int_equal(f.stmt[s].word[w].text[len], '\0');
	assert_int_equal(f.stmt[s].word[w].line, line);
	assert_int_equal(f.stmt[s].word[w].col, col);
	assert_ptr_equal(f.stmt[s].argv[w], f.stmt[s].word[w].text);
}

static void statements_and_comments(void **state)
{
	assert_int_equal(parse("# the engine\n\nload --cgroup /x\n"
			       "  service add web --listen 127.0.0.1:9000 # c\n"
			       "rule add --service web\t--dport 80"), 0);
	assert_string_equal(err, "");
	assert_int_equal(f.nstmts, 3);
	assert_int_equal(f.stmt[0].nwords, 3);
	word_is(0, 0, "load", 4, 3, 1);
	word_is(0, 2, "/x", 2, 3, 15);
	assert_int_equal(f.stmt[1].nwords, 5);
	word_is(1, 2, "web", 3, 4, 15);
	assert_null(f.stmt[1].argv[5]);
	word_is(2, 5, "80", 2, 5, 32);
	conf_free(&f);
	assert_int_equal(parse(""), 0);
	assert_int_equal(f.nstmts, 0);
	assert_int_equal(parse("  # only\n\n\t\n"), 0);
	assert_int_equal(f.nstmts, 0);
}

static void joined_lines(void **state)
{
	assert_int_equal(parse("rule add \\\n  --service web \\\r\n --dport 1\n"), 0);
	assert_int_equal(f.nstmts, 1);
	assert_int_equal(f.stmt[0].nwords, 6);
	word_is(0, 3, "web", 3, 2, 13);
	word_is(0, 5, "1", 1, 3, 10);
	conf_free(&f);
	/* a word ends at the backslash */
	assert_int_equal(parse("a\\\nb"), 0);
	assert_int_equal(f.stmt[0].nwords, 2);
	conf_free(&f);
}

static void quoting(void **state)
{
	assert_int_equal(parse("x 'a b' \"c\\\"d\\\\\" --context=\"p q\"'\\n'"
			       " \"\\0\\x00\\xfF\\n\\t\\r\" '#' a#b \"\""), 0);
	word_is(0, 1, "a b", 3, 1, 3);
	word_is(0, 2, "c\"d\\", 4, 1, 9);
	word_is(0, 3, "--context=p q\\n", 15, 1, 18);
	word_is(0, 4, "\0\0\xff\n\t\r", 6, 1, 38);
	word_is(0, 5, "#", 1, 1, 57);
	word_is(0, 6, "a#b", 3, 1, 61);
	word_is(0, 7, "", 0, 1, 65);
	conf_free(&f);
	/* bytes past ASCII pass through */
	assert_int_equal(parse("\xc3\xa9 '\xff\xfe'"), 0);
	word_is(0, 0, "\xc3\xa9", 2, 1, 1);
	word_is(0, 1, "\xff\xfe", 2, 1, 4);
	conf_free(&f);
}

static void fails(const char *text, int ret, const char *msg)
{
	assert_int_equal(conf_parse(text, strlen(text), &f, err, sizeof(err)),
			 ret);
	assert_string_equal(err, msg);
	assert_int_equal(f.nstmts, 0);
	assert_null(f.stmt);
}

static void errors_name_line_and_column(void **state)
{
	fails("a\nb 'open\n", -EINVAL, "2:3: unterminated quote");
	fails("a \"x\\q\"", -EINVAL,
	      "1:5: unknown escape: \\\\ \\\" \\n \\t \\r \\0 or \\xHH");
	fails("a \"\\x4\"", -EINVAL,
	      "1:4: unknown escape: \\\\ \\\" \\n \\t \\r \\0 or \\xHH");
	fails("a \"x\\", -EINVAL, "1:5: unterminated quote");
	fails("ok\n  a \\ b", -EINVAL,
	      "2:5: a backslash outside quotes only joins the next line");
	fails("a b\\", -EINVAL,
	      "1:4: a backslash outside quotes only joins the next line");
	assert_int_equal(conf_parse("ab\0c", 4, &f, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "1:3: a NUL byte (write it \"\\0\")");
}

static void limits(void **state)
{
	static char big[CONF_WORD_MAX + 10];

	memset(big, 'a', CONF_WORD_MAX + 1);
	big[CONF_WORD_MAX + 1] = '\0';
	assert_int_equal(parse(big), -E2BIG);
	assert_int_equal(f.nstmts, 0);
	big[CONF_WORD_MAX] = '\0';
	assert_int_equal(parse(big), 0);
	assert_int_equal(f.stmt[0].word[0].len, CONF_WORD_MAX);
	conf_free(&f);
	for (int i = 0; i < CONF_WORDS_MAX + 1; i++)
		memcpy(big + 2 * i, "a ", 2);
	big[2 * (CONF_WORDS_MAX + 1)] = '\0';
	assert_int_equal(parse(big), -E2BIG);
	assert_string_equal(err, "1:129: more than 64 words in a statement");
	big[2 * CONF_WORDS_MAX] = '\0';
	assert_int_equal(parse(big), 0);
	conf_free(&f);
}

static void word_at(void **state)
{
	assert_int_equal(parse("rule add --context=abc --dport 80"), 0);
	assert_ptr_equal(conf_word_at(&f.stmt[0], f.stmt[0].argv[2] + 10),
			 &f.stmt[0].word[2]);
	assert_ptr_equal(conf_word_at(&f.stmt[0], f.stmt[0].argv[4]),
			 &f.stmt[0].word[4]);
	assert_null(conf_word_at(&f.stmt[0], "elsewhere"));
	assert_null(conf_word_at(&f.stmt[0], NULL));
	conf_free(&f);
}

/* What conf_quote writes, conf_parse reads back as the same bytes. */
static void quote_round_trip(const void *b, size_t len, const char *want)
{
	char out[256];
	size_t n = conf_quote(b, len, out, sizeof(out));

	assert_int_equal(n, strlen(out));
	if (want)
		assert_string_equal(out, want);
	assert_int_equal(parse(out), 0);
	assert_int_equal(f.nstmts, 1);
	assert_int_equal(f.stmt[0].nwords, 1);
	assert_int_equal(f.stmt[0].word[0].len, len);
	assert_memory_equal(f.stmt[0].word[0].text, b, len);
	conf_free(&f);
}

static void quote(void **state)
{
	unsigned char all[256];
	char small[4];

	quote_round_trip("web", 3, "web");
	quote_round_trip("127.0.0.1:80", 12, "127.0.0.1:80");
	quote_round_trip("", 0, "\"\"");
	quote_round_trip("a b", 3, "\"a b\"");
	quote_round_trip("#x", 2, "\"#x\"");
	quote_round_trip("\0\"\\'\n\xff", 6, "\"\\x00\\\"\\\\'\\n\\xff\"");
	for (int i = 0; i < 64; i++)
		all[i] = (unsigned char)(i * 4 + 1);
	quote_round_trip(all, 64, NULL);
	/* too small: the length it needs, cut and terminated */
	assert_int_equal(conf_quote("a b", 3, small, sizeof(small)), 5);
	assert_string_equal(small, "\"a ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(statements_and_comments),
		cmocka_unit_test(joined_lines),
		cmocka_unit_test(quoting),
		cmocka_unit_test(errors_name_line_and_column),
		cmocka_unit_test(limits),
		cmocka_unit_test(word_at),
		cmocka_unit_test(quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
