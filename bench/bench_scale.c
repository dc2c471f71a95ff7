// SPDX-License-Identifier: MIT
/*
 * Section 4: scale.
 *
 * 4a. Rule table size. 16,384 rules of mixed shapes (hosts, /24s, /16s,
 *     a /12 and IPv6 prefixes; single ports and ranges; --uid, --cgroup,
 *     UDP), all to one service, in arbitration order. Rule #1 takes
 *     127.1.0.0/16 port 20000, rule #10,000 127.2.0.0/16 port 20001, and
 *     no rule takes 127.3.0.0/16. Each measured connect goes to a
 *     destination of its own in its /16, so that neither a port index nor
 *     a cache of repeated connects can pass for a classifier. The cost of
 *     a connection (connect, accept, original destination asked, close)
 *     with the match at rule #10,000, and with no match, relative to the
 *     match at rule #1, interleaved and rotated per round. Also: the time
 *     of `lwfp rule add` of the 10,000th rule (the others are appended
 *     through the control plane, admin_rules_append()), and the memory of
 *     the engine's maps (memlock in fdinfo).
 *
 * 4b. BENCH_HELD (default 100000) connections held open, in one process
 *     (clients and the service in the same process, sources bound to
 *     127.0.0.2..127.0.0.9 with IP_BIND_ADDRESS_NO_PORT). Phases, in
 *     order: direct, lwfp, direct, lwfp (BENCH_HELD_ROUNDS pairs). Per
 *     phase: the cost of a connection with nothing held, all opened, the
 *     cost with all held, kernel memory, all closed, engine state. Kernel
 *     memory per flow = (Slab growth with lwfp - Slab growth direct) / N,
 *     from /proc/meminfo, with the slab caches that grew from
 *     /proc/slabinfo and bpftool's memlock of the maps.
 *
 * 4c. A burst of BENCH_BURST (16) connects to a service whose listen
 *     backlog is 1: the accept queue overflows, the kernel drops the ACKs
 *     that complete some handshakes (tcp_abort_on_overflow=0), and those
 *     connections complete later from the client's first data segment.
 *     Counts how many accepted sockets still carry their flow's state.
 *
 *   bench_scale PATH-TO-lwfp
 */
#include "bench.h"
#include "admin.h"


static struct lwfp *eng;

/* ---- 4a: rules ---- */

struct rshared {
	uint64_t cyc_ns, conn_ns, n, bad;
	uint32_t seq;		/* destinations handed out so far */
};
static struct rshared *rs;

/* Redirected flows: their original port must be one of the measured. */
static void rules_server(int lfd, uint16_t want_lo, uint16_t want_hi,
			 bool redirected)
{
	struct sockaddr_storage ss;
	socklen_t len;

	for (;;) {
		int a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), q;

		if (a < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			CFAIL("accept");
		}
		len = sizeof(ss);
		q = redirected ? lwfp_query_original_dst(eng, a, &ss, &len) :
				 getsockname(a, (struct sockaddr *)&ss, &len);
		if (q || addr_port(&ss) < want_lo || addr_port(&ss) > want_hi)
			__atomic_add_fetch(&rs->bad, 1, __ATOMIC_RELAXED);
		close_rst(a);
	}
}

/* n cycles, each to a destination of its own in 127.net.0.0/16. */
static void rules_client(int net, uint16_t port, int n)
{
	uint32_t first = __atomic_fetch_add(&rs->seq, n, __ATOMIC_RELAXED);
	uint64_t cyc = 0, con = 0;
	char c;

	child_enter("app");
	for (int i = 0; i < n; i++) {
		uint32_t k = first + i;
		struct sockaddr_in dst = {
			.sin_family = AF_INET, .sin_port = htons(port),
			.sin_addr.s_addr = htonl(127u << 24 | net << 16 |
						 (1 + k / 254 % 254) << 8 |
						 (1 + k % 254)),
		};
		uint64_t t0 = now_ns(), t1;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		/* ECONNRESET from connect(): the server accepted, queried
		 * and reset before connect() returned: a complete cycle */
		if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) &&
		    errno != ECONNRESET)
			CFAIL("connect to 127.%d.x.x:%u", net, port);
		t1 = now_ns();
		if (read(fd, &c, 1) < 0 && errno != ECONNRESET &&
		    errno != ENOTCONN)
			CFAIL("read");
		close(fd);
		cyc += now_ns() - t0;
		con += t1 - t0;
	}
	rs->cyc_ns = cyc / n;
	rs->conn_ns = con / n;
	_exit(0);
}

static double rules_trial(int net, uint16_t port, int n, double *conn_us)
{
	pid_t pid = bench_fork();
	int rc;

	if (pid == 0)
		rules_client(net, port, n);
	rc = bench_wait(pid);
	if (rc)
		die("rules client exit %d", rc);
	*conn_us = rs->conn_ns / 1e3;
	return rs->cyc_ns / 1e3;
}

static void rule_v4(struct lwfp_rule *r, __u32 slot, __u32 addr, int len)
{
	memset(r, 0, sizeof(*r));
	r->service = slot;
	r->dst[10] = r->dst[11] = 0xff;
	addr &= len ? ~0u << (32 - len) : 0;
	addr = htonl(addr);
	memcpy(&r->dst[12], &addr, 4);
	r->prefix_len = 96 + len;
	for (int b = 0; b < r->prefix_len; b++)
		r->mask[b / 8] |= 0x80 >> (b % 8);
	r->dport_hi = 65535;
}

static void rule_v6(struct lwfp_rule *r, __u32 slot, __u32 i, int len)
{
	memset(r, 0, sizeof(*r));
	r->service = slot;
	r->dst[0] = 0x20;	/* 2001:db8::/32, the documentation prefix */
	r->dst[1] = 0x01;
	r->dst[2] = 0x0d;
	r->dst[3] = 0xb8;
	r->dst[4] = i >> 8;
	r->dst[5] = i;
	r->dst[15] = len == 128 ? i : 0;
	r->prefix_len = len;
	for (int b = 0; b < len; b++)
		r->mask[b / 8] |= 0x80 >> (b % 8);
	for (int b = 0; b < 16; b++)
		r->dst[b] &= r->mask[b];
	r->dport_hi = 65535;
}

/*
 * Rules of mixed shapes that none of the measured connects (127.1-3.x.x)
 * matches: hosts, /24s, /16s and a /12 in 127.16.0.0-127.239.255.255,
 * single ports and ranges, --uid and --cgroup of others, UDP, IPv6.
 */
static void filler(struct lwfp_rule *r, __u32 slot, __u32 i)
{
	__u32 a = 127u << 24 | (16 + i % 224) << 16 | (i / 224 % 256) << 8 |
		  (i % 256);

	switch (i % 8) {
	case 0:
		rule_v4(r, slot, a, 32);
		r->dport_lo = r->dport_hi = 80 + i % 1000;
		r->proto = IPPROTO_TCP;
		break;
	case 1:
		rule_v4(r, slot, a, 24);
		r->dport_lo = 1000 + i % 500;
		r->dport_hi = r->dport_lo + 50;
		break;
	case 2:
		rule_v4(r, slot, a, 16);
		r->flags = LWFP_RULE_UID;
		r->uid = 54321;
		break;
	case 3:
		rule_v4(r, slot, a, 24);
		r->flags = LWFP_RULE_CGROUP;
		r->cgroup_level = 1 + i % 3;
		r->cgroup_id = (1ull << 40) + i;	/* no such cgroup */
		break;
	case 4:
		rule_v4(r, slot, a, 32);
		r->dport_lo = r->dport_hi = 53;
		r->proto = IPPROTO_UDP;
		break;
	case 5:
		rule_v6(r, slot, i, 48);
		r->dport_lo = r->dport_hi = 443;
		r->proto = IPPROTO_TCP;
		break;
	case 6:
		rule_v6(r, slot, i, 128);
		break;
	default:
		rule_v4(r, slot, a, 12);
		r->dport_lo = 30000;
		r->dport_hi = 40000 + i % 100;
		break;
	}
}

/* Append rules first..last-1 of the measured table, as one commit. */
static void rules_fill(struct admin *a, __u32 slot, __u32 first, __u32 last)
{
	struct lwfp_rule *rules = calloc(last - first + 1, sizeof(*rules));
	char err[256];

	if (!rules)
		die("out of memory");
	for (__u32 i = first; i < last; i++)
		filler(&rules[i - first], slot, i);
	if (first == 0) {	/* rule #1 */
		rule_v4(&rules[0], slot, 127u << 24 | 1 << 16, 16);
		rules[0].dport_lo = rules[0].dport_hi = 20000;
		rules[0].proto = IPPROTO_TCP;
	}
	if (admin_rules_append(a, rules, last - first, err, sizeof(err)))
		die("append rules: %s", err);
	free(rules);
}

/* Kernel memory of the engine's maps: memlock of each, from fdinfo. */
static double maps_mib(void)
{
	static const char *const maps[] = {
		"lwfp_sk", "lwfp_pending", "lwfp_live", "lwfp_services",
		"lwfp_rules", "lwfp_config", "lwfp_stats", "lwfp_rule_ctx",
		"lwfp_udp_flows", "lwfp_udp_sweeper", "lwfp_udp_sk",
		"lwfp_udp_answer", "lwfp_cls_hdr", "lwfp_cls_index",
		"lwfp_cls_masks", "lwfp_cls_ports", "lwfp_cls_bitmaps",
		"lwfp_cls_words",
	};
	double total = 0;

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		char p[PATH_MAX], line[256];
		long long memlock = 0;
		FILE *f;
		int fd;

		snprintf(p, sizeof(p), "%s/%s", env.pin_dir, maps[i]);
		fd = bpf_obj_get(p);
		if (fd < 0)
			die("open map %s", maps[i]);
		snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
		f = fopen(p, "r");
		while (f && fgets(line, sizeof(line), f))
			sscanf(line, "memlock: %lld", &memlock);
		if (f)
			fclose(f);
		close(fd);
		printf("# map %-18s %10lld bytes\n", maps[i], memlock);
		total += memlock;
	}
	return total / (1 << 20);
}

static void section_rules(void)
{
	/* rule #1, rule #10,000, no rule: 127.NET.x.x to PORT */
	static const char *const names[] = { "rule #1", "rule #10,000",
					     "no rule" };
	enum { NP = 3, R1 = 0, R10K = 9999 };
	int rounds = env_int("BENCH_ROUNDS", 5), n = env_int("BENCH_RN", 2000);
	double cyc[NP][32], con[NP][32], r[32], add_ms, mib;
	uint16_t p_svc, p_none, port[NP];
	struct admin a;
	char err[256];
	int lfd, nfd, net[NP] = { 1, 2, 3 };
	pid_t srv, srv_none;
	__u32 slot;
	uint64_t t0;
	long long nr;

	if (rounds > 32)
		rounds = 32;
	rs = shared_mem(sizeof(*rs));
	lfd = listen_on("127.0.0.1", &p_svc);
	/* connects no rule takes go where they were going: anywhere in
	 * 127.3.0.0/16, so this listens on every local address */
	nfd = listen_on("0.0.0.0", &p_none);
	port[0] = 20000;
	port[1] = 20001;
	port[2] = p_none;
	service_add("s", "127.0.0.1", p_svc, "svc", NULL);
	if (admin_open(env.pin_dir, &a, err, sizeof(err)) ||
	    admin_service_find(&a, "s", &slot, NULL))
		die("open the engine: %s", err);
	t0 = now_ns();
	rules_fill(&a, slot, R1, R10K);
	printf("# section 4a: %d rules of mixed shapes written in %.2f s\n",
	       R10K, (now_ns() - t0) / 1e9);
	admin_close(&a);	/* the CLI takes the engine's lock */
	t0 = now_ns();
	if (lwfp_run("rule", "add", "--service", "s", "--dst", "127.2.0.0/16",
		     "--dport", "20001", "--proto", "tcp", NULL))
		die("rule add of rule #10,000");
	add_ms = (now_ns() - t0) / 1e6;
	if (admin_open(env.pin_dir, &a, err, sizeof(err)))
		die("open the engine: %s", err);
	rules_fill(&a, slot, R10K + 1, LWFP_MAX_RULES);
	admin_close(&a);
	nr = status_int("rules");
	printf("# rule #10,000 through `lwfp rule add`: %.1f ms; lwfp status: "
	       "%lld rules, classifier %lld bitmaps, %lld words\n", add_ms, nr,
	       status_int("bitmaps"), status_int("words"));
	if (nr != LWFP_MAX_RULES)
		die("the engine has %lld rules", nr);
	mib = maps_mib();

	srv = bench_fork();
	if (srv == 0)
		rules_server(lfd, 20000, 20001, true);
	srv_none = bench_fork();
	if (srv_none == 0)
		rules_server(nfd, p_none, p_none, false);
	close(lfd);
	close(nfd);
	for (int i = 0; i < NP; i++)
		rules_trial(net[i], port[i], n / 4 + 1, &con[i][0]);
	for (int k = 0; k < rounds; k++) {
		printf("# round %d:", k + 1);
		for (int j = 0; j < NP; j++) {
			int i = (j + k) % NP;

			cyc[i][k] = rules_trial(net[i], port[i], n, &con[i][k]);
			printf(" %s %.1f us (connect %.1f)", names[i],
			       cyc[i][k], con[i][k]);
		}
		printf("\n");
	}
	if (rs->bad)
		die("%llu wrong original destinations",
		    (unsigned long long)rs->bad);
	if (status_int("redirected") < 2 * rounds * n)
		die("the engine redirected %lld connects, fewer than measured",
		    status_int("redirected"));

	/* the classifier itself: connect4's run time per connect */
	{
		struct progstat b4, af;
		int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

		for (int i = 0; fd >= 0 && i < NP; i++) {
			double u;

			progs_read(&b4);
			rules_trial(net[i], port[i], 500, &u);
			progs_read(&af);
			for (int x = 0; x < af.n; x++)
				for (int y = 0; y < b4.n; y++)
					if (!strcmp(b4.name[y], af.name[x]) &&
					    !strcmp(af.name[x], "lwfp_connect4"))
						printf("# connect4, %s: %.0f ns "
						       "per connect (stats on)\n",
						       names[i],
						       (double)(af.ns[x] - b4.ns[y]) /
						       (af.cnt[x] - b4.cnt[y]));
		}
		if (fd >= 0)
			close(fd);
	}
	for (int i = 1; i < NP; i++) {
		ratios(cyc[i], cyc[0], rounds, r);
		row("4", fmt("connection cost, 16,384 mixed rules: %s / rule #1",
			     names[i]),
		    fmt("%.1fus", median(cyc[0], rounds)),
		    fmt("%.1fus", median(cyc[i], rounds)), median(r, rounds),
		    vmin(r, rounds), vmax(r, rounds), AT_MOST, 1.1, "x");
	}
	row("4", "`lwfp rule add` of the 10,000th rule", "-",
	    fmt("%.1fms", add_ms), add_ms, NAN, NAN, AT_MOST, 50, "ms");
	row("4", "engine map memory with 16,384 rules", "-",
	    fmt("%.1fMiB", mib), mib, NAN, NAN, AT_MOST, 64, "MiB");
	bench_kill(srv);
	bench_kill(srv_none);
}

/* ---- 4b: connections held open ---- */

/*
 * A process may hold only as many descriptors as its hard RLIMIT_NOFILE
 * allows (raising it needs CAP_SYS_RESOURCE), so the flows are spread
 * over several holder processes, each both client and server of its own
 * flows (2 descriptors per flow), each with its own listener (and, for
 * lwfp, its own service and rule).
 */
#define MAXH 48

struct hshared {
	long opened[MAXH], accepted[MAXH];
	int err[MAXH];
	double probe_us, probe_conn_us;
};
static struct hshared *hs;

struct holder {
	pid_t pid;
	int cmd, done;
	uint16_t listen, dst;
	long n;
};

struct group {
	bool lwfp;
	const char *name;
	int nh;
	struct holder h[MAXH];
};

static double probe(int lfd, const struct sockaddr_in *dst, uint16_t want,
		    bool lwfp, int n, double *conn_us)
{
	uint64_t tot = 0, con = 0;

	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		uint64_t t0 = now_ns(), t1;
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), a;

		if (connect(s, (const struct sockaddr *)dst, sizeof(*dst)))
			CFAIL("probe connect");
		t1 = now_ns();
		if (poll(&p, 1, 5000) != 1)
			CFAIL("probe accept");
		a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (a < 0)
			CFAIL("probe accept");
		if (lwfp ? lwfp_query_original_dst(eng, a, &ss, &len) :
			   getsockname(a, (struct sockaddr *)&ss, &len))
			CFAIL("probe query");
		if (addr_port(&ss) != want) {
			errno = EINVAL;
			CFAIL("probe: original destination %u, want %u",
			      addr_port(&ss), want);
		}
		close_rst(a);
		close(s);
		tot += now_ns() - t0;
		con += t1 - t0;
	}
	*conn_us = con / 1e3 / n;
	return tot / 1e3 / n;
}

static void holder_main(const struct group *g, int idx, int cmd_fd,
			int done_fd)
{
	const struct holder *h = &g->h[idx];
	int *cfd = calloc(h->n + 1, sizeof(int));
	int *afd = calloc(h->n + 1, sizeof(int));
	struct sockaddr_in dst;
	long nc = 0, na = 0, n = h->n;
	int lfd, one = 1;
	char c;

	if (g->lwfp)
		child_enter("app");
	else
		child_home();
	if (raise_nofile(2 * n + 256) < (rlim_t)(2 * n + 64)) {
		errno = EMFILE;
		CFAIL("RLIMIT_NOFILE too low for %ld flows", n);
	}
	lfd = tcp_listen("127.0.0.1", h->listen, 4096);
	if (lfd < 0 || !cfd || !afd)
		CFAIL("listen");
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	sin_of(&dst, "127.0.0.1", h->dst);
	while (read(cmd_fd, &c, 1) == 1) {
		if (c == 'p' || c == 'P') {
			hs->probe_us = probe(lfd, &dst, g->lwfp ? h->dst :
					     h->listen, g->lwfp, c == 'P' ? 500 :
					     env_int("BENCH_PROBE_N", 2000),
					     &hs->probe_conn_us);
		} else if (c == 'o') {
			for (nc = 0, na = 0; nc < n; nc++) {
				struct sockaddr_in src;
				char ip[16];
				int s = socket(AF_INET,
					       SOCK_STREAM | SOCK_CLOEXEC, 0);

				snprintf(ip, sizeof(ip), "127.0.0.%ld",
					 2 + nc % 8);
				sin_of(&src, ip, 0);
				setsockopt(s, SOL_IP, IP_BIND_ADDRESS_NO_PORT,
					   &one, sizeof(one));
				if (s < 0 ||
				    bind(s, (struct sockaddr *)&src,
					 sizeof(src)) ||
				    connect(s, (struct sockaddr *)&dst,
					    sizeof(dst))) {
					hs->err[idx] = errno;
					if (s >= 0)
						close(s);
					break;
				}
				cfd[nc] = s;
				while (na < n && (afd[na] = accept4(lfd, NULL,
						  NULL, SOCK_CLOEXEC)) >= 0)
					na++;
			}
			for (int tries = 0; na < nc && tries < 500; tries++) {
				struct pollfd p = { .fd = lfd,
						    .events = POLLIN };

				poll(&p, 1, 10);
				while (na < n && (afd[na] = accept4(lfd, NULL,
						  NULL, SOCK_CLOEXEC)) >= 0)
					na++;
			}
			hs->opened[idx] = nc;
			hs->accepted[idx] = na;
		} else if (c == 'c') {
			for (long i = 0; i < nc; i++)
				close_rst(cfd[i]);
			for (long i = 0; i < na; i++)
				close(afd[i]);
			nc = na = 0;
		} else {
			if (write(done_fd, "d", 1) != 1)
				break;
			break;
		}
		if (write(done_fd, "d", 1) != 1)
			break;
	}
	_exit(0);
}

static void group_start(struct group *g, long n, long per)
{
	g->nh = (n + per - 1) / per;
	if (g->nh > MAXH)
		die("%ld flows need %d processes (max %d)", n, g->nh, MAXH);
	for (int i = 0; i < g->nh; i++) {
		struct holder *h = &g->h[i];
		int cmd[2], done[2];

		h->n = i < g->nh - 1 ? per : n - per * (g->nh - 1);
		h->listen = unused_port("127.0.0.1");
		h->dst = g->lwfp ? unused_port("127.0.0.1") : h->listen;
		if (g->lwfp) {
			char name[16];

			/* weight 100: before the 10,000 rules of 4a; the
			 * holder is client and service: nobody is exempt */
			snprintf(name, sizeof(name), "held%d", i);
			service_add(name, "127.0.0.1", h->listen, NULL, "100");
			rule_add(name, "127.0.0.1/32", h->dst);
		}
		if (pipe2(cmd, O_CLOEXEC) || pipe2(done, O_CLOEXEC))
			die("pipe");
		h->pid = bench_fork();
		if (h->pid == 0) {
			close(cmd[1]);
			close(done[0]);
			holder_main(g, i, cmd[0], done[1]);
		}
		close(cmd[0]);
		close(done[1]);
		h->cmd = cmd[1];
		h->done = done[0];
	}
}

static void holder_do(const struct group *g, int i, char c)
{
	struct pollfd p = { .fd = g->h[i].done, .events = POLLIN };

	if (write(g->h[i].cmd, &c, 1) != 1 || poll(&p, 1, 300000) != 1 ||
	    read(g->h[i].done, &c, 1) != 1)
		die("%s holder %d: no answer", g->name, i);
}

/* All holders at once; returns the seconds it took. */
static double group_do(struct group *g, char c)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < g->nh; i++)
		if (write(g->h[i].cmd, &c, 1) != 1)
			die("%s holder %d gone", g->name, i);
	for (int i = 0; i < g->nh; i++) {
		struct pollfd p = { .fd = g->h[i].done, .events = POLLIN };

		if (poll(&p, 1, 300000) != 1 || read(g->h[i].done, &c, 1) != 1)
			die("%s holder %d: no answer", g->name, i);
	}
	return (now_ns() - t0) / 1e9;
}

/* Why the engine refused connects (EPERM), from its counters. */
static void refusals_print(void)
{
	static const char *const keys[] = {
		"refused_engine_full", "records_table_full",
		"records_over_user_share", "handoffs_table_full_refused",
		"handoffs_over_user_share_refused", "service_down_refused",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		printf("#   engine counter %s: %lld\n", keys[i],
		       status_int(keys[i]));
}

static void group_open(struct group *g, long n, int round)
{
	long opened = 0, accepted = 0;
	double s = group_do(g, 'o');

	for (int i = 0; i < g->nh; i++) {
		opened += hs->opened[i];
		accepted += hs->accepted[i];
		if (hs->opened[i] != g->h[i].n)
			printf("#   %s holder %d: %s\n", g->name, i,
			       strerror(hs->err[i]));
	}
	if ((opened != n || accepted != n) && g->lwfp)
		refusals_print();
	if (opened != n || accepted != n)
		die("%s: opened %ld, accepted %ld of %ld", g->name, opened,
		    accepted, n);
	printf("#   round %d %-6s: %ld flows opened in %.2f s by %d "
	       "processes\n", round, g->name, n, s, g->nh);
}

static void group_stop(struct group *g)
{
	for (int i = 0; i < g->nh; i++) {
		holder_do(g, i, 'q');
		bench_wait(g->h[i].pid);
		close(g->h[i].cmd);
		close(g->h[i].done);
	}
}

struct snap {
	long long slab_kb, live_memlock, sk_memlock;
	long live, pending;
	long long client, accepted;
	struct slabs slabs;
};

static void snap_take(struct snap *s)
{
	s->slab_kb = meminfo_kb("Slab");
	slabs_read(&s->slabs);
	s->live_memlock = bpftool_memlock("lwfp_live");
	s->sk_memlock = bpftool_memlock("lwfp_sk");
	s->live = map_entries("lwfp_live");
	s->pending = map_entries("lwfp_pending");
	s->client = status_int("client_sockets");
	s->accepted = json_int("accepted_sockets");
}

/* Let RCU-deferred frees run, so that a snapshot sees settled memory. */
static void settle(void)
{
	usleep(300000);
}

/* Growth of the kmalloc caches between two snapshots, in bytes of active
 * objects: where sk storage, local storage and hash elements come from. */
static double kmalloc_growth(const struct snap *a, const struct snap *b)
{
	double g = 0;

	for (int i = 0; i < b->slabs.n; i++)
		if (!strncmp(b->slabs.name[i], "kmalloc-", 8))
			g += slab_delta(&a->slabs, &b->slabs,
					b->slabs.name[i]);
	return g;
}

/* The slab caches that grew most with lwfp compared with direct. */
static void slab_attrib(const struct snap *d0, const struct snap *d1,
			const struct snap *l0, const struct snap *l1, long n)
{
	struct { const char *name; double per; } top[9] = { { 0 } };

	for (int i = 0; i < l1->slabs.n; i++) {
		const char *name = l1->slabs.name[i];
		double per = (slab_delta(&l0->slabs, &l1->slabs, name) -
			      slab_delta(&d0->slabs, &d1->slabs, name)) /
			     (double)n;

		for (int k = 0; k < 8; k++)
			if (!top[k].name || per > top[k].per) {
				memmove(&top[k + 1], &top[k],
					(8 - k) * sizeof(top[0]));
				top[k].name = name;
				top[k].per = per;
				break;
			}
	}
	printf("#   slab caches that grew, per flow, lwfp minus direct:");
	for (int k = 0; k < 8 && top[k].name; k++)
		if (top[k].per >= 8)
			printf(" %s %+.0f B", top[k].name, top[k].per);
	printf("\n");
}

/* The engine programs' time per probe connection (stats on briefly). */
static void held_diag(struct group *g, const char *when)
{
	struct progstat a, b;
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0)
		return;
	progs_read(&a);
	holder_do(g, 0, 'P');
	progs_read(&b);
	close(fd);
	printf("#   engine programs per probe connection, %s:\n", when);
	progs_print(when, &a, &b, 500);
}

static void section_held(void)
{
	long n = env_int("BENCH_HELD", 100000), per;
	int rounds = env_int("BENCH_HELD_ROUNDS", 2);
	struct group gd = { .lwfp = false, .name = "direct" };
	struct group gl = { .lwfp = true, .name = "lwfp" };
	double mem[16], memk[16], idle[2][16], held[2][16], r[16];
	struct snap base, d0, d1, l0, l1, l2;
	bool clean = true;
	int lo = 0, hi = 0;
	FILE *f;

	if (rounds > 16)
		rounds = 16;
	hs = shared_mem(sizeof(*hs));
	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (!f || fscanf(f, "%d %d", &lo, &hi) != 2)
		lo = hi = 0;
	if (f)
		fclose(f);
	per = ((long)nofile_max(2 * n + 256) - 256) / 2;
	if (per > n)
		per = n;
	printf("# section 4b: %ld flows held, %d rounds (direct, lwfp); "
	       "ip_local_port_range %d-%d: %d ports x 8 source addresses "
	       "per listener; RLIMIT_NOFILE: %ld flows per process\n", n,
	       rounds, lo, hi, hi - lo + 1, per);
	if (per < 1000 || (long)(hi - lo + 1) * 8 < per)
		die("not enough descriptors or tuples");
	group_start(&gd, n, per);
	group_start(&gl, n, per);
	settle();
	snap_take(&base);
	printf("#   baseline: %lld client, %lld accepted sockets tracked; %ld "
	       "live, %ld pending entries (bpftool: %ld live, %ld pending); "
	       "memlock lwfp_live %lld B, lwfp_sk %lld B\n",
	       base.client, base.accepted, base.live, base.pending,
	       bpftool_entries("lwfp_live"), bpftool_entries("lwfp_pending"),
	       base.live_memlock, base.sk_memlock);

	for (int k = 0; k < rounds; k++) {
		double dgrow, lgrow, u;

		/* direct */
		holder_do(&gd, 0, 'p');
		idle[0][k] = hs->probe_us;
		settle();
		snap_take(&d0);
		group_open(&gd, n, k + 1);
		settle();
		snap_take(&d1);
		holder_do(&gd, 0, 'p');
		held[0][k] = hs->probe_us;
		group_do(&gd, 'c');

		/* lwfp */
		if (k == 0)
			held_diag(&gl, "none held");
		holder_do(&gl, 0, 'p');
		idle[1][k] = hs->probe_us;
		u = hs->probe_conn_us;
		settle();
		snap_take(&l0);
		group_open(&gl, n, k + 1);
		settle();
		snap_take(&l1);
		holder_do(&gl, 0, 'p');
		held[1][k] = hs->probe_us;
		if (k == 0)
			held_diag(&gl, "all held");
		printf("#   round %d: connection cost direct %.1f -> %.1f us, "
		       "lwfp %.1f (connect %.1f) -> %.1f us (connect %.1f) "
		       "with %ld held\n", k + 1, idle[0][k], held[0][k],
		       idle[1][k], u, held[1][k], hs->probe_conn_us, n);
		printf("#   held: %lld client, %lld accepted sockets tracked; "
		       "%ld live, %ld pending entries\n", l1.client,
		       l1.accepted, l1.live, l1.pending);
		group_do(&gl, 'c');
		/* a socket's state goes when the socket does: wait for it */
		for (int t = 0; t < 50; t++) {
			settle();
			snap_take(&l2);
			if (l2.client == base.client &&
			    l2.accepted == base.accepted &&
			    l2.live == base.live)
				break;
		}
		dgrow = (d1.slab_kb - d0.slab_kb) * 1024.0;
		lgrow = (l1.slab_kb - l0.slab_kb) * 1024.0;
		mem[k] = (lgrow - dgrow) / n;
		memk[k] = (kmalloc_growth(&l0, &l1) -
			   kmalloc_growth(&d0, &d1)) / n;
		printf("#   round %d memory: kmalloc-* caches %.0f B/flow for "
		       "the engine (lwfp - direct); all of Slab +%.0f B/flow "
		       "direct, +%.0f B/flow lwfp: %.0f B/flow; bpftool "
		       "memlock: lwfp_live %+.0f B/flow, lwfp_sk %+lld B in "
		       "all\n", k + 1, memk[k], dgrow / n, lgrow / n, mem[k],
		       (double)(l1.live_memlock - l0.live_memlock) / n,
		       l1.sk_memlock - l0.sk_memlock);
		slab_attrib(&d0, &d1, &l0, &l1, n);
		printf("#   after close: %lld client, %lld accepted sockets; "
		       "%ld live, %ld pending; Slab %+lld kB vs before "
		       "opening\n", l2.client, l2.accepted, l2.live,
		       l2.pending, l2.slab_kb - l0.slab_kb);
		if (l2.client != base.client || l2.accepted != base.accepted ||
		    l2.live != base.live || l2.pending > base.pending)
			clean = false;
	}
	ratios(held[1], idle[1], rounds, r);
	row("4", fmt("connection cost, %ldk lwfp flows held / none held",
		     n / 1000),
	    fmt("%.1fus", median(idle[1], rounds)),
	    fmt("%.1fus", median(held[1], rounds)), median(r, rounds),
	    vmin(r, rounds), vmax(r, rounds), AT_MOST, 1.1, "x");
	ratios(held[0], idle[0], rounds, r);
	row("4", fmt("connection cost, %ldk direct flows held / none held",
		     n / 1000),
	    fmt("%.1fus", median(idle[0], rounds)),
	    fmt("%.1fus", median(held[0], rounds)), median(r, rounds),
	    vmin(r, rounds), vmax(r, rounds), INFO, 0, "x");
	/* the engine's own share: lwfp's held/idle over direct's */
	{
		double rl[16], rd[16];

		ratios(held[1], idle[1], rounds, rl);
		ratios(held[0], idle[0], rounds, rd);
		ratios(rl, rd, rounds, r);
		row("4", "  same, lwfp's held/none ratio / direct's (the "
		    "engine's share)", fmt("%.2fx direct", median(rd, rounds)),
		    fmt("%.2fx lwfp", median(rl, rounds)), median(r, rounds),
		    vmin(r, rounds), vmax(r, rounds), AT_MOST, 1.1, "x");
	}
	row_text("4", fmt("kernel memory per tracked flow (kmalloc slab "
			  "growth, lwfp - direct, %ldk flows)", n / 1000),
		 fmt("all Slab: %.0f B/flow", median(mem, rounds)),
		 fmt("%.0f B/flow", median(memk, rounds)), NAN, NAN, NAN, "",
		 "<= 256 B", median(memk, rounds) <= 256 ?
		 fmt("yes (%.0f..%.0f)", vmin(memk, rounds),
		     vmax(memk, rounds)) :
		 fmt("NO (%.0f..%.0f)", vmin(memk, rounds),
		     vmax(memk, rounds)));
	{
		long bl = bpftool_entries("lwfp_live");
		long bp = bpftool_entries("lwfp_pending");
		long long c = status_int("client_sockets");
		long long a = json_int("accepted_sockets");

		clean = clean && c == base.client && a == base.accepted &&
			bl == base.live && bp <= base.pending;
		row_text("4", "engine state after all closed (status client/"
			 "accepted sockets, bpftool live/pending entries)",
			 fmt("%lld/%lld/%ld/%ld", base.client, base.accepted,
			     base.live, base.pending),
			 fmt("%lld/%lld/%ld/%ld", c, a, bl, bp), NAN, NAN, NAN,
			 "", "= baseline", clean ? "yes" : "NO");
	}
	group_stop(&gd);
	group_stop(&gl);
}

/* ---- 4c: hand-off when the accept queue overflows ---- */

static void section_burst(void)
{
	int n = env_int("BENCH_BURST", 16), ok = 0, nodata = 0, got = 0;
	uint16_t p_svc = unused_port("127.0.0.1");
	uint16_t orig = unused_port("127.0.0.1");
	long pending0 = map_entries("lwfp_pending"), pending;
	long long handed, missed;
	pid_t pids[64];
	int lfd;

	if (n > 64)
		n = 64;
	lfd = tcp_listen("127.0.0.1", p_svc, 1);
	if (lfd < 0)
		die("listen");
	service_add("burst", "127.0.0.1", p_svc, "svc", "100");
	rule_add("burst", "127.0.0.1/32", orig);
	for (int i = 0; i < n; i++) {
		pids[i] = bench_fork();
		if (pids[i] == 0) {
			int fd;
			char c;

			close(lfd);
			child_enter("app");
			fd = connect_to(AF_INET, "127.0.0.1", orig);
			/* a client that speaks first, as HTTP clients do */
			if (fd < 0 || write(fd, "x", 1) != 1)
				_exit(1);
			while (read(fd, &c, 1) > 0)
				;
			_exit(0);
		}
	}
	usleep(1500000);	/* all have connected; the queue overflowed */
	/* SYNs dropped on the full queue come back after 1, 3, 7 s */
	for (uint64_t end = now_ns() + 12000000000ull; got < n &&
	     now_ns() < end;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int a = accept_timeout(lfd, 1000), e;

		if (a < 0)
			continue;
		got++;
		e = lwfp_query_original_dst(eng, a, &ss, &len);
		if (!e && addr_port(&ss) == orig)
			ok++;
		else if (e == -ENODATA)
			nodata++;
		close(a);
	}
	for (int i = 0; i < n; i++)
		bench_kill(pids[i]);
	close(lfd);
	pending = map_entries("lwfp_pending") - pending0;
	handed = status_int("handed_off");
	missed = json_int("handoff_missed");
	printf("# section 4c: burst of %d connects, listen backlog 1: %d "
	       "accepted, %d with their flow's state, %d without (-ENODATA);"
	       " %ld hops left in lwfp_pending after all closed; counters: "
	       "handed_off %lld, handoff_missed %lld\n", n, got, ok, nodata,
	       pending, handed, missed);
	row_text("4", fmt("burst of %d connects > listen backlog: accepted "
			  "sockets that carry their flow", n),
		 fmt("%d accepted", got), fmt("%d of %d", ok, got), NAN, NAN,
		 NAN, "", "all", ok == got && got == n ? "yes" :
		 fmt("NO (%d lost, %ld hops leaked)", got - ok, pending));
}

/* Each section on an engine of its own: 4a leaves its table full. */
static void fresh_engine(void)
{
	if (eng)
		lwfp_close(eng);
	engine_start();
	if (lwfp_open(env.pin_dir, &eng))
		die("lwfp_open");
}

int main(int argc, char **argv)
{
	const char *only = getenv("BENCH_SECTIONS");
	void (*const sections[])(void) = { section_rules, section_held,
					   section_burst };
	const char *const names[] = { "4a", "4b", "4c" };

	bench_init(argc, argv, "bscale");
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (only && !strstr(only, names[i]))
			continue;
		fresh_engine();
		sections[i]();
	}
	lwfp_close(eng);
	return 0;
}
