// SPDX-License-Identifier: MIT
/*
 * A listener in another network namespace is not the service. An
 * unprivileged user in scope makes a user and network namespace of its
 * own, listens there on the service's address and port, and connects to a
 * destination a rule covers. The engine used to look for the service's
 * listener in the client's namespace, find the attacker's, and redirect
 * the attacker's connects to it: the attacker could then pile up as many
 * redirected flows as it liked. The service lives in the namespace where
 * it was registered; from any other it is down, and its --fail applies.
 */
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>

#include "harness.h"
#include "attack.h"

enum { OK, NO_NAMESPACE = 4, NO_LISTENER, CONNECTED, STOLEN };

static bool loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok;

	ok = fd >= 0 && !ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ok = ok && !ioctl(fd, SIOCSIFFLAGS, &ifr);
	if (fd >= 0)
		close(fd);
	return ok;
}

static void attacker_main(uint16_t svc_port, uint16_t orig_port)
{
	int lfd, fd, err;

	attacker_enter();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) || !loopback_up())
		_exit(NO_NAMESPACE);
	lfd = listen_loopback(svc_port);
	if (lfd < 0)
		_exit(NO_LISTENER);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	err = connect_loopback(fd, orig_port);
	if (reached(lfd, 300))
		_exit(STOLEN);
	_exit(err == ECONNREFUSED ? OK : CONNECTED);
}

static void test_listener_elsewhere(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int svc = listen_on("127.0.0.1", &svc_port), a, rc;
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .uid = NOBODY, .send = "p",
			    .expect = "ok" };
	pid_t pid;

	REQUIRE(origin >= 0 && svc >= 0, "listeners");
	REQUIRE(redirect_port(svc_port, "--fail", "closed", orig_port),
		"service add, rule add");
	pid = fork();
	if (pid == 0)
		attacker_main(svc_port, orig_port);
	rc = client_wait(pid);
	CHECK(rc != STOLEN, "the attacker's own listener got its "
	      "redirected connect");
	CHECK(rc == OK, "the attacker's connect: step %d (want refused, "
	      "the service being down from there)", rc);
	CHECK(counter("service_down_refused") == 1, "counted");
	CHECK(!reached(origin, 100) && !reached(svc, 100),
	      "nothing reached this namespace");

	/* a client here still reaches the service */
	c.port = orig_port;
	pid = client_start(&c);
	a = accept_timeout(svc, 5000);
	CHECK(a >= 0, "a client in the service's namespace is redirected");
	if (a >= 0) {
		CHECK(write(a, "ok", 2) == 2, "reply");
		close(a);
	}
	CHECK(client_wait(pid) == 0, "client");
	close(origin);
	close(svc);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"a listener in another network namespace is not the service",
	};
	static const test_fn fns[] = { test_listener_elsewhere };

	env_init(argc, argv, "snetns");
	return run_tests(names, fns, 1);
}
