// SPDX-License-Identifier: MIT
/* lwfp broker: run the engine's offload broker (broker.h), which pairs
 * the sockets services hand over with lwfp_offload(). */
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "broker.h"
#include "cli.h"
#include "parse.h"

#define BROKER_USAGE "lwfp broker [--sndbuf BYTES] [--quiet]"

static int broker_opt(int c, const char *arg, void *data)
{
	struct broker_opts *o = data;
	char err[256];
	uint32_t v;

	switch (c) {
	case 's':
		if (parse_u32(arg, &v, err, sizeof(err)))
			return cli_usage(_("broker: --sndbuf: %s"), err), -1;
		if (v && (v < 4096 || v > (1u << 30)))
			return cli_usage(_("broker: --sndbuf must be 0 or "
					   "between 4096 and 1073741824 "
					   "bytes")), -1;
		o->sndbuf = (int)v;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	}
	return -1;
}

int cmd_broker(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sndbuf", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		CLI_COMMON_OPTS, {}
	};
	struct broker_opts o = { .sndbuf = BROKER_SNDBUF_DEFAULT };
	char err[512] = "";
	int i, ret;

	i = cli_getopt(cli, argc, argv, opts, BROKER_USAGE, false, broker_opt,
		       &o);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage(_("broker: unexpected argument '%s'"), argv[i]);
	ret = broker_run(cli->pin_dir, &o, err, sizeof(err));
	if (ret)
		return cli_error("%s", err[0] ? err : strerror(-ret));
	return 0;
}
