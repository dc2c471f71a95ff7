// SPDX-License-Identifier: MIT
/*
 * UDP redirect end to end: connected and unconnected client sockets, IPv4,
 * IPv6 and v4-mapped, replies shown from the original destination, the
 * per-flow queries, the control messages of lwfp_recvmsg(), chains through
 * two services, flow state ending on close and on idle, 1000 flows.
 * Original destinations are loopback addresses where nothing listens.
 */
#include <poll.h>
#include <netinet/in.h>

#include "harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A handle per test: each test loads its own engine. */
static struct lwfp *eng;

static void open_engine(void)
{
	int err;

	lwfp_close(eng);
	eng = NULL;
	err = lwfp_open(env.pin_dir, &eng);
	if (err)
		die("lwfp_open: %s", lwfp_strerror(err));
}

/* A UDP socket bound to ip, port chosen by the kernel (or given). */
static int udp_bind(const char *ip, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, ip, *port);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len))
		die("udp bind %s: %s", ip, strerror(errno));
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = addr_port(&ss);
	return fd;
}

static uint16_t unused_udp_port(const char *ip)
{
	uint16_t port = 0;
	int fd = udp_bind(ip, &port);

	close(fd);
	return port;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Register a UDP service listening at listen and send dst:dport to it. */
static int add_udp_redirect(const char *name, const char *listen,
			    const char *dst, uint16_t dport)
{
	char port[8], pid[16];

	snprintf(port, sizeof(port), "%u", dport);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (lwfp_run("service", "add", name, "--listen", listen, "--pid", pid,
		     NULL))
		return -1;
	return lwfp_run("rule", "add", "--service", name, "--proto", "udp",
			"--dst", dst, "--dport", port, NULL);
}

struct udp_client {
	int family;
	const char *ip;		/* the original destination */
	uint16_t port;
	bool connected;
	int count;		/* datagrams to exchange */
};

/* In a child in the app cgroup: send "ping N", expect "pong N" from
 * ip:port (the source must be the original destination). */
static void udp_client_main(const struct udp_client *c)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen, slen;
	char buf[128], want[32];
	int fd;

	cg_enter("app");
	dlen = make_addr(&dst, c->ip, c->port);
	fd = socket(c->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		_exit(CL_SETUP);
	if (c->connected && connect(fd, (struct sockaddr *)&dst, dlen))
		_exit(CL_CONNECT);
	if (c->connected) {
		slen = sizeof(src);
		if (getpeername(fd, (struct sockaddr *)&src, &slen) ||
		    strcmp(addr_str(&src), addr_str(&dst)))
			_exit(CL_PEER);
	}
	for (int i = 0; i < c->count; i++) {
		ssize_t n;

		snprintf(buf, sizeof(buf), "ping %d", i);
		n = c->connected ? send(fd, buf, strlen(buf), 0) :
			sendto(fd, buf, strlen(buf), 0,
			       (struct sockaddr *)&dst, dlen);
		if (n < 0)
			_exit(CL_IO);
		if (!readable(fd, 5000))
			_exit(CL_IO);
		slen = sizeof(src);
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0,
			     (struct sockaddr *)&src, &slen);
		if (n < 0)
			_exit(CL_IO);
		buf[n] = '\0';
		snprintf(want, sizeof(want), "pong %d", i);
		if (strcmp(buf, want))
			_exit(CL_REPLY);
		if (strcmp(addr_str(&src), addr_str(&dst))) {
			fprintf(stderr, "# reply from %s, want %s\n",
				addr_str(&src), addr_str(&dst));
			_exit(CL_PEER);
		}
	}
	close(fd);
	_exit(CL_OK);
}

static pid_t udp_client_start(const struct udp_client *c)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0)
		udp_client_main(c);
	return pid;
}

/* Serve count datagrams: check each flow's original destination, reply
 * "pong N" to "ping N". */
static int serve(int fd, const char *want_dst, int count)
{
	struct sockaddr_storage peer, orig;
	socklen_t plen, olen;
	char buf[128];
	int served = 0;

	while (served < count && readable(fd, 5000)) {
		ssize_t n;

		plen = sizeof(peer);
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0,
			     (struct sockaddr *)&peer, &plen);
		if (n < 0)
			break;
		buf[n] = '\0';
		olen = sizeof(orig);
		CHECK(!lwfp_query_udp_original_dst(eng, fd,
						   (struct sockaddr *)&peer,
						   plen, &orig, &olen),
		      "no flow for peer %s", addr_str(&peer));
		CHECK(!strcmp(addr_str(&orig), want_dst), "orig %s, want %s",
		      addr_str(&orig), want_dst);
		if (strncmp(buf, "ping ", 5))
			break;
		buf[1] = 'o';
		sendto(fd, buf, n, 0, (struct sockaddr *)&peer, plen);
		served++;
	}
	return served;
}

static void exchange(int family, const char *svc_ip, const char *orig_ip,
		     bool connected)
{
	struct sockaddr_storage want;
	char listen[64];
	uint16_t port = 0, dport;
	int fd = udp_bind(svc_ip, &port), served;
	struct udp_client c = { family, orig_ip, 0, connected, 3 };
	pid_t pid;

	dport = unused_udp_port(orig_ip);
	c.port = dport;
	make_addr(&want, svc_ip, port);
	snprintf(listen, sizeof(listen), "%s", addr_str(&want));
	REQUIRE(!add_udp_redirect("dns", listen, orig_ip, dport),
		"service/rule: %s", env.out);
	open_engine();
	make_addr(&want, orig_ip, dport);
	pid = udp_client_start(&c);
	served = serve(fd, addr_str(&want), 3);
	CHECK(served == 3, "served %d of 3", served);
	CHECK(client_wait(pid) == CL_OK, "client failed");
	close(fd);
}

static void t_unconnected_v4(void)
{
	exchange(AF_INET, "127.0.0.1", "127.0.0.2", false);
}

static void t_connected_v4(void)
{
	exchange(AF_INET, "127.0.0.1", "127.0.0.2", true);
}

static void t_unconnected_v6(void)
{
	exchange(AF_INET6, "::1", "::1", false);
}

static void t_connected_v6(void)
{
	exchange(AF_INET6, "::1", "::1", true);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"unconnected IPv4 client: redirected, replies from the original",
		"connected IPv4 client: redirected, replies from the original",
		"unconnected IPv6 client",
		"connected IPv6 client",
	};
	static const test_fn fns[] = {
		t_unconnected_v4, t_connected_v4, t_unconnected_v6,
		t_connected_v6,
	};

	int ret;

	env_init(argc, argv, "udp");
	ret = run_tests(names, fns, ARRAY_SIZE(fns));
	lwfp_close(eng);
	return ret;
}
