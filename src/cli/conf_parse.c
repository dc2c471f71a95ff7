// SPDX-License-Identifier: MIT
/* The configuration file's words: statements, quoting, positions. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "conf_parse.h"

struct lexer {
	const char *p, *end;
	int line, col;
	char *buf;		/* the word being read */
	size_t blen;
	struct conf_word word[CONF_WORDS_MAX];
	int nwords;
	struct conf_file *out;
	char *err;
	size_t errlen;
};

static int fail_at(struct lexer *lx, int err, int line, int col,
		   const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(lx->err, lx->errlen, _("%d:%d: "), line, col);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < lx->errlen)
		vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

static void advance(struct lexer *lx)
{
	if (*lx->p == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->p++;
}

static bool at_end(const struct lexer *lx)
{
	return lx->p >= lx->end;
}

static int put(struct lexer *lx, char c)
{
	if (lx->blen >= CONF_WORD_MAX)
		return fail_at(lx, -E2BIG, lx->line, lx->col,
			       _("a word is longer than %d bytes"), CONF_WORD_MAX);
	lx->buf[lx->blen++] = c;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* After a backslash in double quotes: the byte it stands for. */
static int escape(struct lexer *lx, char *out)
{
	static const char from[] = "\\\"ntr0", to[] = "\\\"\n\t\r\0";
	int line = lx->line, col = lx->col - 1, hi, lo;
	const char *e;

	if (at_end(lx))
		return fail_at(lx, -EINVAL, line, col, _("unterminated quote"));
	e = *lx->p ? strchr(from, *lx->p) : NULL;
	if (e) {
		*out = to[e - from];
		advance(lx);
		return 0;
	}
	if (*lx->p != 'x' || lx->end - lx->p < 3 ||
	    (hi = hex_digit(lx->p[1])) < 0 || (lo = hex_digit(lx->p[2])) < 0)
		return fail_at(lx, -EINVAL, line, col, _("unknown escape: "
			       "\\\\ \\\" \\n \\t \\r \\0 or \\xHH"));
	*out = (char)(hi << 4 | lo);
	advance(lx);
	advance(lx);
	advance(lx);
	return 0;
}

/* A quoted part of a word, from its opening quote. */
static int quoted(struct lexer *lx)
{
	char q = *lx->p, c;
	int line = lx->line, col = lx->col, ret;

	advance(lx);
	for (;;) {
		if (at_end(lx) || *lx->p == '\n')
			return fail_at(lx, -EINVAL, line, col,
				       _("unterminated quote"));
		c = *lx->p;
		advance(lx);
		if (c == q)
			return 0;
		if (q == '"' && c == '\\') {
			ret = escape(lx, &c);
			if (ret)
				return ret;
		}
		ret = put(lx, c);
		if (ret)
			return ret;
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One word, from its first byte. */
static int word(struct lexer *lx)
{
	struct conf_word *w;
	int line = lx->line, col = lx->col, ret = 0;

	if (lx->nwords == CONF_WORDS_MAX)
		return fail_at(lx, -E2BIG, line, col,
			       _("more than %d words in a statement"),
			       CONF_WORDS_MAX);
	lx->blen = 0;
	while (!ret && !at_end(lx) && !is_space(*lx->p) && *lx->p != '\\') {
		if (*lx->p == '\'' || *lx->p == '"') {
			ret = quoted(lx);
		} else if (!*lx->p) {
			ret = fail_at(lx, -EINVAL, lx->line, lx->col,
				      _("a NUL byte (write it \"\\0\")"));
		} else {
			ret = put(lx, *lx->p);
			advance(lx);
		}
	}
	if (ret)
		return ret;
	w = &lx->word[lx->nwords];
	w->text = malloc(lx->blen + 1);
	if (!w->text)
		return fail_at(lx, -ENOMEM, line, col, _("out of memory"));
	memcpy(w->text, lx->buf, lx->blen);
	w->text[lx->blen] = '\0';
	w->len = lx->blen;
	w->line = line;
	w->col = col;
	lx->nwords++;
	return 0;
}

static void words_free(struct conf_word *w, int n)
{
	for (int i = 0; i < n; i++)
		free(w[i].text);
}

/* The words read so far make a statement (if there are any). */
static int statement_end(struct lexer *lx)
{
	struct conf_file *f = lx->out;
	struct conf_stmt *grown, *s;
	int n = lx->nwords;

	if (!n)
		return 0;
	if (f->nstmts == CONF_STMTS_MAX)
		return fail_at(lx, -E2BIG, lx->word[0].line, lx->word[0].col,
			       _("more than %d statements"), CONF_STMTS_MAX);
	grown = realloc(f->stmt, (f->nstmts + 1) * sizeof(*grown));
	if (!grown)
		return fail_at(lx, -ENOMEM, lx->line, lx->col, _("out of memory"));
	f->stmt = grown;
	s = &f->stmt[f->nstmts];
	s->word = malloc(n * sizeof(*s->word));
	s->argv = malloc((n + 1) * sizeof(*s->argv));
	if (!s->word || !s->argv) {
		free(s->word);
		free(s->argv);
		return fail_at(lx, -ENOMEM, lx->line, lx->col, _("out of memory"));
	}
	memcpy(s->word, lx->word, n * sizeof(*s->word));
	for (int i = 0; i < n; i++)
		s->argv[i] = s->word[i].text;
	s->argv[n] = NULL;
	s->nwords = n;
	f->nstmts++;
	lx->nwords = 0;
	return 0;
}

/* What starts here: a space, a line's end, a comment, a joined line, a
 * word. */
static int step(struct lexer *lx)
{
	char c = *lx->p;

	if (c == '\n') {
		advance(lx);
		return statement_end(lx);
	}
	if (is_space(c)) {
		advance(lx);
	} else if (c == '#') {
		while (!at_end(lx) && *lx->p != '\n')
			advance(lx);
	} else if (c == '\\') {
		int line = lx->line, col = lx->col;

		advance(lx);
		if (!at_end(lx) && *lx->p == '\r')
			advance(lx);
		if (at_end(lx) || *lx->p != '\n')
			return fail_at(lx, -EINVAL, line, col, _("a backslash "
				       "outside quotes only joins the next line"));
		advance(lx);
	} else {
		return word(lx);
	}
	return 0;
}

int conf_parse(const char *text, size_t len, struct conf_file *out,
	       char *err, size_t errlen)
{
	struct lexer lx = {
		.p = text, .end = text + len, .line = 1, .col = 1, .out = out,
		.err = err, .errlen = errlen,
	};
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = '\0';
	lx.buf = malloc(CONF_WORD_MAX);
	if (!lx.buf)
		return fail_at(&lx, -ENOMEM, 1, 1, _("out of memory"));
	while (!ret && !at_end(&lx))
		ret = step(&lx);
	if (!ret)
		ret = statement_end(&lx);
	words_free(lx.word, lx.nwords);
	free(lx.buf);
	if (ret)
		conf_free(out);
	return ret;
}

void conf_free(struct conf_file *f)
{
	for (int i = 0; i < f->nstmts; i++) {
		words_free(f->stmt[i].word, f->stmt[i].nwords);
		free(f->stmt[i].word);
		free(f->stmt[i].argv);
	}
	free(f->stmt);
	f->stmt = NULL;
	f->nstmts = 0;
}

const struct conf_word *conf_word_at(const struct conf_stmt *s, const char *p)
{
	for (int i = 0; p && i < s->nwords; i++)
		if (p >= s->word[i].text && p <= s->word[i].text + s->word[i].len)
			return &s->word[i];
	return NULL;
}

static bool is_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("-_./:@%+,=[]^~", c);
}

/* The escape of one byte in double quotes, or the byte. */
static int quote_byte(unsigned char c, char out[5])
{
	static const char from[] = "\\\"\n\t\r", to[] = "\\\"ntr";
	const char *e = c ? strchr(from, c) : NULL;

	if (e)
		return sprintf(out, "\\%c", to[e - from]);
	if (c < 0x20 || c > 0x7e)
		return sprintf(out, "\\x%02x", c);
	out[0] = (char)c;
	out[1] = '\0';
	return 1;
}

size_t conf_quote(const void *bytes, size_t len, char *out, size_t outlen)
{
	const unsigned char *b = bytes;
	bool plain = len > 0;
	size_t n = 0;
	char one[5];

	for (size_t i = 0; plain && i < len; i++)
		plain = b[i] && is_plain(b[i]);
#define EMIT(s, l) do { for (int k_ = 0; k_ < (l); k_++, n++) \
		if (n + 1 < outlen) out[n] = (s)[k_]; } while (0)
	if (!plain)
		EMIT("\"", 1);
	for (size_t i = 0; i < len; i++) {
		int l = plain ? (one[0] = (char)b[i], 1) : quote_byte(b[i], one);

		EMIT(one, l);
	}
	if (!plain)
		EMIT("\"", 1);
#undef EMIT
	if (outlen)
		out[n < outlen ? n : outlen - 1] = '\0';
	return n;
}
