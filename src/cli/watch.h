/* SPDX-License-Identifier: MIT */
/* lwfp apply --watch: a configuration file applied again whenever it
 * changes (an edit, a rename over it, a ConfigMap's ..data swap). */
#ifndef LWFP_WATCH_H
#define LWFP_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

struct watch_args {
	bool check, upgrade, watch, unload_on_exit;
	const char *ready_file;	/* made after an apply succeeds */
};

/* The whole file, or standard input for "-"; NULL with why in err. */
char *apply_slurp(const char *path, size_t *len, char *err, size_t errlen);

/* Make the engine hold text (the file path's contents) and print what
 * changed. 1 when it loaded or upgraded the engine's programs, 0 when it
 * only applied, -errno with "FILE:LINE:COL: why" (or why) in err. */
int apply_text(struct cli *cli, const char *path, const char *text,
	       size_t len, bool upgrade, char *err, size_t errlen);

/* Apply path, then again whenever its text changes, until SIGTERM or
 * SIGINT (SIGHUP: apply now). Returns the exit status. */
int apply_watch(struct cli *cli, const char *path,
		const struct watch_args *wa);

#endif /* LWFP_WATCH_H */
