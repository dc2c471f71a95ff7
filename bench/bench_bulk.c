// SPDX-License-Identifier: MIT
/*
 * Section 3: bulk throughput. A client streams for BENCH_T seconds to a
 * sink (the origin) that counts what arrives:
 *   direct  client -> origin, both outside the engine's scope;
 *   proxy   client (in scope) -> relay-proxy A -> origin;
 *   chain   client (in scope) -> relay-proxy A -> relay-proxy B -> origin.
 * The proxies are build/examples/relay-proxy --no-offload (relaying in
 * user space), registered as
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
 * Kernel-offloaded relay (issue 15): relay-proxy offloading (its
 * default, --offload-after 16M, its threshold), relaying a flow in user
 * space until it has moved --offload-after bytes
 * and then handing it to the kernel, with this benchmark's own `lwfp
 * broker` (its run directory a temporary one, its --sndbuf from
 * BENCH_BROKER_SNDBUF, else the broker's default): one hop (service C,
 * 45, origin port 6) and two (C -> D, 15, port 7); bulk flows pass the
 * threshold at once (the warm-up checks that they were offloaded).
 * And short-request flows: the client sends one HTTP request, the proxy
 * logs its request line, the origin answers 64 KiB (BENCH_SHORT_KIB) and
 * closes; flows one after another, through relay-proxy with
 * --offload-after 16M (C, port 9: below the threshold, relayed in user
 * space) and
 * with --offload-after 0 (E, 10, port 10: handed over right after the
 * request line, the hand-over's cost per flow), against --no-offload
 * (A, port 8). A transfer of an offloading proxy that is not byte-exact
 * is counted (a row, and exit status 1), not fatal, so that the run still
 * measures; elsewhere it ends the run. The proxies log to files in the
 * broker's run directory (BENCH_KEEP_LOGS=1 keeps it).
 *
 * Rounds (BENCH_ROUNDS, 9): the variants interleaved and rotated; ratios
 * paired per round.
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

/* A short flow's answer: what a small web object weighs (KiB). */
#define SHORT_KIB 64
#define SHORT_REQUEST "GET /object HTTP/1.1\r\nHost: origin\r\n\r\n"

struct shared {
	uint64_t bytes, ns;	/* what the sink received, first byte to EOF */
	uint64_t sent;
	uint64_t flows;		/* short flows completed */
	uint64_t bad;		/* ... of which not exactly SHORT_RESPONSE */
	int done;
};

static struct shared *sh;
static size_t short_size = SHORT_KIB * 1024;	/* BENCH_SHORT_KIB */

enum { V_DIRECT, V_PROXY, V_CHAIN, V_SPLICE, V_SPLICE2, V_IOCP, V_OFF,
       V_OFF2, V_SHORT_USER, V_SHORT_OFF, V_SHORT_NOW, NV };
static const char *const vname[NV] = { "direct", "relay-proxy",
				       "2 relay-proxies", "splice relay",
				       "2 splice relays",
				       "winsock-iocp-proxy",
				       "offloaded relay-proxy",
				       "2 offloaded relay-proxies",
				       "short, --no-offload",
				       "short, --offload-after 16M",
				       "short, --offload-after 0" };
static const int vhops[NV] = { 0, 1, 2, 1, 2, 1, 1, 2, 1, 1, 1 };
/* BENCH_VARIANTS names the variants to run by these keys */
static const char *const vkey[NV] = { "direct", "proxy", "chain", "splice",
				      "splice2", "iocp", "off", "off2",
				      "short", "short-off", "short-now" };
static bool vsel[NV];
static uint16_t port[NV];	/* origin port of each path */
static struct lwfp *eng;
static char run_dir[64];	/* the broker's LWFP_RUN_DIR, and proxy logs */

static bool is_short(int v)
{
	return v == V_SHORT_USER || v == V_SHORT_OFF || v == V_SHORT_NOW;
}

/* Transfers of the offloading proxies that were not byte-exact: counted
 * and reported (a row, and the exit status), so the run still measures;
 * on any other path a wrong count ends the run. */
static bool is_offloaded(int v)
{
	return v == V_OFF || v == V_OFF2 || v == V_SHORT_OFF ||
	       v == V_SHORT_NOW;
}

static unsigned long transfers, inexact;

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

/* The short flows' origin: read the request, answer, close. */
static void short_origin_main(int lfd)
{
	char req[512], *resp = malloc(short_size);

	if (!resp)
		CFAIL("malloc");
	memset(resp, 'x', short_size);
	for (;;) {
		size_t got = 0, off = 0;
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		ssize_t n = 0;

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			CFAIL("accept");
		}
		while (got < sizeof(SHORT_REQUEST) - 1 &&
		       (n = read(c, req + got, sizeof(req) - got)) > 0)
			got += n;
		while (n > 0 && off < short_size &&
		       (n = write(c, resp + off, short_size - off)) > 0)
			off += n;
		close(c);
	}
}

/* Short flows one after another for secs seconds; each must bring back
 * exactly short_size bytes. */
static void short_client(int v, double secs)
{
	static char buf[SHORT_KIB * 1024];
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9), n = 0;

	child_enter("app");
	while (now_ns() < end) {
		int fd = connect_to(AF_INET, "127.0.0.1", port[v]);
		size_t got = 0;
		ssize_t r;

		if (fd < 0)
			CFAIL("connect");
		if (write(fd, SHORT_REQUEST, sizeof(SHORT_REQUEST) - 1) !=
		    sizeof(SHORT_REQUEST) - 1)
			CFAIL("request");
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			got += r;
		if (r < 0 || got != short_size) {
			fprintf(stderr, "# %s: flow %llu brought %zu bytes "
				"(%s)\n", vname[v], (unsigned long long)n, got,
				r < 0 ? strerror(errno) : "EOF");
			sh->bad++;
		}
		close(fd);
		n++;
	}
	sh->flows = n;
	sh->ns = now_ns() - t0;
	_exit(0);
}

/* Flows per second, one after another. */
static double short_trial(int v, double secs)
{
	int rc;
	pid_t pid;

	sh->flows = sh->ns = sh->bad = 0;
	pid = bench_fork();
	if (pid == 0)
		short_client(v, secs);
	rc = bench_wait(pid);
	if (rc || !sh->flows || (sh->bad && !is_offloaded(v)))
		die("%s: client exit %d after %llu flows, %llu not exact",
		    vname[v], rc, (unsigned long long)sh->flows,
		    (unsigned long long)sh->bad);
	transfers += sh->flows;
	inexact += sh->bad;
	return sh->flows / (sh->ns / 1e9);
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

	if (is_short(v))
		return short_trial(v, secs);
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
	if (!sh->done || (sh->bytes != sh->sent && !is_offloaded(v)))
		die("%s: sent %llu, the origin got %llu", vname[v],
		    (unsigned long long)sh->sent,
		    (unsigned long long)sh->bytes);
	if (is_offloaded(v)) {
		transfers++;
		if (sh->bytes != sh->sent) {
			inexact++;
			printf("# %s: sent %llu, the origin got %llu\n",
			       vname[v], (unsigned long long)sh->sent,
			       (unsigned long long)sh->bytes);
		}
	}
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
	bool no_offload;	/* relay-proxy --no-offload */
	const char *after;	/* its --offload-after, NULL: the default */
	uint16_t port;
	pid_t pid;
	char log[128];		/* its stdout and stderr */
};

/* In the child: run the example on 127.0.0.1:port. */
static void proxy_exec(const struct proxy *p, const char *path)
{
	char listen[32], sport[8];
	const char *argv[] = { path, "--listen", listen, "--pin-dir",
			       env.pin_dir, NULL, NULL, NULL };

	if (!strcmp(p->example, "relay-proxy")) {
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", p->port);
		if (p->no_offload) {
			argv[5] = "--no-offload";
		} else if (p->after) {
			argv[5] = "--offload-after";
			argv[6] = p->after;
		}
		execv(path, (char *const *)argv);
	} else {
		snprintf(sport, sizeof(sport), "%u", p->port);
		setenv("LWFP_PIN_DIR", env.pin_dir, 1);
		execl(path, path, "127.0.0.1", sport, NULL);
	}
}

/* How many times needle occurs in the file (0 if it cannot be read). */
static long count_in(const char *file, const char *needle)
{
	char line[1024];
	long n = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* Wait up to 5 s for needle to occur at least n times in file. */
static bool wait_count(const char *file, const char *needle, long n)
{
	for (int i = 0; i < 500; i++) {
		if (count_in(file, needle) >= n)
			return true;
		usleep(10000);
	}
	return false;
}

/* Its log in a file, not a pipe: no one reads a pipe while flows run,
 * and a full one would stall the proxy. */
static void proxy_start(struct proxy *p, const char *weight)
{
	char bin[PATH_MAX], path[PATH_MAX + 64], cg[32];
	int fd;

	snprintf(bin, sizeof(bin), "%s", env.lwfp);
	snprintf(path, sizeof(path), "%s/examples/%s", dirname(bin),
		 p->example);
	snprintf(p->log, sizeof(p->log), "%s/%s.log", run_dir, p->name);
	p->port = unused_port("127.0.0.1");
	service_add(p->name, "127.0.0.1", p->port, NULL, weight);
	snprintf(cg, sizeof(cg), "svc%s", p->name);
	fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		  0600);
	if (fd < 0)
		die("open %s", p->log);
	p->pid = bench_fork();
	if (p->pid == 0) {
		child_enter(cg);
		dup2(fd, 1);
		dup2(fd, 2);
		proxy_exec(p, path);
		_exit(127);
	}
	close(fd);
	if (!wait_count(p->log, "listening", 1))
		die("%s %s did not start (%s)", p->example, p->name, path);
}

static void proxy_stop(struct proxy *p)
{
	kill(p->pid, SIGTERM);
	bench_wait(p->pid);
}

/* ---- the engine's offload broker, in a run directory of our own ---- */

static void run_dir_remove(void)
{
	DIR *d;
	struct dirent *e;

	if (!run_dir[0] || in_child || getenv("BENCH_KEEP_LOGS") ||
	    !(d = opendir(run_dir)))
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(run_dir);
}

/* Before bench_init: atexit runs this after the children are stopped. */
static void run_dir_make(void)
{
	snprintf(run_dir, sizeof(run_dir), "/tmp/lwfp-bbulk-XXXXXX");
	if (!mkdtemp(run_dir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(run_dir_remove);
	/* the proxies find the broker there (offload_wire.h) */
	setenv("LWFP_RUN_DIR", run_dir, 1);
}

static bool broker_listening(void)
{
	struct dirent *e;
	bool found = false;
	DIR *d = opendir(run_dir);

	while (d && !found && (e = readdir(d)))
		found = !strncmp(e->d_name, "offload-", 8);
	if (d)
		closedir(d);
	return found;
}

static pid_t broker_start(void)
{
	const char *sndbuf = getenv("BENCH_BROKER_SNDBUF");
	pid_t pid;

	pid = bench_fork();
	if (pid == 0) {
		child_home();
		execl(env.lwfp, env.lwfp, "--pin-dir", env.pin_dir, "broker",
		      "--quiet", sndbuf ? "--sndbuf" : NULL, sndbuf, NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && !broker_listening(); i++)
		usleep(10000);
	if (!broker_listening())
		die("lwfp broker did not start");
	printf("# lwfp broker --sndbuf %s, LWFP_RUN_DIR %s\n",
	       sndbuf ? sndbuf : "(the broker's default, 16 MiB)", run_dir);
	return pid;
}

static void rule(const char *svc, int v)
{
	rule_add(svc, "127.0.0.1", port[v]);
}

static struct proxy pa = { .name = "A", .example = "relay-proxy",
			   .no_offload = true };
static struct proxy pb = { .name = "B", .example = "relay-proxy",
			   .no_offload = true };
static struct proxy pw = { .name = "W", .example = "winsock-iocp-proxy" };
/* relay-proxy's default, offloading after 16 MiB, said explicitly */
static struct proxy pc = { .name = "C", .example = "relay-proxy",
			   .after = "16M" };
static struct proxy pd = { .name = "D", .example = "relay-proxy",
			   .after = "16M" };
static struct proxy pe = { .name = "E", .example = "relay-proxy",
			   .after = "0" };

/* The origins, outside the engine's scope: one per path (direct and
 * proxy share one: direct does not pass the engine). */
static void origins_start(pid_t *sinks)
{
	for (int v = 0; v < NV; v++) {
		port[v] = unused_port("127.0.0.1");
		if (v == V_PROXY) {
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
			if (is_short(v))
				short_origin_main(l);
			sink_main(l);
		}
	}
	usleep(100000);
}

static void rules_add(void)
{
	rule("A", V_PROXY);
	rule("A", V_CHAIN);
	rule("B", V_CHAIN);
	rule("S", V_SPLICE);
	rule("S", V_SPLICE2);
	rule("T", V_SPLICE2);
	rule("C", V_OFF);
	rule("C", V_OFF2);
	rule("D", V_OFF2);
	rule("A", V_SHORT_USER);
	rule("C", V_SHORT_OFF);
	rule("E", V_SHORT_NOW);
	/* winsock-iocp-proxy reads its own context struct */
	if (lwfp_run("rule", "add", "--service", "W", "--dst", "127.0.0.1/32",
		     "--dport", fmt("%u", port[V_IOCP]), "--context-layout",
		     "examples/winsock-iocp-proxy.layout", NULL))
		die("rule add W");
}

/* C's short flows, relayed by default: some ended, none offloaded (at
 * 64 KiB; a larger BENCH_SHORT_KIB may pass the threshold: said only). */
static void short_default_check(long c0, long ended0)
{
	const char *off = " offloaded", *end = "relay-proxy: flow orig=";
	long n;

	if (!wait_count(pc.log, end, ended0 + 1))
		die("%s: C logged no flow's end (%s)", vname[V_SHORT_OFF],
		    pc.log);
	n = count_in(pc.log, off) - c0;
	if (n && short_size == SHORT_KIB * 1024)
		die("%s: C offloaded %ld flows of %d KiB (%s)",
		    vname[V_SHORT_OFF], n, SHORT_KIB, pc.log);
	printf("# %s: %ld of %ld flows logged offloaded\n",
	       vname[V_SHORT_OFF], n, count_in(pc.log, end) - ended0);
}

/* BENCH_VARIANTS ("proxy iocp"): only these variants run, and only the
 * rows whose both variants ran are printed. Unset: all of them. */
static void variants_select(void)
{
	const char *list = getenv("BENCH_VARIANTS");
	char *copy, *key, *save = NULL;

	for (int v = 0; v < NV; v++)
		vsel[v] = !list;
	if (!list)
		return;
	copy = strdup(list);
	for (key = strtok_r(copy, " ,", &save); key;
	     key = strtok_r(NULL, " ,", &save)) {
		int v = 0;

		while (v < NV && strcmp(key, vkey[v]))
			v++;
		if (v == NV)
			die("BENCH_VARIANTS: no variant '%s'", key);
		vsel[v] = true;
	}
	free(copy);
}

/* Warm-up, and the path each variant takes: the engine's redirect
 * counter, and the offloading proxies' logs (a flow's line says
 * "offloaded" once the kernel relayed it to its end). */
static void warm_up(void)
{
	const char *off = " offloaded", *end = "relay-proxy: flow orig=";

	for (int v = 0; v < NV; v++) {
		long c0 = count_in(pc.log, off), d0 = count_in(pd.log, off);
		long e0 = count_in(pe.log, off), ended0 = count_in(pc.log, end);
		long long red = status_int("redirected");
		long long want;

		if (!vsel[v])
			continue;
		trial(v, 0.2, NULL);
		red = status_int("redirected") - red;
		want = vhops[v] * (is_short(v) ? (long long)sh->flows : 1);
		if (red != want)
			die("%s: %lld redirects, want %lld", vname[v], red,
			    want);
		if ((v == V_OFF || v == V_OFF2) &&
		    !wait_count(pc.log, off, c0 + 1))
			die("%s: C did not offload (%s)", vname[v], pc.log);
		if (v == V_OFF2 && !wait_count(pd.log, off, d0 + 1))
			die("%s: D did not offload (%s)", vname[v], pd.log);
		if (v == V_SHORT_OFF)
			short_default_check(c0, ended0);
		if (v == V_SHORT_NOW && !wait_count(pe.log, off, e0 + 1))
			die("%s: E did not offload (%s)", vname[v], pe.log);
	}
	if (count_in(pa.log, off) || count_in(pb.log, off))
		die("relay-proxy --no-offload offloaded");
}

static void bulk_row(const char *what, double gbs[NV][32], int v, int base,
		     int rounds, enum cmp cmp, double tgt)
{
	const char *unit = is_short(v) ? "%.0f flows/s" : "%.2f GB/s";
	double r[32];

	if (!vsel[v] || !vsel[base])
		return;
	ratios(gbs[v], gbs[base], rounds, r);
	row("3", what, fmt(unit, median(gbs[base], rounds)),
	    fmt(unit, median(gbs[v], rounds)), median(r, rounds),
	    vmin(r, rounds), vmax(r, rounds), cmp, tgt, "x");
}

static void cpu_row(const char *what, double cpu[NV][32], int v, int rounds,
		    enum cmp cmp, double tgt)
{
	double r[32];

	if (!vsel[v] || !vsel[V_DIRECT])
		return;
	ratios(cpu[v], cpu[V_DIRECT], rounds, r);
	row("3", what, fmt("%.2f", median(cpu[V_DIRECT], rounds)),
	    fmt("%.2f", median(cpu[v], rounds)), median(r, rounds),
	    vmin(r, rounds), vmax(r, rounds), cmp, tgt, "x");
}

static void rows_print(double gbs[NV][32], double cpu[NV][32], int rounds)
{
	bulk_row("bulk GB/s, through relay-proxy --no-offload / direct", gbs,
		 V_PROXY, V_DIRECT, rounds, AT_LEAST, 0.8);
	bulk_row("bulk GB/s, through 2 relay-proxies --no-offload (A -> B) / "
		 "direct", gbs, V_CHAIN, V_DIRECT, rounds, AT_LEAST, 0.6);
	bulk_row("bulk GB/s, bench splice relay (1 hop) / direct", gbs,
		 V_SPLICE, V_DIRECT, rounds, INFO, 0);
	bulk_row("bulk GB/s, 2 bench splice relays / direct", gbs, V_SPLICE2,
		 V_DIRECT, rounds, INFO, 0);
	bulk_row("bulk GB/s, winsock-iocp-proxy (IOCP) / relay-proxy "
		 "--no-offload", gbs, V_IOCP, V_PROXY, rounds, AT_LEAST, 0.9);
	bulk_row("bulk GB/s, through offloaded relay-proxy / direct", gbs,
		 V_OFF, V_DIRECT, rounds, AT_LEAST, 0.9);
	bulk_row("bulk GB/s, through 2 offloaded relay-proxies (C -> D) / "
		 "direct", gbs, V_OFF2, V_DIRECT, rounds, AT_LEAST, 0.8);
	bulk_row(fmt("short flows/s (request, %zu KiB answer), relay-proxy "
		     "--offload-after 16M / --no-offload", short_size / 1024), gbs,
		 V_SHORT_OFF, V_SHORT_USER, rounds, AT_LEAST, 1.0);
	bulk_row(fmt("short flows/s (request, %zu KiB answer), relay-proxy "
		     "--offload-after 0 / --no-offload", short_size / 1024),
		 gbs, V_SHORT_NOW, V_SHORT_USER, rounds, INFO, 0);
	cpu_row("CPU-s per GB, relay-proxy --no-offload / direct", cpu,
		V_PROXY, rounds, INFO, 0);
	cpu_row("CPU-s per GB, splice relay / direct", cpu, V_SPLICE, rounds,
		INFO, 0);
	cpu_row("CPU-s per GB, offloaded relay-proxy / direct", cpu, V_OFF,
		rounds, AT_MOST, 1.2);
	cpu_row("CPU-s per GB, 2 offloaded relay-proxies / direct", cpu,
		V_OFF2, rounds, INFO, 0);
	if (!vsel[V_OFF] && !vsel[V_OFF2] && !vsel[V_SHORT_OFF] &&
	    !vsel[V_SHORT_NOW])
		return;
	row_text("3", "offloaded transfers not byte-exact (bulk, short flows)",
		 fmt("%lu transfers", transfers), fmt("%lu", inexact), NAN,
		 NAN, NAN, "", "0", inexact ? "NO" : "yes");
}

int main(int argc, char **argv)
{
	/* 9: with 5, the IOCP row's median moved 0.75..0.95 between runs */
	int rounds = env_int("BENCH_ROUNDS", 9);
	double secs = env_double("BENCH_T", 1.0);
	double gbs[NV][32], cpu[NV][32];
	pid_t sinks[NV], ss, st, broker;

	run_dir_make();
	bench_init(argc, argv, "bbulk");
	variants_select();
	engine_start();
	if (lwfp_open(env.pin_dir, &eng))
		die("lwfp_open");
	if (rounds > 32)
		rounds = 32;
	sh = shared_mem(sizeof(*sh));
	if (env_int("BENCH_SHORT_KIB", SHORT_KIB) > 0)
		short_size = (size_t)env_int("BENCH_SHORT_KIB", SHORT_KIB) *
			     1024;

	origins_start(sinks);
	broker = broker_start();
	proxy_start(&pa, "30");
	proxy_start(&pb, "20");
	proxy_start(&pw, "25");
	proxy_start(&pc, "45");
	proxy_start(&pd, "15");
	proxy_start(&pe, "10");
	ss = splice_relay_start("S", "40");
	st = splice_relay_start("T", "35");
	rules_add();
	warm_up();

	printf("# section 3: %d rounds x %.2f s per variant, %d KiB writes; "
	       "paths checked by the engine's redirect counter and the "
	       "proxies' logs\n", rounds, secs, CHUNK / 1024);
	for (int k = 0; k < rounds; k++) {
		printf("# round %d:", k + 1);
		for (int j = 0; j < NV; j++) {
			int v = (j + k) % NV;

			if (!vsel[v])
				continue;
			cpu[v][k] = 0;
			gbs[v][k] = trial(v, secs, &cpu[v][k]);
			printf(is_short(v) ? " %s %.0f flows/s," :
					     " %s %.2f GB/s,", vname[v],
			       gbs[v][k]);
		}
		printf("\n");
	}
	for (int v = 0; v < NV; v++) {
		if (!vsel[v])
			continue;
		if (is_short(v))
			printf("# %-26s median %.0f flows/s\n", vname[v],
			       median(gbs[v], rounds));
		else
			printf("# %-26s median %.2f GB/s, %.2f CPU-s per GB "
			       "(machine-wide, includes other load)\n",
			       vname[v], median(gbs[v], rounds),
			       median(cpu[v], rounds));
	}
	rows_print(gbs, cpu, rounds);

	proxy_stop(&pa);
	proxy_stop(&pb);
	proxy_stop(&pw);
	proxy_stop(&pc);
	proxy_stop(&pd);
	proxy_stop(&pe);
	bench_kill(broker);
	bench_kill(ss);
	bench_kill(st);
	for (int v = 0; v < NV; v++)
		if (sinks[v])
			bench_kill(sinks[v]);
	lwfp_close(eng);
	return inexact ? 1 : 0;
}
