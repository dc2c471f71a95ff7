// SPDX-License-Identifier: MIT
/*
 * One user cannot fill the UDP flow table for everyone. The table used to
 * be an LRU map: one client rotating its source with IP_PKTINFO created
 * 400,000 flows in under 5 seconds, pushing out other users' live flows,
 * whose queries then failed now and then. Now each uid holds at most its
 * share of flows (lwfp load --udp-flows-per-user), a new flow over it is
 * refused (EPERM, counted), nobody's live flow is evicted, and a socket
 * that moves to another source leaves its previous flow behind.
 */
#include <netinet/in.h>
#include <poll.h>

#include "lwfp_abi.h"
#include "harness.h"
#include "attack.h"

#define SHARE	8
#define SOCKETS	20

static uint16_t svc_port, orig_port;
static int svc = -1;

/* A UDP service and a rule; the engine reloaded with a share of SHARE. */
static void setup(void)
{
	char share[8];

	engine_stop();
	snprintf(share, sizeof(share), "%d", SHARE);
	REQUIRE(!lwfp_run("load", "--cgroup", env.base, "--udp-flows-per-user",
			  share, NULL), "load --udp-flows-per-user");
	env.loaded = true;
	svc_port = 0;
	svc = udp_bind("127.0.0.1", &svc_port);
	orig_port = unused_port("127.0.0.1");
	REQUIRE(redirect_udp_port(svc_port, orig_port),
		"service add, rule add: %s", env.out);
}

static long flows_in_table(void)
{
	return map_entries("lwfp_udp_flows");
}

static int send_to_orig(int fd, const char *what)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(orig_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	return sendto(fd, what, strlen(what), 0, (struct sockaddr *)&to,
		      sizeof(to)) < 0 ? errno : 0;
}

/* The greedy user: SOCKETS sockets, one flow each; exits with how many
 * sends went through, once all refusals were EPERM (else 100). */
static void greedy_main(int hold)
{
	int fds[SOCKETS], sent = 0;
	char c;

	attacker_enter();
	for (int i = 0; i < SOCKETS; i++) {
		int err;

		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		err = send_to_orig(fds[i], "g");
		if (!err)
			sent++;
		else if (err != EPERM)
			_exit(100);
	}
	(void)!read(hold, &c, 1);	/* keep the flows until told */
	_exit(sent);
}

/* Another user (uid 65533) in scope: its flow reaches the service. */
static void other_main(void)
{
	int fd;

	cg_enter("app");
	if (setgid(65533) || setuid(65533))
		_exit(3);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	_exit(send_to_orig(fd, "other") ? 4 : 0);
}

static bool service_got(const char *want)
{
	struct pollfd p = { .fd = svc, .events = POLLIN };
	char buf[64];

	while (poll(&p, 1, 1000) == 1) {
		ssize_t n = recv(svc, buf, sizeof(buf) - 1, 0);

		buf[n > 0 ? n : 0] = '\0';
		if (!strcmp(buf, want))
			return true;
	}
	return false;
}

static void test_share(void)
{
	int hold[2], rc;
	pid_t greedy, other;

	setup();
	REQUIRE(!pipe(hold), "pipe");
	greedy = fork();
	if (greedy == 0) {
		close(hold[1]);
		greedy_main(hold[0]);
	}
	close(hold[0]);
	/* wait until the greedy user holds its flows */
	for (int i = 0; i < 100 && flows_in_table() < SHARE; i++)
		usleep(20000);
	other = fork();
	if (other == 0)
		other_main();
	CHECK(client_wait(other) == 0, "another user could not send");
	CHECK(service_got("other"), "another user's flow did not reach the "
	      "service while one user held its share");
	/* the other user's flow ended with its socket: the greedy user's
	 * share is what is left */
	CHECK(flows_in_table() == SHARE, "%ld flows in the table, want %d",
	      flows_in_table(), SHARE);
	close(hold[1]);
	rc = client_wait(greedy);
	CHECK(rc == SHARE, "the greedy user got %d flows through, its share "
	      "is %d (100: a refusal that was not EPERM)", rc, SHARE);
	CHECK(counter("udp_flows_over_user_share_refused") == SOCKETS - SHARE,
	      "refusals counted");
	CHECK(!lwfp_run("--json", "events", NULL) &&
	      strstr(env.out, "udp_flows_over_user_share_refused") &&
	      strstr(env.out, "\"uid\": 65534,"),
	      "lwfp events does not show the refusals: %s", env.out);
	close(svc);
}

/* One socket, moving its source over 20 loopback addresses: one flow.
 * Reports when it has sent them all, then waits. */
static void mover_main(int report, int hold)
{
	char c;
	int fd;

	attacker_enter();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	for (int i = 2; i < 22; i++)
		if (send_from(fd, htonl(0x7f000000 + i), orig_port, "m"))
			_exit(4);
	(void)!write(report, "s", 1);
	(void)!read(hold, &c, 1);
	_exit(0);
}

static void test_moving_source(void)
{
	int report[2], hold[2], rc;
	pid_t pid;
	char c;

	setup();
	REQUIRE(!pipe(report) && !pipe(hold), "pipes");
	pid = fork();
	if (pid == 0) {
		close(hold[1]);
		mover_main(report[1], hold[0]);
	}
	close(hold[0]);
	CHECK(read(report[0], &c, 1) == 1, "the moving socket sent");
	CHECK(flows_in_table() == 1, "one socket holds %ld flows",
	      flows_in_table());
	close(hold[1]);
	rc = client_wait(pid);
	CHECK(rc == 0, "the moving socket could not send: %d", rc);
	/* its socket is closed now: no flow of it may stay */
	CHECK(flows_in_table() == 0, "%ld flows left by a closed socket",
	      flows_in_table());
	close(report[0]);
	close(report[1]);
	close(svc);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"one user's UDP flows stop at its share; another user's flow "
		"still gets through",
		"a socket moving its source holds one flow, not one per source",
	};
	static const test_fn fns[] = { test_share, test_moving_source };

	env_init(argc, argv, "sshare");
	return run_tests(names, fns, 2);
}
