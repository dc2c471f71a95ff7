// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the configuration file's words
 * (src/cli/conf_parse.c). The input is a file. Checked: a failure leaves
 * one line "LINE:COL: why" and nothing parsed; a success gives words
 * within the limits at positions inside the text, each argv the words;
 * and the words written back with conf_quote, one statement a line,
 * parse again to the same words.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_parse.h"

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static void check_failure(int ret, const struct conf_file *f, const char *err)
{
	int line, col, n = 0;

	CHECK(ret == -EINVAL || ret == -E2BIG || ret == -ENOMEM);
	CHECK(!f->nstmts && !f->stmt);
	CHECK(sscanf(err, "%d:%d: %n", &line, &col, &n) == 2 && n > 0);
	CHECK(line >= 1 && col >= 1 && err[n]);
	CHECK(!strchr(err, '\n'));
}

static void check_words(const struct conf_file *f, size_t size)
{
	CHECK(f->nstmts <= CONF_STMTS_MAX);
	for (int s = 0; s < f->nstmts; s++) {
		const struct conf_stmt *st = &f->stmt[s];

		CHECK(st->nwords >= 1 && st->nwords <= CONF_WORDS_MAX);
		CHECK(!st->argv[st->nwords]);
		for (int w = 0; w < st->nwords; w++) {
			CHECK(st->argv[w] == st->word[w].text);
			CHECK(st->word[w].len <= CONF_WORD_MAX);
			CHECK(!st->word[w].text[st->word[w].len]);
			CHECK(st->word[w].line >= 1 && st->word[w].col >= 1);
			CHECK((size_t)st->word[w].line <= size);
			CHECK(conf_word_at(st, st->argv[w]) == &st->word[w]);
		}
	}
}

/* The words quoted back into a file. */
static char *requote(const struct conf_file *f, size_t *len)
{
	size_t cap = 1, n = 0;
	char *out;

	for (int s = 0; s < f->nstmts; s++)
		for (int w = 0; w < f->stmt[s].nwords; w++)
			cap += conf_quote(f->stmt[s].word[w].text,
					  f->stmt[s].word[w].len, NULL, 0) + 1;
	out = malloc(cap);
	CHECK(out);
	for (int s = 0; s < f->nstmts; s++)
		for (int w = 0; w < f->stmt[s].nwords; w++) {
			const struct conf_word *wd = &f->stmt[s].word[w];

			n += conf_quote(wd->text, wd->len, out + n, cap - n);
			out[n++] = w + 1 < f->stmt[s].nwords ? ' ' : '\n';
		}
	*len = n;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_file f, g;
	char err[256] = "x";
	size_t len;
	char *text;
	int ret;

	ret = conf_parse((const char *)data, size, &f, err, sizeof(err));
	if (ret) {
		check_failure(ret, &f, err);
		return 0;
	}
	CHECK(!err[0]);
	check_words(&f, size + 1);
	text = requote(&f, &len);
	/* a quoted word may be longer than the limit the original obeyed */
	ret = conf_parse(text, len, &g, err, sizeof(err));
	CHECK(!ret || ret == -E2BIG);
	for (int s = 0; !ret && s < f.nstmts; s++) {
		CHECK(g.nstmts == f.nstmts);
		CHECK(g.stmt[s].nwords == f.stmt[s].nwords);
		for (int w = 0; w < f.stmt[s].nwords; w++) {
			CHECK(g.stmt[s].word[w].len == f.stmt[s].word[w].len);
			CHECK(!memcmp(g.stmt[s].word[w].text,
				      f.stmt[s].word[w].text,
				      f.stmt[s].word[w].len));
			CHECK(g.stmt[s].word[w].line == s + 1);
		}
	}
	conf_free(&g);
	conf_free(&f);
	free(text);
	return 0;
}
