// SPDX-License-Identifier: MIT
/*
 * The edges of the engine's scope, as docs/security.md states them:
 *  - MPTCP sockets are redirected like TCP ones (their first subflow is a
 *    TCP socket), and getpeername() on them tells the truth;
 *  - a process in scope cannot leave it by moving itself to a cgroup
 *    outside (only a delegated cgroup tree allows that, and that is the
 *    administrator's choice);
 *  - ICMP echo and raw sockets are not redirected (no port to rewrite;
 *    raw ones need CAP_NET_RAW): lwfp redirects TCP, MPTCP and UDP.
 */
#include <netinet/in.h>
#include <sched.h>

#include "harness.h"
#include "attack.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

struct mptcp_result {
	int step;
	uint16_t peer_port;
};

/* An MPTCP client in scope: connects, reports getpeername()'s port. */
static void mptcp_client(uint16_t orig_port, int report)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	struct mptcp_result r = { 0 };
	char c;
	int fd;

	attacker_enter();
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (fd < 0)
		r.step = 4;
	else if (connect_loopback(fd, orig_port))
		r.step = 5;
	else if (getpeername(fd, (struct sockaddr *)&peer, &len))
		r.step = 6;
	else
		r.peer_port = ntohs(peer.sin_port);
	(void)!write(report, &r, sizeof(r));
	(void)!read(fd, &c, 1);	/* until the service has looked */
	_exit(0);
}

/* An MPTCP client to orig_port that holds none of our descriptors (a
 * flow the test closes closes), and its report in *r: its pid; 0 when
 * the kernel has no MPTCP (the client is gone then); -1 if it did not
 * report. */
static pid_t mptcp_start(uint16_t orig_port, const int report[2],
			 struct mptcp_result *r)
{
	pid_t pid = fork();

	if (pid == 0) {
		dup2(report[1], 3);
		close_range(4, ~0U, 0);
		mptcp_client(orig_port, 3);
	}
	if (read(report[0], r, sizeof(*r)) != sizeof(*r))
		return -1;
	if (r->step == 4) {
		printf("# no MPTCP on this kernel (net.mptcp.enabled=0?)\n");
		kill(pid, SIGKILL);
		client_wait(pid);
		return 0;
	}
	return pid;
}

static void test_mptcp(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int svc = listen_on("127.0.0.1", &svc_port), report[2], a;
	struct sockaddr_storage dst;
	socklen_t dlen = sizeof(dst);
	struct mptcp_result r;
	struct lwfp *eng;
	pid_t pid;

	REQUIRE(origin >= 0 && svc >= 0 && !pipe(report), "setup");
	REQUIRE(redirect_port(svc_port, NULL, NULL, orig_port), "service, rule");
	pid = mptcp_start(orig_port, report, &r);
	REQUIRE(pid >= 0, "client report");
	if (!pid)
		return;
	CHECK(r.step == 0, "the MPTCP client failed at step %d", r.step);
	a = accept_timeout(svc, 2000);
	CHECK(a >= 0, "the MPTCP connect was not redirected");
	CHECK(!reached(origin, 100), "the MPTCP connect went to its origin");
	CHECK(r.peer_port == orig_port, "getpeername() on the MPTCP socket "
	      "shows port %u, not the original destination's %u", r.peer_port,
	      orig_port);
	REQUIRE(!lwfp_open(env.pin_dir, &eng), "lwfp_open");
	CHECK(a >= 0 && !lwfp_query_original_dst(eng, a, &dst, &dlen) &&
	      addr_port(&dst) == orig_port,
	      "the service was not handed the MPTCP client's flow");
	lwfp_close(eng);
	if (a >= 0)
		close(a);
	CHECK(client_wait(pid) == 0, "client");
	close(origin);
	close(svc);
}

/* The table of MPTCP clients' original destinations full (one entry):
 * the next MPTCP connect is still redirected and handed off; only its
 * getpeername() shows the service, and that is counted. */
static void test_mptcp_full(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int svc = listen_on("127.0.0.1", &svc_port), report[2], a[2] = { -1, -1 };
	struct mptcp_result r[2];
	pid_t pid[2];

	engine_stop();
	setenv("LWFP_MPTCP_MAX", "1", 1);
	REQUIRE(!lwfp_run("load", "--cgroup", env.base, NULL),
		"load with an MPTCP table of one");
	unsetenv("LWFP_MPTCP_MAX");
	env.loaded = true;
	REQUIRE(origin >= 0 && svc >= 0 && !pipe(report), "setup");
	REQUIRE(redirect_port(svc_port, NULL, NULL, orig_port), "service, rule");
	for (int i = 0; i < 2; i++) {
		pid[i] = mptcp_start(orig_port, report, &r[i]);
		REQUIRE(pid[i] >= 0, "client report");
		if (!pid[i])
			goto out;
		a[i] = accept_timeout(svc, 2000);
		CHECK(r[i].step == 0 && a[i] >= 0, "MPTCP client %d was not "
		      "redirected (step %d)", i + 1, r[i].step);
	}
	CHECK(!reached(origin, 100), "an MPTCP connect went to its origin");
	CHECK(r[0].peer_port == orig_port, "the first getpeername()");
	CHECK(r[1].peer_port == svc_port, "the second getpeername() shows %u, "
	      "not the service as documented", r[1].peer_port);
	CHECK(counter("mptcp_peer_table_full") == 1, "not counted");
	for (int i = 0; i < 2; i++) {
		if (a[i] >= 0)
			close(a[i]);
		client_wait(pid[i]);
	}
out:
	close(report[0]);
	close(report[1]);
	close(origin);
	close(svc);
}

/* Out of scope: write our pid to the cgroup the test started in. */
static void test_move_out(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int svc = listen_on("127.0.0.1", &svc_port), a;
	pid_t pid;

	REQUIRE(redirect_port(svc_port, NULL, NULL, orig_port), "service, rule");
	pid = fork();
	if (pid == 0) {
		char path[PATH_MAX + 16], me[16];
		int fd, n;

		attacker_enter();
		snprintf(path, sizeof(path), "%s/cgroup.procs", env.home_cg);
		n = snprintf(me, sizeof(me), "%d", getpid());
		fd = open(path, O_WRONLY);
		if (fd >= 0 && write(fd, me, n) == n)
			_exit(4);	/* out of scope */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		_exit(connect_loopback(fd, orig_port) ? 5 : 0);
	}
	CHECK(client_wait(pid) == 0, "a process in scope moved itself out, or "
	      "could not connect");
	a = accept_timeout(svc, 2000);
	CHECK(a >= 0, "it was not redirected");
	if (a >= 0)
		close(a);
	close(origin);
	close(svc);
}

/* An ICMP echo socket in scope, to a covered address: not redirected
 * (and not refused): what the documentation says. */
static void test_icmp_left_alone(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int svc = listen_on("127.0.0.1", &svc_port), rc;
	pid_t pid;

	REQUIRE(redirect_port(svc_port, NULL, NULL, orig_port), "service, rule");
	pid = fork();
	if (pid == 0) {
		struct sockaddr_in to = { .sin_family = AF_INET,
					  .sin_port = htons(orig_port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int fd;

		cg_enter("app");
		/* a namespace of its own, where root's group may ping */
		if (unshare(CLONE_NEWNET) || system("ip link set lo up") ||
		    system("echo 0 0 >/proc/sys/net/ipv4/ping_group_range"))
			_exit(3);
		fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
		if (fd < 0)
			_exit(3);
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) ||
		    getpeername(fd, (struct sockaddr *)&peer, &len))
			_exit(4);
		_exit(peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK) ? 0 : 5);
	}
	rc = client_wait(pid);
	if (rc == 3) {
		printf("# no ICMP echo sockets here\n");
	} else {
		CHECK(rc == 0, "an ICMP echo socket's connect: step %d", rc);
	}
	CHECK(counter("redirected") == 0, "an ICMP socket was redirected");
	close(origin);
	close(svc);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"MPTCP is redirected, and getpeername() tells the truth",
		"the MPTCP table full: still redirected, counted",
		"a process in scope cannot move itself out of it",
		"ICMP echo sockets are left alone, as documented",
	};
	static const test_fn fns[] = { test_mptcp, test_mptcp_full,
				       test_move_out, test_icmp_left_alone };

	env_init(argc, argv, "sscope");
	return run_tests(names, fns, 4);
}
