// SPDX-License-Identifier: MIT
/*
 * Short connections and connect latency: no engine (direct loopback) vs
 * lwfp redirect vs nftables REDIRECT, measured in the same run.
 *
 * One cycle: the client connects, the server accepts, asks where the
 * client wanted to go (direct: getsockname; lwfp: lwfp_query_original_dst
 * or getsockopt(SO_ORIGINAL_DST) answered by the engine; nftables:
 * getsockopt(SO_ORIGINAL_DST) answered by conntrack), checks the answer
 * and closes with RST (so no TIME_WAIT piles up in any variant); the
 * client sees the close and starts over.
 *
 * Section 1: throughput with both vCPUs busy (2 client processes + 1
 * server process), rounds of BENCH_T seconds per variant, variants
 * interleaved and rotated each round; ratios are paired per round.
 * Section 5: latency, 1 client and 1 server on an otherwise idle machine,
 * blocks of BENCH_LAT_N connections per variant, interleaved; p50/p99 of
 * connect() and of the whole cycle as the client sees it (connect until
 * the service has accepted, queried and closed).
 *
 *   bench_conn PATH-TO-lwfp
 */
#include "bench.h"

enum where { W_HOME, W_APP, W_SVC, W_NS };
enum query { Q_NAME, Q_LWFP, Q_SOCKOPT };

struct variant {
	const char *name;
	enum where srv, cli;
	uint16_t listen, dst, expect;
	enum query query;
};

enum { V_DIRECT, V_LWFP, V_LWFP_SOCKOPT, V_NFT, V_PASS, NV };
static struct variant var[NV];

#define NFT_ORIG 18080
#define NFT_SVC 19090
#define MAX_CLIENTS 4
#define MAX_SAMPLES 100000

struct shared {
	uint64_t deadline;
	uint64_t count[MAX_CLIENTS], elapsed[MAX_CLIENTS];
	uint64_t errors[MAX_CLIENTS];
	int err_conn[MAX_CLIENTS], err_read[MAX_CLIENTS];	/* last errno */
	uint64_t served, bad;
	uint32_t lat_conn[MAX_SAMPLES], lat_cycle[MAX_SAMPLES];
};

static struct shared *sh;
static struct lwfp *eng;

static void place(enum where w)
{
	switch (w) {
	case W_HOME:
		child_home();
		break;
	case W_APP:
		child_enter("app");
		break;
	case W_SVC:
		break;	/* the bench process's own cgroup: exempt service */
	case W_NS:
		child_home();
		child_netns();
		break;
	}
}

static uint16_t query_port(const struct variant *v, int a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	socklen_t len;

	switch (v->query) {
	case Q_NAME:
		len = sizeof(sin);
		if (getsockname(a, (struct sockaddr *)&sin, &len))
			return 0;
		return ntohs(sin.sin_port);
	case Q_LWFP:
		len = sizeof(ss);
		if (lwfp_query_original_dst(eng, a, &ss, &len))
			return 0;
		return addr_port(&ss);
	case Q_SOCKOPT:
		len = sizeof(sin);
		if (getsockopt(a, SOL_IP, SO_ORIGINAL_DST, &sin, &len))
			return 0;
		return ntohs(sin.sin_port);
	}
	return 0;
}

static void server_main(const struct variant *v, struct gate *g)
{
	int lfd, a;

	place(v->srv);
	lfd = tcp_listen("127.0.0.1", v->listen, 4096);
	if (lfd < 0)
		CFAIL("listen %u", v->listen);
	gate_child_wait(g);
	for (;;) {
		a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (a < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			CFAIL("accept");
		}
		if (query_port(v, a) != v->expect)
			__atomic_add_fetch(&sh->bad, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sh->served, 1, __ATOMIC_RELAXED);
		close_rst(a);
	}
}

/* One cycle as the client sees it; false if it failed (errno saved). */
static int err_slot;

static bool cycle(const struct sockaddr_in *dst, uint64_t *t_conn,
		  uint64_t *t_cycle)
{
	uint64_t t0 = now_ns(), t1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char c;

	if (fd < 0)
		return false;
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst))) {
		/* ECONNRESET: the server accepted, queried and reset before
		 * connect() returned here (the RST overtook the wake-up):
		 * the cycle is complete */
		if (errno == ECONNRESET) {
			close(fd);
			t1 = now_ns();
			if (t_conn)
				*t_conn = t1 - t0;
			if (t_cycle)
				*t_cycle = t1 - t0;
			return true;
		}
		sh->err_conn[err_slot] = errno;
		close(fd);
		return false;
	}
	t1 = now_ns();
	/* EOF or ECONNRESET: the server has accepted, queried and closed */
	if (read(fd, &c, 1) < 0 && errno != ECONNRESET) {
		sh->err_read[err_slot] = errno;
		close(fd);
		return false;
	}
	close(fd);
	if (t_conn)
		*t_conn = t1 - t0;
	if (t_cycle)
		*t_cycle = now_ns() - t0;
	return true;
}

static void client_rate_main(const struct variant *v, int idx, struct gate *g)
{
	struct sockaddr_in dst;
	uint64_t n = 0, err = 0, t0, deadline;

	place(v->cli);
	err_slot = idx;
	sin_of(&dst, "127.0.0.1", v->dst);
	gate_child_wait(g);
	deadline = sh->deadline;
	t0 = now_ns();
	while (now_ns() < deadline) {
		if (cycle(&dst, NULL, NULL))
			n++;
		else if (++err > 1000)
			break;
	}
	sh->elapsed[idx] = now_ns() - t0;
	sh->count[idx] = n;
	sh->errors[idx] = err;
	_exit(0);
}

static void client_lat_main(const struct variant *v, int n, struct gate *g)
{
	struct sockaddr_in dst;
	uint64_t tc, ty;
	int err = 0;

	place(v->cli);
	sin_of(&dst, "127.0.0.1", v->dst);
	gate_child_wait(g);
	for (int i = 0; i < n; i++) {
		while (!cycle(&dst, &tc, &ty))
			if (++err > 1000)
				_exit(3);
		sh->lat_conn[i] = tc;
		sh->lat_cycle[i] = ty;
	}
	sh->errors[0] = err;
	_exit(0);
}

static uint64_t total_bad, total_err;
static int seen_err_conn, seen_err_read;

/* A trial: one server, nclients clients (n > 0: latency mode, n cycles). */
static double trial(int vi, double secs, int nclients, int nlat)
{
	const struct variant *v = &var[vi];
	struct gate g;
	pid_t srv, cli[MAX_CLIENTS];
	double rate = 0;

	memset(sh, 0, offsetof(struct shared, lat_conn));
	gate_init(&g);
	srv = bench_fork();
	if (srv == 0)
		server_main(v, &g);
	for (int i = 0; i < nclients; i++) {
		cli[i] = bench_fork();
		if (cli[i] == 0) {
			if (nlat)
				client_lat_main(v, nlat, &g);
			client_rate_main(v, i, &g);
		}
	}
	sh->deadline = now_ns() + (uint64_t)(secs * 1e9) + 1000000;
	if (!gate_open(&g, nclients + 1))
		die("%s: children did not start", v->name);
	for (int i = 0; i < nclients; i++) {
		int rc = bench_wait(cli[i]);

		if (rc)
			die("%s: client exit %d", v->name, rc);
		if (!nlat && sh->elapsed[i])
			rate += sh->count[i] / (sh->elapsed[i] / 1e9);
		total_err += sh->errors[i];
		if (sh->err_conn[i])
			seen_err_conn = sh->err_conn[i];
		if (sh->err_read[i])
			seen_err_read = sh->err_read[i];
	}
	bench_kill(srv);
	gate_close(&g);
	total_bad += sh->bad;
	return rate;
}

static void section_rate(void)
{
	int rounds = env_int("BENCH_ROUNDS", 7);
	double secs = env_double("BENCH_T", 1.0);
	double rate[NV][32], r[32];
	long long redirected0 = status_int("redirected"), redirected;

	if (rounds > 32)
		rounds = 32;
	printf("# section 1: %d rounds x %.2f s per variant, 2 clients + 1 "
	       "server on %ld CPUs\n", rounds, secs, sysconf(_SC_NPROCESSORS_ONLN));
	for (int v = 0; v < NV; v++)
		trial(v, 0.2, 2, 0);	/* warm-up, discarded */
	for (int k = 0; k < rounds; k++) {
		printf("# round %d:", k + 1);
		for (int j = 0; j < NV; j++) {
			int v = (j + k) % NV;	/* rotate the order */

			rate[v][k] = trial(v, secs, 2, 0);
			printf(" %s %.0f/s", var[v].name, rate[v][k]);
		}
		printf("\n");
	}
	redirected = status_int("redirected") - redirected0;
	printf("# engine: %lld connects redirected, %lld handed off, "
	       "%lld hand-off misses; %llu wrong answers, %llu failed "
	       "cycles in all (retried; last errors: connect %s, read %s)\n",
	       redirected, status_int("handed_off"),
	       status_int("handoff_missed"), (unsigned long long)total_bad,
	       (unsigned long long)total_err,
	       seen_err_conn ? strerror(seen_err_conn) : "-",
	       seen_err_read ? strerror(seen_err_read) : "-");

#define RATE_ROW(what, a, b, cmp, tgt)                                       \
	do {                                                                 \
		ratios(rate[a], rate[b], rounds, r);                         \
		row("1", what, fmt("%.1fk/s %s", median(rate[b], rounds) / 1e3,\
				   var[b].name),                             \
		    fmt("%.1fk/s", median(rate[a], rounds) / 1e3),           \
		    median(r, rounds), vmin(r, rounds), vmax(r, rounds), cmp,\
		    tgt, "x");                                               \
	} while (0)
	RATE_ROW("short conns/s, lwfp (lwfp_query_original_dst) / direct",
		 V_LWFP, V_DIRECT, AT_LEAST, 0.95);
	RATE_ROW("short conns/s, lwfp (getsockopt SO_ORIGINAL_DST) / direct",
		 V_LWFP_SOCKOPT, V_DIRECT, AT_LEAST, 0.95);
	RATE_ROW("short conns/s, lwfp / nftables REDIRECT",
		 V_LWFP, V_NFT, ABOVE, 1.0);
	RATE_ROW("short conns/s, nftables REDIRECT / direct",
		 V_NFT, V_DIRECT, INFO, 0);
	RATE_ROW("short conns/s, in lwfp scope but no rule matches / direct",
		 V_PASS, V_DIRECT, INFO, 0);
}

static void section_latency(void)
{
	static const int lv[] = { V_DIRECT, V_LWFP, V_NFT };
	enum { NL = 3, MAXB = 32 };
	int blocks = env_int("BENCH_LAT_BLOCKS", 16);
	int n = env_int("BENCH_LAT_N", 1500);
	double *all_conn[NL], *all_cyc[NL];
	double p50c[NL][MAXB], p99c[NL][MAXB], p50y[NL][MAXB], p99y[NL][MAXB];
	double r[MAXB];
	double *tmp;

	if (blocks > MAXB)
		blocks = MAXB;
	if (n > MAX_SAMPLES)
		n = MAX_SAMPLES;
	printf("# section 5: %d blocks x %d connects per variant, 1 client "
	       "+ 1 server\n", blocks, n);
	tmp = calloc(n, sizeof(double));
	for (int i = 0; i < NL; i++) {
		all_conn[i] = calloc((size_t)blocks * n, sizeof(double));
		all_cyc[i] = calloc((size_t)blocks * n, sizeof(double));
		if (!all_conn[i] || !all_cyc[i] || !tmp)
			die("out of memory");
		trial(lv[i], 0, 1, n / 4 + 1);	/* warm-up */
	}
	for (int b = 0; b < blocks; b++)
		for (int j = 0; j < NL; j++) {
			int i = (j + b) % NL;

			trial(lv[i], 0, 1, n);
			for (int s = 0; s < n; s++) {
				all_conn[i][b * n + s] = sh->lat_conn[s] / 1e3;
				all_cyc[i][b * n + s] = sh->lat_cycle[s] / 1e3;
			}
			p50c[i][b] = pct(&all_conn[i][b * n], n, 50);
			p99c[i][b] = pct(&all_conn[i][b * n], n, 99);
			p50y[i][b] = pct(&all_cyc[i][b * n], n, 50);
			p99y[i][b] = pct(&all_cyc[i][b * n], n, 99);
		}
	for (int i = 0; i < NL; i++)
		printf("# %-8s connect p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f us;"
		       " cycle p50 %.1f p99 %.1f us\n", var[lv[i]].name,
		       pct(all_conn[i], blocks * n, 50),
		       pct(all_conn[i], blocks * n, 90),
		       pct(all_conn[i], blocks * n, 99),
		       pct(all_conn[i], blocks * n, 99.9),
		       pct(all_cyc[i], blocks * n, 50),
		       pct(all_cyc[i], blocks * n, 99));

#define LAT_ROW(what, arr, all, p, a, b)                                    \
	do {                                                                \
		ratios(arr[a], arr[b], blocks, r);                          \
		row("5", what, fmt("%.1fus %s", pct(all[b], blocks * n, p), \
				   var[lv[b]].name),                        \
		    fmt("%.1fus", pct(all[a], blocks * n, p)),              \
		    median(r, blocks), vmin(r, blocks), vmax(r, blocks),    \
		    INFO, 0, "x");                                          \
	} while (0)
	LAT_ROW("connect() p50, lwfp / direct", p50c, all_conn, 50, 1, 0);
	LAT_ROW("connect() p99, lwfp / direct", p99c, all_conn, 99, 1, 0);
	LAT_ROW("connect+accept+query p50, lwfp / direct", p50y, all_cyc, 50,
		1, 0);
	LAT_ROW("connect+accept+query p99, lwfp / direct", p99y, all_cyc, 99,
		1, 0);
	LAT_ROW("connect+accept+query p50, nftables / direct", p50y, all_cyc,
		50, 2, 0);
	LAT_ROW("connect+accept+query p99, nftables / direct", p99y, all_cyc,
		99, 2, 0);
	for (int i = 0; i < NL; i++) {
		free(all_conn[i]);
		free(all_cyc[i]);
	}
	free(tmp);
}

/*
 * Where the engine's time goes on one redirected connection: the run time
 * of each of its programs (BPF_ENABLE_STATS, on only for this pass).
 */
static void diag_programs(void)
{
	static const int dv[] = { V_LWFP, V_PASS };
	struct progstat a, b;
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0) {
		printf("# (BPF run-time stats not available: %s)\n",
		       strerror(errno));
		return;
	}
	for (int i = 0; i < 2; i++) {
		progs_read(&a);
		trial(dv[i], 0, 1, 5000);
		progs_read(&b);
		printf("# engine programs, %s connections (1 client, stats "
		       "on):\n", var[dv[i]].name);
		progs_print(var[dv[i]].name, &a, &b, sh->served);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	char script[512];
	uint16_t p_orig, p_svc, p_direct, p_pass;
	const char *only = getenv("BENCH_SECTIONS");

	bench_init(argc, argv, "bconn");
	engine_start();
	sh = shared_mem(sizeof(*sh));
	p_orig = unused_port("127.0.0.1");
	p_svc = unused_port("127.0.0.1");
	p_direct = unused_port("127.0.0.1");
	p_pass = unused_port("127.0.0.1");
	service_add("bench", "127.0.0.1", p_svc, "svc", NULL);
	rule_add("bench", "127.0.0.1/32", p_orig);
	if (lwfp_open(env.pin_dir, &eng))
		die("lwfp_open");
	snprintf(script, sizeof(script),
		 "table ip lwfp_bench {\n"
		 " chain out {\n"
		 "  type nat hook output priority -100; policy accept;\n"
		 "  ip daddr 127.0.0.1 tcp dport %d redirect to :%d\n"
		 " }\n"
		 "}", NFT_ORIG, NFT_SVC);
	netns_create("conn", script);

	var[V_DIRECT] = (struct variant){ "direct", W_HOME, W_HOME, p_direct,
					  p_direct, p_direct, Q_NAME };
	var[V_LWFP] = (struct variant){ "lwfp", W_SVC, W_APP, p_svc, p_orig,
					p_orig, Q_LWFP };
	var[V_LWFP_SOCKOPT] = (struct variant){ "lwfp-so", W_SVC, W_APP,
						p_svc, p_orig, p_orig,
						Q_SOCKOPT };
	var[V_NFT] = (struct variant){ "nftables", W_NS, W_NS, NFT_SVC,
				       NFT_ORIG, NFT_ORIG, Q_SOCKOPT };
	var[V_PASS] = (struct variant){ "in-scope", W_SVC, W_APP, p_pass,
					p_pass, p_pass, Q_NAME };

	if (getenv("BENCH_PROFILE")) {	/* one variant for a while, for perf */
		int v = atoi(getenv("BENCH_PROFILE"));

		printf("# profiling start\n");

		printf("# profiling %s: %.0f/s\n", var[v].name,
		       trial(v, env_double("BENCH_T", 3), 2, 0));
		return 0;
	}
	if (!only || strchr(only, '1'))
		section_rate();
	if (!only || strchr(only, '5'))
		section_latency();
	if (!only || strchr(only, 'd'))
		diag_programs();
	if (total_bad)
		die("%llu connections got a wrong original destination",
		    (unsigned long long)total_bad);
	lwfp_close(eng);
	return 0;
}
