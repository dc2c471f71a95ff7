// SPDX-License-Identifier: MIT
/*
 * A member of the engine's group (a proxy account) holds no raw state. It
 * used to be able to write the per-socket state map: set a token taken
 * from another service's flow on its own socket, and connect past every
 * rule as if inspected. Now it cannot open any map holding socket state,
 * tokens or rule contexts, and the engine takes records only from the
 * service their flow went to.
 */
#include <bpf/bpf.h>

#include "lwfp_abi.h"

#include "harness.h"
#include "attack.h"

static const char *group, *user;

/* Everything but the services map is root's alone. */
static const char *const raw_maps[] = {
	"lwfp_sk", "lwfp_live", "lwfp_pending", "lwfp_rule_ctx",
	"lwfp_udp_answer", "lwfp_udp_flows", "lwfp_config", "lwfp_rules",
};
#define RAW_MAPS (int)(sizeof(raw_maps) / sizeof(raw_maps[0]))

static void reload_for_group(void)
{
	engine_stop();
	REQUIRE(!lwfp_run("load", "--cgroup", env.base, "--group", group,
			  NULL), "load --group");
	env.loaded = true;
}

/* In the member: every raw map refused, the library still usable. */
static void member_probe(void)
{
	LIBBPF_OPTS(bpf_obj_get_opts, ro, .file_flags = BPF_F_RDONLY);
	struct lwfp *eng;
	char path[PATH_MAX];

	member_enter(user, "app");
	for (int i = 0; i < RAW_MAPS; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", env.pin_dir,
			 raw_maps[i]);
		fd = bpf_obj_get_opts(path, &ro);
		if (fd >= 0 || errno != EACCES)
			_exit(10 + i);
	}
	_exit(lwfp_open(env.pin_dir, &eng) ? 4 : 0);
}

static void test_no_raw_maps(void)
{
	pid_t pid;
	int rc;

	reload_for_group();
	pid = fork();
	if (pid == 0)
		member_probe();
	rc = client_wait(pid);
	CHECK(rc == 0, "%s%s", rc >= 10 && rc < 10 + RAW_MAPS ?
	      "a group member may open " : "member exit ",
	      rc >= 10 && rc < 10 + RAW_MAPS ? raw_maps[rc - 10] : "?");
}

/* The attacker, a group member in scope with another flow's records:
 * setting them is refused, its own socket tells it nothing, and its
 * connect is redirected like anyone's. It is in no service's cgroup, so
 * no engine program runs over its socket options: the kernel refuses
 * (-EINVAL: no engine took them) and nothing is counted. In a service's
 * cgroup, not being the service: -EACCES, counted (test_sockopt_scope). */
static void member_with_leaked_records(const unsigned char *rec,
				       uint16_t orig_port)
{
	struct lwfp_hop hop;
	socklen_t len = sizeof(hop);
	struct lwfp *eng;
	int fd, err;

	member_enter(user, "app");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (lwfp_open(env.pin_dir, &eng) || fd < 0)
		_exit(4);
	err = lwfp_set_records(eng, fd, rec, LWFP_RECORDS_LEN);
	if (err != -EINVAL)
		_exit(5);
	if (connect_loopback(fd, orig_port))
		_exit(6);
	if (!getsockopt(fd, SOL_LWFP, LWFP_SO_HOP, &hop, &len))
		_exit(7);	/* its own hop id and token, readable */
	_exit(0);
}

/* The service, in its cgroup: accept the victim's flow, hand its records
 * to the test (as a leak would), then set them itself, which it may. */
static void service_main(int report, int go)
{
	unsigned char rec[LWFP_RECORDS_LEN];
	size_t rlen = sizeof(rec);
	struct lwfp *eng;
	uint16_t port;
	int lfd, a, out;
	char c;

	cg_enter("svc");
	lfd = listen_on("127.0.0.1", &port);
	(void)!write(report, &port, sizeof(port));
	a = accept_timeout(lfd, 5000);
	if (a < 0 || lwfp_open(env.pin_dir, &eng) ||
	    lwfp_query_records(eng, a, rec, &rlen))
		_exit(4);
	(void)!write(report, rec, sizeof(rec));
	if (read(go, &c, 1) != 1)
		_exit(5);
	out = socket(AF_INET, SOCK_STREAM, 0);
	if (lwfp_set_records(eng, out, rec, rlen))
		_exit(6);
	_exit(write(a, "ok", 2) == 2 ? 0 : 7);
}

static void test_leaked_records(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port), rc;
	unsigned char rec[LWFP_RECORDS_LEN];
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .uid = NOBODY, .send = "p",
			    .expect = "ok" };
	int report[2], go[2];
	char svc_cg[PATH_MAX];
	pid_t svc, victim, pid;

	REQUIRE(origin >= 0 && !pipe(report) && !pipe(go), "setup");
	reload_for_group();
	svc = fork();
	if (svc == 0)
		service_main(report[1], go[0]);
	REQUIRE(read(report[0], &svc_port, sizeof(svc_port)) ==
		sizeof(svc_port), "the service started");
	snprintf(svc_cg, sizeof(svc_cg), "%s/svc", env.base);
	REQUIRE(redirect_port(svc_port, "--cgroup", svc_cg, orig_port),
		"service (by cgroup) and rule");
	c.port = orig_port;
	victim = client_start(&c);
	REQUIRE(read(report[0], rec, sizeof(rec)) == sizeof(rec),
		"the victim's flow at the service");

	pid = fork();
	if (pid == 0)
		member_with_leaked_records(rec, orig_port);
	rc = client_wait(pid);
	CHECK(rc == 0, "the member with leaked records: step %d", rc);
	CHECK(!reached(origin, 500),
	      "the member's connect passed for inspected");
	CHECK(counter("records_set_refused") == 0,
	      "no engine program ran over the member's socket");

	CHECK(write(go[1], "g", 1) == 1, "go");
	rc = client_wait(svc);
	CHECK(rc == 0, "the service's own cgroup may set them: step %d", rc);
	CHECK(client_wait(victim) == 0, "the victim's flow");
	close(origin);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"a group member cannot open any map of socket state, tokens "
		"or rule contexts",
		"a group member cannot set another service's records",
	};
	static const test_fn fns[] = { test_no_raw_maps, test_leaked_records };

	env_init(argc, argv, "sgroup");
	group = member_create(&user);
	return run_tests(names, fns, 2);
}
