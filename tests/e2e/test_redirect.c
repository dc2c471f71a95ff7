// SPDX-License-Identifier: MIT
/*
 * The engine end to end: real connects from processes in a test cgroup,
 * redirected to a service (this process) that reads records and context
 * through liblwfp. IPv4, IPv6, v4-mapped, concurrency, scoping, loops.
 */
#include <pthread.h>
#include <time.h>
#include <bpf/bpf.h>

#include "harness.h"

static struct lwfp *eng;
static char svc_listen[64], svc_port_s[8];

static void open_engine(void)
{
	int err = lwfp_open(env.pin_dir, &eng);

	if (err)
		die("lwfp_open: %s", lwfp_strerror(err));
}

/* A service on ip exempt by our cgroup, a rule for dst:dport to it. */
static int add_redirect(const char *name, const char *ip, uint16_t *svc_port,
			const char *dst, uint16_t dport, const char *ctx)
{
	char dport_s[8], cg[128];
	int lfd = listen_on(ip, svc_port);

	snprintf(svc_listen, sizeof(svc_listen),
		 strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, *svc_port);
	snprintf(svc_port_s, sizeof(svc_port_s), "%u", *svc_port);
	snprintf(dport_s, sizeof(dport_s), "%u", dport);
	snprintf(cg, sizeof(cg), "%s/svc", env.base);
	if (lwfp_run("service", "add", name, "--listen", svc_listen,
		     "--cgroup", cg, NULL))
		die("service add failed");
	if (lwfp_run("rule", "add", "--service", name, "--dst", dst, "--dport",
		     dport_s, ctx ? "--context" : NULL, ctx, NULL))
		die("rule add failed");
	open_engine();
	return lfd;
}

static void close_engine(void)
{
	lwfp_close(eng);
	eng = NULL;
}

static __u64 stat_of(const char *name)
{
	lwfp_run("--json", "status", NULL);
	return json_int(name);
}

/* Accept one flow, check its records and context, echo "pong:<data>". */
struct seen {
	struct lwfp_context ctx;
	unsigned char blob[LWFP_CONTEXT_MAX_LEN];
	unsigned char rec[LWFP_RECORDS_LEN];
	char data[64];
	int err;
};

static int serve_one(int lfd, struct seen *s)
{
	size_t len = sizeof(s->blob), rlen = sizeof(s->rec);
	char reply[96];
	ssize_t n;
	int c = accept_timeout(lfd, 5000);

	memset(s, 0, sizeof(*s));
	if (c < 0)
		return s->err = -ETIMEDOUT;
	s->err = lwfp_query_records(eng, c, s->rec, &rlen);
	if (!s->err)
		s->err = lwfp_query_context(eng, c, s->blob, &len);
	if (!s->err)
		s->err = lwfp_context_decode(s->blob, len, &s->ctx);
	n = read(c, s->data, sizeof(s->data) - 1);
	s->data[n > 0 ? n : 0] = '\0';
	snprintf(reply, sizeof(reply), "pong:%s", s->data);
	if (write(c, reply, strlen(reply)) < 0)
		s->err = -errno;
	close(c);
	return s->err;
}

static __u64 cgroup_id_of(const char *sub)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh.handle_bytes = 8 };
	char p[PATH_MAX];
	int mnt;

	cg_path(p, sizeof(p), sub);
	if (name_to_handle_at(AT_FDCWD, p, &h.fh, &mnt, 0))
		return 0;
	return h.id;
}

/* One client, one flow, every context field checked. */
static void one_flow(int family, const char *svc_ip, const char *orig_ip,
		     const char *dst_cidr)
{
	static const char rule_ctx[] = "tenant=blue; policy=inspect";
	uint16_t orig_port = unused_port(strchr(svc_ip, ':') ? "::1" : "127.0.0.1");
	uint16_t svc_port;
	struct sockaddr_storage want;
	struct client c = { .cgroup = "app", .family = family, .ip = orig_ip,
			    .port = orig_port, .comm = "lwfp-client",
			    .send = "ping", .expect = "pong:ping",
			    .check_peer = true };
	struct seen s;
	time_t now = time(NULL);
	int lfd = add_redirect("svc", svc_ip, &svc_port, dst_cidr, orig_port,
			       rule_ctx);
	pid_t pid = client_start(&c);
	int rc;

	serve_one(lfd, &s);
	rc = client_wait(pid);
	CHECK(rc == 0, "client exit %d", rc);
	REQUIRE(s.err == 0, "service side: %s", lwfp_strerror(s.err));
	make_addr(&want, orig_ip, orig_port);
	CHECK(!strcmp(addr_str(&s.ctx.orig_dst), addr_str(&want)),
	      "orig %s, want %s", addr_str(&s.ctx.orig_dst), addr_str(&want));
	CHECK(s.ctx.protocol == IPPROTO_TCP, "proto %d", s.ctx.protocol);
	CHECK(s.ctx.pid == (uint32_t)pid, "pid %u, want %d", s.ctx.pid, pid);
	CHECK(s.ctx.uid == 0 && s.ctx.gid == 0, "uid %u gid %u", s.ctx.uid,
	      s.ctx.gid);
	CHECK(!strcmp(s.ctx.comm, "lwfp-client"), "comm %s", s.ctx.comm);
	CHECK(s.ctx.cgroup_id == cgroup_id_of("app"), "cgroup id %llu",
	      (unsigned long long)s.ctx.cgroup_id);
	CHECK(s.ctx.rule_id == 1, "rule id %u", s.ctx.rule_id);
	CHECK(!strcmp(s.ctx.service, "svc"), "service %s", s.ctx.service);
	CHECK(s.ctx.timestamp_ns / 1000000000ull + 5 >= (uint64_t)now &&
	      s.ctx.timestamp_ns / 1000000000ull <= (uint64_t)now + 5,
	      "timestamp %llu", (unsigned long long)s.ctx.timestamp_ns);
	CHECK(s.ctx.rule_context_len == strlen(rule_ctx) &&
	      !memcmp(s.ctx.rule_context, rule_ctx, strlen(rule_ctx)),
	      "rule context");
	CHECK(!strcmp(s.data, "ping"), "data %s", s.data);
	CHECK(stat_of("redirected") == 1 && stat_of("handed_off") == 1,
	      "counters");
	close(lfd);
	close_engine();
}

static void test_ipv4(void)
{
	one_flow(AF_INET, "127.0.0.1", "127.0.0.1", "127.0.0.0/8");
}

static void test_ipv6(void)
{
	one_flow(AF_INET6, "::1", "::1", "::1/128");
}

/* An IPv6 socket to an IPv4-mapped address, served by an IPv4 service. */
static void test_v4_mapped(void)
{
	one_flow(AF_INET6, "127.0.0.1", "::ffff:127.0.0.1", "127.0.0.1/32");
}

/* An IPv6 client redirected to an IPv4-only service, through v4-mapping. */
static void test_ipv6_client_ipv4_service(void)
{
	one_flow(AF_INET6, "127.0.0.1", "::1", "::1/128");
}

/* Buffer sizes, unredirected sockets, wrong descriptors. */
static void test_query_errors(void)
{
	uint16_t orig = unused_port("127.0.0.1"), svc_port;
	unsigned char small[4];
	size_t len;
	int lfd = add_redirect("svc", "127.0.0.1", &svc_port, "127.0.0.1/32",
			       orig, "x");
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .port = orig, .send = "hold",
			    .expect = "bye" };
	pid_t pid = client_start(&c);
	int a = accept_timeout(lfd, 5000), p[2], u, direct, d;

	REQUIRE(a >= 0, "no redirected connection");
	len = 0;
	CHECK(lwfp_query_context(eng, a, NULL, &len) == -ERANGE && len > 60,
	      "size query: len %zu", len);
	len = sizeof(small);
	CHECK(lwfp_query_context(eng, a, small, &len) == -ERANGE && len > 60,
	      "small buffer: len %zu", len);
	len = sizeof(small);
	CHECK(lwfp_query_records(eng, a, small, &len) == -ERANGE &&
	      len == LWFP_RECORDS_LEN, "records small buffer: len %zu", len);
	CHECK(write(a, "bye", 3) == 3, "write");
	CHECK(client_wait(pid) == 0, "client");

	/* a connection that was not redirected: this process is exempt */
	direct = connect_to(AF_INET, "127.0.0.1", svc_port);
	d = accept_timeout(lfd, 5000);
	len = sizeof(small);
	CHECK(d >= 0 && lwfp_query_context(eng, d, small, &len) == -ENODATA,
	      "direct connection must have no context");
	CHECK(pipe(p) == 0, "pipe");
	len = sizeof(small);
	CHECK(lwfp_query_records(eng, p[0], small, &len) == -ENOTSOCK,
	      "pipe");
	u = socket(AF_INET, SOCK_STREAM, 0);
	len = sizeof(small);
	CHECK(lwfp_query_records(eng, u, small, &len) == -ENOTCONN,
	      "unconnected socket");
	CHECK(lwfp_query_records(eng, 1000000, small, &len) == -EBADF, "bad fd");
	CHECK(lwfp_set_records(eng, a, small, sizeof(small)) == -EINVAL,
	      "records of the wrong size");
	close(p[0]);
	close(p[1]);
	close(u);
	close(a);
	close(d);
	close(direct);
	close(lfd);
	close_engine();
}

/* Many clients at once: every accepted socket names its own client. */
static void test_concurrent(void)
{
	enum { N = 64 };
	uint16_t orig = unused_port("127.0.0.1"), svc_port;
	int lfd = add_redirect("svc", "127.0.0.1", &svc_port, "127.0.0.1/32",
			       orig, NULL);
	char sends[N][16];
	pid_t pids[N];
	int matched = 0;

	for (int i = 0; i < N; i++) {
		struct client c = { .cgroup = "app", .family = AF_INET,
				    .ip = "127.0.0.1", .port = orig,
				    .send = sends[i], .expect = "pong:",
				    .check_peer = true };

		snprintf(sends[i], sizeof(sends[i]), "client-%d", i);
		pids[i] = client_start(&c);
	}
	for (int i = 0; i < N; i++) {
		struct seen s;

		if (serve_one(lfd, &s))
			continue;
		for (int k = 0; k < N; k++)
			if (pids[k] == (pid_t)s.ctx.pid &&
			    !strcmp(s.data, sends[k]))
				matched++;
	}
	for (int i = 0; i < N; i++)
		CHECK(client_wait(pids[i]) == 0, "client %d", i);
	CHECK(matched == N, "%d of %d flows identified", matched, N);
	close(lfd);
	close_engine();
}

/*
 * A service's outbound socket carrying the flow's records goes to the
 * original destination, not back to the service; without records it
 * would loop back to the service (this one is not exempt by pid/cgroup).
 */
static void test_records_prevent_loop(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int lfd = listen_on("127.0.0.1", &svc_port), a, out, loop, o;
	char listen[32], dport[8];
	unsigned char rec[LWFP_RECORDS_LEN], junk[LWFP_RECORDS_LEN] = { 1 };
	size_t rlen = sizeof(rec);
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .port = orig_port,
			    .send = "hello", .expect = "bye" };
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	REQUIRE(!lwfp_run("service", "add", "loopy", "--listen", listen, NULL),
		"service add");
	REQUIRE(!lwfp_run("rule", "add", "--service", "loopy", "--dst",
			  "127.0.0.1", "--dport", dport, NULL), "rule add");
	open_engine();
	pid = client_start(&c);
	a = accept_timeout(lfd, 5000);
	REQUIRE(a >= 0, "client not redirected");
	CHECK(!lwfp_query_records(eng, a, rec, &rlen), "records");
	CHECK(!lwfp_query_original_dst(eng, a, &dst, &dlen) &&
	      addr_port(&dst) == orig_port, "original destination");

	/* with records: straight to the origin */
	out = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(lwfp_set_records(eng, out, junk, sizeof(junk)) == -EINVAL,
	      "junk records refused");
	CHECK(!lwfp_set_records(eng, out, rec, rlen), "set records");
	CHECK(!connect(out, (struct sockaddr *)&dst, dlen), "connect out");
	o = accept_timeout(origin, 3000);
	CHECK(o >= 0, "the outbound connection must reach the origin");
	CHECK(lwfp_set_records(eng, out, rec, rlen) == -EISCONN,
	      "records on a connected socket");
	CHECK(stat_of("skipped_already_in_chain") == 1, "chain counter");

	/* without: this service's own rule catches it again */
	loop = connect_to(AF_INET, "127.0.0.1", orig_port);
	CHECK(loop >= 0, "connect without records");
	{
		int again = accept_timeout(lfd, 3000);

		CHECK(again >= 0, "without records the connect loops back");
		if (again >= 0)
			close(again);
	}
	CHECK(write(a, "bye", 3) == 3, "reply");
	CHECK(client_wait(pid) == 0, "client");
	close(loop);
	close(o);
	close(out);
	close(a);
	close(lfd);
	close(origin);
	close_engine();
}

/* A service registered by pid: that process's connects go direct. */
static void test_own_pid_exempt(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int lfd = listen_on("127.0.0.1", &svc_port), mine, o;
	char listen[32], dport[8], pid_s[16];
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .port = orig_port,
			    .send = "x", .expect = "pong:x" };
	struct seen s;
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	snprintf(pid_s, sizeof(pid_s), "%d", getpid());
	REQUIRE(!lwfp_run("service", "add", "bypid", "--listen", listen,
			  "--pid", pid_s, NULL), "service add");
	REQUIRE(!lwfp_run("rule", "add", "--service", "bypid", "--dport",
			  dport, NULL), "rule add");
	open_engine();
	mine = connect_to(AF_INET, "127.0.0.1", orig_port);
	o = accept_timeout(origin, 3000);
	CHECK(mine >= 0 && o >= 0, "own connect must reach the origin");
	CHECK(stat_of("skipped_own_process") == 1, "counter");
	pid = client_start(&c);
	CHECK(serve_one(lfd, &s) == 0, "other process must be redirected");
	CHECK(client_wait(pid) == 0, "client");
	close(mine);
	close(o);
	close(lfd);
	close(origin);
	close_engine();
}

/* --uid and --cgroup narrow a rule to some processes. */
static void scoped(const char *opt, const char *val, struct client *in,
		   struct client *out)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int lfd = listen_on("127.0.0.1", &svc_port), o;
	char listen[32], dport[8], cg[128];
	struct seen s;
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(dport, sizeof(dport), "%u", orig_port);
	snprintf(cg, sizeof(cg), "%s/svc", env.base);
	REQUIRE(!lwfp_run("service", "add", "scoped", "--listen", listen,
			  "--cgroup", cg, NULL), "service add");
	REQUIRE(!lwfp_run("rule", "add", "--service", "scoped", "--dport",
			  dport, opt, val, NULL), "rule add %s %s", opt, val);
	open_engine();
	in->port = out->port = orig_port;
	pid = client_start(out);
	o = accept_timeout(origin, 3000);
	CHECK(o >= 0, "out-of-scope client must reach the origin");
	if (o >= 0) {
		CHECK(write(o, "pong:", 5) == 5, "origin reply");
		close(o);
	}
	CHECK(client_wait(pid) == 0, "out-of-scope client");
	pid = client_start(in);
	CHECK(serve_one(lfd, &s) == 0, "in-scope client must be redirected");
	CHECK(client_wait(pid) == 0, "in-scope client");
	close(lfd);
	close(origin);
	close_engine();
}

static void test_uid_scope(void)
{
	struct client in = { .cgroup = "app", .family = AF_INET,
			     .ip = "127.0.0.1", .uid = 65534, .send = "u",
			     .expect = "pong:u" };
	struct client out = { .cgroup = "app", .family = AF_INET,
			      .ip = "127.0.0.1", .send = "u",
			      .expect = "pong:" };

	scoped("--uid", "65534", &in, &out);
}

static void test_cgroup_scope(void)
{
	struct client in = { .cgroup = "app2", .family = AF_INET,
			     .ip = "127.0.0.1", .send = "c",
			     .expect = "pong:c" };
	struct client out = { .cgroup = "app", .family = AF_INET,
			      .ip = "127.0.0.1", .send = "c",
			      .expect = "pong:" };
	char cg[128];
	char p[PATH_MAX];

	cg_path(p, sizeof(p), "app2");
	mkdir(p, 0755);
	snprintf(cg, sizeof(cg), "%s/app2", env.base);
	scoped("--cgroup", cg, &in, &out);
}

/* A flow keeps the context it got when its rule is replaced. */
static void test_context_survives_rule_change(void)
{
	uint16_t orig = unused_port("127.0.0.1"), svc_port;
	int lfd = add_redirect("svc", "127.0.0.1", &svc_port, "127.0.0.1/32",
			       orig, "first");
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .port = orig, .send = "k",
			    .expect = "bye" };
	unsigned char blob[LWFP_CONTEXT_MAX_LEN];
	struct lwfp_context ctx;
	size_t len = sizeof(blob);
	pid_t pid = client_start(&c);
	int a = accept_timeout(lfd, 5000);
	char dport[8];

	REQUIRE(a >= 0, "not redirected");
	snprintf(dport, sizeof(dport), "%u", orig);
	CHECK(!lwfp_run("rule", "del", "1", NULL), "rule del");
	CHECK(!lwfp_run("rule", "add", "--service", "svc", "--dport", dport,
			"--context", "second", NULL), "rule add");
	CHECK(!lwfp_query_context(eng, a, blob, &len) &&
	      !lwfp_context_decode(blob, len, &ctx) &&
	      ctx.rule_context_len == 5 &&
	      !memcmp(ctx.rule_context, "first", 5) && ctx.rule_id == 1,
	      "context must be the one the flow got");
	CHECK(write(a, "bye", 3) == 3, "reply");
	CHECK(client_wait(pid) == 0, "client");
	close(a);
	close(lfd);
	close_engine();
}

/* `lwfp flows` shows a live flow with its client and chain. */
static void test_flows_listing(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int lfd = add_redirect("svc", "127.0.0.1", &svc_port, "127.0.0.1/32",
			       orig_port, NULL);
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .port = orig_port,
			    .comm = "flowclient", .send = "f", .expect = "bye" };
	unsigned char rec[LWFP_RECORDS_LEN];
	size_t rlen = sizeof(rec);
	struct sockaddr_storage dst;
	socklen_t dlen;
	pid_t pid = client_start(&c);
	int a = accept_timeout(lfd, 5000), out, o;
	char want[64];

	REQUIRE(a >= 0, "not redirected");
	CHECK(!lwfp_run("--json", "flows", NULL), "flows");
	snprintf(want, sizeof(want), "\"pid\": %d", pid);
	CHECK(strstr(env.out, want) && strstr(env.out, "\"flowclient\"") &&
	      strstr(env.out, "\"svc\""), "flows: %s", env.out);
	lwfp_query_records(eng, a, rec, &rlen);
	lwfp_query_original_dst(eng, a, &dst, &dlen);
	out = socket(AF_INET, SOCK_STREAM, 0);
	lwfp_set_records(eng, out, rec, rlen);
	CHECK(!connect(out, (struct sockaddr *)&dst, dlen), "connect out");
	o = accept_timeout(origin, 3000);
	CHECK(!lwfp_run("--json", "flows", NULL), "flows");
	CHECK(strstr(env.out, "\"origin\""), "chain ends at origin: %s",
	      env.out);
	CHECK(write(a, "bye", 3) == 3, "reply");
	CHECK(client_wait(pid) == 0, "client");
	close(o);
	close(out);
	close(a);
	close(lfd);
	close(origin);
	close_engine();
}

/* getsockopt(SO_ORIGINAL_DST) as an unmodified transparent proxy calls it. */
static void original_dst(const char *ip, int level)
{
	uint16_t orig = unused_port(ip), svc_port;
	int lfd = add_redirect("svc", ip, &svc_port, ip, orig, NULL);
	struct client c = { .cgroup = "app", .family = level == SOL_IP ?
			    AF_INET : AF_INET6, .ip = ip, .port = orig,
			    .send = "o", .expect = "bye" };
	struct sockaddr_storage got, want;
	socklen_t len, want_len = make_addr(&want, ip, orig);
	pid_t pid = client_start(&c);
	int a = accept_timeout(lfd, 5000), direct, d, other, err_direct;

	REQUIRE(a >= 0, "not redirected");
	memset(&got, 0xaa, sizeof(got));
	len = want_len;
	CHECK(!getsockopt(a, level, 80, &got, &len) && len == want_len &&
	      !strcmp(addr_str(&got), addr_str(&want)),
	      "original dst %s, want %s (len %u)", addr_str(&got),
	      addr_str(&want), len);
	len = sizeof(got);
	CHECK(!getsockopt(a, level, 80, &got, &len) && len == sizeof(got),
	      "a larger buffer: optlen left as given, like netfilter");
	len = want_len - 1;
	CHECK(getsockopt(a, level, 80, &got, &len) && errno == EINVAL,
	      "a short buffer gives EINVAL");

	/* no redirect: the kernel's own answer, untouched */
	direct = connect_to(c.family, ip, svc_port);
	d = accept_timeout(lfd, 3000);
	len = sizeof(got);
	CHECK(d >= 0 && getsockopt(d, level, 80, &got, &len) &&
	      (errno == ENOENT || errno == ENOPROTOOPT),
	      "not redirected: errno %d", errno);
	/* the other family's option: the kernel's answer, as on d */
	other = level == SOL_IP ? SOL_IPV6 : SOL_IP;
	len = sizeof(got);
	CHECK(getsockopt(d, other, 80, &got, &len), "direct, other level");
	err_direct = errno;
	len = sizeof(got);
	CHECK(getsockopt(a, other, 80, &got, &len) && errno == err_direct,
	      "other level: errno %d, kernel's is %d", errno, err_direct);
	CHECK(write(a, "bye", 3) == 3, "reply");
	CHECK(client_wait(pid) == 0, "client");
	close(direct);
	close(d);
	close(a);
	close(lfd);
	close_engine();
}

static void test_so_original_dst_ipv4(void)
{
	original_dst("127.0.0.1", SOL_IP);
}

static void test_so_original_dst_ipv6(void)
{
	original_dst("::1", SOL_IPV6);
}

/*
 * lwfp load over a running engine upgrades it: a flow accepted before stays
 * queryable, its records still count, and new connects are redirected.
 * lwfp unload with flows open: they keep working, new connects go direct,
 * nothing stays pinned.
 */
static void test_upgrade_then_unload(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int lfd = add_redirect("svc", "127.0.0.1", &svc_port, "127.0.0.1/32",
			       orig_port, "kept");
	struct client c = { .cgroup = "app", .family = AF_INET,
			    .ip = "127.0.0.1", .port = orig_port, .send = "u",
			    .expect = "bye" };
	unsigned char rec[LWFP_RECORDS_LEN], blob[LWFP_CONTEXT_MAX_LEN];
	size_t rlen = sizeof(rec), blen = sizeof(blob);
	struct lwfp_context ctx;
	struct seen s;
	pid_t old = client_start(&c), fresh;
	int a = accept_timeout(lfd, 5000), out, o;
	struct sockaddr_storage dst;
	socklen_t dlen;

	REQUIRE(a >= 0, "not redirected");
	REQUIRE(!lwfp_run("load", "--cgroup", env.base, NULL) &&
		strstr(env.out, "upgraded"), "upgrade: %s", env.out);
	CHECK(!lwfp_query_context(eng, a, blob, &blen) &&
	      !lwfp_context_decode(blob, blen, &ctx) &&
	      ctx.rule_context_len == 4, "the old flow's context after upgrade");
	CHECK(!lwfp_run("--json", "service", "list", NULL) &&
	      strstr(env.out, "\"svc\""), "services kept");
	/* its records still count: the outbound goes to the origin */
	CHECK(!lwfp_query_records(eng, a, rec, &rlen) &&
	      !lwfp_query_original_dst(eng, a, &dst, &dlen), "records");
	out = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(!lwfp_set_records(eng, out, rec, rlen) &&
	      !connect(out, (struct sockaddr *)&dst, dlen), "connect out");
	o = accept_timeout(origin, 3000);
	CHECK(o >= 0, "records from before the upgrade still count");
	/* new connects are redirected by the new programs */
	{
		struct client n = c;

		n.send = "n";
		n.expect = "pong:n";
		fresh = client_start(&n);
		CHECK(serve_one(lfd, &s) == 0, "redirected after the upgrade");
		CHECK(client_wait(fresh) == 0, "new client");
	}

	/* unload with the old flow still open */
	REQUIRE(!lwfp_run("unload", NULL), "unload");
	env.loaded = false;
	CHECK(access(env.pin_dir, F_OK) && errno == ENOENT, "nothing pinned");
	CHECK(write(a, "bye", 3) == 3 && client_wait(old) == 0,
	      "the open flow keeps working after unload");
	{
		struct client d = c;
		int od;

		d.send = NULL;
		d.expect = NULL;
		fresh = client_start(&d);
		od = accept_timeout(origin, 3000);
		CHECK(od >= 0, "after unload a connect goes direct");
		CHECK(client_wait(fresh) == 0, "direct client");
		if (od >= 0)
			close(od);
	}
	if (o >= 0)
		close(o);
	close(out);
	close(a);
	close(lfd);
	close(origin);
	close_engine();
}

/* A rule that matches every connect still redirects only in scope. */
static void test_outside_scope_untouched(void)
{
	uint16_t orig_port, svc_port;
	int origin = listen_on("127.0.0.1", &orig_port);
	int lfd = add_redirect("svc", "127.0.0.1", &svc_port, "0.0.0.0/0",
			       orig_port, NULL);
	int o;
	pid_t pid;

	REQUIRE(!lwfp_run("rule", "add", "--service", "svc", "--dst", "::/0",
			  NULL), "catch-all rule");
	pid = fork();
	if (pid == 0) {
		/* back where this test was started: outside the engine */
		int fd;

		cg_enter_abs(env.home_cg);
		fd = connect_to(AF_INET, "127.0.0.1", orig_port);
		_exit(fd >= 0 ? CL_OK : CL_CONNECT);
	}
	o = accept_timeout(origin, 3000);
	CHECK(o >= 0, "a process outside the cgroup reached the origin");
	CHECK(accept_timeout(lfd, 200) < 0, "nothing reached the service");
	CHECK(client_wait(pid) == 0, "outside client");
	CHECK(stat_of("redirected") == 0, "nothing redirected");
	if (o >= 0)
		close(o);
	close(lfd);
	close(origin);
	close_engine();
}

/*
 * A burst above the service's listen backlog: the kernel drops the ACKs
 * that would complete some handshakes, and later segments complete them.
 * Every flow must still be identified.
 */
static void test_backlog_overflow(void)
{
	enum { N = 16 };
	uint16_t orig = unused_port("127.0.0.1"), svc_port;
	int lfd = add_redirect("svc", "127.0.0.1", &svc_port, "127.0.0.1/32",
			       orig, NULL);
	int identified = 0;
	pid_t pids[N];

	CHECK(!listen(lfd, 1), "backlog 1");
	for (int i = 0; i < N; i++) {
		struct client c = { .cgroup = "app", .family = AF_INET,
				    .ip = "127.0.0.1", .port = orig,
				    .send = "b", .expect = "pong:b" };

		pids[i] = client_start(&c);
	}
	for (int i = 0; i < N; i++) {
		struct seen s;

		identified += serve_one(lfd, &s) == 0;
	}
	for (int i = 0; i < N; i++)
		CHECK(client_wait(pids[i]) == 0, "client %d", i);
	CHECK(identified == N, "%d of %d flows identified", identified, N);
	close(lfd);
	close_engine();
}

struct query_job {
	int fd;
	int ok;
};

static void *query_thread(void *arg)
{
	struct query_job *job = arg;

	for (int i = 0; i < 200; i++) {
		unsigned char blob[LWFP_CONTEXT_MAX_LEN];
		struct lwfp_context ctx;
		size_t len = sizeof(blob);

		/* NULL: the process default engine, from $LWFP_PIN_DIR */
		if (!lwfp_query_context(NULL, job->fd, blob, &len) &&
		    !lwfp_context_decode(blob, len, &ctx))
			job->ok++;
	}
	return NULL;
}

/* The default engine, opened on first use by many threads at once. */
static void test_default_engine_threads(void)
{
	enum { T = 8 };
	uint16_t orig = unused_port("127.0.0.1"), svc_port;
	int lfd = add_redirect("svc", "127.0.0.1", &svc_port, "127.0.0.1/32",
			       orig, "threads");
	struct query_job jobs[T];
	pthread_t th[T];
	pid_t pids[T];

	setenv(LWFP_PIN_DIR_ENV, env.pin_dir, 1);
	for (int i = 0; i < T; i++) {
		struct client c = { .cgroup = "app", .family = AF_INET,
				    .ip = "127.0.0.1", .port = orig,
				    .send = "t", .expect = "bye" };

		pids[i] = client_start(&c);
		jobs[i].fd = accept_timeout(lfd, 5000);
		jobs[i].ok = 0;
	}
	for (int i = 0; i < T; i++)
		pthread_create(&th[i], NULL, query_thread, &jobs[i]);
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		CHECK(jobs[i].ok == 200, "thread %d: %d of 200 queries", i,
		      jobs[i].ok);
		CHECK(write(jobs[i].fd, "bye", 3) == 3, "reply");
		CHECK(client_wait(pids[i]) == 0, "client %d", i);
		close(jobs[i].fd);
	}
	unsetenv(LWFP_PIN_DIR_ENV);
	close(lfd);
	close_engine();
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"IPv4 redirect: records, context, getpeername, data",
		"IPv6 redirect",
		"IPv4-mapped IPv6 redirect",
		"IPv6 client to an IPv4 service",
		"query errors and buffer sizes",
		"64 concurrent flows each identified",
		"records on the outbound socket prevent a loop",
		"the service's own pid is exempt",
		"rule --uid scope",
		"rule --cgroup scope",
		"a flow keeps its context when the rule changes",
		"lwfp flows lists a flow and its chain",
		"default engine from $LWFP_PIN_DIR, queried by 8 threads",
		"getsockopt(SOL_IP, SO_ORIGINAL_DST) answered like netfilter",
		"getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST) answered",
		"load over a running engine upgrades it; unload with flows open",
		"processes outside the engine's cgroup are never redirected",
		"a burst above the listen backlog: every flow identified",
	};
	static const test_fn fns[] = {
		test_ipv4, test_ipv6, test_v4_mapped,
		test_ipv6_client_ipv4_service, test_query_errors,
		test_concurrent, test_records_prevent_loop,
		test_own_pid_exempt, test_uid_scope, test_cgroup_scope,
		test_context_survives_rule_change, test_flows_listing,
		test_default_engine_threads, test_so_original_dst_ipv4,
		test_so_original_dst_ipv6, test_upgrade_then_unload,
		test_outside_scope_untouched, test_backlog_overflow,
	};

	env_init(argc, argv, "redirect");
	return run_tests(names, fns, sizeof(fns) / sizeof(fns[0]));
}
