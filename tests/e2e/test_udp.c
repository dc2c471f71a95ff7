// SPDX-License-Identifier: MIT
/*
 * UDP redirect end to end: connected and unconnected client sockets, IPv4,
 * IPv6 and v4-mapped, replies shown from the original destination, the
 * per-flow queries, the control messages of lwfp_recvmsg(), chains through
 * two services, flow state ending on close and on idle, 1000 flows.
 * Original destinations are loopback addresses where nothing listens.
 */
#include <poll.h>
#include <sys/resource.h>
#include <netinet/in.h>

#include "harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A handle per test: each test loads its own engine. */
static struct lwfp *eng;

static void open_engine(void)
{
	int err;

	lwfp_close(eng);
	eng = NULL;
	err = lwfp_open(env.pin_dir, &eng);
	if (err)
		die("lwfp_open: %s", lwfp_strerror(err));
}

static uint16_t unused_udp_port(const char *ip)
{
	uint16_t port = 0;
	int fd = udp_bind(ip, &port);

	close(fd);
	return port;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Register a UDP service listening at listen and send dst:dport to it. */
static int add_udp_redirect(const char *name, const char *listen,
			    const char *dst, uint16_t dport)
{
	char port[8], pid[16];

	snprintf(port, sizeof(port), "%u", dport);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (lwfp_run("service", "add", name, "--listen", listen, "--pid", pid,
		     NULL))
		return -1;
	return lwfp_run("rule", "add", "--service", name, "--proto", "udp",
			"--dst", dst, "--dport", port, NULL);
}

struct udp_client {
	int family;
	const char *ip;		/* the original destination */
	uint16_t port;
	bool connected;
	int count;		/* datagrams to exchange */
};

/* In a child in the app cgroup: send "ping N", expect "pong N" from
 * ip:port (the source must be the original destination). */
static void udp_client_main(const struct udp_client *c)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen, slen;
	char buf[128], want[32];
	int fd;

	cg_enter("app");
	dlen = make_addr(&dst, c->ip, c->port);
	fd = socket(c->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		_exit(CL_SETUP);
	if (c->connected && connect(fd, (struct sockaddr *)&dst, dlen))
		_exit(CL_CONNECT);
	if (c->connected) {
		slen = sizeof(src);
		if (getpeername(fd, (struct sockaddr *)&src, &slen) ||
		    strcmp(addr_str(&src), addr_str(&dst)))
			_exit(CL_PEER);
	}
	for (int i = 0; i < c->count; i++) {
		ssize_t n;

		snprintf(buf, sizeof(buf), "ping %d", i);
		n = c->connected ? send(fd, buf, strlen(buf), 0) :
			sendto(fd, buf, strlen(buf), 0,
			       (struct sockaddr *)&dst, dlen);
		if (n < 0)
			_exit(CL_IO);
		if (!readable(fd, 5000))
			_exit(CL_IO);
		slen = sizeof(src);
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0,
			     (struct sockaddr *)&src, &slen);
		if (n < 0)
			_exit(CL_IO);
		buf[n] = '\0';
		snprintf(want, sizeof(want), "pong %d", i);
		if (strcmp(buf, want))
			_exit(CL_REPLY);
		if (strcmp(addr_str(&src), addr_str(&dst))) {
			fprintf(stderr, "# reply from %s, want %s\n",
				addr_str(&src), addr_str(&dst));
			_exit(CL_PEER);
		}
	}
	close(fd);
	_exit(CL_OK);
}

static pid_t udp_client_start(const struct udp_client *c)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0)
		udp_client_main(c);
	return pid;
}

/* Serve count datagrams: check each flow's original destination, reply
 * "pong N" to "ping N". */
static int serve(int fd, const char *want_dst, int count)
{
	struct sockaddr_storage peer, orig;
	socklen_t plen, olen;
	char buf[128];
	int served = 0;

	while (served < count && readable(fd, 5000)) {
		ssize_t n;

		plen = sizeof(peer);
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0,
			     (struct sockaddr *)&peer, &plen);
		if (n < 0)
			break;
		buf[n] = '\0';
		olen = sizeof(orig);
		CHECK(!lwfp_query_udp_original_dst(eng, fd,
						   (struct sockaddr *)&peer,
						   plen, &orig, &olen),
		      "no flow for peer %s", addr_str(&peer));
		CHECK(!strcmp(addr_str(&orig), want_dst), "orig %s, want %s",
		      addr_str(&orig), want_dst);
		if (strncmp(buf, "ping ", 5))
			break;
		buf[1] = 'o';
		sendto(fd, buf, n, 0, (struct sockaddr *)&peer, plen);
		served++;
	}
	return served;
}

static void exchange_as(const char *name, int family, const char *svc_ip,
			const char *orig_ip, bool connected,
			const char *want_orig_ip)
{
	struct sockaddr_storage want;
	char listen[64];
	uint16_t port = 0, dport;
	int fd = udp_bind(svc_ip, &port), served;
	struct udp_client c = { family, orig_ip, 0, connected, 3 };
	pid_t pid;

	dport = unused_udp_port(orig_ip);
	c.port = dport;
	make_addr(&want, svc_ip, port);
	snprintf(listen, sizeof(listen), "%s", addr_str(&want));
	REQUIRE(!add_udp_redirect(name, listen, orig_ip, dport),
		"service/rule: %s", env.out);
	open_engine();
	make_addr(&want, want_orig_ip, dport);
	pid = udp_client_start(&c);
	served = serve(fd, addr_str(&want), 3);
	CHECK(served == 3, "served %d of 3", served);
	CHECK(client_wait(pid) == CL_OK, "client failed");
	close(fd);
}

static void exchange(int family, const char *svc_ip, const char *orig_ip,
		     bool connected)
{
	exchange_as("dns", family, svc_ip, orig_ip, connected, orig_ip);
}

static void t_unconnected_v4(void)
{
	exchange(AF_INET, "127.0.0.1", "127.0.0.2", false);
}

static void t_connected_v4(void)
{
	exchange(AF_INET, "127.0.0.1", "127.0.0.2", true);
}

static void t_unconnected_v6(void)
{
	exchange(AF_INET6, "::1", "::1", false);
}

static void t_connected_v6(void)
{
	exchange(AF_INET6, "::1", "::1", true);
}

/* ---- a client held open, driven by commands over a pipe ---- */

struct held {
	pid_t pid;
	int cmd;	/* write a command byte */
	int res;	/* read one result byte per command */
};

/* In the app cgroup: 's' sends a datagram and waits for its reply (whose
 * source must be the original destination), 'c' closes the socket, EOF
 * ends. Each command answers one byte: 0 ok, else a CL_* code. */
static void held_main(int family, const char *ip, uint16_t port,
		      bool connected, int cmd, int res)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen = make_addr(&dst, ip, port), slen;
	char c, buf[64];
	int fd, n = 0;

	/* none of the parent's sockets: a service closed there must go */
	for (int i = 3; i < 1024; i++)
		if (i != cmd && i != res)
			close(i);
	cg_enter("app");
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connected && connect(fd, (struct sockaddr *)&dst, dlen)))
		_exit(CL_SETUP);
	while (read(cmd, &c, 1) == 1) {
		char r = CL_OK;

		if (c == 'c') {
			close(fd);
			fd = -1;
		} else if (c == 's') {
			snprintf(buf, sizeof(buf), "ping %d", n++);
			if (sendto(fd, buf, strlen(buf), 0,
				   connected ? NULL : (struct sockaddr *)&dst,
				   connected ? 0 : dlen) < 0 ||
			    !readable(fd, 5000)) {
				r = CL_IO;
			} else {
				slen = sizeof(src);
				if (recvfrom(fd, buf, sizeof(buf), 0,
					     (struct sockaddr *)&src, &slen) < 0)
					r = CL_IO;
				else if (strcmp(addr_str(&src), addr_str(&dst)))
					r = CL_PEER;
			}
		}
		if (write(res, &r, 1) != 1)
			break;
	}
	_exit(CL_OK);
}

static struct held held_start(int family, const char *ip, uint16_t port,
			      bool connected)
{
	int cmd[2], res[2];
	struct held h;

	if (pipe(cmd) || pipe(res))
		die("pipe");
	h.pid = fork();
	if (h.pid < 0)
		die("fork");
	if (h.pid == 0) {
		close(cmd[1]);
		close(res[0]);
		held_main(family, ip, port, connected, cmd[0], res[1]);
	}
	close(cmd[0]);
	close(res[1]);
	h.cmd = cmd[1];
	h.res = res[0];
	return h;
}

/* Send a command; for 's' the service (fd) answers one datagram first. */
static int held_do(struct held *h, char c, int svc_fd)
{
	char r = CL_IO;

	if (write(h->cmd, &c, 1) != 1)
		return CL_IO;
	if (c == 's' && svc_fd >= 0) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		char buf[64];
		ssize_t n;

		if (!readable(svc_fd, 5000))
			return CL_IO;
		n = recvfrom(svc_fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&peer, &plen);
		if (n > 0)
			sendto(svc_fd, buf, n, 0, (struct sockaddr *)&peer,
			       plen);
	}
	if (read(h->res, &r, 1) != 1)
		return CL_IO;
	return r;
}

static int held_end(struct held *h)
{
	close(h->cmd);
	close(h->res);
	return client_wait(h->pid);
}

/* The service side of one held client: its peer address, as the service
 * sees it, from the datagram the client sends. */
static int held_send_peer(struct held *h, int svc_fd,
			  struct sockaddr_storage *peer, socklen_t *plen)
{
	char c = 's', buf[64], r = CL_IO;
	ssize_t n;

	if (write(h->cmd, &c, 1) != 1 || !readable(svc_fd, 5000))
		return CL_IO;
	*plen = sizeof(*peer);
	n = recvfrom(svc_fd, buf, sizeof(buf), 0, (struct sockaddr *)peer,
		     plen);
	if (n > 0)
		sendto(svc_fd, buf, n, 0, (struct sockaddr *)peer, *plen);
	if (read(h->res, &r, 1) != 1)
		return CL_IO;
	return r;
}

static long long status_int(const char *key)
{
	if (lwfp_run("status", "--json", NULL))
		return -1;
	return json_int(key);
}

/* A UDP service on 127.0.0.1 for a fresh 127.0.0.2 destination. */
static int setup_v4(uint16_t *dport)
{
	char listen[64];
	uint16_t port = 0;
	int fd = udp_bind("127.0.0.1", &port);

	*dport = unused_udp_port("127.0.0.2");
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	if (add_udp_redirect("dns", listen, "127.0.0.2", *dport)) {
		close(fd);
		return -1;
	}
	open_engine();
	return fd;
}

/* An unconnected send to a v4-mapped address is IPv4 to the kernel (it
 * takes the sendmsg4 hook): the service sees an IPv4 original. */
static void t_v4_mapped(void)
{
	exchange_as("mapped1", AF_INET6, "127.0.0.1", "::ffff:127.0.0.2",
		    false, "127.0.0.2");
	exchange_as("mapped2", AF_INET6, "127.0.0.1", "::ffff:127.0.0.2",
		    true, "::ffff:127.0.0.2");
}

/* Records and context: the per-peer queries, and lwfp_recvmsg's control
 * messages on the first datagram of the flow only. */
static void t_queries_and_cmsgs(void)
{
	union {
		char buf[CMSG_SPACE(LWFP_RECORDS_LEN) +
			 CMSG_SPACE(LWFP_CONTEXT_MAX_LEN) + 64];
		struct cmsghdr align;
	} ctl;
	unsigned char rec[64], q_rec[64], ctxbuf[LWFP_CONTEXT_MAX_LEN];
	struct sockaddr_storage peer, want;
	struct lwfp_context ctx;
	size_t rlen = 0, qlen = sizeof(q_rec), clen = 0;
	char data[64];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr msg;
	struct cmsghdr *cm;
	uint16_t dport;
	int fd = setup_v4(&dport), got_rec = 0, got_ctx = 0;
	struct held h;

	REQUIRE(fd >= 0, "setup: %s", env.out);
	h = held_start(AF_INET, "127.0.0.2", dport, false);
	for (int round = 0; round < 3; round++) {
		char c = 's';
		ssize_t n;

		REQUIRE(write(h.cmd, &c, 1) == 1, "command");
		REQUIRE(readable(fd, 5000), "no datagram");
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &peer;
		msg.msg_namelen = sizeof(peer);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		/* round 0: no room, so they must come with round 1 */
		msg.msg_controllen = round == 0 ? CMSG_SPACE(8) :
						  sizeof(ctl.buf);
		n = lwfp_recvmsg(eng, fd, &msg, 0);
		REQUIRE(n > 0, "lwfp_recvmsg: %s", lwfp_strerror((int)n));
		got_rec = got_ctx = 0;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			CHECK(cm->cmsg_level == IPPROTO_IP, "level %d",
			      cm->cmsg_level);
			if (cm->cmsg_type == LWFP_CMSG_RECORDS) {
				rlen = cm->cmsg_len - CMSG_LEN(0);
				memcpy(rec, CMSG_DATA(cm), rlen < 64 ? rlen : 64);
				got_rec++;
			} else if (cm->cmsg_type == LWFP_CMSG_CONTEXT) {
				clen = cm->cmsg_len - CMSG_LEN(0);
				memcpy(ctxbuf, CMSG_DATA(cm), clen);
				got_ctx++;
			}
		}
		if (round == 0)
			CHECK(msg.msg_flags & MSG_CTRUNC, "no MSG_CTRUNC");
		CHECK(got_rec == (round == 1) && got_ctx == (round == 1),
		      "round %d: %d records, %d context messages", round,
		      got_rec, got_ctx);
		sendto(fd, data, n, 0, (struct sockaddr *)&peer,
		       msg.msg_namelen);
		REQUIRE(read(h.res, &c, 1) == 1 && c == CL_OK,
			"client round %d: %d", round, c);
	}
	CHECK(rlen == LWFP_RECORDS_LEN, "records of %zu bytes", rlen);
	CHECK(!lwfp_query_udp_records(eng, fd, (struct sockaddr *)&peer,
				      msg.msg_namelen, q_rec, &qlen) &&
	      qlen == LWFP_RECORDS_LEN && !memcmp(q_rec, rec, qlen),
	      "queried records differ from the control message's");
	REQUIRE(!lwfp_context_decode(ctxbuf, clen, &ctx), "context decode");
	make_addr(&want, "127.0.0.2", dport);
	CHECK(!strcmp(addr_str(&ctx.orig_dst), addr_str(&want)),
	      "orig %s", addr_str(&ctx.orig_dst));
	CHECK(ctx.protocol == IPPROTO_UDP, "protocol %d", ctx.protocol);
	CHECK(ctx.pid == (uint32_t)h.pid, "pid %u, want %d", ctx.pid, h.pid);
	CHECK(!strcmp(ctx.service, "dns"), "service %s", ctx.service);
	CHECK(lwfp_redirect_state(eng, rec, rlen, "dns") ==
	      LWFP_REDIRECTED_BY_SELF, "redirect state");
	qlen = sizeof(ctxbuf);
	CHECK(lwfp_query_udp_context_layout(eng, fd, (struct sockaddr *)&peer,
					    msg.msg_namelen, ctxbuf, &qlen) ==
	      -ENOMSG, "a rule without a layout: -ENOMSG");

	/* a peer that sent nothing, and bad arguments */
	make_addr(&want, "127.0.0.1", 9);
	qlen = sizeof(q_rec);
	CHECK(lwfp_query_udp_records(eng, fd, (struct sockaddr *)&want,
				     sizeof(struct sockaddr_in), q_rec,
				     &qlen) == -ENODATA, "unknown peer");
	CHECK(lwfp_query_udp_records(eng, fd, NULL, 0, q_rec, &qlen) ==
	      -EINVAL, "NULL peer");
	CHECK(lwfp_query_udp_records(eng, -1, (struct sockaddr *)&peer,
				     msg.msg_namelen, q_rec, &qlen) == -EBADF,
	      "bad fd");
	qlen = 4;
	CHECK(lwfp_query_udp_records(eng, fd, (struct sockaddr *)&peer,
				     msg.msg_namelen, q_rec, &qlen) ==
	      -ERANGE && qlen == LWFP_RECORDS_LEN, "short buffer");

	/* only the service asks, and only through a socket bound where the
	 * flow goes: not another address on the port, not another process
	 * holding the same socket */
	{
		struct sockaddr_storage mine;
		socklen_t mlen = sizeof(mine);
		uint16_t port;
		int other;
		pid_t pid;

		getsockname(fd, (struct sockaddr *)&mine, &mlen);
		port = addr_port(&mine);
		other = udp_bind("127.0.0.3", &port);
		qlen = sizeof(q_rec);
		CHECK(lwfp_query_udp_records(eng, other,
					     (struct sockaddr *)&peer,
					     msg.msg_namelen, q_rec, &qlen) ==
		      -ENODATA, "a socket at another address read the flow");
		close(other);
		pid = fork();
		if (pid == 0) {
			struct lwfp *e2 = NULL;

			qlen = sizeof(q_rec);
			_exit(!lwfp_open(env.pin_dir, &e2) &&
			      lwfp_query_udp_records(e2, fd,
						     (struct sockaddr *)&peer,
						     msg.msg_namelen, q_rec,
						     &qlen) == -ENODATA ?
			      CL_OK : CL_IO);
		}
		/* the same answer as for no flow at all: no oracle */
		CHECK(client_wait(pid) == CL_OK,
		      "a process other than the service read the flow");
	}
	CHECK(held_end(&h) == CL_OK, "client");
	close(fd);
}

/* A rule's context layout (laid out as below, 266 bytes). */
static const char layout_text[] =
	"at 0 orig_dst sockaddr_storage\n"
	"at 128 local sockaddr_storage\n"
	"at 256 pid u32le\n"
	"at 260 protocol u16le\n"
	"at 262 bytes 4c 57\n"
	"at 264 uid u16be\n";
#define LAYOUT_LEN 266

/* One datagram of the held client h, read with lwfp_recvmsg() or
 * lwfp_recvmsg_layout() and answered: its context message into ctx
 * (*len: its length, 0 if none) and its source into peer. */
static bool recv_context(struct held *h, int fd, bool layout,
			 struct sockaddr_storage *peer, socklen_t *plen,
			 unsigned char *ctx, size_t *len)
{
	union {
		char buf[CMSG_SPACE(LWFP_RECORDS_LEN) +
			 CMSG_SPACE(LWFP_CONTEXT_MAX_LEN)];
		struct cmsghdr align;
	} ctl;
	char data[64], c = 's';
	struct iovec iov = { data, sizeof(data) };
	struct msghdr msg = {
		.msg_name = peer, .msg_namelen = sizeof(*peer),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*len = 0;
	if (write(h->cmd, &c, 1) != 1 || !readable(fd, 5000))
		return false;
	n = layout ? lwfp_recvmsg_layout(eng, fd, &msg, 0) :
		     lwfp_recvmsg(eng, fd, &msg, 0);
	if (n <= 0)
		return false;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_type == LWFP_CMSG_CONTEXT) {
			*len = cm->cmsg_len - CMSG_LEN(0);
			memcpy(ctx, CMSG_DATA(cm), *len);
		}
	*plen = msg.msg_namelen;
	sendto(fd, data, n, 0, (struct sockaddr *)peer, *plen);
	return read(h->res, &c, 1) == 1 && c == CL_OK;
}

/* The layout of the flow from peer: what a service's struct reads. */
static void check_layout(const unsigned char *b, const char *want_orig,
			 const struct sockaddr_storage *peer, pid_t pid)
{
	struct sockaddr_storage orig, local;
	uint32_t p = b[256] | b[257] << 8 | b[258] << 16 |
		     (uint32_t)b[259] << 24;

	memcpy(&orig, b, sizeof(orig));
	memcpy(&local, b + 128, sizeof(local));
	CHECK(!strcmp(addr_str(&orig), want_orig), "orig_dst %s, want %s",
	      addr_str(&orig), want_orig);
	CHECK(!strcmp(addr_str(&local), addr_str(peer)),
	      "local %s, want the datagram's source %s", addr_str(&local),
	      addr_str(peer));
	CHECK(p == (uint32_t)pid && b[260] == IPPROTO_UDP && !b[261] &&
	      !memcmp(b + 262, "LW", 2) && !b[264] && !b[265],
	      "pid %u (want %d), protocol %u, uid %u", p, pid, b[260],
	      b[264] << 8 | b[265]);
}

/* A UDP rule with a context layout: lwfp_recvmsg() and
 * lwfp_query_udp_context() keep the TLV; lwfp_recvmsg_layout() and
 * lwfp_query_udp_context_layout() give the layout, filled per flow. */
static void t_layout(void)
{
	char path[] = "/tmp/lwfp-udp-layout-XXXXXX", listen[32], dport_s[8];
	char pid_s[16], want[64];
	unsigned char ctx[LWFP_CONTEXT_MAX_LEN], q[LWFP_CONTEXT_MAX_LEN];
	struct sockaddr_storage peer;
	struct lwfp_context tlv;
	socklen_t plen;
	size_t n, qn;
	uint16_t port = 0, dport = unused_udp_port("127.0.0.2");
	int fd = udp_bind("127.0.0.1", &port), lf = mkstemp(path);
	struct held h1, h2;

	REQUIRE(lf >= 0 && write(lf, layout_text, sizeof(layout_text) - 1) ==
		(ssize_t)sizeof(layout_text) - 1, "layout file");
	close(lf);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(dport_s, sizeof(dport_s), "%u", dport);
	snprintf(pid_s, sizeof(pid_s), "%d", getpid());
	snprintf(want, sizeof(want), "127.0.0.2:%u", dport);
	REQUIRE(!lwfp_run("service", "add", "dns", "--listen", listen, "--pid",
			  pid_s, NULL) &&
		!lwfp_run("rule", "add", "--service", "dns", "--proto", "udp",
			  "--dst", "127.0.0.2", "--dport", dport_s,
			  "--context-layout", path, NULL), "setup: %s", env.out);
	unlink(path);
	open_engine();

	/* the plain calls: the TLV, as before */
	h1 = held_start(AF_INET, "127.0.0.2", dport, false);
	CHECK(recv_context(&h1, fd, false, &peer, &plen, ctx, &n) &&
	      !lwfp_context_decode(ctx, n, &tlv) &&
	      tlv.pid == (uint32_t)h1.pid, "lwfp_recvmsg: the TLV (%zu)", n);
	qn = sizeof(q);
	CHECK(!lwfp_query_udp_context_layout(eng, fd, (struct sockaddr *)&peer,
					     plen, q, &qn) &&
	      qn == LAYOUT_LEN, "lwfp_query_udp_context_layout: %zu", qn);
	check_layout(q, want, &peer, h1.pid);

	/* lwfp_recvmsg_layout: the layout, the same bytes as the query */
	h2 = held_start(AF_INET, "127.0.0.2", dport, false);
	CHECK(recv_context(&h2, fd, true, &peer, &plen, ctx, &n) &&
	      n == LAYOUT_LEN, "lwfp_recvmsg_layout: %zu bytes", n);
	check_layout(ctx, want, &peer, h2.pid);
	qn = sizeof(q);
	CHECK(!lwfp_query_udp_context_layout(eng, fd, (struct sockaddr *)&peer,
					     plen, q, &qn) &&
	      qn == n && !memcmp(q, ctx, n), "the query gives the same");
	CHECK(held_end(&h1) == CL_OK && held_end(&h2) == CL_OK, "clients");
	close(fd);
}

/* The flow lives while the client socket is open, and not after. */
static void t_close_ends_flow(void)
{
	struct sockaddr_storage peer, orig;
	socklen_t plen, olen = sizeof(orig);
	uint16_t dport;
	int fd = setup_v4(&dport);
	struct held h;

	REQUIRE(fd >= 0, "setup: %s", env.out);
	h = held_start(AF_INET, "127.0.0.2", dport, true);
	REQUIRE(held_send_peer(&h, fd, &peer, &plen) == CL_OK, "exchange");
	CHECK(!lwfp_query_udp_original_dst(eng, fd, (struct sockaddr *)&peer,
					   plen, &orig, &olen), "flow");
	CHECK(status_int("udp_flows") == 1, "udp_flows %lld",
	      status_int("udp_flows"));
	CHECK(!lwfp_run("flows", NULL) && strstr(env.out, "udp 1 datagram,"),
	      "lwfp flows: %s", env.out);
	CHECK(held_do(&h, 'c', -1) == CL_OK, "close");
	olen = sizeof(orig);
	CHECK(lwfp_query_udp_original_dst(eng, fd, (struct sockaddr *)&peer,
					  plen, &orig, &olen) == -ENODATA,
	      "flow outlived its socket");
	CHECK(status_int("udp_flows") == 0, "udp_flows %lld after close",
	      status_int("udp_flows"));
	CHECK(held_end(&h) == CL_OK, "client");
	close(fd);
}

/* An idle flow ends at the timeout; the next datagram starts a new one
 * with new records. */
static void t_idle_timeout(void)
{
	unsigned char r1[64], r2[64];
	size_t l1 = sizeof(r1), l2 = sizeof(r2);
	struct sockaddr_storage peer;
	socklen_t plen;
	uint16_t dport;
	int fd;
	struct held h;

	REQUIRE(!lwfp_run("load", "--cgroup", env.base, "--udp-timeout", "1",
			  NULL), "set the timeout");
	CHECK(status_int("udp_timeout_s") == 1, "timeout not set");
	fd = setup_v4(&dport);
	REQUIRE(fd >= 0, "setup: %s", env.out);
	h = held_start(AF_INET, "127.0.0.2", dport, false);
	REQUIRE(held_send_peer(&h, fd, &peer, &plen) == CL_OK, "exchange");
	CHECK(!lwfp_query_udp_records(eng, fd, (struct sockaddr *)&peer, plen,
				      r1, &l1), "flow");
	usleep(600 * 1000);
	/* traffic keeps it alive past the first timeout */
	REQUIRE(held_send_peer(&h, fd, &peer, &plen) == CL_OK, "exchange 2");
	usleep(600 * 1000);
	CHECK(!lwfp_query_udp_records(eng, fd, (struct sockaddr *)&peer, plen,
				      r2, &l2), "flow ended while in use");
	sleep(2);
	l2 = sizeof(r2);
	CHECK(lwfp_query_udp_records(eng, fd, (struct sockaddr *)&peer, plen,
				     r2, &l2) == -ENODATA, "idle flow lives");
	CHECK(status_int("udp_flows_idle_ended") == 1, "idle counter %lld",
	      json_int("udp_flows_idle_ended"));
	REQUIRE(held_send_peer(&h, fd, &peer, &plen) == CL_OK, "exchange 3");
	l2 = sizeof(r2);
	CHECK(!lwfp_query_udp_records(eng, fd, (struct sockaddr *)&peer, plen,
				      r2, &l2) && memcmp(r1, r2, l1),
	      "no new flow with new records after the idle end");
	CHECK(held_end(&h) == CL_OK, "client");
	close(fd);
}

/* A rule change makes an unconnected socket's next send be decided
 * again; the same service taking it again continues the flow. */
static void t_rule_change(void)
{
	unsigned char r1[64], r2[64];
	size_t l1 = sizeof(r1), l2 = sizeof(r2);
	struct sockaddr_storage peer;
	socklen_t plen;
	uint16_t dport;
	int fd = setup_v4(&dport);
	struct held h;

	REQUIRE(fd >= 0, "setup: %s", env.out);
	h = held_start(AF_INET, "127.0.0.2", dport, false);
	REQUIRE(held_send_peer(&h, fd, &peer, &plen) == CL_OK, "exchange");
	CHECK(!lwfp_query_udp_records(eng, fd, (struct sockaddr *)&peer, plen,
				      r1, &l1), "flow");
	REQUIRE(!lwfp_run("rule", "add", "--service", "dns", "--proto", "udp",
			  "--dst", "127.0.0.9/32", NULL), "another rule");
	REQUIRE(held_send_peer(&h, fd, &peer, &plen) == CL_OK,
		"exchange after the rule change");
	CHECK(!lwfp_query_udp_records(eng, fd, (struct sockaddr *)&peer, plen,
				      r2, &l2) && l1 == l2 && !memcmp(r1, r2, l1),
	      "the flow did not continue across the rule change");
	CHECK(status_int("udp_flows") == 1, "udp_flows %lld",
	      json_int("udp_flows"));
	CHECK(held_end(&h) == CL_OK, "client");
	close(fd);
}

/* One datagram to dst from the app cgroup: CL_OK, CL_CONNECT if the
 * send was refused, CL_IO. */
static int send_one_from_app(const struct sockaddr_storage *dst,
			     socklen_t dlen)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = socket(dst->ss_family, SOCK_DGRAM, 0);

		cg_enter("app");
		if (sendto(fd, "x", 1, 0, (const struct sockaddr *)dst,
			   dlen) == 1)
			_exit(CL_OK);
		_exit(errno == ECONNREFUSED ? CL_CONNECT : CL_IO);
	}
	return client_wait(pid);
}

/* An unconnected socket whose service went away since: its next send is
 * decided again, and fail open sends it to the original destination. */
static void t_service_gone(void)
{
	struct sockaddr_storage peer;
	socklen_t plen;
	uint16_t dport;
	int fd = setup_v4(&dport), fo;
	struct held h;
	char c = 's';

	REQUIRE(fd >= 0, "setup: %s", env.out);
	fo = udp_bind("127.0.0.2", &dport);
	h = held_start(AF_INET, "127.0.0.2", dport, false);
	REQUIRE(held_send_peer(&h, fd, &peer, &plen) == CL_OK, "exchange");
	close(fd);
	REQUIRE(write(h.cmd, &c, 1) == 1, "command");
	CHECK(readable(fo, 5000), "the original destination got nothing");
	close(fo);
	held_end(&h);
}

/* An IPv6 socket's send can't be redirected to an IPv4-only service (the
 * kernel refuses a v4-mapped target there): it goes where it was going,
 * and does not fail. */
static void t_v6_send_v4_service(void)
{
	struct sockaddr_storage dst;
	char listen[32], port[8];
	uint16_t svc_port = 0, po = 0;
	int svc = udp_bind("127.0.0.1", &svc_port), fo = udp_bind("::1", &po);
	socklen_t dlen = make_addr(&dst, "::1", po);
	int st;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc_port);
	snprintf(port, sizeof(port), "%u", po);
	REQUIRE(!lwfp_run("service", "add", "v4only", "--listen", listen,
			  "--proto", "udp", NULL) &&
		!lwfp_run("rule", "add", "--service", "v4only", "--proto",
			  "udp", "--dport", port, NULL), "setup: %s", env.out);
	st = send_one_from_app(&dst, dlen);
	CHECK(st == CL_OK, "send gave %d", st);
	CHECK(readable(fo, 2000), "the original destination got nothing");
	CHECK(!readable(svc, 200), "the IPv4 service got an IPv6 send");
	close(fo);
	close(svc);
}

/* 1000 client sockets at once, each its own flow with its own state. */
static void flood_main(uint16_t dport, int n, int go)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen = make_addr(&dst, "127.0.0.2", dport), slen;
	struct rlimit rl = { 4096, 4096 };
	int *fds = calloc(n, sizeof(*fds));
	char c, buf[32];

	cg_enter("app");
	if (!fds || setrlimit(RLIMIT_NOFILE, &rl))
		_exit(CL_SETUP);
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		snprintf(buf, sizeof(buf), "ping %d", i);
		if (fds[i] < 0 || sendto(fds[i], buf, strlen(buf), 0,
					 (struct sockaddr *)&dst, dlen) < 0)
			_exit(CL_IO);
	}
	for (int i = 0; i < n; i++) {
		char want[32];
		ssize_t got;

		if (!readable(fds[i], 10000))
			_exit(CL_IO);
		slen = sizeof(src);
		got = recvfrom(fds[i], buf, sizeof(buf) - 1, 0,
			       (struct sockaddr *)&src, &slen);
		if (got < 0)
			_exit(CL_IO);
		buf[got] = '\0';
		snprintf(want, sizeof(want), "pong %d", i);
		if (strcmp(buf, want))
			_exit(CL_REPLY);
		if (strcmp(addr_str(&src), addr_str(&dst)))
			_exit(CL_PEER);
	}
	/* hold every socket until the parent has counted the flows */
	if (read(go, &c, 1) < 0)
		_exit(CL_IO);
	_exit(CL_OK);
}

static void t_thousand_flows(void)
{
	enum { N = 1000 };
	struct sockaddr_storage want;
	uint16_t dport;
	int fd = setup_v4(&dport), go[2], served, rcvbuf = 4 << 20;
	pid_t pid;

	REQUIRE(fd >= 0, "setup: %s", env.out);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	REQUIRE(!pipe(go), "pipe");
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		flood_main(dport, N, go[0]);
	}
	close(go[0]);
	make_addr(&want, "127.0.0.2", dport);
	served = serve(fd, addr_str(&want), N);
	CHECK(served == N, "served %d of %d", served, N);
	/* the client holds all its sockets until told to go */
	for (int i = 0; i < 50 && status_int("udp_flows") < N; i++)
		usleep(100 * 1000);
	CHECK(status_int("udp_flows") == N, "udp_flows %lld, want %d",
	      status_int("udp_flows"), N);
	close(go[1]);
	CHECK(client_wait(pid) == CL_OK, "client failed");
	CHECK(status_int("udp_flows") == 0, "udp_flows %lld after exit",
	      status_int("udp_flows"));
	close(fd);
}

/* Clients killed or exiting with their flows open: every flow, every
 * tracked socket and every live record goes with them. */
static void t_clients_die(void)
{
	enum { K = 4, N = 250 };
	struct sockaddr_storage want;
	uint16_t dport;
	int fd = setup_v4(&dport), go[K][2], served, rcvbuf = 4 << 20;
	pid_t pid[K];

	REQUIRE(fd >= 0, "setup: %s", env.out);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	for (int k = 0; k < K; k++) {
		REQUIRE(!pipe(go[k]), "pipe");
		pid[k] = fork();
		if (pid[k] == 0) {
			/* only the parent may hold the write ends */
			for (int j = 0; j <= k; j++)
				close(go[j][1]);
			flood_main(dport, N, go[k][0]);
		}
		close(go[k][0]);
	}
	make_addr(&want, "127.0.0.2", dport);
	served = serve(fd, addr_str(&want), K * N);
	CHECK(served == K * N, "served %d of %d", served, K * N);
	for (int i = 0; i < 50 && status_int("udp_flows") < K * N; i++)
		usleep(100 * 1000);
	CHECK(status_int("udp_flows") == K * N, "udp_flows %lld",
	      json_int("udp_flows"));
	for (int k = 0; k < K; k++) {
		if (k % 2)
			kill(pid[k], SIGKILL);
		close(go[k][1]);
		client_wait(pid[k]);
	}
	/* sockets are freed after an RCU grace period, their storage with
	 * them */
	for (int i = 0; i < 50 && (status_int("udp_flows") ||
				   json_int("client_sockets")); i++)
		usleep(100 * 1000);
	CHECK(status_int("udp_flows") == 0 && json_int("client_sockets") == 0,
	      "after the clients died: udp_flows %lld, client sockets %lld",
	      json_int("udp_flows"), json_int("client_sockets"));
	close(fd);
}

/*
 * A chain: client -> service A (a child, higher weight) -> service B
 * (this process) -> origin. A and B each relay with records set on their
 * outbound socket; nobody is sent back to a service the flow went
 * through, and the origin sees B's socket.
 */
static int relay_once(int svc_fd, const struct sockaddr_storage *orig,
		       socklen_t olen, struct lwfp *e, bool check_b)
{
	unsigned char rec[64];
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	size_t rlen = sizeof(rec);
	char buf[64];
	ssize_t n;
	int out;

	if (!readable(svc_fd, 5000))
		return CL_IO;
	n = recvfrom(svc_fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer,
		     &plen);
	if (n <= 0 || lwfp_query_udp_records(e, svc_fd,
					     (struct sockaddr *)&peer, plen,
					     rec, &rlen))
		return CL_SETUP;
	if (check_b) {
		CHECK(lwfp_redirect_state(e, rec, rlen, "b") ==
		      LWFP_REDIRECTED_BY_SELF, "b: state");
		CHECK(lwfp_redirect_state(e, rec, rlen, "a") ==
		      LWFP_PREVIOUSLY_REDIRECTED_BY_SELF, "a: state");
	}
	out = socket(orig->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (out < 0 || lwfp_set_records(e, out, rec, rlen) ||
	    sendto(out, buf, n, 0, (const struct sockaddr *)orig, olen) != n ||
	    !readable(out, 5000)) {
		if (out >= 0)
			close(out);
		return CL_CONNECT;
	}
	n = recv(out, buf, sizeof(buf), 0);
	close(out);
	if (n <= 0)
		return CL_REPLY;
	sendto(svc_fd, buf, n, 0, (struct sockaddr *)&peer, plen);
	return CL_OK;
}

static void t_chain(void)
{
	struct sockaddr_storage orig, peer;
	socklen_t olen, plen;
	char listen_a[32], listen_b[32], pid_a[16], pid_b[16], port[8];
	uint16_t pa = 0, pb = 0, po = 0;
	int fa = udp_bind("127.0.0.1", &pa), fb = udp_bind("127.0.0.1", &pb);
	int fo = udp_bind("127.0.0.2", &po), go[2];
	struct udp_client c = { AF_INET, "127.0.0.2", po, false, 1 };
	char buf[64];
	pid_t a, cl, o;
	ssize_t n;
	int st;

	olen = make_addr(&orig, "127.0.0.2", po);
	REQUIRE(!pipe(go), "pipe");
	a = fork();
	if (a == 0) {
		struct lwfp *ea = NULL;
		char ch;

		close(go[1]);
		if (read(go[0], &ch, 1) != 1 || lwfp_open(env.pin_dir, &ea))
			_exit(CL_SETUP);
		st = relay_once(fa, &orig, olen, ea, false);
		lwfp_close(ea);
		_exit(st);
	}
	close(go[0]);
	snprintf(listen_a, sizeof(listen_a), "127.0.0.1:%u", pa);
	snprintf(listen_b, sizeof(listen_b), "127.0.0.1:%u", pb);
	snprintf(pid_a, sizeof(pid_a), "%d", a);
	snprintf(pid_b, sizeof(pid_b), "%d", getpid());
	snprintf(port, sizeof(port), "%u", po);
	REQUIRE(!lwfp_run("service", "add", "a", "--listen", listen_a, "--pid",
			  pid_a, "--weight", "10", NULL) &&
		!lwfp_run("service", "add", "b", "--listen", listen_b, "--pid",
			  pid_b, "--weight", "5", NULL) &&
		!lwfp_run("rule", "add", "--service", "a", "--proto", "udp",
			  "--dst", "127.0.0.2/32", "--dport", port, NULL) &&
		!lwfp_run("rule", "add", "--service", "b", "--proto", "udp",
			  "--dst", "127.0.0.2/32", "--dport", port, NULL),
		"setup: %s", env.out);
	open_engine();
	REQUIRE(write(go[1], "g", 1) == 1, "go");
	cl = udp_client_start(&c);
	/* B: from A's outbound socket, on to the origin; the origin answers
	 * in a child, as B waits for the reply */
	o = fork();
	if (o == 0) {
		if (!readable(fo, 5000))
			_exit(CL_IO);
		plen = sizeof(peer);
		n = recvfrom(fo, buf, sizeof(buf), 0, (struct sockaddr *)&peer,
			     &plen);
		if (n <= 0)
			_exit(CL_IO);
		buf[1] = 'o';
		sendto(fo, buf, n, 0, (struct sockaddr *)&peer, plen);
		_exit(addr_port(&peer) == pa || addr_port(&peer) == pb ?
		      CL_PEER : CL_OK);
	}
	st = relay_once(fb, &orig, olen, eng, true);
	CHECK(st == CL_OK, "service b: %d", st);
	/* the origin saw B's outbound socket, never a service port */
	CHECK(client_wait(o) == CL_OK, "origin");
	CHECK(client_wait(cl) == CL_OK, "client");
	CHECK(client_wait(a) == CL_OK, "service a");
	close(go[1]);
	close(fa);
	close(fb);
	close(fo);
}

/* A service that has no socket bound: fail open goes to the original
 * destination, fail closed refuses the send. A TCP-only service takes no
 * UDP. */
static void t_fail_modes(void)
{
	struct sockaddr_storage dst;
	char listen[32], port[8];
	uint16_t po = 0, dead = unused_udp_port("127.0.0.1");
	int fo = udp_bind("127.0.0.2", &po), st;
	socklen_t dlen = make_addr(&dst, "127.0.0.2", po);

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", dead);
	snprintf(port, sizeof(port), "%u", po);
	REQUIRE(!lwfp_run("service", "add", "down", "--listen", listen,
			  "--fail", "closed", "--proto", "udp", NULL) &&
		!lwfp_run("rule", "add", "--service", "down", "--proto", "udp",
			  "--dst", "127.0.0.2/32", "--dport", port, NULL),
		"setup: %s", env.out);
	st = send_one_from_app(&dst, dlen);
	CHECK(st == CL_CONNECT, "fail closed: send gave %d", st);
	CHECK(!readable(fo, 200), "fail closed: a datagram went through");

	REQUIRE(!lwfp_run("rule", "del", "1", NULL) &&
		!lwfp_run("service", "del", "down", NULL) &&
		!lwfp_run("service", "add", "tcponly", "--listen", listen,
			  "--proto", "tcp", NULL), "setup: %s", env.out);
	CHECK(lwfp_run("rule", "add", "--service", "tcponly", "--proto", "udp",
		       "--dport", port, NULL) == 1, "udp rule to a tcp service");
	REQUIRE(!lwfp_run("service", "add", "up", "--listen", listen,
			  "--proto", "udp", NULL) &&
		!lwfp_run("rule", "add", "--service", "up", "--proto", "udp",
			  "--dst", "127.0.0.2/32", "--dport", port, NULL),
		"setup: %s", env.out);
	st = send_one_from_app(&dst, dlen);
	CHECK(st == CL_OK, "fail open: send gave %d", st);
	CHECK(readable(fo, 2000), "fail open: the original got nothing");
	close(fo);
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"unconnected IPv4 client: redirected, replies from the original",
		"connected IPv4 client: redirected, replies from the original",
		"unconnected IPv6 client",
		"connected IPv6 client",
		"v4-mapped destination on an IPv6 socket",
		"per-peer queries; control messages on the first datagram",
		"a rule's context layout: its own calls; the TLV stays",
		"flow state ends when the client socket closes",
		"idle timeout ends a flow; the next datagram starts a new one",
		"1000 concurrent flows, each identified, all freed on exit",
		"chain A -> B -> origin with records, no loop",
		"fail closed refuses, fail open goes direct, tcp-only service",
		"an unconnected flow continues across a rule change",
		"a service gone: the next unconnected send fails open",
		"an IPv6 send is not redirected to an IPv4-only service",
		"clients killed or exiting free every flow and socket state",
	};
	static const test_fn fns[] = {
		t_unconnected_v4, t_connected_v4, t_unconnected_v6,
		t_connected_v6, t_v4_mapped, t_queries_and_cmsgs, t_layout,
		t_close_ends_flow, t_idle_timeout, t_thousand_flows, t_chain,
		t_fail_modes, t_rule_change, t_service_gone,
		t_v6_send_v4_service, t_clients_die,
	};

	int ret;

	env_init(argc, argv, "udp");
	ret = run_tests(names, fns, ARRAY_SIZE(fns));
	lwfp_close(eng);
	return ret;
}
