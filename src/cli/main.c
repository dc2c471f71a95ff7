// SPDX-License-Identifier: MIT
/* lwfp: the command line of the lwfp redirect engine. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "lwfp.h"
#include "i18n.h"
#include "cli.h"
#include "pin.h"
#include "util.h"

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "load", cmd_load, N_("load the engine and attach it to a cgroup") },
	{ "unload", cmd_unload, N_("detach and unpin the engine") },
	{ "status", cmd_status, N_("show the engine, its counters and its size") },
	{ "service", cmd_service, N_("add, delete or list redirect services") },
	{ "rule", cmd_rule, N_("add, delete or list redirect rules") },
	{ "apply", cmd_apply, N_("make the engine hold a configuration file") },
	{ "save", cmd_save, N_("print the engine's configuration as a file") },
	{ "flows", cmd_flows, N_("list redirected flows") },
	{ "events", cmd_events, N_("show connects and sends the engine refused") },
	{ "broker", cmd_broker, N_("relay offloaded flows in the kernel") },
	{ "exec", cmd_exec, N_("run a command inside a cgroup") },
	{ "demo", cmd_demo, N_("show one flow redirected through a proxy") },
};

#define USAGE "lwfp [--pin-dir DIR] [--json] COMMAND [ARGS...]"

static void usage_to(FILE *f)
{
	fprintf(f, _("Usage: %s\n\nCommands:\n"), USAGE);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s  %s\n", commands[i].name,
			_(commands[i].summary));
	fprintf(f, _("\nThe engine lives in DIR (default $%s or %s).\n"
		     "`lwfp COMMAND --help` describes a command; see lwfp(8).\n"),
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

	/* people read lwfp in their language (po/); --json stays English */
	setlocale(LC_ALL, "");
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
	return cli_usage(_("unknown command '%s' (try lwfp --help)"), argv[i]);
}
