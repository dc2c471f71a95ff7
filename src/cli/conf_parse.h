/* SPDX-License-Identifier: MIT */
/*
 * The configuration file's words (docs/configuration.md): pure, no I/O.
 *
 * A statement is one line of words, the CLI's own: `load ...`,
 * `service add ...`, `rule add ...`. '#' at the start of a word begins a
 * comment to the end of the line; a backslash at the end of a line joins
 * the next. Words are split at spaces and tabs; quoted parts join the
 * word they touch (--context="a b"). 'single quotes' take every byte as
 * it is; "double quotes" take \\ \" \n \t \r \0 and \xHH. A word may
 * hold any byte (NUL included, from \0 or \x00): its length is kept.
 */
#ifndef LWFP_CONF_PARSE_H
#define LWFP_CONF_PARSE_H

#include <stddef.h>

#define CONF_WORDS_MAX		64	/* words in one statement */
#define CONF_WORD_MAX		65536	/* bytes in one word */
#define CONF_STMTS_MAX		65536	/* statements in one file */

struct conf_word {
	char *text;		/* NUL-terminated; may hold NULs before */
	size_t len;
	int line, col;		/* where it starts, from 1 */
};

struct conf_stmt {
	struct conf_word *word;
	int nwords;
	/* the words as an argv (argv[nwords] is NULL), for getopt */
	char **argv;
};

struct conf_file {
	struct conf_stmt *stmt;
	int nstmts;
};

/*
 * Split text (len bytes) into statements. 0, or -EINVAL with
 * "LINE:COL: why" in err (-ENOMEM, -E2BIG likewise). On failure *out is
 * empty.
 */
int conf_parse(const char *text, size_t len, struct conf_file *out,
	       char *err, size_t errlen);
void conf_free(struct conf_file *f);

/* The word of s whose text holds p (an optarg), or NULL. */
const struct conf_word *conf_word_at(const struct conf_stmt *s, const char *p);

/* Write bytes as one word conf_parse reads back as the same bytes:
 * bare if plain, else double-quoted with escapes. Returns the length it
 * needs (excluding the NUL), like snprintf. */
size_t conf_quote(const void *bytes, size_t len, char *out, size_t outlen);

#endif /* LWFP_CONF_PARSE_H */
