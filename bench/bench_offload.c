// SPDX-License-Identifier: MIT
/*
 * Issue 15's prototype: a relay that inspects the first bytes of a flow in
 * user space and then hands both sockets to the kernel (sockmap), against
 * a direct connection and a user-space relay, in the same run.
 *
 *   client -> origin                               direct
 *   client -> relay -> origin                      read()/write() relay
 *   client -> relay -> relay -> origin             two of them
 *   client -> offload -> origin                    sockmap, verdict only
 *   client -> offload -> origin                    sockmap, parser + verdict
 *   client -> offload -> offload -> origin         two, verdict only
 *   the same two with 16 MiB socket buffers on the offloaded sockets
 *   client -(relay joins the ends)-> origin         bypass: sk_msg moves
 *                                   the client's sendmsg() to the origin
 *   client -> origin, a request and an answer first: the bypass's direct
 *
 * No engine: the relays listen on ports of their own and know their next
 * hop (bench_bulk measures the engine's relays). Client and origin are
 * section 3's (bulk_send, bulk_receive); every variant's bytes are counted
 * at both ends, and a first pass per variant checks their numbering.
 * Short flows: the client sends a 16-byte request, the relay reads it,
 * connects, writes it on and relays (or offloads), the origin answers
 * 64 KiB and closes; flows per second, one at a time. Slow reader: the
 * origin sleeps 2 s while the client writes without blocking.
 *
 * Throwaway quality, loopback only. Sockmap programs attach to their map;
 * the bypass's sockops program to our own cgroup "local" (its client and
 * origin only), detached at the end. Not in `make bench`'s default list:
 *   make build/bench/bench_offload && BENCH_ONLY=bench_offload \
 *       ./bench/run.sh build
 * docs/performance.md (section 3, issue 15's prototype) has the findings.
 * Knobs: BENCH_ROUNDS, BENCH_T, OFFLOAD_SECTIONS ("bulk short slow"),
 * OFFLOAD_PEEK=0 (read the first bytes: see them sent twice),
 * OFFLOAD_KICK=0 (no read after pairing: see queued bytes stall),
 * OFFLOAD_FIN_PASS=0 (redirect bare FINs: see EPIPE), OFFLOAD_SNDBUF and
 * OFFLOAD_RCVBUF (KiB), OFFLOAD_PROFILE=V (one variant, for perf),
 * OFFLOAD_VERBOSE=1.
 */
#include <dirent.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "bench/offload_proto.skel.h"

/* M_BIG: verdict only, both sockets' buffers forced to BIG_BUF */
/* M_BOUND: verdict only, and a socket leaves the verdict map while more
 * than BOUND bytes from it wait for its peer (the memory bound) */
enum mode { M_USER, M_VERD, M_STRP, M_BIG, M_LOCAL, M_BOUND };

#define BOUND (4 << 20)

#define BIG_BUF (16 << 20)

struct shared {
	uint64_t bytes, ns, sent, bad;
	int done;
	int check;		/* a correctness pass: origins copy and check */
	int hs_sleep;		/* the request-first origin sleeps 2 s first */
	uint64_t eagain;	/* blocking reads that failed with EAGAIN */
	/* per relay process, summed: what the prototype saw */
	uint64_t user_bytes;	/* read in user space after the offload */
	uint64_t drain_waits;	/* EOFs that waited for queued bytes */
	uint64_t flows;
	uint64_t pauses;	/* M_BOUND: sockets taken out of the map */
	/* the slow reader: what the path held while the origin slept */
	long long held_kb, slab_kb, sockmem_kb, avail_kb;
	double rwnd_pct;	/* the bulk client: share of its busy time */
	uint32_t retrans;	/* waiting for window, and its retransmits */
};

/* the BPF side's value in `peers` */
struct offload_peer {
	uint64_t peer, bytes, drops;
};

static struct shared *sh;
static struct offload_proto_bpf *skel;

/* ---- the relay ---- */

struct flow {
	int fd[2];		/* accepted, outbound */
	uint64_t cookie[2];
	uint64_t written[2];	/* by user space into fd[i], before/after */
	bool eof[2];		/* fd[i] has seen EOF, passed on */
	bool paused[2];		/* fd[i] is out of the verdict map */
	int src;		/* the verdict map */
};

static uint64_t cookie_of(int fd)
{
	uint64_t c = 0;
	socklen_t len = sizeof(c);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len))
		CFAIL("SO_COOKIE");
	return c;
}

/* The kernel's tcp_info goes on past glibc's: the fields used here. */
struct tcp_info_ext {
	struct tcp_info base;
	uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
	uint32_t segs_out, segs_in, notsent_bytes, min_rtt;
	uint32_t data_segs_in, data_segs_out;
	uint64_t delivery_rate, busy_time, rwnd_limited, sndbuf_limited;
};

/* Bytes written into fd's TCP stream so far: acked + still queued. Read
 * in this order it can only fall short, never run ahead. */
static uint64_t stream_written(int fd)
{
	struct tcp_info_ext ti;
	socklen_t len = sizeof(ti);
	int outq = 0;

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    len < offsetof(struct tcp_info_ext, bytes_received) ||
	    ioctl(fd, SIOCOUTQ, &outq))
		return 0;
	return ti.bytes_acked + (uint64_t)outq;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t m = write(fd, p, n);

		if (m <= 0)
			return -1;
		p += m;
		n -= m;
	}
	return 0;
}

/* Pair the flow's sockets in the kernel: both become redirect targets,
 * then each joins the map with the verdict program. */
static void offload(struct flow *f, enum mode m)
{
	int tgt = bpf_map__fd(skel->maps.targets);
	int src = bpf_map__fd(m == M_STRP ? skel->maps.socks_strp :
			      skel->maps.socks_verd);
	int peers = bpf_map__fd(skel->maps.peers);

	int sndbuf = m == M_BIG ? BIG_BUF : env_int("OFFLOAD_SNDBUF", 0) * 1024;
	int rcvbuf = m == M_BIG ? BIG_BUF : env_int("OFFLOAD_RCVBUF", 0) * 1024;

	for (int i = 0; i < 2; i++) {
		f->cookie[i] = cookie_of(f->fd[i]);
		if (sndbuf && setsockopt(f->fd[i], SOL_SOCKET, SO_SNDBUFFORCE,
					 &sndbuf, sizeof(sndbuf)))
			CFAIL("SO_SNDBUFFORCE");
		if (rcvbuf && setsockopt(f->fd[i], SOL_SOCKET, SO_RCVBUFFORCE,
					 &rcvbuf, sizeof(rcvbuf)))
			CFAIL("SO_RCVBUFFORCE");
	}
	for (int i = 0; i < 2; i++) {
		struct offload_peer p = { .peer = f->cookie[!i] };
		uint64_t fd = f->fd[i];

		if (bpf_map_update_elem(peers, &f->cookie[i], &p, BPF_ANY) ||
		    bpf_map_update_elem(tgt, &f->cookie[i], &fd, BPF_NOEXIST))
			CFAIL("peers, targets");
	}
	f->src = src;
	for (int i = 0; i < 2; i++) {
		uint64_t fd = f->fd[i];

		f->written[i] = stream_written(f->fd[i]);
		if (bpf_map_update_elem(src, &f->cookie[i], &fd, BPF_NOEXIST))
			CFAIL("sources");
	}
}

static uint64_t redirected_from(struct flow *f, int i)
{
	struct offload_peer p = { 0 };

	bpf_map_lookup_elem(bpf_map__fd(skel->maps.peers), &f->cookie[i], &p);
	return p.bytes;
}

/*
 * fd[i] saw EOF. Whatever it still had was redirected to fd[!i]'s psock
 * queue, which a kernel worker drains into fd[!i]: only once it has, may
 * the FIN follow (shutdown now would drop the rest).
 */
static void pass_eof(struct flow *f, int i, bool offloaded)
{
	if (offloaded) {
		uint64_t want = f->written[!i] + redirected_from(f, i);
		bool waited = false;

		for (int n = 0; stream_written(f->fd[!i]) < want; n++) {
			if (n > 200000)
				CFAIL("drain: %llu of %llu",
				      (unsigned long long)stream_written(f->fd[!i]),
				      (unsigned long long)want);
			waited = true;
			if (n < 100)
				sched_yield();
			else
				usleep(20);
		}
		if (waited)
			__atomic_add_fetch(&sh->drain_waits, 1, __ATOMIC_RELAXED);
	}
	shutdown(f->fd[!i], SHUT_WR);
	f->eof[i] = true;
}

/*
 * What arrived before a socket joined the verdict map waits in its
 * receive queue until something runs the psock's data_ready again: a new
 * skb, or (tcp_bpf_recvmsg_parser) a read, which then returns EAGAIN.
 */
static void kick(struct flow *f, int i)
{
	static char buf[65536];
	const char *env = getenv("OFFLOAD_KICK");
	ssize_t n;

	if (env && *env == '0')
		return;
	n = recv(f->fd[i], buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0) {		/* not relayed by the kernel */
		__atomic_add_fetch(&sh->user_bytes, n, __ATOMIC_RELAXED);
		f->written[!i] += n;
		if (write_all(f->fd[!i], buf, n))
			CFAIL("write");
	}
}

/*
 * The memory bound: bytes redirected from fd[i] that have not reached
 * fd[!i]'s write queue wait on fd[!i]'s psock, charged to nothing. Above
 * BOUND, fd[i] leaves the verdict map (it stays a target), so its bytes
 * stay in TCP's receive queue and its window closes; below BOUND / 2 it
 * joins again, and a read runs what waited.
 */
static void bound_step(struct flow *f)
{
	for (int i = 0; i < 2; i++) {
		uint64_t fd = f->fd[i];
		uint64_t sent = stream_written(f->fd[!i]) - f->written[!i];
		uint64_t away = redirected_from(f, i);
		uint64_t held = away > sent ? away - sent : 0;

		if (!f->paused[i] && !f->eof[i] && held > BOUND) {
			if (bpf_map_delete_elem(f->src, &f->cookie[i]))
				CFAIL("pause");
			f->paused[i] = true;
			__atomic_add_fetch(&sh->pauses, 1, __ATOMIC_RELAXED);
		} else if (f->paused[i] && held < BOUND / 2) {
			if (bpf_map_update_elem(f->src, &f->cookie[i], &fd,
						BPF_NOEXIST))
				CFAIL("resume");
			f->paused[i] = false;
			kick(f, i);
		}
	}
}

/* Offloaded: only EOFs (and anything user space still gets) reach us. */
static void relay_offloaded(struct flow *f, bool bounded)
{
	static char buf[65536];

	for (int i = 0; i < 2; i++)
		kick(f, i);
	while (!f->eof[0] || !f->eof[1]) {
		struct pollfd p[2];

		for (int i = 0; i < 2; i++) {
			p[i].fd = f->eof[i] ? -1 : f->fd[i];
			p[i].events = POLLRDHUP;
		}
		if (poll(p, 2, bounded ? 1 : -1) < 0)
			CFAIL("poll");
		if (bounded)
			bound_step(f);
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			/* paused: its EOF waits until it is relayed again */
			if (!p[i].revents || f->paused[i])
				continue;
			n = recv(f->fd[i], buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {	/* not relayed by the kernel */
				__atomic_add_fetch(&sh->user_bytes, n,
						   __ATOMIC_RELAXED);
				f->written[!i] += n;
				if (write_all(f->fd[!i], buf, n))
					CFAIL("write");
			} else if (n == 0 || errno != EAGAIN) {
				if (n < 0)	/* e.g. the psock's hard error */
					fprintf(stderr, "# relay: %s side: %s\n",
						i ? "outbound" : "accepted",
						strerror(errno));
				pass_eof(f, i, true);
			}
		}
	}
}

/* User space: read what arrives, write it on (relay-proxy's loop).
 * counted: the flow is bypassed, nothing should come this way. */
static void relay_user(struct flow *f, bool counted)
{
	static char buf[65536];

	while (!f->eof[0] || !f->eof[1]) {
		struct pollfd p[2];

		for (int i = 0; i < 2; i++) {
			p[i].fd = f->eof[i] ? -1 : f->fd[i];
			p[i].events = POLLIN;
		}
		if (poll(p, 2, -1) < 0)
			CFAIL("poll");
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (!p[i].revents)
				continue;
			n = read(f->fd[i], buf, sizeof(buf));
			if (n > 0 && counted)
				__atomic_add_fetch(&sh->user_bytes, n,
						   __ATOMIC_RELAXED);
			if (n > 0) {
				if (write_all(f->fd[!i], buf, n))
					CFAIL("write");
			} else {
				pass_eof(f, i, false);
			}
		}
	}
}

/* ---- the local bypass (sk_msg): see offload_proto.bpf.c ---- */

struct tuple {
	uint32_t lip, rip;	/* network order */
	uint32_t lport, rport;	/* host order */
};

static struct tuple tuple_of(int fd)
{
	struct sockaddr_in l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);

	if (getsockname(fd, (struct sockaddr *)&l, &ll) ||
	    getpeername(fd, (struct sockaddr *)&r, &rl))
		CFAIL("tuple");
	return (struct tuple){ l.sin_addr.s_addr, r.sin_addr.s_addr,
			       ntohs(l.sin_port), ntohs(r.sin_port) };
}

/*
 * The request went on the usual way; the origin's one-byte answer tells
 * that the client now waits (a quiet point: nothing of the client's is in
 * flight), so the sockets can be joined; then the answer goes back and the
 * client's bulk bypasses both connections. The relay only passes EOFs on.
 */
static void bypass_flow(struct flow *f)
{
	int by = bpf_map__fd(skel->maps.bypass);
	struct tuple c = tuple_of(f->fd[0]), o = tuple_of(f->fd[1]);
	char go;

	if (recv(f->fd[1], &go, 1, MSG_WAITALL) != 1 ||
	    bpf_map_update_elem(by, &c, &o, BPF_ANY) ||
	    bpf_map_update_elem(by, &o, &c, BPF_ANY) ||
	    write_all(f->fd[0], &go, 1))
		CFAIL("bypass");
	relay_user(f, true);
	bpf_map_delete_elem(by, &c);
	bpf_map_delete_elem(by, &o);
}

/*
 * One flow: inspect the first bytes, connect on, relay. The user relay
 * reads them and writes them on. An offloading relay peeks at them and
 * leaves them to the kernel (OFFLOAD_PEEK=0: reads and writes them on as
 * well: then the verdict-only psock sends them a second time, see
 * docs/performance.md).
 */
static void relay_flow(int c, uint16_t next, enum mode m)
{
	const char *peek = getenv("OFFLOAD_PEEK");
	bool peeked = m != M_USER && m != M_LOCAL && (!peek || *peek != '0');
	struct flow f = { .fd = { c, -1 } };
	char first[16];
	ssize_t n = recv(c, first, sizeof(first),
			 MSG_WAITALL | (peeked ? MSG_PEEK : 0));

	if (n <= 0)
		CFAIL("first bytes");
	f.fd[1] = connect_to(AF_INET, "127.0.0.1", next);
	if (f.fd[1] < 0 || (!peeked && write_all(f.fd[1], first, n)))
		CFAIL("connect on");
	if (m == M_USER) {
		relay_user(&f, false);
	} else if (m == M_LOCAL) {
		bypass_flow(&f);
	} else {
		offload(&f, m);
		relay_offloaded(&f, m == M_BOUND);
		for (int i = 0; i < 2; i++)
			bpf_map_delete_elem(bpf_map__fd(skel->maps.peers),
					    &f.cookie[i]);
	}
	__atomic_add_fetch(&sh->flows, 1, __ATOMIC_RELAXED);
	close(f.fd[0]);
	close(f.fd[1]);
}

static pid_t relay_start(int lfd, uint16_t next, enum mode m)
{
	pid_t pid = bench_fork();

	if (pid)
		return pid;
	child_enter("off");
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			CFAIL("accept");
		}
		relay_flow(c, next, m);
	}
}

/* ---- origins and clients ---- */

#define SHORT_REQ 16
#define SHORT_RESP (64 * 1024)

static void bulk_origin(int lfd)
{
	for (;;) {
		uint64_t ns, bad = 0;
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		sh->bytes = bulk_receive(c, &ns, sh->check, &bad);
		sh->ns = ns;
		sh->bad = bad;
		__atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
		close(c);
	}
}

static void short_origin(int lfd)
{
	static char resp[SHORT_RESP];
	char req[SHORT_REQ];

	for (size_t i = 0; i < sizeof(resp); i++)
		resp[i] = (char)(i % 251);
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		if (recv(c, req, sizeof(req), MSG_WAITALL) == SHORT_REQ)
			write_all(c, resp, sizeof(resp));
		close(c);
	}
}

static void bulk_client(uint16_t port, double secs)
{
	int fd = connect_to(AF_INET, "127.0.0.1", port);
	struct tcp_info_ext ti = { 0 };
	socklen_t len = sizeof(ti);
	char c;

	if (fd < 0)
		CFAIL("connect");
	sh->sent = bulk_send(fd, secs);
	/* how long the client waited for the receiver's window */
	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	sh->rwnd_pct = ti.busy_time ? 100.0 * ti.rwnd_limited / ti.busy_time
				    : 0;
	sh->retrans = ti.base.tcpi_total_retrans;
	while (read(fd, &c, 1) > 0)	/* the origin closes after EOF */
		;
	_exit(0);
}

/*
 * Read to EOF. A blocking read() on a socket in a sockmap with an sk_msg
 * program can fail with EAGAIN (tcp_bpf_recvmsg() woken with nothing on
 * the psock's queue): the bypass's client sees it, so wait and retry.
 */
static void wait_eof(int fd)
{
	ssize_t n;
	char c;

	while ((n = read(fd, &c, 1)) > 0 || (n < 0 && errno == EAGAIN)) {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };

		if (n < 0) {
			__atomic_add_fetch(&sh->eagain, 1, __ATOMIC_RELAXED);
			poll(&p, 1, 10);
		}
	}
}

/* The bypass's client and origin: a 16-byte request and a 1-byte answer
 * first, then section 3's bulk (timed from its first byte). */
static void hs_origin(int lfd)
{
	for (;;) {
		uint64_t ns, bad = 0;
		char req[SHORT_REQ];
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		if (recv(c, req, sizeof(req), MSG_WAITALL) != SHORT_REQ ||
		    write(c, "g", 1) != 1)
			CFAIL("hs origin");
		if (sh->hs_sleep)
			usleep(2000000);
		errno = 0;
		sh->bytes = bulk_receive(c, &ns, sh->check, &bad);
		if (!sh->bytes)
			fprintf(stderr, "# request-first origin: nothing (%s)\n",
				strerror(errno));
		sh->ns = ns;
		sh->bad = bad;
		__atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
		close(c);
	}
}

static void hs_client(uint16_t port, double secs)
{
	int fd = connect_to(AF_INET, "127.0.0.1", port);
	char req[SHORT_REQ] = { 0 }, c;

	if (fd < 0 || write_all(fd, req, sizeof(req)) ||
	    recv(fd, &c, 1, MSG_WAITALL) != 1)
		CFAIL("hs client");
	sh->sent = bulk_send(fd, secs);
	wait_eof(fd);
	_exit(0);
}

/* Flows one after the other for secs; a short response is a failure. */
static void short_client(uint16_t port, double secs)
{
	static char buf[SHORT_RESP + 1];
	uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(secs * 1e9);
	uint64_t flows = 0;

	memset(buf, 'r', SHORT_REQ);
	while (now_ns() < deadline) {
		int fd = connect_to(AF_INET, "127.0.0.1", port);
		size_t got = 0;
		ssize_t n;

		if (fd < 0 || write_all(fd, buf, SHORT_REQ))
			CFAIL("short connect");
		while ((n = read(fd, buf + got, sizeof(buf) - got)) > 0)
			got += n;
		if (got != SHORT_RESP)
			CFAIL("short response: %zu bytes", got);
		for (size_t i = 0; sh->check && i < got; i++)
			if ((unsigned char)buf[i] != i % 251)
				sh->bad++;
		close(fd);
		flows++;
	}
	sh->bytes = flows;
	sh->ns = now_ns() - t0;
	_exit(0);
}

/* The slow reader: sleeps 2 s after accepting, then reads to EOF. */
static void slow_origin(int lfd)
{
	for (;;) {
		uint64_t ns, bad = 0;
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		usleep(2000000);
		sh->bytes = bulk_receive(c, &ns, false, &bad);
		__atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
		close(c);
	}
}

/* TCP's memory in pages, as /proc/net/sockstat counts it */
static long long sockstat_tcp_kb(void)
{
	char line[256];
	long long pages = -1;
	FILE *f = fopen("/proc/net/sockstat", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "TCP:", 4) && strstr(line, " mem "))
			sscanf(strstr(line, " mem ") + 5, "%lld", &pages);
	if (f)
		fclose(f);
	return pages * (getpagesize() / 1024);
}

/*
 * Write without blocking for 1.5 s to an origin that does not read: what
 * the path takes in is what the kernel holds for it (and the memory it
 * grew by), then hand over to the origin and check every byte arrives.
 */
#define SLOW_CAP (256ull << 20)

static void slow_client(uint16_t port, bool hs)
{
	static char buf[BULK_CHUNK];
	long long slab0 = meminfo_kb("Slab"), sock0 = sockstat_tcp_kb();
	long long avail0 = meminfo_kb("MemAvailable");
	uint64_t deadline = now_ns() + 1500000000ull, sent = 0;
	int fd = connect_to(AF_INET, "127.0.0.1", port);
	ssize_t n;
	char c;

	if (fd < 0)
		CFAIL("connect");
	if (hs && (write_all(fd, buf, SHORT_REQ) ||
		   recv(fd, &c, 1, MSG_WAITALL) != 1))
		CFAIL("request");
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/* capped: an unbounded path would take in GBs */
	while (now_ns() < deadline && sent < SLOW_CAP) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		n = write(fd, buf, sizeof(buf));

		if (n > 0)
			sent += n;
		else if (errno == EAGAIN)
			poll(&p, 1, 100);
		else
			CFAIL("write");
	}
	sh->held_kb = sent / 1024;
	sh->slab_kb = meminfo_kb("Slab") - slab0;
	sh->sockmem_kb = sockstat_tcp_kb() - sock0;
	sh->avail_kb = avail0 - meminfo_kb("MemAvailable");
	sh->sent = sent;
	fcntl(fd, F_SETFL, 0);
	shutdown(fd, SHUT_WR);
	wait_eof(fd);
	_exit(0);
}

static void slow_trial(const char *name, uint16_t port, const char *cg,
		       bool hs)
{
	pid_t pid;

	sh->done = 0;
	sh->bytes = sh->sent = 0;
	pid = bench_fork();
	if (pid == 0) {
		child_enter(cg);
		slow_client(port, hs);
	}
	if (bench_wait(pid) || !sh->done || sh->bytes != sh->sent)
		die("slow reader, %s: sent %llu, got %llu", name,
		    (unsigned long long)sh->sent,
		    (unsigned long long)sh->bytes);
	printf("# slow reader, %-26s took in %lld KiB%s; MemAvailable "
	       "%+lld KiB, Slab %+lld KiB, TCP mem %+lld KiB; all arrived\n",
	       name, sh->held_kb, sh->sent >= SLOW_CAP ? " (the cap)" : "",
	       -sh->avail_kb, sh->slab_kb, sh->sockmem_kb);
}

/* ---- the paths ---- */

enum { V_DIRECT, V_USER, V_USER2, V_VERD, V_STRP, V_VERD2, V_BIG, V_BIG2,
       V_BOUND, V_HSDIRECT, V_BYPASS, NV };
#define NV_SHORT V_HSDIRECT	/* the last two are bulk only */
static const char *const vname[NV] = {
	"direct", "user relay", "2 user relays", "offload (verdict)",
	"offload (parser+verdict)", "2 offloads (verdict)",
	"offload, 16M buffers", "2 offloads, 16M buffers",
	"offload, paused at 4M",
	"direct, request first", "bypass (sk_msg)"
};

/* The paused variant is opt-in (OFFLOAD_BOUND=1): it stalls, and once
 * lost bytes (docs/performance.md). */
static bool skipped(int v)
{
	return v == V_BOUND && env_int("OFFLOAD_BOUND", 0) != 1;
}

static int listen_any(uint16_t *port)
{
	int l = tcp_listen("127.0.0.1", 0, 128);

	if (l < 0)
		die("listen: %s", strerror(errno));
	*port = local_port(l);
	return l;
}

static uint16_t relay_to(uint16_t next, enum mode m)
{
	uint16_t p;
	int l = listen_any(&p);

	relay_start(l, next, m);
	close(l);
	return p;
}

/* The entry port of every variant, towards one origin. */
static void paths(uint16_t origin, uint16_t *entry)
{
	entry[V_DIRECT] = origin;
	entry[V_USER] = relay_to(origin, M_USER);
	entry[V_USER2] = relay_to(relay_to(origin, M_USER), M_USER);
	entry[V_VERD] = relay_to(origin, M_VERD);
	entry[V_STRP] = relay_to(origin, M_STRP);
	entry[V_VERD2] = relay_to(relay_to(origin, M_VERD), M_VERD);
	entry[V_BIG] = relay_to(origin, M_BIG);
	entry[V_BIG2] = relay_to(relay_to(origin, M_BIG), M_BIG);
	entry[V_BOUND] = relay_to(origin, M_BOUND);
}

/*
 * CPU seconds of kernel threads (kworker, ksoftirqd): the psock's backlog
 * work runs in a kworker, outside any cgroup of ours. Kworkers come and
 * go, so this adds up each thread's growth since it was last seen (a
 * sum over the threads alive now would fall when one exits).
 */
static double kthreads_cpu_s(void)
{
	static struct { int pid; unsigned long long t; } seen[4096];
	static int nseen;
	static unsigned long long total;
	DIR *d = opendir("/proc");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char p[300], comm[64];
		unsigned long long ut, st;
		int pid = atoi(de->d_name), i;
		FILE *f;

		if (pid <= 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/stat", pid);
		f = fopen(p, "r");
		if (!f)
			continue;
		if (fscanf(f, "%*d (%63[^)]) %*c %*d %*d %*d %*d %*d %*u %*u "
			   "%*u %*u %*u %llu %llu", comm, &ut, &st) == 3 &&
		    (!strncmp(comm, "kworker", 7) ||
		     !strncmp(comm, "ksoftirqd", 9))) {
			for (i = 0; i < nseen && seen[i].pid != pid; i++)
				;
			if (i == nseen && nseen < 4096)
				seen[nseen++] = (typeof(seen[0])){ pid, 0 };
			if (i < nseen && ut + st >= seen[i].t) {
				total += ut + st - seen[i].t;
				seen[i].t = ut + st;
			}
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return (double)total / sysconf(_SC_CLK_TCK);
}

/*
 * CPU time spent for our flows: every process of ours (the cgroup "off":
 * clients, relays, origins, with the softirq work they run inline) plus
 * the kernel threads'. Unlike bench_bulk's machine-wide figure it leaves
 * out other load, which on this shared machine inflates a slow variant's
 * CPU per GB (it runs longer beside the same background).
 */
static double own_cpu_s(void)
{
	static const char *const cgs[] = { "off", "local" };
	unsigned long long sum = 0;

	for (int i = 0; i < 2; i++) {
		char p[PATH_MAX], line[128];
		unsigned long long us = 0;
		FILE *f;

		cg_path(p, sizeof(p) - 16, cgs[i]);
		strcat(p, "/cpu.stat");
		f = fopen(p, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "usage_usec %llu", &us) == 1)
				break;
		if (f)
			fclose(f);
		sum += us;
	}
	return sum / 1e6 + kthreads_cpu_s();
}

/* One trial: GB/s (bulk) or flows/s (short); *cpu: CPU-s per GB. */
static double trial(bool bulk, int v, uint16_t port, double secs,
		    double *cpu)
{
	double c0 = own_cpu_s(), rate;
	pid_t pid;

	sh->done = 0;
	sh->bytes = sh->ns = sh->sent = sh->bad = 0;
	pid = bench_fork();
	if (pid == 0) {
		child_enter(v == V_BYPASS ? "local" : "off");
		if (v >= V_HSDIRECT)
			hs_client(port, secs);
		if (bulk)
			bulk_client(port, secs);
		short_client(port, secs);
	}
	if (bench_wait(pid))
		die("%s: client failed", vname[v]);
	if (!bulk) {
		if (sh->bad)
			die("%s: %llu bytes out of order", vname[v],
			    (unsigned long long)sh->bad);
		return sh->bytes / (sh->ns / 1e9);
	}
	for (int i = 0; i < 5000 && !__atomic_load_n(&sh->done,
						     __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	if (!sh->done || sh->bytes != sh->sent || sh->bad)
		die("%s: sent %llu, the origin got %llu, %llu out of order",
		    vname[v], (unsigned long long)sh->sent,
		    (unsigned long long)sh->bytes, (unsigned long long)sh->bad);
	rate = sh->ns ? sh->bytes / (double)sh->ns : 0;
	if (getenv("OFFLOAD_VERBOSE"))
		printf("# %s: %.2f GB/s, client window-limited %.0f%% of its "
		       "busy time, %u retransmits\n", vname[v], rate,
		       sh->rwnd_pct, sh->retrans);
	if (cpu)
		*cpu = (own_cpu_s() - c0) / (sh->bytes / 1e9);
	return rate;
}

/* ---- main ---- */

static void load_programs(void)
{
	struct {
		struct bpf_program *p;
		struct bpf_map *m;
		int type;
	} at[3];

	skel = offload_proto_bpf__open();
	if (skel)
		skel->rodata->ZERO_LEN_PASS = env_int("OFFLOAD_FIN_PASS", 1);
	if (!skel || offload_proto_bpf__load(skel))
		die("offload_proto: load failed (sockmap support?)");
	at[0].p = skel->progs.relay_parser;
	at[0].m = skel->maps.socks_strp;
	at[1].p = skel->progs.relay_strp;
	at[1].m = skel->maps.socks_strp;
	at[2].p = skel->progs.relay_verd;
	at[2].m = skel->maps.socks_verd;
	at[0].type = BPF_SK_SKB_STREAM_PARSER;
	at[1].type = BPF_SK_SKB_STREAM_VERDICT;
	at[2].type = BPF_SK_SKB_VERDICT;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int pfd = bpf_program__fd(at[i].p);

		if (bpf_prog_attach(pfd, bpf_map__fd(at[i].m), at[i].type, 0))
			die("attach %s: %s", bpf_program__name(at[i].p),
			    strerror(errno));
		bpf_obj_get_info_by_fd(pfd, &info, &len);
		printf("# %s: %u verified insns\n", bpf_program__name(at[i].p),
		       info.verified_insns);
	}
}

/* The listener is made in the child, after it entered cg: an accepted
 * socket belongs to its listener's cgroup (the sockops of "local"). */
static pid_t origin_start(void (*fn)(int), uint16_t *port, const char *cg)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		die("pipe");
	pid = bench_fork();
	if (pid == 0) {
		int l;

		child_enter(cg);
		l = tcp_listen("127.0.0.1", 0, 128);
		*port = l < 0 ? 0 : local_port(l);
		if (l < 0 || write(p[1], port, sizeof(*port)) != sizeof(*port))
			CFAIL("origin listen");
		fn(l);
	}
	close(p[1]);
	if (read(p[0], port, sizeof(*port)) != sizeof(*port))
		die("origin did not start");
	close(p[0]);
	return pid;
}

static int local_cg = -1;

/* The bypass: sockops on our cgroup "local" (its client and origin only),
 * sk_msg on local_socks; and the direct variant with the same protocol. */
static void bypass_paths(uint16_t *entry)
{
	char p[PATH_MAX];
	uint16_t o;

	cg_path(p, sizeof(p), "local");
	mkdir(p, 0755);
	local_cg = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (local_cg < 0 ||
	    bpf_prog_attach(bpf_program__fd(skel->progs.local_ops), local_cg,
			    BPF_CGROUP_SOCK_OPS, 0) ||
	    bpf_prog_attach(bpf_program__fd(skel->progs.local_msg),
			    bpf_map__fd(skel->maps.local_socks),
			    BPF_SK_MSG_VERDICT, 0))
		die("bypass: attach: %s", strerror(errno));
	origin_start(hs_origin, &o, "off");
	entry[V_HSDIRECT] = o;
	origin_start(hs_origin, &o, "local");
	entry[V_BYPASS] = relay_to(o, M_LOCAL);
}

static void bypass_detach(void)
{
	if (local_cg >= 0)
		bpf_prog_detach2(bpf_program__fd(skel->progs.local_ops),
				 local_cg, BPF_CGROUP_SOCK_OPS);
}

/* Interleaved, rotated rounds of every variant: one section. */
static void measure(bool bulk, const uint16_t *entry, int rounds,
		    double secs, double val[NV][32], double cpu[NV][32])
{
	for (int k = 0; k < rounds; k++) {
		printf("# %s round %d:", bulk ? "bulk" : "short", k + 1);
		int nv = bulk ? NV : NV_SHORT;

		for (int j = 0; j < nv; j++) {
			int v = (j + k) % nv;

			if (skipped(v))
				continue;
			val[v][k] = trial(bulk, v, entry[v], secs, &cpu[v][k]);
			printf(" %s %.2f%s,", vname[v], val[v][k] /
			       (bulk ? 1 : 1000), bulk ? " GB/s" : "k/s");
		}
		printf("\n");
	}
}

static void ratio_row(const char *what, double *a, double *b, int n,
		      const char *unit, enum cmp cmp, double target)
{
	double r[32];

	ratios(a, b, n, r);
	row("15", what, fmt(unit, median(b, n)), fmt(unit, median(a, n)),
	    median(r, n), vmin(r, n), vmax(r, n), cmp, target, "x");
}

static void check_paths(const uint16_t *bulk, const uint16_t *brief)
{
	sh->check = 1;
	for (int v = env_int("OFFLOAD_CHECK_FROM", 0); v < NV; v++) {
		double g, f;

		if (skipped(v))
			continue;
		g = trial(true, v, bulk[v], 0.3, NULL);
		f = v < NV_SHORT ? trial(false, v, brief[v], 0.2, NULL) : 0;
		printf("# check %-26s bulk %.2f GB/s numbered bytes ok, "
		       "short %.0f flows/s ok\n", vname[v], g, f);
	}
	sh->check = 0;
}

static bool section(const char *name)
{
	const char *s = getenv("OFFLOAD_SECTIONS");

	return !s || strstr(s, name);
}

static void bulk_rows(double g[NV][32], double c[NV][32], int rounds)
{
	ratio_row("bulk GB/s, offload (verdict) / direct", g[V_VERD],
		  g[V_DIRECT], rounds, "%.2f GB/s", AT_LEAST, 0.9);
	ratio_row("bulk GB/s, offload (parser+verdict) / direct",
		  g[V_STRP], g[V_DIRECT], rounds, "%.2f GB/s",
		  AT_LEAST, 0.9);
	ratio_row("bulk GB/s, 2 offloads / direct", g[V_VERD2],
		  g[V_DIRECT], rounds, "%.2f GB/s", AT_LEAST, 0.8);
	ratio_row("bulk GB/s, offload, 16 MiB buffers / direct",
		  g[V_BIG], g[V_DIRECT], rounds, "%.2f GB/s", AT_LEAST,
		  0.9);
	ratio_row("bulk GB/s, 2 offloads, 16 MiB buffers / direct",
		  g[V_BIG2], g[V_DIRECT], rounds, "%.2f GB/s",
		  AT_LEAST, 0.8);
	if (!skipped(V_BOUND))
		ratio_row("bulk GB/s, offload paused above 4 MiB / direct",
			  g[V_BOUND], g[V_DIRECT], rounds, "%.2f GB/s",
			  AT_LEAST, 0.9);
	ratio_row("bulk GB/s, bypass (sk_msg) / direct, request first",
		  g[V_BYPASS], g[V_HSDIRECT], rounds, "%.2f GB/s",
		  AT_LEAST, 0.9);
	ratio_row("bulk GB/s, user relay / direct", g[V_USER],
		  g[V_DIRECT], rounds, "%.2f GB/s", INFO, 0);
	ratio_row("bulk GB/s, 2 user relays / direct", g[V_USER2],
		  g[V_DIRECT], rounds, "%.2f GB/s", INFO, 0);
	ratio_row("CPU-s per GB, offload (verdict) / direct", c[V_VERD],
		  c[V_DIRECT], rounds, "%.2f", AT_MOST, 1.2);
	ratio_row("CPU-s per GB, offload, 16 MiB buffers / direct",
		  c[V_BIG], c[V_DIRECT], rounds, "%.2f", AT_MOST, 1.2);
	ratio_row("CPU-s per GB, bypass (sk_msg) / direct, request "
		  "first", c[V_BYPASS], c[V_HSDIRECT], rounds, "%.2f",
		  AT_MOST, 1.2);
	ratio_row("CPU-s per GB, 2 offloads / direct", c[V_VERD2],
		  c[V_DIRECT], rounds, "%.2f", INFO, 0);
	ratio_row("CPU-s per GB, user relay / direct", c[V_USER],
		  c[V_DIRECT], rounds, "%.2f", INFO, 0);
}

static void short_rows(double f[NV][32], int rounds)
{
	ratio_row("short flows/s, offload (verdict) / user relay",
		  f[V_VERD], f[V_USER], rounds, "%.0f/s", AT_LEAST, 1);
	ratio_row("short flows/s, offload (parser+verdict) / user "
		  "relay", f[V_STRP], f[V_USER], rounds, "%.0f/s",
		  AT_LEAST, 1);
	ratio_row("short flows/s, offload, 16 MiB buffers / user relay",
		  f[V_BIG], f[V_USER], rounds, "%.0f/s", AT_LEAST, 1);
	if (!skipped(V_BOUND))
		ratio_row("short flows/s, offload paused above 4 MiB / user "
			  "relay", f[V_BOUND], f[V_USER], rounds, "%.0f/s",
			  AT_LEAST, 1);
	ratio_row("short flows/s, 2 offloads / 2 user relays",
		  f[V_VERD2], f[V_USER2], rounds, "%.0f/s", INFO, 0);
	ratio_row("short flows/s, user relay / direct", f[V_USER],
		  f[V_DIRECT], rounds, "%.0f/s", INFO, 0);
}

static void slow_section(const uint16_t *bulk)
{
	uint16_t o, slow[NV];

	origin_start(slow_origin, &o, "off");
	paths(o, slow);
	for (int v = 0; v < NV_SHORT; v++)
		if (!skipped(v))
			slow_trial(vname[v], slow[v], "off", false);
	sh->hs_sleep = 1;
	slow_trial(vname[V_HSDIRECT], bulk[V_HSDIRECT], "off", true);
	slow_trial(vname[V_BYPASS], bulk[V_BYPASS], "local", true);
	sh->hs_sleep = 0;
}

int main(int argc, char **argv)
{
	int rounds = env_int("BENCH_ROUNDS", 5);
	double secs = env_double("BENCH_T", 1.0);
	static double g[NV][32], c[NV][32], f[NV][32], fc[NV][32];
	uint16_t ob, os, bulk[NV], brief[NV];

	bench_init(argc, argv, "boffload");
	if (rounds > 32)
		rounds = 32;
	sh = shared_mem(sizeof(*sh));
	load_programs();
	atexit(bypass_detach);
	origin_start(bulk_origin, &ob, "off");
	origin_start(short_origin, &os, "off");
	paths(ob, bulk);
	paths(os, brief);
	bypass_paths(bulk);
	if (getenv("OFFLOAD_PROFILE")) {	/* one variant, for perf */
		int v = env_int("OFFLOAD_PROFILE", 0);
		double r = trial(true, v, bulk[v], secs, NULL);

		printf("# %s: %.2f GB/s, %llu bytes, %.3f s\n", vname[v], r,
		       (unsigned long long)sh->bytes, sh->ns / 1e9);
		return 0;
	}
	check_paths(bulk, brief);
	if (section("bulk")) {
		measure(true, bulk, rounds, secs, g, c);
		bulk_rows(g, c, rounds);
	}
	if (section("short")) {
		measure(false, brief, rounds, secs, f, fc);
		short_rows(f, rounds);
	}
	if (section("slow"))
		slow_section(bulk);
	printf("# relays: %llu flows, %llu bytes read in user space after "
	       "an offload, %llu EOFs waited for queued bytes, %llu pauses "
	       "for the memory bound\n",
	       (unsigned long long)sh->flows,
	       (unsigned long long)sh->user_bytes,
	       (unsigned long long)sh->drain_waits,
	       (unsigned long long)sh->pauses);
	printf("# bypass: %llu bytes went the sk_msg way; %llu blocking "
	       "reads failed with EAGAIN\n",
	       (unsigned long long)skel->bss->bypassed_bytes,
	       (unsigned long long)sh->eagain);
	return 0;
}
