/* SPDX-License-Identifier: MIT */
/*
 * A configuration file's statements (conf_parse.h) made a configuration
 * (apply.h): each statement's words read with the options of the command
 * it names, as that command would read them, errors at FILE:LINE:COL.
 */
#ifndef LWFP_CONF_H
#define LWFP_CONF_H

#include <stdbool.h>

#include "apply.h"
#include "cgroup.h"
#include "conf_parse.h"

struct conf {
	struct engine_conf ec;
	bool load;		/* a load statement: the fields below */
	struct cgroup_ref cg;
	int gid;		/* -1: none */
};

/*
 * Build c from f, read from the file called name; relative paths in it
 * (--context-file, --context-layout) are from dir. 0, or -errno with
 * "NAME:LINE:COL: why" in err.
 */
int conf_build(const struct conf_file *f, const char *name, const char *dir,
	       struct conf *c, char *err, size_t errlen);
void conf_release(struct conf *c);

#endif /* LWFP_CONF_H */
