// SPDX-License-Identifier: MIT
/* lwfp: the command line of the lwfp redirect engine. */
#include <stdio.h>
#include <string.h>

#include "lwfp.h"
#include "cli.h"
#include "pin.h"
#include "util.h"

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "load", cmd_load, "load the engine and attach it to a cgroup" },
	{ "unload", cmd_unload, "detach and unpin the engine" },
	{ "status", cmd_status, "show the engine, its counters and its size" },
	{ "service", cmd_service, "add, delete or list redirect services" },
	{ "rule", cmd_rule, "add, delete or list redirect rules" },
	{ "apply", cmd_apply, "make the engine hold a configuration file" },
	{ "save", cmd_save, "print the engine's configuration as a file" },
	{ "flows", cmd_flows, "list redirected flows" },
	{ "events", cmd_events, "show connects and sends the engine refused" },
	{ "exec", cmd_exec, "run a command inside a cgroup" },
	{ "demo", cmd_demo, "show one flow redirected through a proxy" },
};

#define USAGE "lwfp [--pin-dir DIR] [--json] COMMAND [ARGS...]"

static void usage_to(FILE *f)
{
	fprintf(f, "Usage: %s\n\nCommands:\n", USAGE);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s  %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\nThe engine lives in DIR (default $%s or %s).\n"
		   "`lwfp COMMAND --help` describes a command; see lwfp(8).\n",
		LWFP_PIN_DIR_ENV, LWFP_DEFAULT_PIN_DIR);
}

static void help(const char *usage)
{
	usage_to(stdout);
}

static int version_opt(int c, const char *arg, void *data)
{
	*(bool *)data = true;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS, { "version", no_argument, NULL, 'V' }, {}
	};
	struct cli cli = { .pin_dir = pin_dir_default(), .help = help };
	bool version = false;
	int i;

	/* global options come before the command (and after it, too) */
	i = cli_getopt(&cli, argc, argv, opts, USAGE, true, version_opt,
		       &version);
	if (i < 0)
		return GETOPT_EXIT(i);
	cli.help = NULL;
	if (version) {
		printf("lwfp %s\n", LWFP_VERSION);
		return 0;
	}
	if (i == argc) {
		usage_to(stderr);
		return 2;
	}
	for (size_t c = 0; c < ARRAY_SIZE(commands); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].run(&cli, argc - i, argv + i);
	return cli_usage("unknown command '%s' (try lwfp --help)", argv[i]);
}
