// SPDX-License-Identifier: MIT
/* lwfp events: the connects and sends the engine refused, who made them
 * and why; with --follow, as they happen. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "i18n.h"
#include "util.h"
#include "cli.h"

#define EVENTS_USAGE "lwfp events [--follow] [--json]"

struct events_out {
	const struct cli *cli;
	struct json_object *arr;	/* --json without --follow */
	size_t n;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* An event's boottime as wall-clock time. */
static void event_time(__u64 boot_ns, char *out, size_t len)
{
	struct timespec boot, real;
	time_t when;
	struct tm tm;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &real);
	when = real.tv_sec - (boot.tv_sec - (time_t)(boot_ns / 1000000000));
	localtime_r(&when, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static struct json_object *event_json(const struct lwfp_event *ev,
				      const char *when, const char *dst,
				      const char *cg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "pid", json_object_new_int64(ev->pid));
	json_object_object_add(o, "uid", json_object_new_int64(ev->uid));
	json_object_object_add(o, "comm", json_object_new_string(ev->comm));
	json_object_object_add(o, "cgroup", json_object_new_string(cg));
	json_object_object_add(o, "dst", json_object_new_string(dst));
	json_object_object_add(o, "proto", json_object_new_string(
		ev->dst.proto == IPPROTO_UDP ? "udp" : "tcp"));
	json_object_object_add(o, "cause",
			       json_object_new_string(stat_name(ev->cause)));
	return o;
}

static int on_event(void *data, void *raw, size_t len)
{
	struct events_out *out = data;
	struct lwfp_event ev = {};
	char when[32], dst[64], cg[256];

	memcpy(&ev, raw, len < sizeof(ev) ? len : sizeof(ev));
	ev.comm[sizeof(ev.comm) - 1] = '\0';
	event_time(ev.boot_ns, when, sizeof(when));
	format_endpoint(ev.dst.addr, ev.dst.port_be, ev.dst.family == AF_INET6,
			dst, sizeof(dst));
	format_cgroup(ev.cgroup_id, cg, sizeof(cg));
	if (out->arr) {
		json_object_array_add(out->arr, event_json(&ev, when, dst, cg));
	} else if (out->cli->json) {	/* --follow: one object a line */
		struct json_object *o = event_json(&ev, when, dst, cg);

		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		printf("%-19s %-7u %-6u %-15s %-24s %-3s %-26s %s\n", when,
		       ev.pid, ev.uid, ev.comm, dst,
		       ev.dst.proto == IPPROTO_UDP ? "udp" : "tcp",
		       stat_name(ev.cause), cg);
	}
	out->n++;
	fflush(stdout);
	return 0;
}

static int follow_opt(int c, const char *arg, void *data)
{
	*(bool *)data = true;
	return 0;
}

/* TRANSLATORS: the column headings of lwfp events fit 19, 7, 6, 15, 24
 * and 26 cells */
static void events_headings(void)
{
	const char *names[] = { _("TIME"), _("PID"), _("UID"), _("COMM"),
				_("DESTINATION"), "", _("CAUSE"),
				_("CGROUP") };
	static const int widths[] = { 19, 7, 6, 15, 24, 3, 26, 0 };

	print_headings(names, widths, ARRAY_SIZE(names));
}

int cmd_events(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' }, CLI_COMMON_OPTS, {}
	};
	struct events_out out = { .cli = cli };
	struct ring_buffer *rb;
	bool follow = false;
	char err[512];
	int i, fd, ret = 0;

	i = cli_getopt(cli, argc, argv, opts, EVENTS_USAGE, false, follow_opt,
		       &follow);
	if (i < 0)
		return GETOPT_EXIT(i);
	if (i != argc)
		return cli_usage(_("events: unexpected argument '%s'"), argv[i]);
	fd = admin_events_open(cli->pin_dir, err, sizeof(err));
	if (fd < 0)
		return cli_error("%s", err);
	rb = ring_buffer__new(fd, on_event, &out, NULL);
	if (!rb) {
		close(fd);
		return cli_error(_("cannot read the events: %s"), strerror(errno));
	}
	if (cli->json && !follow)
		out.arr = json_object_new_array();
	else if (!cli->json)
		events_headings();
	if (follow) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		while (!stop && ret >= 0)
			ret = ring_buffer__poll(rb, 500);
		if (ret == -EINTR)
			ret = 0;
	} else {
		ret = ring_buffer__consume(rb);
	}
	ring_buffer__free(rb);
	close(fd);
	if (out.arr)
		cli_json_print(out.arr);
	if (ret < 0)
		return cli_error(_("cannot read the events: %s"), strerror(-ret));
	return 0;
}
