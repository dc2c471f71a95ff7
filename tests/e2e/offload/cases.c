// SPDX-License-Identifier: MIT
/* test_offload's later cases: many flows, a chain, a slow reader, errors. */
#include <poll.h>
#include <sys/resource.h>

#include "rig.h"

void offload_cleanup(void)
{
	char log[128];

	rig_stop();
	snprintf(log, sizeof(log), "%s/broker.log", rig.run_dir);
	unlink(log);
	rmdir(rig.run_dir);
}

/* ---- 7: many flows at once ---- */

static void many_exchange(struct flow *f, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t id = i, up = 0, down = 0;

		CHECK(write_all(f[i].c, &id, 8) && write_all(f[i].o, &id, 8) &&
		      read_exact(f[i].o, &up, 8) && read_exact(f[i].c, &down, 8) &&
		      up == id && down == id, "flow %d: its 8 bytes each way",
		      i);
	}
}

/*
 * 10,000 flows, or as many as RLIMIT_NOFILE lets the broker hold: it
 * needs three descriptors a flow (two sockets, the handle), and so do
 * we (client, origin, handle). Without CAP_SYS_RESOURCE the hard limit
 * cannot be raised.
 */
static int many_flows(void)
{
	const char *e = getenv("LWFP_OFFLOAD_FLOWS");
	struct rlimit r;
	int n = e ? atoi(e) : 10000, most;

	getrlimit(RLIMIT_NOFILE, &r);
	most = (int)((r.rlim_cur - 100) / 3);
	if (n > most) {
		printf("# RLIMIT_NOFILE is %llu: %d flows, not %d\n",
		       (unsigned long long)r.rlim_cur, most, n);
		n = most;
	}
	return n;
}

void test_many(void)
{
	int n = many_flows(), opened = 0;
	struct flow *f = calloc(n, sizeof(*f));
	double t0 = now_s(), t1, t2;

	REQUIRE(f, "calloc");
	rig_start(true);
	for (; opened < n; opened++) {
		if (!flow_open(&f[opened]) || offload(&f[opened], false)) {
			CHECK(false, "flow %d: %s", opened, strerror(errno));
			flow_close_all(&f[opened]);
			break;
		}
	}
	t1 = now_s();
	CHECK(maps_settle(2L * opened), "two entries per flow in each map");
	many_exchange(f, opened);
	for (int i = 0; i < opened; i++) {
		close(f[i].c);
		close(f[i].o);
		f[i].c = f[i].o = -1;
	}
	for (int i = 0; i < opened; i++) {
		char what[32];

		snprintf(what, sizeof(what), "flow %d", i);
		report_check(&f[i], 0, 8, 8, what);
		flow_close_all(&f[i]);
	}
	t2 = now_s();
	CHECK(maps_settle(0), "the offload maps are empty again");
	printf("# %d flows: opened and offloaded in %.1f s, exchanged and "
	       "closed in %.1f s\n", opened, t1 - t0, t2 - t1);
	free(f);
	rig_stop();
}

/* ---- 8: a chain of two offloading services ---- */


/* pb in a cgroup of its own: a service's rule skips connections made
 * from its own cgroup, so px's outbound (made in svc) goes on to pb and
 * pb's (made in svcb) to the origin. */
static int second_service(uint16_t *port)
{
	int lfd;

	cg_enter("svcb");
	lfd = listen_on("127.0.0.1", port);
	cg_enter("svc");
	service_redirect("pb", *port, "svcb", "20");
	return lfd;
}

void test_chain(void)
{
	struct flow f1 = { -1, -1, -1, -1, -1 }, f2 = f1, ends = f1;
	uint16_t pb_port;
	char chain[256];
	struct xfer x;
	int pb_lfd;
	bool ok;

	rig_start(true);
	pb_lfd = second_service(&pb_port);
	f1.c = client_connect(ORIGIN_IP, rig.origin_port);
	REQUIRE(f1.c >= 0 && proxy_connect_out(rig.svc_lfd, &f1.a, &f1.b),
		"px's flow");
	cg_enter("svcb");
	ok = proxy_connect_out(pb_lfd, &f2.a, &f2.b);
	cg_enter("svc");
	REQUIRE(ok, "px's outbound must reach pb");
	f2.o = accept_timeout(rig.origin_lfd, 10000);
	REQUIRE(f2.o >= 0, "pb's outbound must reach the origin");
	CHECK(!offload(&f1, false) && !offload(&f2, false), "offload both");
	flow_chain(rig.connector, chain, sizeof(chain));
	CHECK(!strcmp(chain, "px,pb,origin"), "lwfp flows: %s", chain);
	ends.c = f1.c;
	ends.o = f2.o;
	xfer_start(&x, &ends, 64 * MIB, 32 * MIB, 200);
	xfer_check(&x, "two hops");
	report_check(&f1, 0, 64 * MIB, 32 * MIB, "px");
	report_check(&f2, 0, 64 * MIB, 32 * MIB, "pb");
	flow_close_all(&f1);
	flow_close_all(&f2);
	close(pb_lfd);
	CHECK(maps_settle(0), "the offload maps are empty again");
	rig_stop();
}

/* ---- 9: a slow reader ---- */

static int sockbuf(int fd, int opt)
{
	int v = 0;
	socklen_t len = sizeof(v);

	getsockopt(fd, SOL_SOCKET, opt, &v, &len);
	return v;
}

/* Send without blocking until three polls in a row find no room. */
static uint64_t send_until_stopped(int fd, uint64_t seed, uint64_t most)
{
	static unsigned char buf[262144];
	uint64_t sent = 0;
	int stalls = 0;

	while (sent < most && stalls < 3) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n;

		stream_fill(seed, sent, buf, sizeof(buf));
		n = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			sent += n;
			stalls = 0;
		} else if (n < 0 && errno == EAGAIN) {
			stalls += poll(&p, 1, 1000) == 0;
		} else {
			break;
		}
	}
	return sent;
}

void test_slow_reader(void)
{
	uint64_t limit, sent, total;
	unsigned char *buf = malloc(MIB);
	struct receiver r;
	struct flow f;

	rig_start(true);
	REQUIRE(buf && flow_open(&f), "flow");
	REQUIRE(!offload(&f, true), "offload");
	sent = send_until_stopped(f.c, 300, 1024 * MIB);
	/* the sockets on the way, each buffer twice over, and what the
	 * broker lets wait between the two (its bound) and holds */
	limit = 2ull * (sockbuf(f.c, SO_SNDBUF) + sockbuf(f.a, SO_RCVBUF) +
			sockbuf(f.b, SO_SNDBUF) + sockbuf(f.o, SO_RCVBUF)) +
		6 * MIB + 512 * 1024;
	printf("# the client stopped after %.1f MiB (limit %.1f MiB)\n",
	       sent / (double)MIB, limit / (double)MIB);
	CHECK(sent <= limit, "back-pressure: %llu bytes sent, more than %llu",
	      (unsigned long long)sent, (unsigned long long)limit);
	r = (struct receiver){ .fd = f.o, .seed = 300 };
	receiver_start(&r);
	total = sent + 8 * MIB;
	for (uint64_t off = sent; off < total; off += MIB) {
		stream_fill(300, off, buf, MIB);
		CHECK(write_all(f.c, buf, MIB), "send after resume");
	}
	shutdown(f.c, SHUT_WR);
	shutdown(f.o, SHUT_WR);
	receiver_join(&r);
	CHECK(r.got == total && r.err == 0 && r.bad < 0,
	      "the origin got %llu of %llu, end %s, first wrong byte %lld",
	      (unsigned long long)r.got, (unsigned long long)total,
	      strerror(r.err), (long long)r.bad);
	CHECK(read_end(f.c) == 0, "the client sees EOF");
	report_check(&f, 0, total, 0, "slow reader");
	flow_close_all(&f);
	free(buf);
	CHECK(maps_settle(0), "the offload maps are empty again");
	rig_stop();
}

/* ---- 10: errors ---- */

/* A user-space relay, as a service without offload would run. */
static void *relay_main(void *arg)
{
	struct flow *f = arg;
	struct pollfd p[2] = { { f->a, POLLIN, 0 }, { f->b, POLLIN, 0 } };
	static char buf[65536];

	while ((p[0].fd >= 0 || p[1].fd >= 0) && poll(p, 2, -1) > 0) {
		for (int i = 0; i < 2; i++) {
			int to = i ? f->a : f->b;
			ssize_t n;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = recv(p[i].fd, buf, sizeof(buf), 0);
			if (n < 0 || (n > 0 && !write_all(to, buf, n)))
				return NULL;
			if (n == 0) {
				shutdown(to, SHUT_WR);
				p[i].fd = -1;
			}
		}
	}
	return NULL;
}

/* The client's first 1000 bytes wait on the accepted socket. */
static void pre_send(struct flow *f, uint64_t seed)
{
	unsigned char buf[1000];

	stream_fill(seed, 0, buf, sizeof(buf));
	CHECK(write_all(f->c, buf, sizeof(buf)), "pre-send");
}

static void go_on(struct flow *f, uint64_t seed, const char *what)
{
	struct xfer x;

	xfer_init(&x, f, MIB, MIB, seed);
	x.cs.from = 1000;
	xfer_go(&x);
	xfer_check(&x, what);
}

static void no_broker(void)
{
	pthread_t t;
	struct flow f;
	int err;

	REQUIRE(flow_open(&f), "flow");
	pre_send(&f, 400);
	err = offload(&f, true);
	CHECK(err == -EOPNOTSUPP, "no broker: %d", err);
	pthread_create(&t, NULL, relay_main, &f);
	go_on(&f, 400, "relayed in user space");
	pthread_join(t, NULL);
	flow_close_all(&f);
}

static void refused(struct flow *f)
{
	struct flow g;
	uint16_t port;
	int l = listen_on("127.0.0.3", &port), xc, xa, h = -1, err;

	xc = connect_to(AF_INET, "127.0.0.3", port);
	xa = accept_timeout(l, 10000);
	REQUIRE(xc >= 0 && xa >= 0, "a flow nobody redirected");
	err = lwfp_offload(rig.eng, xa, f->b, &h);
	CHECK(err == -ENODATA, "accepted not redirected: %d", err);
	err = lwfp_offload(rig.eng, f->a, xc, &h);
	CHECK(err == -EPERM, "outbound without records: %d", err);
	REQUIRE(flow_open(&g), "a second flow");
	err = lwfp_offload(rig.eng, f->a, g.b, &h);
	CHECK(err == -EPERM, "outbound of another flow: %d", err);
	err = lwfp_offload(rig.eng, g.a, f->b, &h);
	CHECK(err == -EPERM, "crossed the other way: %d", err);
	flow_close_all(&g);
	close(xa);
	close(xc);
	close(l);
}

void test_errors(void)
{
	struct flow f;
	int h = -1, err;

	rig_start(false);
	no_broker();
	broker_start();
	REQUIRE(flow_open(&f), "flow");
	pre_send(&f, 410);
	refused(&f);
	REQUIRE(!offload(&f, true), "offload after the refusals");
	err = lwfp_offload(rig.eng, f.a, f.b, &h);
	CHECK(err == -EBUSY, "offloaded twice: %d", err);
	if (!err)
		close(h);
	go_on(&f, 410, "after the errors, offloaded");
	report_check(&f, 0, 1000 + MIB, MIB, "after the errors");
	flow_close_all(&f);
	CHECK(maps_settle(0), "the offload maps are empty again");
	rig_stop();
}
