// SPDX-License-Identifier: MIT
/*
 * The hand-off survives conntrack NAT. In a private network namespace with
 * an nftables nat table (as Docker or an old REDIRECT setup leaves behind),
 * each redirected connect is made to clash with an existing conntrack entry,
 * so the kernel remaps its source port: the client socket's tuple and the
 * accepted socket's tuple differ. Every flow must still be identified.
 */
#include <sched.h>

#include "harness.h"

static char netns[64];
static struct lwfp *eng;

static void netns_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", netns);
	if (system(cmd))
		printf("# could not delete netns %s\n", netns);
}

/* Enter a fresh namespace with lo up and a nat table: null bindings on
 * every nat hook, so conntrack remaps source ports on tuple clashes. */
static void netns_enter(void)
{
	char cmd[1024];
	int fd;

	snprintf(netns, sizeof(netns), "lwfp-test-nat-%d", getpid());
	snprintf(cmd, sizeof(cmd),
		 "ip netns add %s && ip -n %s link set lo up && "
		 "ip netns exec %s nft -f - <<'EOF'\n"
		 "table ip lwfp_test {\n"
		 " chain out { type nat hook output priority -100; }\n"
		 " chain post { type nat hook postrouting priority 100; }\n"
		 " chain in { type nat hook input priority 100; }\n"
		 "}\nEOF\n",
		 netns, netns, netns);
	atexit(netns_cleanup);
	if (system(cmd))
		die("cannot set up netns %s with a nat table", netns);
	snprintf(cmd, sizeof(cmd), "/run/netns/%s", netns);
	fd = open(cmd, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		die("setns %s: %s", netns, strerror(errno));
	close(fd);
}

static int bound_socket(uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, "127.0.0.1", port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len))
		die("bind 127.0.0.1:%u: %s", port, strerror(errno));
	return fd;
}

/* The clashing client: same local port as the blocker's connection. */
static void clash_client(uint16_t local_port, uint16_t orig_port)
{
	struct sockaddr_storage dst;
	socklen_t len = make_addr(&dst, "127.0.0.1", orig_port);
	int fd;
	char c;

	cg_enter("app");
	fd = bound_socket(local_port);
	if (connect(fd, (struct sockaddr *)&dst, len))
		_exit(CL_CONNECT);
	if (write(fd, "x", 1) != 1 || read(fd, &c, 1) != 1)
		_exit(CL_IO);
	_exit(CL_OK);
}

static void test_nat_clash(void)
{
	enum { FLOWS = 8 };
	uint16_t svc_port, orig_port = unused_port("127.0.0.1");
	struct sockaddr_storage dst, peer;
	socklen_t len;
	int lfd = listen_on("127.0.0.1", &svc_port);
	int identified = 0, remapped = 0;
	char listen[32], dport[8], cg[128], cmd[256];

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	snprintf(cg, sizeof(cg), "%s/svc", env.base);
	REQUIRE(!lwfp_run("service", "add", "natsvc", "--listen", listen,
			  "--cgroup", cg, NULL), "service add");
	REQUIRE(!lwfp_run("rule", "add", "--service", "natsvc", "--dst",
			  "127.0.0.1", "--dport", dport, NULL), "rule add");
	REQUIRE(!lwfp_open(env.pin_dir, &eng), "open engine");
	/* 127.0.0.3:81 -> the service: the blockers' conntrack entries */
	snprintf(cmd, sizeof(cmd), "ip netns exec %s nft add rule ip lwfp_test "
		 "out ip daddr 127.0.0.3 tcp dport 81 dnat to 127.0.0.1:%u",
		 netns, svc_port);
	REQUIRE(!system(cmd), "nft add rule");

	for (int i = 0; i < FLOWS; i++) {
		/* the blocker: reply tuple svc -> P through the DNAT rule */
		int blocker = bound_socket(0), b, a;
		uint16_t p;
		size_t clen = LWFP_CONTEXT_MAX_LEN;
		unsigned char blob[LWFP_CONTEXT_MAX_LEN];
		struct lwfp_context ctx;
		pid_t pid;

		len = sizeof(peer);
		getsockname(blocker, (struct sockaddr *)&peer, &len);
		p = addr_port(&peer);
		len = make_addr(&dst, "127.0.0.3", 81);
		REQUIRE(!connect(blocker, (struct sockaddr *)&dst, len),
			"blocker connect: %s", strerror(errno));
		b = accept_timeout(lfd, 3000);
		REQUIRE(b >= 0, "blocker not accepted");

		pid = fork();
		if (pid == 0)
			clash_client(p, orig_port);
		a = accept_timeout(lfd, 5000);
		REQUIRE(a >= 0, "redirected client not accepted");
		len = sizeof(peer);
		getpeername(a, (struct sockaddr *)&peer, &len);
		remapped += addr_port(&peer) != p;
		if (!lwfp_query_context(eng, a, blob, &clen) &&
		    !lwfp_context_decode(blob, clen, &ctx) &&
		    ctx.pid == (uint32_t)pid &&
		    addr_port(&ctx.orig_dst) == orig_port)
			identified++;
		{
			char c;

			CHECK(read(a, &c, 1) == 1 && write(a, "y", 1) == 1,
			      "relay");
		}
		CHECK(client_wait(pid) == 0, "client %d", i);
		close(a);
		close(b);
		close(blocker);
	}
	CHECK(remapped == FLOWS,
	      "only %d of %d flows had their source port remapped: the "
	      "clash was not forced", remapped, FLOWS);
	CHECK(identified == FLOWS, "%d of %d flows identified", identified,
	      FLOWS);
	printf("# %d/%d remapped by NAT, %d/%d identified\n", remapped, FLOWS,
	       identified, FLOWS);
	lwfp_close(eng);
	close(lfd);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"hand-off survives a conntrack source-port remap",
	};
	static const test_fn fns[] = { test_nat_clash };

	env_init(argc, argv, "nat");
	netns_enter();
	return run_tests(names, fns, 1);
}
