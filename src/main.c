// SPDX-License-Identifier: MIT
/* lwfp: the command line of the lwfp redirect engine. */
#include <stdio.h>
#include <string.h>

#include "lwfp.h"
#include "cli.h"
#include "engine.h"
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
	{ "flows", cmd_flows, "list redirected flows" },
	{ "exec", cmd_exec, "run a command inside a cgroup" },
	{ "demo", cmd_demo, "show one flow redirected through a proxy" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: lwfp [--pin-dir DIR] [--json] COMMAND [ARGS...]\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s  %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\nThe engine lives in DIR (default $%s or %s).\n"
		   "`lwfp COMMAND --help` describes a command; see lwfp(8).\n",
		LWFP_PIN_DIR_ENV, "/sys/fs/bpf/lwfp");
}

int main(int argc, char **argv)
{
	struct cli cli = { .pin_dir = engine_default_pin_dir() };
	int i = 1;

	/* global options may come before the command */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			cli.json = true;
		} else if (!strcmp(argv[i], "--pin-dir") ||
			   !strncmp(argv[i], "--pin-dir=", 10)) {
			const char *v = argv[i][9] == '=' ? argv[i] + 10 :
				       i + 1 < argc ? argv[++i] : NULL;

			if (!v || !*v) {
				fprintf(stderr, "lwfp: option '--pin-dir' needs "
						"a value\n");
				return 2;
			}
			cli.pin_dir = v;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("lwfp %s\n", LWFP_VERSION);
			return 0;
		} else {
			fprintf(stderr, "lwfp: unknown option '%s' (try lwfp "
					"--help)\n", argv[i]);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < ARRAY_SIZE(commands); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].run(&cli, argc - i, argv + i);
	fprintf(stderr, "lwfp: unknown command '%s' (try lwfp --help)\n",
		argv[i]);
	return 2;
}
