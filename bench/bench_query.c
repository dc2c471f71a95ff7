// SPDX-License-Identifier: MIT
/*
 * Section 2: the cost of one query on an accepted socket, in ns per call
 * and in system calls per call.
 *
 * In the engine's scope (this process, the service): lwfp_query_records,
 * lwfp_query_context (alone and + lwfp_context_decode),
 * lwfp_query_original_dst, getsockopt(SO_ORIGINAL_DST) answered by the
 * engine's cgroup/getsockopt program. Out of scope, in a network namespace
 * with an nftables REDIRECT rule (a worker process): getsockopt
 * (SO_ORIGINAL_DST) answered by conntrack, the baseline. References: a
 * bare getsockopt(SO_TYPE), and getsockopt(TCP_INFO) in and out of scope
 * on the service's own socket (the engine's sockopt programs run over its
 * cgroup), and on a socket of a process in scope that is no service (none
 * run there: issue 15's getsockopt tax, target <= 1.2x).
 *
 * Rounds of BENCH_QN calls per query, queries interleaved and rotated.
 * Syscalls per call: raw_syscalls:sys_enter counted for the calling thread
 * with perf_event_open around BENCH_QN calls.
 *
 *   bench_query PATH-TO-lwfp
 */
#include "bench.h"

#define NFT_ORIG 18080
#define NFT_SVC 19090

enum op {
	OP_RECORDS, OP_CONTEXT, OP_CONTEXT_DECODE, OP_ORIGDST, OP_SOCKOPT_LWFP,
	OP_TCPINFO_IN, OP_SOTYPE_IN, OP_TCPINFO_APP, OP_SOTYPE_APP,
	OP_SOCKOPT_NFT, OP_TCPINFO_OUT, OP_SOTYPE_OUT, NOPS
};
#define FIRST_OUT OP_SOCKOPT_NFT

static const char *const op_name[NOPS] = {
	"lwfp_query_records", "lwfp_query_context",
	"lwfp_query_context + decode", "lwfp_query_original_dst",
	"getsockopt(SO_ORIGINAL_DST), lwfp", "getsockopt(TCP_INFO) in scope",
	"getsockopt(SO_TYPE) in scope",
	"getsockopt(TCP_INFO) in scope, no service",
	"getsockopt(SO_TYPE) in scope, no service",
	"getsockopt(SO_ORIGINAL_DST), nftables",
	"getsockopt(TCP_INFO) out of scope", "getsockopt(SO_TYPE) out of scope",
};

static struct lwfp *eng;
static uint16_t want_port;	/* the original destination port */
static int app_fd = -1;	/* made in "app": in scope, in no service's cgroup */

/* A connected socket of a process in scope that is no service: made
 * while this process is in "app" (a socket stays in the cgroup it was
 * made in), connected to a port no rule redirects. */
static void app_socket(void)
{
	uint16_t port;
	int lfd = listen_on("127.0.0.1", &port), a;

	cg_enter("app");
	app_fd = connect_to(AF_INET, "127.0.0.1", port);
	cg_enter("svc");
	a = app_fd < 0 ? -1 : accept_timeout(lfd, 5000);
	if (a < 0)
		die("a socket in app");
	close(lfd);	/* a stays open for the process's life */
}

static int fd_of(enum op op, int service_fd)
{
	return op == OP_TCPINFO_APP || op == OP_SOTYPE_APP ? app_fd :
							   service_fd;
}

/* One call; false if it failed or gave the wrong answer. */
static bool one(enum op op, int fd)
{
	static unsigned char buf[LWFP_CONTEXT_MAX_LEN];
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	struct lwfp_context ctx;
	struct tcp_info ti;
	socklen_t len;
	size_t n = sizeof(buf);
	int type;

	switch (op) {
	case OP_RECORDS:
		return !lwfp_query_records(eng, fd, buf, &n) &&
		       n == LWFP_RECORDS_LEN;
	case OP_CONTEXT:
		return !lwfp_query_context(eng, fd, buf, &n);
	case OP_CONTEXT_DECODE:
		return !lwfp_query_context(eng, fd, buf, &n) &&
		       !lwfp_context_decode(buf, n, &ctx) &&
		       addr_port(&ctx.orig_dst) == want_port;
	case OP_ORIGDST:
		len = sizeof(ss);
		return !lwfp_query_original_dst(eng, fd, &ss, &len) &&
		       addr_port(&ss) == want_port;
	case OP_SOCKOPT_LWFP:
	case OP_SOCKOPT_NFT:
		len = sizeof(sin);
		return !getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &sin, &len) &&
		       ntohs(sin.sin_port) == want_port;
	case OP_TCPINFO_IN:
	case OP_TCPINFO_APP:
	case OP_TCPINFO_OUT:
		len = sizeof(ti);
		return !getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	case OP_SOTYPE_IN:
	case OP_SOTYPE_APP:
	case OP_SOTYPE_OUT:
		len = sizeof(type);
		return !getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	default:
		return false;
	}
}

struct result {
	double ns;	/* per call */
	double sc;	/* syscalls per call, -1 if not counted */
	bool ok;
};

static struct result run_op(enum op op, int fd, int n, int scfd)
{
	struct result r = { .ok = one(op, fd), .sc = -1 };
	uint64_t t0;
	long long c;

	if (!r.ok)
		return r;
	t0 = now_ns();
	for (int i = 0; i < n; i++)
		one(op, fd);
	r.ns = (double)(now_ns() - t0) / n;
	if (scfd >= 0) {
		sc_start(scfd);
		for (int i = 0; i < n; i++)
			one(op, fd);
		c = sc_stop(scfd);
		r.sc = c >= 0 ? (double)c / n : -1;
	}
	return r;
}

/* ---- the out-of-scope worker, in the nftables namespace ---- */

struct cmd {
	int op, n, count;
};

static void worker_main(int cmd_fd, int res_fd, int keep_out)
{
	struct sockaddr_in dst;
	int lfd, c, a, scfd;
	struct cmd cmd;

	/* only this side of the pipes, none of the parent's sockets */
	for (int fd = 3; fd < 1024; fd++)
		if (fd != cmd_fd && fd != res_fd && fd != keep_out)
			close(fd);
	child_home();
	child_netns();
	lfd = tcp_listen("127.0.0.1", NFT_SVC, 16);
	if (lfd < 0)
		CFAIL("listen");
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sin_of(&dst, "127.0.0.1", NFT_ORIG);
	if (connect(c, (struct sockaddr *)&dst, sizeof(dst)))
		CFAIL("connect through REDIRECT");
	a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (a < 0)
		CFAIL("accept");
	scfd = sc_open();
	want_port = NFT_ORIG;
	while (read(cmd_fd, &cmd, sizeof(cmd)) == sizeof(cmd)) {
		struct result r = run_op(cmd.op, a, cmd.n,
					 cmd.count ? scfd : -1);

		if (write(res_fd, &r, sizeof(r)) != sizeof(r))
			break;
	}
	_exit(0);
}

static int w_cmd = -1, w_res = -1;

/* Bare getsockopt calls in scope against out of scope: on the service's
 * socket (the engine's sockopt programs run: the floor a service pays),
 * and on a socket of a process that is no service (issue 15's target). */
static void getsockopt_rows(double ns[][32], int rounds)
{
	static const struct {
		enum op in, out;
		const char *what;
		enum cmp cmp;
	} rows[] = {
		{ OP_TCPINFO_APP, OP_TCPINFO_OUT, "getsockopt(TCP_INFO) in "
		  "lwfp scope, no service / out of scope", AT_MOST },
		{ OP_SOTYPE_APP, OP_SOTYPE_OUT, "getsockopt(SO_TYPE) in "
		  "lwfp scope, no service / out of scope", AT_MOST },
		{ OP_TCPINFO_IN, OP_TCPINFO_OUT, "getsockopt(TCP_INFO) in a "
		  "service's cgroup / out of scope", INFO },
		{ OP_SOTYPE_IN, OP_SOTYPE_OUT, "getsockopt(SO_TYPE) in a "
		  "service's cgroup / out of scope", INFO },
	};
	double r[32];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ratios(ns[rows[i].in], ns[rows[i].out], rounds, r);
		row("2", rows[i].what,
		    fmt("%.0fns", median(ns[rows[i].out], rounds)),
		    fmt("%.0fns", median(ns[rows[i].in], rounds)),
		    median(r, rounds), vmin(r, rounds), vmax(r, rounds),
		    rows[i].cmp, rows[i].cmp == INFO ? 0 : 1.2, "x");
	}
}

static struct result remote(enum op op, int n, bool count)
{
	struct cmd c = { op, n, count };
	struct result r = { 0 };

	if (write(w_cmd, &c, sizeof(c)) != sizeof(c) ||
	    read(w_res, &r, sizeof(r)) != sizeof(r))
		die("worker gone");
	return r;
}

int main(int argc, char **argv)
{
	int rounds = env_int("BENCH_QROUNDS", 7);
	int n = env_int("BENCH_QN", 50000);
	double ns[NOPS][32], sc[NOPS], r[32];
	uint16_t p_orig, p_svc;
	char script[512], port_s[8], listen_s[32], cg[128];
	int lfd, a, scfd, cmdp[2], resp[2];
	pid_t client, worker;
	struct client cl;

	bench_init(argc, argv, "bquery");
	engine_start();
	if (rounds > 32)
		rounds = 32;
	p_orig = unused_port("127.0.0.1");
	lfd = listen_on("127.0.0.1", &p_svc);
	snprintf(listen_s, sizeof(listen_s), "127.0.0.1:%u", p_svc);
	snprintf(port_s, sizeof(port_s), "%u", p_orig);
	snprintf(cg, sizeof(cg), "%s/svc", env.base);
	/* a rule with a context, as a policy would have */
	if (lwfp_run("service", "add", "q", "--listen", listen_s, "--cgroup",
		     cg, NULL) ||
	    lwfp_run("rule", "add", "--service", "q", "--dst", "127.0.0.1/32",
		     "--dport", port_s, "--context",
		     "tenant=blue; policy=inspect", NULL))
		die("service/rule add");
	if (lwfp_open(env.pin_dir, &eng))
		die("lwfp_open");
	snprintf(script, sizeof(script),
		 "table ip lwfp_bench {\n"
		 " chain out {\n"
		 "  type nat hook output priority -100; policy accept;\n"
		 "  ip daddr 127.0.0.1 tcp dport %d redirect to :%d\n"
		 " }\n"
		 "}", NFT_ORIG, NFT_SVC);
	netns_create("query", script);

	/* a redirected client that holds its connection */
	cl = (struct client){ .cgroup = "app", .family = AF_INET,
			      .ip = "127.0.0.1", .port = p_orig,
			      .expect = "" };
	client = bench_fork();
	if (client == 0) {
		int fd;
		char c;

		child_enter("app");
		fd = connect_to(AF_INET, cl.ip, cl.port);
		if (fd < 0)
			CFAIL("connect");
		if (read(fd, &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	a = accept_timeout(lfd, 5000);
	if (a < 0)
		die("the client was not redirected");
	want_port = p_orig;

	if (pipe2(cmdp, O_CLOEXEC) || pipe2(resp, O_CLOEXEC))
		die("pipe");
	worker = bench_fork();
	if (worker == 0)
		worker_main(cmdp[0], resp[1], bench_ns_fd);
	w_cmd = cmdp[1];
	w_res = resp[0];

	app_socket();
	scfd = sc_open();
	printf("# section 2: %d rounds x %d calls per query; syscalls "
	       "counted with perf_event_open(raw_syscalls:sys_enter)%s\n",
	       rounds, n, scfd < 0 ? ": NOT AVAILABLE" : "");
	/* correctness and syscall counts, once */
	for (int op = 0; op < NOPS; op++) {
		struct result res = op < FIRST_OUT ?
				    run_op(op, fd_of(op, a), n / 5 + 1, scfd) :
				    remote(op, n / 5 + 1, true);

		if (!res.ok)
			die("%s failed or gave a wrong answer", op_name[op]);
		sc[op] = res.sc;
	}
	for (int k = 0; k < rounds; k++)
		for (int j = 0; j < NOPS; j++) {
			int op = (j + k) % NOPS;

			ns[op][k] = op < FIRST_OUT ?
				    run_op(op, fd_of(op, a), n, -1).ns :
						     remote(op, n, false).ns;
		}
	for (int op = 0; op < NOPS; op++)
		printf("# %-40s %8.0f ns/call (%.0f..%.0f), %.2f syscalls/call\n",
		       op_name[op], median(ns[op], rounds),
		       vmin(ns[op], rounds), vmax(ns[op], rounds), sc[op]);

	/* rows: each query against the nftables answer, and its syscalls */
	for (int op = OP_RECORDS; op <= OP_SOCKOPT_LWFP; op++) {
		bool one_sc = sc[op] >= 0 && sc[op] < 1.05;

		ratios(ns[op], ns[OP_SOCKOPT_NFT], rounds, r);
		row_text("2", fmt("%s / nftables getsockopt", op_name[op]),
			 fmt("%.0fns, %.2g syscall/call",
			     median(ns[OP_SOCKOPT_NFT], rounds),
			     sc[OP_SOCKOPT_NFT]),
			 fmt("%.0fns, %.2g syscall/call",
			     median(ns[op], rounds), sc[op]),
			 median(r, rounds), vmin(r, rounds), vmax(r, rounds),
			 "x", "1 syscall",
			 sc[op] < 0 ? "n/a" : one_sc ? "yes" :
			 fmt("NO (%.2g)", sc[op]));
	}
	getsockopt_rows(ns, rounds);

	close(w_cmd);
	bench_wait(worker);
	close(a);
	bench_wait(client);
	close(lfd);
	lwfp_close(eng);
	return 0;
}
