// SPDX-License-Identifier: MIT
/* What the lwfp subcommands share: options common to all, output. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "i18n.h"
#include "util.h"
#include "cli.h"
#include "parse.h"
#include "cgroup_path.h"

int cli_getopt(struct cli *cli, int argc, char **argv,
	       const struct option *opts, const char *usage, bool in_order,
	       int (*on_opt)(int c, const char *arg, void *data), void *data)
{
	int c;

	optind = 0;	/* 0: glibc reinitialises, as the optstrings differ */
	opterr = 0;
	/* in order: stop at the first operand, for commands that run others */
	while ((c = getopt_long(argc, argv, in_order ? "+:h" : ":h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'P':
			if (!*optarg) {
				cli_error(_("option '--pin-dir' needs a value"));
				return -1;
			}
			cli->pin_dir = optarg;
			break;
		case 'J':
			cli->json = true;
			break;
		case 'h':
			if (cli->help)
				cli->help(usage);
			else
				printf(_("Usage: %s\n"), usage);
			return -2;
		case ':':
			cli_error(_("option '%s' needs a value"), argv[optind - 1]);
			return -1;
		case '?':
			cli_error(_("unknown option '%s' (usage: %s)"),
				  argv[optind - 1], usage);
			return -1;
		default:
			if (!on_opt || on_opt(c, optarg, data))
				return -1;
		}
	}
	return optind;
}

static void vmessage(const char *fmt, va_list ap)
{
	fputs("lwfp: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	return 1;
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	return 2;
}

int cli_dispatch(struct cli *cli, int argc, char **argv, const char *group,
		 const struct cli_verb *verbs, size_t nverbs)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, {} };
	char names[128] = "", usage[256];
	int i;

	for (size_t v = 0; v < nverbs; v++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names),
			 "%s%s", v ? "|" : "", verbs[v].name);
	snprintf(usage, sizeof(usage), "lwfp %s %s ... (lwfp %s VERB --help)",
		 group, names, group);
	/* common options may come before the verb */
	i = cli_getopt(cli, argc, argv, opts, usage, true, NULL, NULL);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i == argc)
		return cli_usage(_("usage: lwfp %s %s ..."), group, names);
	for (size_t v = 0; v < nverbs; v++)
		if (!strcmp(argv[i], verbs[v].name))
			return verbs[v].run(cli, argc - i, argv + i);
	return cli_usage(_("%s: unknown subcommand '%s' (%s)"), group, argv[i],
			 names);
}

int cli_admin_open(struct cli *cli, struct admin *a)
{
	char err[512];
	int ret = admin_open(cli->pin_dir, a, err, sizeof(err));

	if (ret)
		cli_error("%s", err);
	return ret;
}

void cli_json_print(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

void format_endpoint(const __u8 addr[16], __u16 port_be, bool v6_socket,
		     char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN];

	if (!v6_socket && lwfp_is_v4_mapped(addr)) {
		inet_ntop(AF_INET, addr + 12, host, sizeof(host));
		snprintf(out, outlen, "%s:%u", host, ntohs(port_be));
	} else {
		inet_ntop(AF_INET6, addr, host, sizeof(host));
		snprintf(out, outlen, "[%s]:%u", host, ntohs(port_be));
	}
}

/* A cgroup2 directory can be opened by its id: the id is its handle. */
void format_cgroup(__u64 id, char *out, size_t outlen)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh.handle_bytes = sizeof(__u64), .fh.handle_type = 1,
		.id = id };
	char mount[PATH_MAX], link[64], path[PATH_MAX];
	int mfd, fd = -1;
	ssize_t n = -1;

	snprintf(out, outlen, "cgroup-id:%llu", (unsigned long long)id);
	if (find_cgroup2_mount(mount, sizeof(mount)))
		return;
	mfd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd >= 0)
		fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof(path) - 1);
	}
	if (n > 0) {
		size_t mlen = strlen(mount);

		path[n] = '\0';
		if (!strncmp(path, mount, mlen))
			snprintf(out, outlen, "%s",
				 path[mlen] ? path + mlen : "/");
	}
	if (fd >= 0)
		close(fd);
	if (mfd >= 0)
		close(mfd);
}

/* Columns in display cells, not bytes: a Cyrillic letter is two bytes
 * and one cell. Falls back to bytes when s is not valid in the locale. */
int display_width(const char *s)
{
	wchar_t wide[256];
	size_t n = mbstowcs(wide, s, ARRAY_SIZE(wide) - 1);
	int w;

	if (n == (size_t)-1)
		return (int)strlen(s);
	wide[n] = L'\0';
	w = wcswidth(wide, n);
	return w < 0 ? (int)strlen(s) : w;
}

void print_padded(const char *s, int width)
{
	int pad = width - display_width(s);

	fputs(s, stdout);
	if (pad > 0)
		printf("%*s", pad, "");
}

void print_headings(const char *const *names, const int *widths, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		int pad = -widths[i] - display_width(names[i]);

		if (widths[i] >= 0) {
			print_padded(names[i], widths[i]);
		} else {	/* right-aligned */
			printf("%*s%s", pad > 0 ? pad : 0, "", names[i]);
		}
		putchar(' ');
	}
	if (n)
		puts(names[n - 1]);
}
