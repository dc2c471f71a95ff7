/* SPDX-License-Identifier: MIT */
/* What the lwfp subcommands share: options common to all, error output. */
#ifndef LWFP_CLI_H
#define LWFP_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <json-c/json.h>

#include "admin.h"

struct cli {
	const char *pin_dir;
	bool json;
	/* --help, where more than the usage line is shown (lwfp --help) */
	void (*help)(const char *usage);
};

/* Options every subcommand accepts, wherever they appear. */
#define CLI_COMMON_OPTS \
	{ "pin-dir", required_argument, NULL, 'P' }, \
	{ "json", no_argument, NULL, 'J' }, \
	{ "help", no_argument, NULL, 'h' }

/* Parse argv against opts; common options are handled here. Calls
 * on_opt for the others; returns the index of the first operand, -1
 * after printing a usage error, -2 after printing --help. */
int cli_getopt(struct cli *cli, int argc, char **argv,
	       const struct option *opts, const char *usage, bool in_order,
	       int (*on_opt)(int c, const char *arg, void *data), void *data);

/* The exit status for cli_getopt's -1 (usage error) and -2 (--help). */
#define GETOPT_EXIT(r) ((r) == -2 ? 0 : 2)

/* Print "lwfp: message" on stderr; returns 1 (the exit status). */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for a usage error; returns 2. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct cli_verb {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
};

/* Run `group VERB ...`; common options may come before the verb. */
int cli_dispatch(struct cli *cli, int argc, char **argv, const char *group,
		 const struct cli_verb *verbs, size_t nverbs);

/* Open the engine named by --pin-dir / $LWFP_PIN_DIR, or print why not. */
int cli_admin_open(struct cli *cli, struct admin *a);

/* Print and free a JSON value. */
void cli_json_print(struct json_object *obj);

/* "127.0.0.1:80", "[::1]:80" from a v4-mapped 16-byte address. */
void format_endpoint(const __u8 addr[16], __u16 port_be, bool v6_socket,
		     char *out, size_t outlen);
/* The cgroup's path relative to the cgroup2 mount, from its id. */
void format_cgroup(__u64 id, char *out, size_t outlen);

int cmd_load(struct cli *cli, int argc, char **argv);
int cmd_unload(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_service(struct cli *cli, int argc, char **argv);
int cmd_rule(struct cli *cli, int argc, char **argv);
int cmd_flows(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_demo(struct cli *cli, int argc, char **argv);
int cmd_events(struct cli *cli, int argc, char **argv);
int cmd_apply(struct cli *cli, int argc, char **argv);
int cmd_save(struct cli *cli, int argc, char **argv);
int cmd_broker(struct cli *cli, int argc, char **argv);

/* A rule's destination ("10.0.0.0/8", "::/0") and ports ("any", "80",
 * "80-90"), as rule list and save write them. */
void format_dst(const struct lwfp_rule *r, char *out, size_t len);
void format_ports(const struct lwfp_rule *r, char *out, size_t len);

/* The name lwfp status gives a counter (enum lwfp_stat). */
const char *stat_name(unsigned int counter);

/* The cells s takes on a terminal (wcswidth), and s printed left in
 * width cells: columns line up whatever the language of the headings. */
int display_width(const char *s);
void print_padded(const char *s, int width);
/* A listing's headings: each in its column's width (negative: aligned
 * right) but the last, then a newline. */
void print_headings(const char *const *names, const int *widths, size_t n);

/* Print engine_load()'s notice: one line per optional program refused. */
void print_notice(const char *notice);

#endif /* LWFP_CLI_H */
