// SPDX-License-Identifier: MIT
/*
 * Section 3: bulk throughput. A client streams for BENCH_T seconds to a
 * sink (the origin) that counts what arrives:
 *   direct  client -> origin, both outside the engine's scope;
 *   proxy   client (in scope) -> relay-proxy A -> origin;
 *   chain   client (in scope) -> relay-proxy A -> relay-proxy B -> origin.
 * The proxies are build/examples/relay-proxy, unmodified, registered as
 * services A (weight 30) and B (weight 20) and run in sub-cgroups of ours
 * as tests/e2e/test_chains.c does; their outbound sockets carry the flow's
 * records, so the chain ends at the origin. Rules: A for origin port 1,
 * A and B for origin port 2. The engine's counters confirm the path (one
 * redirect per proxy flow, two per chain flow).
 *
 * For comparison, the same one and two hops through a minimal relay built
 * into this benchmark that moves bytes with splice() (socket -> pipe ->
 * socket, no copy to user space) instead of read()/write(): what a
 * zero-copy relay-proxy would get. Services S (40) and T (35), origin
 * ports 3 and 4.
 *
 * And one hop through build/examples/winsock-iocp-proxy, the Windows
 * source relaying through lwfp-winsock's completion port (service W, 25,
 * origin port 5), against relay-proxy in the same run.
 *
 * Rounds: the variants interleaved and rotated; ratios paired per round.
 * The machine's CPU busy time per GB is reported alongside.
 *
 *   bench_bulk PATH-TO-lwfp
 */
#include <libgen.h>
#include <pthread.h>

#include "bench.h"

/* The direct variant is the machine's limit (bench.h, BULK_CHUNK says
 * how), and every relay is measured against it with the same client and
 * origin code (bulk_send, bulk_receive). */
#define CHUNK BULK_CHUNK

struct shared {
	uint64_t bytes, ns;	/* what the sink received, first byte to EOF */
	uint64_t sent;
	int done;
};

static struct shared *sh;

enum { V_DIRECT, V_PROXY, V_CHAIN, V_SPLICE, V_SPLICE2, V_IOCP, NV };
static const char *const vname[NV] = { "direct", "relay-proxy",
				       "2 relay-proxies", "splice relay",
				       "2 splice relays",
				       "winsock-iocp-proxy" };
static const int vhops[NV] = { 0, 1, 2, 1, 2, 1 };
static uint16_t port[NV];	/* origin port of each path */
static struct lwfp *eng;

/* The origin: one flow at a time, counts and discards. */
static void sink_main(int lfd)
{
	for (;;) {
		uint64_t ns, bad = 0;
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			CFAIL("accept");
		}
		sh->bytes = bulk_receive(c, &ns, false, &bad);
		sh->ns = ns;
		__atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
		close(c);
	}
}

static void bulk_client(int v, double secs)
{
	int fd;
	char c;

	if (v == V_DIRECT)
		child_home();
	else
		child_enter("app");
	fd = connect_to(AF_INET, "127.0.0.1", port[v]);
	if (fd < 0)
		CFAIL("connect");
	sh->sent = bulk_send(fd, secs);
	/* the sink closes after EOF: everything went through */
	while (read(fd, &c, 1) > 0)
		;
	close(fd);
	_exit(0);
}

/* GB/s of one transfer; *cpu: machine CPU seconds per GB */
static double trial(int v, double secs, double *cpu)
{
	double c0 = cpu_busy_s(), gbs;
	pid_t pid;
	int rc;

	sh->done = 0;
	sh->bytes = sh->ns = sh->sent = 0;
	pid = bench_fork();
	if (pid == 0)
		bulk_client(v, secs);
	rc = bench_wait(pid);
	if (rc)
		die("%s: client exit %d", vname[v], rc);
	for (int i = 0; i < 5000 && !__atomic_load_n(&sh->done,
						     __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	if (!sh->done || sh->bytes != sh->sent)
		die("%s: sent %llu, the origin got %llu", vname[v],
		    (unsigned long long)sh->sent,
		    (unsigned long long)sh->bytes);
	gbs = sh->ns ? sh->bytes / (double)sh->ns : 0;
	if (cpu)
		*cpu = (cpu_busy_s() - c0) / (sh->bytes / 1e9);
	return gbs;
}

/* ---- the splice relay: a redirect service in 40 lines ---- */

static void splice_loop(int from, int to)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		CFAIL("pipe");
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	for (;;) {
		ssize_t n = splice(from, NULL, p[1], NULL, 1 << 20,
				   SPLICE_F_MOVE);

		if (n <= 0)
			break;
		while (n > 0) {
			ssize_t m = splice(p[0], NULL, to, NULL, n,
					   SPLICE_F_MOVE | SPLICE_F_MORE);

			if (m <= 0)
				goto out;
			n -= m;
		}
	}
out:
	shutdown(to, SHUT_WR);
	close(p[0]);
	close(p[1]);
}

static void *splice_down(void *arg)
{
	int *fds = arg;

	splice_loop(fds[0], fds[1]);
	return NULL;
}

static void splice_relay_main(const char *cg, uint16_t listen_port,
			      int ready)
{
	int lfd;

	child_enter(cg);
	lfd = tcp_listen("127.0.0.1", listen_port, 64);
	if (lfd < 0 || write(ready, "l", 1) != 1)
		CFAIL("listen");
	for (;;) {
		unsigned char rec[LWFP_RECORDS_LEN];
		size_t rlen = sizeof(rec);
		struct sockaddr_storage dst;
		socklen_t dlen = sizeof(dst);
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), s, fds[2];
		pthread_t t;

		if (c < 0)
			continue;
		if (lwfp_query_records(eng, c, rec, &rlen) ||
		    lwfp_query_original_dst(eng, c, &dst, &dlen))
			CFAIL("query");
		s = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* before connect(): the flow goes on, not back to us */
		if (s < 0 || lwfp_set_records(eng, s, rec, rlen) ||
		    connect(s, (struct sockaddr *)&dst, dlen))
			CFAIL("connect out");
		fds[0] = s;
		fds[1] = c;
		pthread_create(&t, NULL, splice_down, fds);
		splice_loop(c, s);
		pthread_join(t, NULL);
		close(c);
		close(s);
	}
}

static pid_t splice_relay_start(const char *name, const char *weight)
{
	uint16_t p = unused_port("127.0.0.1");
	char cg[32], c;
	int r[2];
	pid_t pid;

	service_add(name, "127.0.0.1", p, NULL, weight);
	snprintf(cg, sizeof(cg), "svc%s", name);
	if (pipe(r))
		die("pipe");
	pid = bench_fork();
	if (pid == 0)
		splice_relay_main(cg, p, r[1]);
	close(r[1]);
	if (read(r[0], &c, 1) != 1)
		die("splice relay %s did not start", name);
	close(r[0]);
	return pid;
}

struct proxy {
	const char *name;
	const char *example;	/* relay-proxy, or winsock-iocp-proxy */
	uint16_t port;
	pid_t pid;
	int out;
};

/* In the child: run the example on 127.0.0.1:port. */
static void proxy_exec(const struct proxy *p, const char *path)
{
	char listen[32], sport[8];

	if (!strcmp(p->example, "relay-proxy")) {
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", p->port);
		execl(path, path, "--listen", listen, "--pin-dir",
		      env.pin_dir, NULL);
	} else {
		snprintf(sport, sizeof(sport), "%u", p->port);
		setenv("LWFP_PIN_DIR", env.pin_dir, 1);
		execl(path, path, "127.0.0.1", sport, NULL);
	}
}

static void proxy_start(struct proxy *p, const char *weight)
{
	char bin[PATH_MAX], path[PATH_MAX + 64], cg[32];
	char line[512];
	int fds[2];
	ssize_t n;

	snprintf(bin, sizeof(bin), "%s", env.lwfp);
	snprintf(path, sizeof(path), "%s/examples/%s", dirname(bin),
		 p->example);
	p->port = unused_port("127.0.0.1");
	service_add(p->name, "127.0.0.1", p->port, NULL, weight);
	snprintf(cg, sizeof(cg), "svc%s", p->name);
	if (pipe(fds))
		die("pipe");
	p->pid = bench_fork();
	if (p->pid == 0) {
		child_enter(cg);
		dup2(fds[1], 1);
		proxy_exec(p, path);
		_exit(127);
	}
	close(fds[1]);
	p->out = fds[0];
	n = read(p->out, line, sizeof(line) - 1);
	if (n <= 0 || !memmem(line, n, "listening", 9))
		die("%s %s did not start (%s)", p->example, p->name, path);
}

static void proxy_stop(struct proxy *p)
{
	kill(p->pid, SIGTERM);
	bench_wait(p->pid);
	close(p->out);
}

static void rule(const char *svc, int v)
{
	rule_add(svc, "127.0.0.1", port[v]);
}

int main(int argc, char **argv)
{
	int rounds = env_int("BENCH_ROUNDS", 5);
	double secs = env_double("BENCH_T", 1.0);
	double gbs[NV][32], cpu[NV][32], r[32];
	struct proxy a = { .name = "A", .example = "relay-proxy" };
	struct proxy b = { .name = "B", .example = "relay-proxy" };
	struct proxy w = { .name = "W", .example = "winsock-iocp-proxy" };
	pid_t sinks[NV], ss, st;
	long long red;

	bench_init(argc, argv, "bbulk");
	engine_start();
	if (lwfp_open(env.pin_dir, &eng))
		die("lwfp_open");
	if (rounds > 32)
		rounds = 32;
	sh = shared_mem(sizeof(*sh));

	/* the origin, outside the engine's scope: one sink per path */
	for (int v = 0; v < NV; v++) {
		port[v] = unused_port("127.0.0.1");
		if (v == V_PROXY) {	/* direct and proxy: the same origin */
			port[v] = port[V_DIRECT];
			sinks[v] = 0;
			continue;
		}
		sinks[v] = bench_fork();
		if (sinks[v] == 0) {
			int l;

			child_home();
			if ((l = tcp_listen("127.0.0.1", port[v], 64)) < 0)
				CFAIL("listen");
			sink_main(l);
		}
	}
	usleep(100000);

	proxy_start(&a, "30");
	proxy_start(&b, "20");
	proxy_start(&w, "25");
	ss = splice_relay_start("S", "40");
	st = splice_relay_start("T", "35");
	rule("A", V_PROXY);
	rule("A", V_CHAIN);
	rule("B", V_CHAIN);
	rule("S", V_SPLICE);
	rule("S", V_SPLICE2);
	rule("T", V_SPLICE2);
	/* winsock-iocp-proxy reads its own context struct */
	if (lwfp_run("rule", "add", "--service", "W", "--dst", "127.0.0.1/32",
		     "--dport", fmt("%u", port[V_IOCP]), "--context-layout",
		     "examples/winsock-iocp-proxy.layout", NULL))
		die("rule add W");

	/* warm-up, and the path each variant takes */
	for (int v = 0; v < NV; v++) {
		red = status_int("redirected");
		trial(v, 0.2, NULL);
		red = status_int("redirected") - red;
		if (red != vhops[v])
			die("%s: %lld redirects, want %d", vname[v], red,
			    vhops[v]);
	}
	printf("# section 3: %d rounds x %.2f s per variant, %d KiB writes; "
	       "paths checked by the engine's redirect counter\n",
	       rounds, secs, CHUNK / 1024);
	for (int k = 0; k < rounds; k++) {
		printf("# round %d:", k + 1);
		for (int j = 0; j < NV; j++) {
			int v = (j + k) % NV;

			gbs[v][k] = trial(v, secs, &cpu[v][k]);
			printf(" %s %.2f GB/s,", vname[v], gbs[v][k]);
		}
		printf("\n");
	}
	for (int v = 0; v < NV; v++)
		printf("# %-16s median %.2f GB/s, %.2f CPU-s per GB "
		       "(machine-wide, includes other load)\n", vname[v],
		       median(gbs[v], rounds), median(cpu[v], rounds));

#define BULK_ROW(what, v, cmp, tgt)                                          \
	do {                                                                 \
		ratios(gbs[v], gbs[V_DIRECT], rounds, r);                    \
		row("3", what, fmt("%.2f GB/s", median(gbs[V_DIRECT],        \
						       rounds)),             \
		    fmt("%.2f GB/s", median(gbs[v], rounds)),                \
		    median(r, rounds), vmin(r, rounds), vmax(r, rounds), cmp,\
		    tgt, "x");                                               \
	} while (0)
	BULK_ROW("bulk GB/s, through relay-proxy / direct", V_PROXY, AT_LEAST,
		 0.8);
	BULK_ROW("bulk GB/s, through 2 relay-proxies (A -> B) / direct",
		 V_CHAIN, AT_LEAST, 0.6);
	BULK_ROW("bulk GB/s, bench splice relay (1 hop) / direct", V_SPLICE,
		 INFO, 0);
	BULK_ROW("bulk GB/s, 2 bench splice relays / direct", V_SPLICE2, INFO,
		 0);
	ratios(gbs[V_IOCP], gbs[V_PROXY], rounds, r);
	row("3", "bulk GB/s, winsock-iocp-proxy (IOCP) / relay-proxy",
	    fmt("%.2f GB/s", median(gbs[V_PROXY], rounds)),
	    fmt("%.2f GB/s", median(gbs[V_IOCP], rounds)), median(r, rounds),
	    vmin(r, rounds), vmax(r, rounds), AT_LEAST, 0.9, "x");
	ratios(cpu[V_PROXY], cpu[V_DIRECT], rounds, r);
	row("3", "CPU-s per GB, relay-proxy / direct",
	    fmt("%.2f", median(cpu[V_DIRECT], rounds)),
	    fmt("%.2f", median(cpu[V_PROXY], rounds)), median(r, rounds),
	    vmin(r, rounds), vmax(r, rounds), INFO, 0, "x");
	ratios(cpu[V_SPLICE], cpu[V_DIRECT], rounds, r);
	row("3", "CPU-s per GB, splice relay / direct",
	    fmt("%.2f", median(cpu[V_DIRECT], rounds)),
	    fmt("%.2f", median(cpu[V_SPLICE], rounds)), median(r, rounds),
	    vmin(r, rounds), vmax(r, rounds), INFO, 0, "x");

	proxy_stop(&a);
	proxy_stop(&b);
	proxy_stop(&w);
	bench_kill(ss);
	bench_kill(st);
	for (int v = 0; v < NV; v++)
		if (sinks[v])
			bench_kill(sinks[v]);
	lwfp_close(eng);
	return 0;
}
