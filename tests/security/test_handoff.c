// SPDX-License-Identifier: MIT
/*
 * A hand-off id is worth nothing on another connection. A "remote" host
 * (network namespace R, reached over a veth pair) that learned a victim's
 * hop id makes its own handshake, with a raw socket, to a service that
 * listens on [::]:PORT in namespace L, and puts the id on its final ACK.
 * The service used to accept the victim's flow (its original destination,
 * pid, uid) on the attacker's connection. The id must be ignored there,
 * and the victim's own connection still handed its flow.
 *
 * Addresses: loopback in L, and 169.254.77.0/24 (link-local) on the veth
 * pair, which exists only between the two namespaces this test makes.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <bpf/bpf.h>

#include "lwfp_abi.h"
#include "harness.h"
#include "attack.h"

#define L_ADDR "169.254.77.1"
#define R_ADDR "169.254.77.2"

static char ns_l[48], ns_r[48];

static void netns_cleanup(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null; "
		 "ip netns del %s 2>/dev/null", ns_l, ns_r);
	if (system(cmd))
		printf("# could not delete the test namespaces\n");
}

/* L and R joined by a veth pair; R drops the resets its kernel would
 * send for the raw handshake it does not know of. */
static void netns_create(void)
{
	char cmd[1024];

	snprintf(ns_l, sizeof(ns_l), "lwfp-sec-l-%d", getpid());
	snprintf(ns_r, sizeof(ns_r), "lwfp-sec-r-%d", getpid());
	atexit(netns_cleanup);
	snprintf(cmd, sizeof(cmd),
		 "set -e; ip netns add %1$s; ip netns add %2$s; "
		 "ip -n %1$s link set lo up; ip -n %2$s link set lo up; "
		 "ip -n %1$s link add vl type veth peer name vr netns %2$s; "
		 "ip -n %1$s addr add " L_ADDR "/24 dev vl; "
		 "ip -n %2$s addr add " R_ADDR "/24 dev vr; "
		 "ip -n %1$s link set vl up; ip -n %2$s link set vr up; "
		 "ip netns exec %2$s nft 'add table inet t; "
		 "add chain inet t out { type filter hook output priority 0; }; "
		 "add rule inet t out tcp flags rst drop'",
		 ns_l, ns_r);
	REQUIRE(!system(cmd), "namespaces, veth pair, nft (ip, nft)");
}

static void netns_join(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		_exit(2);
	close(fd);
}

/* Hold the victim's SYNs on loopback in L (its hop stays pending), or
 * let them through again. */
static void hold_loopback_syns(uint16_t port, bool hold)
{
	char cmd[512];

	if (hold)
		snprintf(cmd, sizeof(cmd),
			 "ip netns exec %s nft 'add table inet h; "
			 "add chain inet h in { type filter hook input priority 0; }; "
			 "add rule inet h in iif lo tcp dport %u "
			 "tcp flags & (syn | ack) == syn drop'", ns_l, port);
	else
		snprintf(cmd, sizeof(cmd),
			 "ip netns exec %s nft delete table inet h", ns_l);
	REQUIRE(!system(cmd), "nft");
}

struct seen {
	int err;		/* of lwfp_query_original_dst, 0 or -errno */
	uint16_t orig_port;
};

/* The service, in L and in scope: accept n connections, report what the
 * engine says each is. */
static void service_main(int n, int report)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 };
	socklen_t alen = sizeof(any);
	struct lwfp *eng;
	int lfd;

	netns_join(ns_l);
	cg_enter("svc");
	lfd = socket(AF_INET6, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&any, sizeof(any)) ||
	    listen(lfd, 8) || getsockname(lfd, (struct sockaddr *)&any, &alen) ||
	    lwfp_open(env.pin_dir, &eng))
		_exit(3);
	(void)!write(report, &any.sin6_port, sizeof(any.sin6_port));
	for (int i = 0; i < n; i++) {
		struct sockaddr_storage dst;
		socklen_t dlen = sizeof(dst);
		struct seen s = { 0 };
		int a = accept_timeout(lfd, 10000);

		if (a < 0)
			_exit(4);
		s.err = lwfp_query_original_dst(eng, a, &dst, &dlen);
		if (!s.err)
			s.orig_port = addr_port(&dst);
		(void)!write(report, &s, sizeof(s));
	}
	_exit(0);
}

static void victim_main(uint16_t orig_port)
{
	int fd;

	netns_join(ns_l);
	attacker_enter();	/* in scope, as nobody */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	_exit(connect_loopback(fd, orig_port) ? 4 : 0);
}

/* The first hop id waiting in the engine: what a leak would give. */
static bool pending_hop_id(uint64_t *id)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/lwfp_pending", env.pin_dir);
	fd = bpf_obj_get(path);
	for (int i = 0; fd >= 0 && i < 100; i++) {
		if (!bpf_map_get_next_key(fd, NULL, id)) {
			close(fd);
			return true;
		}
		usleep(20000);
	}
	if (fd >= 0)
		close(fd);
	return false;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A TCP segment (header + options) with its checksum, R to L. */
static uint16_t tcp_csum(const void *seg, size_t len, in_addr_t src,
			 in_addr_t dst)
{
	const uint8_t *b = seg;
	uint32_t sum = 0;

	sum += (ntohl(src) >> 16) + (ntohl(src) & 0xffff);
	sum += (ntohl(dst) >> 16) + (ntohl(dst) & 0xffff);
	sum += IPPROTO_TCP + len;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	return htons(csum_fold(sum));
}

struct segment {
	struct tcphdr th;
	struct lwfp_tcpopt opt;
};

static int seg_send(int raw, struct segment *s, size_t len,
		    const struct sockaddr_in *to)
{
	s->th.check = 0;
	s->th.check = tcp_csum(s, len, inet_addr(R_ADDR), to->sin_addr.s_addr);
	return sendto(raw, s, len, 0, (const struct sockaddr *)to,
		      sizeof(*to)) == (ssize_t)len ? 0 : -1;
}

/* The SYN-ACK for our port: its sequence number. */
static bool synack_wait(int raw, uint16_t sport, uint32_t *seq)
{
	unsigned char buf[1500];

	for (int i = 0; i < 200; i++) {
		ssize_t n = recv(raw, buf, sizeof(buf), 0);
		const struct iphdr *ip = (const void *)buf;
		const struct tcphdr *th;

		if (n < (ssize_t)sizeof(*ip))
			continue;
		th = (const void *)(buf + ip->ihl * 4);
		if (n < ip->ihl * 4 + (ssize_t)sizeof(*th) ||
		    th->dest != sport || !th->syn || !th->ack)
			continue;
		*seq = ntohl(th->seq);
		return true;
	}
	return false;
}

/* The remote host: a handshake of its own, the victim's id on its ACK. */
static void remote_main(uint16_t svc_port, uint64_t hop_id)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = inet_addr(L_ADDR) };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 20000 };
	struct segment s = { 0 };
	uint32_t isn = 0x1000, seq;
	int raw;

	netns_join(ns_r);
	raw = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	if (raw < 0 || setsockopt(raw, SOL_SOCKET, SO_RCVTIMEO, &tv,
				  sizeof(tv)))
		_exit(3);
	s.th.source = htons(40000 + getpid() % 20000);
	s.th.dest = svc_port;
	s.th.seq = htonl(isn);
	s.th.doff = sizeof(s.th) / 4;
	s.th.syn = 1;
	s.th.window = htons(65535);
	if (seg_send(raw, &s, sizeof(s.th), &to))
		_exit(4);
	if (!synack_wait(raw, s.th.source, &seq))
		_exit(5);
	s.th.syn = 0;
	s.th.ack = 1;
	s.th.seq = htonl(isn + 1);
	s.th.ack_seq = htonl(seq + 1);
	s.th.doff = sizeof(s) / 4;
	s.opt.kind = LWFP_TCPOPT_KIND;
	s.opt.len = LWFP_TCPOPT_LEN;
	s.opt.exid[0] = LWFP_TCPOPT_EXID >> 8;
	s.opt.exid[1] = LWFP_TCPOPT_EXID & 0xff;
	memcpy(s.opt.hop_id, &hop_id, sizeof(hop_id));
	_exit(seg_send(raw, &s, sizeof(s), &to) ? 6 : 0);
}

static bool seen_read(int fd, struct seen *s)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 10000) == 1 && read(fd, s, sizeof(*s)) ==
					   (ssize_t)sizeof(*s);
}

static void test_remote_claims_hop(void)
{
	uint16_t orig_port, svc_port_be;
	int origin = listen_on("127.0.0.1", &orig_port), report[2], rc;
	pid_t svc, victim, remote;
	struct seen s;
	uint64_t hop_id;

	netns_create();
	REQUIRE(origin >= 0 && !pipe(report), "setup");
	svc = fork();
	if (svc == 0)
		service_main(2, report[1]);
	REQUIRE(read(report[0], &svc_port_be, 2) == 2, "the service started");
	REQUIRE(redirect_port(ntohs(svc_port_be), "--netns", ns_l, orig_port),
		"service add, rule add");
	hold_loopback_syns(ntohs(svc_port_be), true);
	victim = fork();
	if (victim == 0)
		victim_main(orig_port);
	REQUIRE(pending_hop_id(&hop_id), "the victim's hop is pending");

	remote = fork();
	if (remote == 0)
		remote_main(svc_port_be, hop_id);
	rc = client_wait(remote);
	CHECK(rc == 0, "the remote handshake: step %d", rc);
	CHECK(seen_read(report[0], &s), "the service accepted the remote");
	CHECK(s.err == -ENODATA, "the remote connection was handed the "
	      "victim's flow (to port %u): %d", s.orig_port, s.err);
	CHECK(counter("handoff_wrong_connection") == 1, "counted");

	/* the victim's own connection still gets its flow */
	hold_loopback_syns(ntohs(svc_port_be), false);
	CHECK(client_wait(victim) == 0, "the victim connected");
	CHECK(seen_read(report[0], &s) && !s.err && s.orig_port == orig_port,
	      "the victim's connection handed its flow: %d", s.err);
	CHECK(client_wait(svc) == 0, "service");
	close(origin);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"a hop id on another connection, from another namespace, "
		"is ignored",
	};
	static const test_fn fns[] = { test_remote_claims_hop };

	env_init(argc, argv, "shandoff");
	return run_tests(names, fns, 1);
}
