// SPDX-License-Identifier: MIT
/*
 * A reused socket does not carry its old flow: a client in scope connects
 * (redirected), disconnects with connect(AF_UNSPEC) and connects to a port
 * no rule covers. getpeername() must show the new peer, and a listener in
 * scope that accepts it must not be handed the first flow.
 */
#include <sys/mman.h>

#include "harness.h"
#include "attack.h"

struct reuse_result {
	int step;		/* how far the client got */
	uint16_t peer_port;	/* getpeername() after the second connect */
};

static void reuse_client(uint16_t orig_port, uint16_t plain_port,
			 struct reuse_result *res)
{
	struct sockaddr_in peer;
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	socklen_t len = sizeof(peer);
	char c;
	int fd;

	attacker_enter();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect_loopback(fd, orig_port))
		_exit(4);
	res->step = 1;
	if (connect(fd, &unspec, sizeof(unspec)))
		_exit(5);
	res->step = 2;
	if (connect_loopback(fd, plain_port))
		_exit(6);
	res->step = 3;
	if (getpeername(fd, (struct sockaddr *)&peer, &len))
		_exit(7);
	res->peer_port = ntohs(peer.sin_port);
	/* wait until the listener has looked at its socket */
	(void)!read(fd, &c, 1);
	_exit(0);
}

/* The plain listener runs in scope (app), as any server there could:
 * its socket is created there. */
static void plain_server(uint16_t port, int report[2])
{
	struct sockaddr_in orig;
	socklen_t len = sizeof(orig);
	int lfd, a, got;

	cg_enter("app");
	lfd = listen_on("127.0.0.1", &port);
	(void)!write(report[1], &port, sizeof(port));
	a = lfd < 0 ? -1 : accept(lfd, NULL, NULL);
	if (a < 0)
		_exit(2);
	got = !getsockopt(a, SOL_IP, 80 /* SO_ORIGINAL_DST */, &orig, &len);
	(void)!write(report[1], &got, sizeof(got));
	close(a);
	_exit(0);
}

static void test_reuse_after_unspec(void)
{
	uint16_t orig_port, svc_port, plain_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int svc = listen_on("127.0.0.1", &svc_port);
	uint16_t ready;
	struct reuse_result *res = mmap(NULL, sizeof(*res),
					PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int report[2], handed = -1, a, rc;
	pid_t client, server;

	REQUIRE(origin >= 0 && svc >= 0 && res != MAP_FAILED &&
		!pipe(report), "setup");
	REQUIRE(redirect_port(svc_port, NULL, NULL, orig_port),
		"service add, rule add");
	server = fork();
	if (server == 0)
		plain_server(0, report);
	REQUIRE(read(report[0], &ready, sizeof(ready)) == sizeof(ready),
		"the plain listener did not start");
	plain_port = ready;
	client = fork();
	if (client == 0)
		reuse_client(orig_port, plain_port, res);
	/* the first connect is redirected: accept it at the service */
	a = accept_timeout(svc, 5000);
	CHECK(a >= 0, "the first connect was not redirected");
	if (a >= 0)
		close(a);
	CHECK(read(report[0], &handed, sizeof(handed)) == sizeof(handed),
	      "the plain listener did not report");
	rc = client_wait(client);
	CHECK(rc == 0, "client exit %d at step %d", rc, res->step);
	CHECK(res->peer_port == plain_port, "getpeername() after reuse shows "
	      "port %u, not the new peer's %u", res->peer_port, plain_port);
	CHECK(handed == 0, "the new peer was handed the first flow "
	      "(SO_ORIGINAL_DST answered)");
	client_wait(server);
	close(origin);
	close(svc);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"a socket reused after connect(AF_UNSPEC) does not carry its "
		"old flow",
	};
	static const test_fn fns[] = { test_reuse_after_unspec };

	env_init(argc, argv, "sreuse");
	return run_tests(names, fns, 1);
}
