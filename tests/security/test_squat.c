// SPDX-License-Identifier: MIT
/*
 * A service's port cannot be squatted. While a service is down, any user
 * may listen on its address (ports over 1024 need no privilege); the
 * engine used to count that listener as the service and send it the
 * redirected connects, original destinations and all. A service
 * registered by cgroup or by pid takes connects only on a socket bound in
 * its cgroup, or by its process's user: a squatter's is not it, and the
 * service counts as down (here --fail closed: refused).
 */
#include <sys/wait.h>

#include "harness.h"
#include "attack.h"

/* The squatter: nobody in scope, listening on the service's port; exits
 * 1 if a connection came, 0 if none in ms. */
static pid_t squatter_start(uint16_t port, int ready)
{
	pid_t pid = fork();
	int lfd;

	if (pid)
		return pid;
	attacker_enter();
	lfd = listen_loopback(port);
	if (lfd < 0)
		_exit(2);
	(void)!write(ready, "r", 1);
	_exit(reached(lfd, 1500) ? 1 : 0);
}

/* A client in scope: the errno of its connect to port. */
static int victim_connect(uint16_t port)
{
	pid_t pid = fork();
	int fd;

	if (pid == 0) {
		attacker_enter();
		fd = socket(AF_INET, SOCK_STREAM, 0);
		_exit(connect_loopback(fd, port));
	}
	return client_wait(pid);
}

/* A service that is not running now: registered by opt/val; the squatter
 * takes its port. */
static void squat(const char *opt, const char *val)
{
	uint16_t orig_port, svc_port = unused_port("127.0.0.1");
	int origin = listen_on("127.0.0.1", &orig_port), ready[2], rc;
	char listen[32], dport[8], c;
	pid_t sq;

	REQUIRE(origin >= 0 && !pipe(ready), "setup");

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	REQUIRE(!lwfp_run("service", "add", "svc", "--listen", listen, opt,
			  val, "--fail", "closed", NULL) &&
		!lwfp_run("rule", "add", "--service", "svc", "--dst",
			  "127.0.0.1/32", "--dport", dport, NULL),
		"service add %s, rule add: %s", opt, env.out);
	sq = squatter_start(svc_port, ready[1]);
	REQUIRE(read(ready[0], &c, 1) == 1, "the squatter listens");
	rc = victim_connect(orig_port);
	CHECK(rc == ECONNREFUSED, "%s service down: the connect was not "
	      "refused (%s)", opt, strerror(rc));
	CHECK(client_wait(sq) == 0, "%s service down: the squatter got the "
	      "redirected connect", opt);
	CHECK(!reached(origin, 100), "nor did it go to its origin");
	close(origin);
	close(ready[0]);
	close(ready[1]);
}

static void test_squat_cgroup(void)
{
	char cg[PATH_MAX];

	cg_path(cg, sizeof(cg), "svc2");
	mkdir(cg, 0755);
	snprintf(cg, sizeof(cg), "%s/svc2", env.base);
	squat("--cgroup", cg);
}

static void test_squat_pid(void)
{
	char pid[16];
	int wake;
	pid_t s;

	/* the service: a process of root's that is not listening now */
	s = sleeper(&wake);
	snprintf(pid, sizeof(pid), "%d", s);
	squat("--pid", pid);
	close(wake);
	waitpid(s, NULL, 0);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"a squatter on a --cgroup service's port is not the service",
		"a squatter on a --pid service's port is not the service",
	};
	static const test_fn fns[] = { test_squat_cgroup, test_squat_pid };

	env_init(argc, argv, "ssquat");
	return run_tests(names, fns, 2);
}
