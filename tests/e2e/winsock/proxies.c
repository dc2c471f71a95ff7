// SPDX-License-Identifier: MIT
/* The Winsock examples as the redirect services of real clients, TCP and UDP. */
#include "ws_test.h"

/* ---- the example, as the redirect service of a real client ------------ */

/* A line from fd within ms, or false. */
bool read_line(int fd, char *buf, size_t len, int ms)
{
	size_t have = 0;

	while (have + 1 < len) {
		/* poll(), not select(): a pipe, and no Winsock session */
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, ms) != 1 || read(fd, buf + have, 1) != 1)
			break;
		if (buf[have] == '\n') {
			buf[have] = '\0';
			return true;
		}
		have++;
	}
	buf[have] = '\0';
	return false;
}

/* Example name, exiting after count flows, its output on *out: its
 * pid, or -1 with *port 0 if it did not start. */
static pid_t example_start(const char *name, const char *count, int *out,
			   uint16_t *port)
{
	const char *slash = strrchr(env.lwfp, '/');
	char proxy[PATH_MAX], line[512], want[64];
	int p[2];
	pid_t pid;

	*port = 0;
	snprintf(proxy, sizeof(proxy), "%.*s/examples/%s",
		 slash ? (int)(slash - env.lwfp) : 1, slash ? env.lwfp : ".",
		 name);
	if (access(proxy, X_OK) || pipe(p)) {
		CHECK(0, "%s missing", proxy);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		setenv(LWFP_PIN_DIR_ENV, env.pin_dir, 1);
		execl(proxy, name, "--count", count, "127.0.0.1", "0", NULL);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	snprintf(want, sizeof(want), "%s: listening on 127.0.0.1:%%hu", name);
	CHECK(read_line(p[0], line, sizeof(line), 10000) &&
	      sscanf(line, want, port) == 1, "proxy ready: %s", line);
	if (!*port) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(p[0]);
		return -1;
	}
	return pid;
}

/* The proxy as service "wproxy" for connects to orig_port, with the
 * example's context layout if it has one (examples/NAME.layout). Not
 * exempt: only the records keep its own connect from looping. */
static void proxy_register(uint16_t proxy_port, uint16_t orig_port,
			   const char *example)
{
	char listen[32], dport[8], layout[PATH_MAX];
	bool has_layout;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", proxy_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	CHECK(!lwfp_run("service", "add", "wproxy", "--listen", listen, NULL),
	      "service add");
	snprintf(layout, sizeof(layout), "examples/%s.layout", example);
	has_layout = access(layout, R_OK) == 0;
	CHECK(!lwfp_run("rule", "add", "--service", "wproxy", "--dst",
			"127.0.0.1/32", "--dport", dport, "--context",
			rule_ctx, has_layout ? "--context-layout" : NULL,
			layout, NULL), "rule add");
}

static void proxy_wait(pid_t pid, int out)
{
	int rc;

	if (waitpid(pid, &rc, 0) == pid)
		CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
		      "proxy exit %#x", rc);
	close(out);
}

/* At the origin: "ping" from the proxy's connection, "pong:ping" back. */
static void origin_answer(int origin)
{
	int o = accept_timeout(origin, 10000);
	char got[16];
	ssize_t n;

	CHECK(o >= 0, "the proxy reached the origin");
	if (o < 0)
		return;
	n = read(o, got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(got, "ping"), "origin got %s", got);
	CHECK(write(o, "pong:ping", 9) == 9, "origin reply");
	close(o);
}

/* Example relays a real client's flow to its original destination, with
 * the records, and prints a line naming it. */
static void relay_one_flow(const char *example)
{
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .comm = "ws-client",
			    .send = "ping", .expect = "pong:ping",
			    .check_peer = true };
	int origin = listen_on("127.0.0.1", &c.port), out, rc;
	char line[512], want[160];
	uint16_t proxy_port;
	pid_t pid, cpid;

	pid = example_start(example, "1", &out, &proxy_port);
	if (pid < 0)
		goto no_proxy;
	proxy_register(proxy_port, c.port, example);
	cpid = client_start(&c);
	origin_answer(origin);
	rc = client_wait(cpid);
	CHECK(rc == 0, "client exit %d", rc);
	CHECK(read_line(out, line, sizeof(line), 10000), "flow line");
	printf("# %s\n", line);
	/* what the context said, in the example's own struct or the TLV */
	snprintf(want, sizeof(want), "flow 1: pid %d comm \"ws-client\" uid 0 "
		 "-> 127.0.0.1:%u ", cpid, c.port);
	CHECK(strstr(line, want), "flow line names the client and "
	      "destination: %s", line);
	CHECK(strstr(line, " 40 bytes of records") &&
	      strstr(line, "4 bytes up, 9 bytes down"),
	      "records and bytes both ways: %s", line);
	proxy_wait(pid, out);
no_proxy:
	close(origin);
}

void test_winsock_proxy(void)
{
	relay_one_flow("winsock-proxy");
}

/* winsock-iocp-proxy (completion port, AcceptEx, ConnectEx) too. */
void test_winsock_iocp_proxy(void)
{
	relay_one_flow("winsock-iocp-proxy");
}

/* winsock-eventselect-proxy: WSAEventSelect, one thread. */
void test_winsock_eventselect_proxy(void)
{
	relay_one_flow("winsock-eventselect-proxy");
}

/* And winsock-thread-proxy, C++, a thread per connection. */
void test_winsock_thread_proxy(void)
{
	relay_one_flow("winsock-thread-proxy");
}

static void enter_app(void)
{
	cg_enter("app");
}

/* A client that keeps its flow open and silent holds up nobody else. */
void test_winsock_proxy_concurrent(void)
{
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .comm = "ws-client",
			    .send = "ping", .expect = "pong:ping" };
	int origin = listen_on("127.0.0.1", &c.port), out, held, rc;
	uint16_t proxy_port;
	pid_t pid, silent, cpid;

	pid = example_start("winsock-proxy", "2", &out, &proxy_port);
	if (pid < 0)
		goto no_proxy;
	proxy_register(proxy_port, c.port, "winsock-proxy");
	silent = silent_client(c.port, enter_app);
	held = accept_timeout(origin, 10000);
	CHECK(held >= 0, "the silent client's flow reached the origin");

	cpid = client_start(&c);
	origin_answer(origin);
	rc = client_wait(cpid);
	CHECK(rc == 0, "the second client waited on the first: exit %d", rc);

	silent_client_end(silent);
	if (held >= 0)
		close(held);
	proxy_wait(pid, out);
no_proxy:
	close(origin);
}

/* ---- the UDP example, as the redirect service of a real client -------- */

/* A client in "app": "one", then "two" to dst, each echoed back to it
 * from dst. */
void echo_client_main(const struct sockaddr_storage *dst,
			     socklen_t dst_len)
{
	static const char *const msgs[] = { "one", "two" };
	struct sockaddr_storage src;
	socklen_t slen;
	char buf[64];
	ssize_t n;
	int fd;

	cg_enter("app");
	prctl(PR_SET_NAME, "ws-udp-echo");
	fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		_exit(CL_SETUP);
	for (size_t i = 0; i < ARRAY_SIZE(msgs); i++) {
		if (sendto(fd, msgs[i], strlen(msgs[i]), 0,
			   (const struct sockaddr *)dst, dst_len) < 0)
			_exit(CL_IO);
		/* if the test dies, the client must not wait forever */
		if (!readable_in(fd, 20000))
			_exit(CL_IO);
		slen = sizeof(src);
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0,
			     (struct sockaddr *)&src, &slen);
		if (n < 0)
			_exit(CL_IO);
		buf[n] = '\0';
		if (strcmp(buf, msgs[i]))
			_exit(CL_REPLY);
		if (strcmp(addr_str(&src), addr_str(dst)))
			_exit(CL_PEER);
	}
	_exit(CL_OK);
}

/* A flow whose rule has no layout brings lwfp's TLV: the UDP proxy,
 * which reads its own struct, refuses it by its size (from socket s). */
static void no_layout_refused(int out, int s)
{
	struct sockaddr_storage dst;
	uint16_t port = unused_udp_port("127.0.0.2");
	socklen_t len = make_addr(&dst, "127.0.0.2", port);
	char dport[8], line[512];

	snprintf(dport, sizeof(dport), "%u", port);
	CHECK(!lwfp_run("rule", "add", "--service", "wudp", "--proto", "udp",
			"--dst", "127.0.0.2/32", "--dport", dport, NULL),
	      "rule add without a layout: %s", env.out);
	CHECK(sendto(s, "tlv", 3, 0, (struct sockaddr *)&dst, len) == 3,
	      "send");
	CHECK(read_line(out, line, sizeof(line), 10000) &&
	      strstr(line, "bytes is not ours (give the rule "
		     "--context-layout winsock-udp-proxy.layout)"),
	      "a TLV context refused: %s", line);
}

/*
 * build/examples/winsock-udp-proxy (exempt by --pid) between a client and
 * an echo at 127.0.0.2: the echoes reach the client from 127.0.0.2, the
 * origin sees the proxy's outbound socket, and the proxy logs the flow
 * from its own context struct (examples/winsock-udp-proxy.layout, whose
 * client it checks against the datagram's source), then its end (idle
 * after 1 s) with the bytes.
 */
void test_winsock_udp_proxy(void)
{
	char proxy[PATH_MAX], line[512], listen[32], dport[8], pid_s[16];
	char want[160], echo[64];
	struct sockaddr_storage orig, src[2], direct;
	socklen_t orig_len, len;
	uint16_t orig_port, proxy_port = 0, client_port = 0, via_port = 0;
	const char *slash = strrchr(env.lwfp, '/'), *via;
	int origin, p[2] = { -1, -1 }, d = -1, rc;
	pid_t pid = -1, cpid = -1, client_pid = 0;
	ssize_t n;

	origin = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	orig_len = make_addr(&orig, "127.0.0.2", 0);
	REQUIRE_OR(out, origin >= 0 &&
		   !bind(origin, (struct sockaddr *)&orig, orig_len),
		   "origin at 127.0.0.2: %s", strerror(errno));
	len = sizeof(orig);
	getsockname(origin, (struct sockaddr *)&orig, &len);
	orig_port = addr_port(&orig);

	snprintf(proxy, sizeof(proxy), "%.*s/examples/winsock-udp-proxy",
		 slash ? (int)(slash - env.lwfp) : 1, slash ? env.lwfp : ".");
	REQUIRE_OR(out, access(proxy, X_OK) == 0, "%s missing", proxy);
	REQUIRE_OR(out, pipe(p) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		setenv(LWFP_PIN_DIR_ENV, env.pin_dir, 1);
		/* one flow, ended after 1 s idle */
		execl(proxy, "winsock-udp-proxy", "127.0.0.1", "0", "1", "1",
		      NULL);
		_exit(127);
	}
	close(p[1]);
	p[1] = -1;
	REQUIRE_OR(out, pid > 0, "fork");
	CHECK(read_line(p[0], line, sizeof(line), 10000) &&
	      sscanf(line, "winsock-udp-proxy: listening on 127.0.0.1:%hu",
		     &proxy_port) == 1, "proxy ready: %s", line);
	if (!proxy_port)
		goto out;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", proxy_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	REQUIRE_OR(out, !lwfp_run("service", "add", "wudp", "--listen",
				  listen, "--proto", "udp", "--pid", pid_s,
				  NULL), "service add");
	/* the example reads its own context struct */
	REQUIRE_OR(out, !lwfp_run("rule", "add", "--service", "wudp",
				  "--proto", "udp", "--dst", "127.0.0.2/32",
				  "--dport", dport, "--context", rule_ctx,
				  "--context-layout",
				  "examples/winsock-udp-proxy.layout", NULL),
		   "rule add: %s", env.out);

	/* a datagram sent to the proxy directly is no flow: dropped */
	d = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	make_addr(&direct, "127.0.0.1", proxy_port);
	CHECK(d >= 0 && sendto(d, "direct", 6, 0, (struct sockaddr *)&direct,
			       sizeof(struct sockaddr_in)) == 6, "direct send");
	CHECK(read_line(p[0], line, sizeof(line), 10000) &&
	      strstr(line, ": not a redirected flow, 6 bytes dropped"),
	      "direct datagram dropped: %s", line);
	no_layout_refused(p[0], d);

	cpid = fork();
	if (cpid == 0)
		echo_client_main(&orig, orig_len);
	REQUIRE_OR(out, cpid > 0, "fork");
	client_pid = cpid;

	/* the origin echoes each datagram to where it came from */
	for (int i = 0; i < 2; i++) {
		len = sizeof(src[i]);
		n = -1;
		if (readable_in(origin, 10000))
			n = recvfrom(origin, echo, sizeof(echo) - 1, 0,
				     (struct sockaddr *)&src[i], &len);
		REQUIRE_OR(out, n > 0, "datagram %d reached the origin",
			   i + 1);
		echo[n] = '\0';
		CHECK(!strcmp(echo, i ? "two" : "one"), "origin got %s",
		      echo);
		CHECK(sendto(origin, echo, n, 0, (struct sockaddr *)&src[i],
			     len) == n, "echo %d", i + 1);
	}
	rc = client_wait(cpid);
	cpid = -1;
	CHECK(rc == 0, "client exit %d (echoes from 127.0.0.2:%u)", rc,
	      orig_port);

	/* the new flow, from the context the first datagram came with */
	CHECK(read_line(p[0], line, sizeof(line), 10000), "flow line");
	printf("# %s\n", line);
	CHECK(sscanf(line, "winsock-udp-proxy: flow 1: 127.0.0.1:%hu -> ",
		     &client_port) == 1, "flow 1, its client: %s", line);
	snprintf(want, sizeof(want), " -> 127.0.0.2:%u pid %d comm "
		 "ws-udp-echo uid 0 rule ", orig_port, client_pid);
	CHECK(strstr(line, want), "the destination and the client process "
	      "from its own context struct: %s", line);
	CHECK(strstr(line, ", 40 bytes of records, 88 bytes of context") &&
	      strstr(line, "first datagram 3 bytes"), "records: %s", line);
	via = strstr(line, ", via port ");
	CHECK(via && sscanf(via, ", via port %hu", &via_port) == 1 &&
	      via_port != proxy_port, "the outbound socket: %s", line);
	/* the origin heard the outbound socket, not the service port */
	for (int i = 0; i < 2; i++)
		CHECK(src[i].ss_family == AF_INET &&
		      ((struct sockaddr_in *)&src[i])->sin_addr.s_addr ==
		      htonl(INADDR_LOOPBACK) &&
		      addr_port(&src[i]) == via_port &&
		      addr_port(&src[i]) != proxy_port,
		      "datagram %d came from %s, via port %u, service "
		      "port %u", i + 1, addr_str(&src[i]), via_port,
		      proxy_port);

	/* idle for 1 s: the flow ends with its bytes, the proxy exits */
	CHECK(read_line(p[0], line, sizeof(line), 10000), "end line");
	printf("# %s\n", line);
	snprintf(want, sizeof(want), "winsock-udp-proxy: flow 1 ended (idle): "
		 "127.0.0.1:%u -> 127.0.0.2:%u, 6 bytes up, 6 bytes down",
		 client_port, orig_port);
	CHECK(!strcmp(line, want), "end line: %s, want %s", line, want);
	for (int ms = 0; ms < 10000 && pid > 0; ms += 10) {
		if (waitpid(pid, &rc, WNOHANG) == pid)
			pid = -1;
		else
			usleep(10000);
	}
	CHECK(pid < 0 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
	      "proxy exit %#x", pid < 0 ? rc : -1);
out:
	if (cpid > 0) {
		kill(cpid, SIGKILL);
		waitpid(cpid, NULL, 0);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	if (d >= 0)
		close(d);
	if (origin >= 0)
		close(origin);
}
