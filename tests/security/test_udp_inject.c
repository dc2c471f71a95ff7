// SPDX-License-Identifier: MIT
/*
 * A UDP flow belongs to its client's socket, not to its address and port.
 * A victim in scope has a connected UDP socket redirected to a service. An
 * attacker binds another loopback address with the victim's port and
 * sends to the service with IP_PKTINFO naming the victim's address as the
 * source: the service used to take the datagram for the victim's (its pid,
 * its original destination) and answer it over the victim's flow. From
 * outside the scope, and from a redirected socket inside it, the datagram
 * must now never reach the service; the victim's own still do.
 */
#include <netinet/in.h>
#include <poll.h>

#include "harness.h"
#include "attack.h"

/* The victim: in scope, a connected socket to the original destination;
 * reports its port, sends "v1", waits, sends "v2". */
static void victim_main(uint16_t orig_port, int report, int go)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	char c;
	int fd;

	attacker_enter();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect_loopback(fd, orig_port) ||
	    getsockname(fd, (struct sockaddr *)&me, &len) ||
	    send(fd, "v1", 2, 0) != 2)
		_exit(4);
	(void)!write(report, &me.sin_port, sizeof(me.sin_port));
	if (read(go, &c, 1) != 1 || send(fd, "v2", 2, 0) != 2)
		_exit(5);
	_exit(0);
}

/* The forger: a socket on 127.0.0.2 with the victim's port, sending to
 * `to` from 127.0.0.1. In scope (its socket connected to the original
 * destination, so redirected) or not. Exits with the send's errno. */
static void forger_main(bool in_scope, uint16_t port_be, uint16_t to_port)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = port_be,
				  .sin_addr.s_addr = htonl(0x7f000002) };
	int fd;

	if (in_scope)
		attacker_enter();
	else if (setgid(NOBODY) || setuid(NOBODY))
		_exit(3);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)))
		_exit(4);
	_exit(send_from(fd, htonl(INADDR_LOOPBACK), to_port, "evil"));
}

/* What the service receives next within ms: the payload, or "". */
static const char *next_datagram(int svc, int ms, char *buf, size_t len)
{
	struct pollfd p = { .fd = svc, .events = POLLIN };
	ssize_t n;

	buf[0] = '\0';
	if (poll(&p, 1, ms) == 1) {
		n = recv(svc, buf, len - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
	}
	return buf;
}

static pid_t forge(bool in_scope, uint16_t port_be, uint16_t to_port)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* out of scope: the cgroup the test started in */
		if (!in_scope)
			cg_enter_abs(env.home_cg);
		forger_main(in_scope, port_be, to_port);
	}
	return pid;
}

static void test_inject(void)
{
	uint16_t orig_port = unused_port("127.0.0.1"), svc_port, port_be;
	int svc, report[2], go[2], rc;
	char buf[64];
	pid_t victim, f;

	svc_port = 0;
	svc = udp_bind("127.0.0.1", &svc_port);
	REQUIRE(svc >= 0 && !pipe(report) && !pipe(go), "setup");
	REQUIRE(redirect_udp_port(svc_port, orig_port),
		"service add, rule add: %s", env.out);
	victim = fork();
	if (victim == 0)
		victim_main(orig_port, report[1], go[0]);
	REQUIRE(read(report[0], &port_be, 2) == 2, "the victim sent");
	CHECK(!strcmp(next_datagram(svc, 2000, buf, sizeof(buf)), "v1"),
	      "the victim's datagram reached the service: '%s'", buf);

	f = forge(false, port_be, svc_port);
	rc = client_wait(f);
	CHECK(rc == 0, "the forger out of scope could not send: %d", rc);
	CHECK(!*next_datagram(svc, 500, buf, sizeof(buf)),
	      "a datagram from out of scope, in the victim's name, reached "
	      "the service: '%s'", buf);
	CHECK(counter("udp_forged_dropped") == 1, "counted");

	f = forge(true, port_be, orig_port);
	rc = client_wait(f);
	CHECK(rc == EPERM, "the forger in scope: send %s, want EPERM",
	      strerror(rc));
	CHECK(!*next_datagram(svc, 500, buf, sizeof(buf)),
	      "a redirected socket took over the victim's flow: '%s'", buf);
	CHECK(counter("udp_flow_takeover_dropped") == 1, "counted");

	CHECK(write(go[1], "g", 1) == 1, "go");
	CHECK(!strcmp(next_datagram(svc, 2000, buf, sizeof(buf)), "v2"),
	      "the victim's next datagram: '%s'", buf);
	CHECK(client_wait(victim) == 0, "victim");
	close(svc);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"nobody else's datagram is taken for a UDP flow's client",
	};
	static const test_fn fns[] = { test_inject };

	env_init(argc, argv, "sudp");
	return run_tests(names, fns, 1);
}
