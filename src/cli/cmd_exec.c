// SPDX-License-Identifier: MIT
/* lwfp exec --cgroup PATH -- CMD [ARG...] */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "cgroup.h"
#include "cli.h"

#define EXEC_USAGE "lwfp exec --cgroup PATH -- CMD [ARG...]"

static int exec_opt(int c, const char *arg, void *data)
{
	*(const char **)data = arg;
	return 0;
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' }, CLI_COMMON_OPTS, {}
	};
	const char *path = NULL;
	struct cgroup_ref cg;
	char err[512];
	int i;

	i = cli_getopt(cli, argc, argv, opts, EXEC_USAGE, true, exec_opt, &path);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (!path)
		return cli_usage(_("exec: --cgroup PATH is required (usage: %s)"),
				 EXEC_USAGE);
	if (i == argc)
		return cli_usage(_("exec: no command given (usage: %s)"),
				 EXEC_USAGE);
	if (cgroup_resolve(path, true, &cg, err, sizeof(err)) ||
	    cgroup_enter(&cg, err, sizeof(err)))
		return cli_error("%s", err);
	execvp(argv[i], argv + i);
	cli_error(_("cannot run %s: %s"), argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
