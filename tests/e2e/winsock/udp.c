// SPDX-License-Identifier: MIT
/* UDP: IP_WFP_REDIRECT_* options, WSARecvMsg control messages, WSASendMsg, the codes on UDP. */
#include "ws_test.h"

/* ---- UDP: WSARecvMsg, WSASendMsg, the WFP options ------------------- */

bool readable_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

uint16_t unused_udp_port(const char *ip)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, ip, 0);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len))
		die("udp bind %s: %s", ip, strerror(errno));
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	close(fd);
	return addr_port(&ss);
}

void uclient_main(const struct uflow *f, int count)
{
	struct timeval tv = { .tv_sec = 20 };
	struct sockaddr_storage src;
	socklen_t slen = sizeof(src);
	char buf[64];
	ssize_t n;
	int fd;

	cg_enter("app");
	prctl(PR_SET_NAME, "ws-udp");
	fd = socket(f->orig.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		_exit(CL_SETUP);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < count; i++) {
		snprintf(buf, sizeof(buf), "d%d", i);
		if (sendto(fd, buf, strlen(buf), 0,
			   (const struct sockaddr *)&f->orig, f->orig_len) < 0)
			_exit(CL_IO);
	}
	n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&src,
		     &slen);
	if (n < 0)
		_exit(CL_IO);
	buf[n] = '\0';
	if (strcmp(buf, "bye"))
		_exit(CL_REPLY);
	if (strcmp(addr_str(&src), addr_str(&f->orig)))
		_exit(CL_PEER);
	_exit(CL_OK);
}

bool uflow_setup(struct uflow *f, const char *svc_ip,
			const char *orig_ip, const char *name, int count)
{
	GUID id = WSAID_WSARECVMSG;
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, svc_ip, 0);
	char listen[64], dport[8];
	DWORD n;
	int one = 1;

	f->svc_ip = svc_ip;
	f->orig_ip = orig_ip;
	f->level = ss.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	f->svc = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* through the layer's setsockopt: passed on to the POSIX one */
	if (f->svc < 0 || setsockopt(f->svc, SOL_SOCKET, SO_REUSEADDR,
				     (const char *)&one, sizeof(one)) ||
	    bind(f->svc, (struct sockaddr *)&ss, len))
		return false;
	len = sizeof(ss);
	getsockname(f->svc, (struct sockaddr *)&ss, &len);
	f->svc_port = addr_port(&ss);
	f->orig_port = unused_udp_port(orig_ip);
	f->orig_len = make_addr(&f->orig, orig_ip, f->orig_port);
	snprintf(listen, sizeof(listen), "%s", addr_str(&ss));
	snprintf(dport, sizeof(dport), "%u", f->orig_port);
	if (lwfp_run("service", "add", name, "--listen", listen, NULL) ||
	    lwfp_run("rule", "add", "--service", name, "--proto", "udp",
		     "--dst", orig_ip, "--dport", dport, "--context",
		     rule_ctx, flow_layout ? "--context-layout" : NULL,
		     flow_layout, NULL))
		return false;
	if (WSAIoctl(f->svc, SIO_GET_EXTENSION_FUNCTION_POINTER, &id,
		     sizeof(id), &f->recvmsg_fn, sizeof(f->recvmsg_fn), &n,
		     NULL, NULL) || n != sizeof(f->recvmsg_fn))
		return false;
	f->client = fork();
	if (f->client == 0)
		uclient_main(f, count);
	return f->client > 0;
}

/* A session and a flow, or neither. */
bool uflow_begin(struct uflow *f, const char *svc_ip,
			const char *orig_ip, int count)
{
	memset(f, 0, sizeof(*f));
	f->svc = -1;
	if (!ws_begin()) {
		ws_end();
		return false;
	}
	if (uflow_setup(f, svc_ip, orig_ip, "usvc", count))
		return true;
	if (f->client > 0) {
		kill(f->client, SIGKILL);
		waitpid(f->client, NULL, 0);
	}
	if (f->svc >= 0)
		close(f->svc);
	ws_end();
	return false;
}

/* "bye" to the client, from the service socket; the client must see it
 * come from the original destination. */
void uflow_end(struct uflow *f)
{
	int rc;

	if (f->peer_len)
		sendto(f->svc, "bye", 3, 0, (struct sockaddr *)&f->peer,
		       f->peer_len);
	else
		kill(f->client, SIGKILL);
	rc = client_wait(f->client);
	CHECK(!f->peer_len || rc == 0, "client exit %d", rc);
	close(f->svc);
	ws_end();
}

/* WSARecvMsg of one datagram (after waiting for it) with a Control
 * buffer of control_len bytes (-1: NULL). */
void urecv(struct uflow *f, struct urecv *u, int control_len,
		  ULONG data_len, ULONG flags)
{
	LPWSACMSGHDR c;

	memset(u, 0, sizeof(*u));
	u->bytes = UNSET;
	u->wb.buf = u->data;
	u->wb.len = data_len;
	u->msg.name = (LPSOCKADDR)&u->from;
	u->msg.namelen = sizeof(u->from);
	u->msg.lpBuffers = &u->wb;
	u->msg.dwBufferCount = 1;
	u->msg.Control.buf = control_len < 0 ? NULL : u->control.buf;
	u->msg.Control.len = control_len < 0 ? 0 : (ULONG)control_len;
	u->msg.dwFlags = flags;
	if (!readable_in(f->svc, 5000)) {
		u->rc = SOCKET_ERROR;
		u->err = -1;
		return;
	}
	WSASetLastError(0);
	u->rc = f->recvmsg_fn(f->svc, &u->msg, &u->bytes, NULL, NULL);
	u->err = u->rc ? WSAGetLastError() : 0;
	if (u->rc && u->err != WSAEMSGSIZE)
		return;
	if (!f->peer_len) {
		memcpy(&f->peer, &u->from, sizeof(f->peer));
		f->peer_len = (socklen_t)u->msg.namelen;
	}
	for (c = WSA_CMSG_FIRSTHDR(&u->msg); c;
	     c = WSA_CMSG_NXTHDR(&u->msg, c)) {
		size_t len = c->cmsg_len - WSA_CMSG_LEN(0);

		if (c->cmsg_level == f->level &&
		    c->cmsg_type == IP_WFP_REDIRECT_RECORDS) {
			u->rec = WSA_CMSG_DATA(c);
			u->rec_len = len;
		} else if (c->cmsg_level == f->level &&
			   c->cmsg_type == IP_WFP_REDIRECT_CONTEXT) {
			u->ctx = WSA_CMSG_DATA(c);
			u->ctx_len = len;
		} else {
			u->others++;
		}
	}
}

bool set_context_opt(struct uflow *f, DWORD on)
{
	return setsockopt(f->svc, f->level, IP_WFP_REDIRECT_CONTEXT,
			  (const char *)&on, sizeof(on)) == 0;
}

void check_context(struct uflow *f, const struct urecv *u)
{
	struct lwfp_context ctx;

	CHECK(u->rec && u->rec_len == LWFP_RECORDS_LEN, "records: %zu bytes",
	      u->rec_len);
	REQUIRE(u->ctx && !lwfp_context_decode(u->ctx, u->ctx_len, &ctx),
		"the context decodes (%zu bytes)", u->ctx_len);
	CHECK(!strcmp(addr_str(&ctx.orig_dst), addr_str(&f->orig)),
	      "original destination %s, want %s", addr_str(&ctx.orig_dst),
	      addr_str(&f->orig));
	CHECK(ctx.protocol == IPPROTO_UDP && ctx.pid == (uint32_t)f->client &&
	      !strcmp(ctx.comm, "ws-udp") && !strcmp(ctx.service, "usvc") &&
	      ctx.rule_context_len == strlen(rule_ctx) &&
	      !memcmp(ctx.rule_context, rule_ctx, strlen(rule_ctx)),
	      "context fields: proto %d pid %u comm %s service %s",
	      ctx.protocol, ctx.pid, ctx.comm, ctx.service);
}

/* A flow of count datagrams from orig_ip to the service on svc_ip, and
 * a receive area for it; NULL (the failure checked) if either fails. */
static struct urecv *urecv_flow(struct uflow *f, const char *svc_ip,
				const char *orig_ip, int count)
{
	struct urecv *u = calloc(1, sizeof(*u));

	if (!u) {
		CHECK(false, "memory");
		return NULL;
	}
	if (!uflow_begin(f, svc_ip, orig_ip, count)) {
		CHECK(false, "setup %s -> %s", orig_ip, svc_ip);
		free(u);
		return NULL;
	}
	return u;
}

void recvmsg_context(const char *svc_ip, const char *orig_ip)
{
	struct urecv *u;
	struct uflow f;

	u = urecv_flow(&f, svc_ip, orig_ip, 2);
	if (!u)
		return;
	CHECK(set_context_opt(&f, 1), "IP_WFP_REDIRECT_CONTEXT: %d",
	      WSAGetLastError());
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && u->bytes == 2 && !memcmp(u->data, "d0", 2),
	      "first datagram: rc %d err %d bytes %u", u->rc, u->err,
	      u->bytes);
	CHECK(!(u->msg.dwFlags & (MSG_CTRUNC | MSG_TRUNC)) && !u->others,
	      "flags %#x, %d other messages", u->msg.dwFlags, u->others);
	CHECK(u->msg.Control.len == WSA_CMSG_SPACE(LWFP_RECORDS_LEN) +
	      WSA_CMSG_LEN(u->ctx_len) ||
	      u->msg.Control.len == WSA_CMSG_SPACE(LWFP_RECORDS_LEN) +
	      WSA_CMSG_SPACE(u->ctx_len), "Control.len %u",
	      u->msg.Control.len);
	check_context(&f, u);

	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && u->bytes == 2 && !memcmp(u->data, "d1", 2),
	      "second datagram: rc %d err %d", u->rc, u->err);
	CHECK(!u->rec && !u->ctx && u->msg.Control.len == 0 &&
	      u->msg.dwFlags == 0, "no messages with the second: len %u",
	      u->msg.Control.len);
	CHECK(!strcmp(addr_str(&u->from), addr_str(&f.peer)),
	      "the same peer");
	uflow_end(&f);
	free(u);
}

void test_udp_recvmsg_v4(void)
{
	recvmsg_context("127.0.0.1", "127.0.0.2");
}

void test_udp_recvmsg_v6(void)
{
	recvmsg_context("::1", "::1");
}

/* Without the option (never set, or set to 0): no WFP messages. */
void test_udp_recvmsg_off(void)
{
	struct urecv *u;
	struct uflow f;

	u = urecv_flow(&f, "127.0.0.1", "127.0.0.2", 3);
	if (!u)
		return;
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && u->bytes == 2 && !u->rec && !u->ctx &&
	      u->msg.Control.len == 0 && u->msg.dwFlags == 0,
	      "without the option: rc %d err %d len %u", u->rc, u->err,
	      u->msg.Control.len);
	CHECK(set_context_opt(&f, 1) && set_context_opt(&f, 0), "on, off");
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && !u->rec && !u->ctx && u->msg.Control.len == 0,
	      "with the option set to 0: len %u", u->msg.Control.len);
	/* a Windows source may ask for other messages: they pass */
	{
		int on = 1;

		CHECK(setsockopt(f.svc, IPPROTO_IP, IP_PKTINFO,
				 (const char *)&on, sizeof(on)) == 0,
		      "IP_PKTINFO");
	}
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && !u->rec && u->others == 1,
	      "a kernel message passes: %d", u->others);
	uflow_end(&f);
	free(u);
}

/* Too small a Control buffer: MSG_CTRUNC, and the messages come with the
 * flow's next datagram; MSG_PEEK leaves them for the read. A datagram
 * larger than the buffer: WSAEMSGSIZE and MSG_TRUNC. */
void test_udp_recvmsg_ctrunc(void)
{
	struct urecv *u;
	struct uflow f;

	u = urecv_flow(&f, "127.0.0.1", "127.0.0.2", 4);
	if (!u)
		return;
	CHECK(set_context_opt(&f, 1), "option");
	urecv(&f, u, WSA_CMSG_SPACE(LWFP_RECORDS_LEN), sizeof(u->data), 0);
	CHECK(u->rc == 0 && u->bytes == 2 && !memcmp(u->data, "d0", 2) &&
	      (u->msg.dwFlags & MSG_CTRUNC) && !u->rec && !u->ctx &&
	      u->msg.Control.len == 0, "small buffer: rc %d flags %#x "
	      "len %u", u->rc, u->msg.dwFlags, u->msg.Control.len);
	urecv(&f, u, -1, sizeof(u->data), 0);
	CHECK(u->rc == 0 && !memcmp(u->data, "d1", 2) &&
	      (u->msg.dwFlags & MSG_CTRUNC), "no buffer: flags %#x",
	      u->msg.dwFlags);
	/* the output flags of the last call are no request */
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data),
	      MSG_PEEK | MSG_CTRUNC);
	CHECK(u->rc == 0 && !memcmp(u->data, "d2", 2) &&
	      !(u->msg.dwFlags & MSG_CTRUNC), "peek: rc %d err %d", u->rc,
	      u->err);
	check_context(&f, u);
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && !memcmp(u->data, "d2", 2), "d2 again");
	check_context(&f, u);
	urecv(&f, u, sizeof(u->control.buf), 1, 0);
	CHECK(u->rc == SOCKET_ERROR && u->err == WSAEMSGSIZE &&
	      u->bytes == 1 && u->data[0] == 'd' &&
	      (u->msg.dwFlags & MSG_TRUNC) && !u->rec,
	      "datagram truncated: rc %d err %d bytes %u flags %#x", u->rc,
	      u->err, u->bytes, u->msg.dwFlags);
	uflow_end(&f);
	free(u);
}

/* A WSAMSG to dst with data and the given control bytes. */
int sendmsg_(SOCKET s, const struct sockaddr_storage *dst,
		    socklen_t dlen, const char *data, void *control,
		    ULONG control_len, DWORD *sent)
{
	WSABUF b = { .len = (ULONG)strlen(data), .buf = (CHAR *)data };
	WSAMSG m = {
		.name = (LPSOCKADDR)dst,
		.namelen = (INT)dlen,
		.lpBuffers = &b,
		.dwBufferCount = 1,
		.Control = { .len = control_len, .buf = control },
	};

	*sent = UNSET;
	WSASetLastError(0);
	return WSASendMsg(s, &m, 0, sent, NULL, NULL) ? WSAGetLastError() : 0;
}

/* One control message of len bytes; returns its space. */
ULONG put_cmsg(void *buf, int level, int type, const void *data,
		      size_t len)
{
	WSACMSGHDR *c = buf;

	memset(buf, 0, WSA_CMSG_SPACE(len));
	c->cmsg_len = WSA_CMSG_LEN(len);
	c->cmsg_level = level;
	c->cmsg_type = type;
	memcpy(WSA_CMSG_DATA(c), data, len);
	return WSA_CMSG_SPACE(len);
}

/* Did fd get exactly want within ms? */
bool got(int fd, const char *want, int ms)
{
	char buf[64];
	ssize_t n;

	if (!readable_in(fd, ms))
		return false;
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return !strcmp(buf, want);
}

/* The outbound side of a UDP service: records by WSASendMsg, by
 * setsockopt and by SIO_SET keep its datagrams from looping back. */
void test_udp_sendmsg_records(void)
{
	struct urecv *u;
	union {
		WSACMSGHDR align;
		char buf[256];
	} ctl;
	unsigned char rec[LWFP_RECORDS_LEN];
	struct uflow f;
	int dst = -1, o[5], ttl = 7, err;
	uint16_t port;
	DWORD sent;
	ULONG len;
	struct res r;

	for (size_t i = 0; i < ARRAY_SIZE(o); i++)
		o[i] = -1;
	u = urecv_flow(&f, "127.0.0.1", "127.0.0.2", 1);
	if (!u)
		return;
	CHECK(set_context_opt(&f, 1), "option");
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	REQUIRE_OR(out, u->rc == 0 && u->rec &&
		   u->rec_len == LWFP_RECORDS_LEN, "records: %d", u->err);
	memcpy(rec, u->rec, sizeof(rec));
	/* the original destination, for real this time */
	port = f.orig_port;
	dst = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE_OR(out, dst >= 0 && !bind(dst, (struct sockaddr *)&f.orig,
					  f.orig_len), "bind 127.0.0.2:%u",
		   port);
	for (size_t i = 0; i < ARRAY_SIZE(o); i++)
		o[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* without records, this process's datagram loops to the service */
	CHECK(sendto(o[0], "loop", 4, 0, (struct sockaddr *)&f.orig,
		     f.orig_len) == 4, "send");
	CHECK(got(f.svc, "loop", 2000) && !readable_in(dst, 200),
	      "without records: redirected to the service");

	/* WSASendMsg with the records: straight to the destination */
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS, rec,
		       sizeof(rec));
	err = sendmsg_(o[1], &f.orig, f.orig_len, "fwd", ctl.buf, len, &sent);
	CHECK(err == 0 && sent == 3, "WSASendMsg: %d, %u bytes", err, sent);
	CHECK(got(dst, "fwd", 2000) && !readable_in(f.svc, 200),
	      "with records: to the original destination");
	/* the records stay on the socket */
	err = sendmsg_(o[1], &f.orig, f.orig_len, "fwd2", NULL, 0, &sent);
	CHECK(err == 0 && sent == 4 && got(dst, "fwd2", 2000),
	      "second send: %d", err);
	/* with another message Linux takes (IP_TTL) */
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	len += put_cmsg(ctl.buf + len, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			rec, sizeof(rec));
	err = sendmsg_(o[2], &f.orig, f.orig_len, "ttl", ctl.buf, len, &sent);
	CHECK(err == 0 && got(dst, "ttl", 2000) && !readable_in(f.svc, 200),
	      "IP_TTL and the records: %d", err);

	/* the option on the socket */
	CHECK(setsockopt(o[3], IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			 (const char *)rec, sizeof(rec)) == 0,
	      "setsockopt records: %d", WSAGetLastError());
	CHECK(sendto(o[3], "opt", 3, 0, (struct sockaddr *)&f.orig,
		     f.orig_len) == 3 && got(dst, "opt", 2000) &&
	      !readable_in(f.svc, 200), "setsockopt: to the destination");

	/* SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS on unconnected UDP */
	r = ioctl_(o[4], SET_REC, rec, sizeof(rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == 0 && r.bytes == 0, "SIO_SET on UDP: %d", r.err);
	CHECK(sendto(o[4], "ioctl", 5, 0, (struct sockaddr *)&f.orig,
		     f.orig_len) == 5 && got(dst, "ioctl", 2000) &&
	      !readable_in(f.svc, 200), "SIO_SET: to the destination");

	/* errors: connected, malformed, wrong size, a context message */
	CHECK(!connect(o[0], (struct sockaddr *)&f.orig, f.orig_len),
	      "connect");
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS, rec,
		       sizeof(rec));
	err = sendmsg_(o[0], NULL, 0, "x", ctl.buf, len, &sent);
	CHECK(err == WSAEISCONN, "WSASendMsg, connected socket: %d", err);
	CHECK(setsockopt(o[0], IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			 (const char *)rec, sizeof(rec)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEISCONN, "setsockopt, connected: %d",
	      WSAGetLastError());
	r = ioctl_(o[0], SET_REC, rec, sizeof(rec), NULL, 0, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEISCONN,
	      "SIO_SET, connected: %d", r.err);
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS, rec,
		       sizeof(rec) - 1);
	err = sendmsg_(o[1], &f.orig, f.orig_len, "x", ctl.buf, len, &sent);
	CHECK(err == WSAEINVAL, "records of 39 bytes: %d", err);
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT, rec,
		       sizeof(rec));
	err = sendmsg_(o[1], &f.orig, f.orig_len, "x", ctl.buf, len, &sent);
	CHECK(err == WSAEINVAL, "a context message: %d", err);
	len = put_cmsg(ctl.buf, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS, rec,
		       sizeof(rec));
	ctl.align.cmsg_len = len + 8;
	err = sendmsg_(o[1], &f.orig, f.orig_len, "x", ctl.buf, len, &sent);
	CHECK(err == WSAEINVAL, "cmsg_len past the buffer: %d", err);
	CHECK(!readable_in(dst, 200) && !readable_in(f.svc, 0),
	      "nothing sent by the failures");
out:
	for (size_t i = 0; i < ARRAY_SIZE(o); i++)
		if (o[i] >= 0)
			close(o[i]);
	if (dst >= 0)
		close(dst);
	uflow_end(&f);
	free(u);
}

/* A service that connects a socket to each client: the plain queries. */
void test_udp_query_connected(void)
{
	unsigned char buf[LWFP_CONTEXT_MAX_LEN], rec[LWFP_RECORDS_LEN];
	struct urecv *u;
	struct sockaddr_storage me;
	socklen_t len = make_addr(&me, "127.0.0.1", 0);
	struct lwfp_context ctx;
	struct uflow f;
	struct res r;
	int c = -1, one = 1, rc;

	u = urecv_flow(&f, "127.0.0.1", "127.0.0.2", 1);
	if (!u)
		return;
	CHECK(set_context_opt(&f, 1), "option");
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	REQUIRE_OR(out, u->rc == 0 && u->rec, "first datagram: %d", u->err);
	memcpy(rec, u->rec, sizeof(rec));
	r = query(f.svc, Q_REC, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAENOTCONN,
	      "the unconnected service socket: %d", r.err);

	make_addr(&me, "127.0.0.1", f.svc_port);
	c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE_OR(out, c >= 0 &&
		   !setsockopt(c, SOL_SOCKET, SO_REUSEADDR, (const char *)&one,
			       sizeof(one)) &&
		   !bind(c, (struct sockaddr *)&me, len) &&
		   !connect(c, (struct sockaddr *)&f.peer, f.peer_len),
		   "per-flow socket: %s", strerror(errno));
	r = query(c, Q_REC, buf, sizeof(buf));
	CHECK(r.rc == 0 && r.bytes == LWFP_RECORDS_LEN &&
	      !memcmp(buf, rec, sizeof(rec)), "records: rc %d err %d bytes "
	      "%u", r.rc, r.err, r.bytes);
	r = query(c, Q_CTX, NULL, 0);
	CHECK(r.rc == SOCKET_ERROR && r.err == ERROR_INSUFFICIENT_BUFFER &&
	      r.bytes == u->ctx_len, "context size %u, want %zu", r.bytes,
	      u->ctx_len);
	r = query(c, Q_CTX, buf, sizeof(buf));
	CHECK(r.rc == 0 && r.bytes == u->ctx_len &&
	      !lwfp_context_decode(buf, r.bytes, &ctx) &&
	      !strcmp(addr_str(&ctx.orig_dst), addr_str(&f.orig)) &&
	      ctx.protocol == IPPROTO_UDP, "context: rc %d err %d", r.rc,
	      r.err);
	/* the reply through it reaches the client from the original */
	CHECK(send(c, "bye", 3, 0) == 3, "reply");
	rc = client_wait(f.client);
	CHECK(rc == 0, "client exit %d", rc);
	f.client = 0;
	r = query(c, Q_REC, buf, sizeof(buf));
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL,
	      "the flow ended with the client's socket: %d", r.err);
out:
	if (c >= 0)
		close(c);
	if (f.client > 0) {
		uflow_end(&f);
	} else {
		close(f.svc);
		ws_end();
	}
	free(u);
}

int recvmsg_err(LPFN_WSARECVMSG fn, SOCKET s, LPWSAMSG m,
		       LPDWORD n, LPWSAOVERLAPPED ov)
{
	WSASetLastError(0);
	return fn(s, m, n, ov, NULL) ? WSAGetLastError() : 0;
}

void test_udp_errors(void)
{
	GUID rid = WSAID_WSARECVMSG, sid = WSAID_WSASENDMSG;
	GUID bad = { 1, 2, 3, { 4 } };
	int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET,
							    SOCK_STREAM, 0);
	int u6 = socket(AF_INET6, SOCK_DGRAM, 0), ud[2], p[2];
	unsigned char zeros[LWFP_RECORDS_LEN] = { 0 }, fp[16];
	LPFN_WSARECVMSG fn = NULL;
	LPFN_WSASENDMSG sfn = NULL;
	WSAOVERLAPPED ov = { 0 };
	char data[16];
	WSABUF b = { sizeof(data), data };
	WSAMSG m = { .lpBuffers = &b, .dwBufferCount = 1 };
	DWORD on = 1, n;
	SOCKET plain;
	struct res r;

	REQUIRE(u >= 0 && t >= 0 && u6 >= 0 && !pipe(p) &&
		!socketpair(AF_UNIX, SOCK_DGRAM, 0, ud), "sockets");
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSANOTINITIALISED, "before WSAStartup");
	REQUIRE_OR(out, ws_begin(), "startup");

	/* setsockopt */
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == 0, "UDP: ok");
	CHECK(setsockopt(u6, IPPROTO_IPV6, IPV6_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == 0 &&
	      setsockopt(u6, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == 0,
	      "IPv6 UDP, both levels: %d", WSAGetLastError());
	CHECK(setsockopt(t, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAENOPROTOOPT, "TCP: %d",
	      WSAGetLastError());
	CHECK(setsockopt(ud[0], IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAENOPROTOOPT, "AF_UNIX: %d",
	      WSAGetLastError());
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, 2) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEFAULT, "optlen 2: %d",
	      WSAGetLastError());
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT, NULL,
			 sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEFAULT, "NULL: %d", WSAGetLastError());
	CHECK(setsockopt(u, IPPROTO_IPV6, IPV6_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEINVAL, "IPPROTO_IPV6 on IPv4: %d",
	      WSAGetLastError());
	CHECK(setsockopt(p[0], IPPROTO_IP, IP_WFP_REDIRECT_CONTEXT,
			 (const char *)&on, sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAENOTSOCK, "pipe: %d",
	      WSAGetLastError());
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			 (const char *)zeros, sizeof(zeros) - 1) ==
	      SOCKET_ERROR && WSAGetLastError() == WSAEINVAL,
	      "records, 39 bytes: %d", WSAGetLastError());
	CHECK(setsockopt(u, IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			 (const char *)zeros, sizeof(zeros)) ==
	      SOCKET_ERROR && WSAGetLastError() == WSAEINVAL,
	      "records not of the engine: %d", WSAGetLastError());
	CHECK(setsockopt(ud[0], IPPROTO_IP, IP_WFP_REDIRECT_RECORDS,
			 (const char *)zeros, sizeof(zeros)) ==
	      SOCKET_ERROR && WSAGetLastError() == WSAENOPROTOOPT,
	      "records on AF_UNIX: %d", WSAGetLastError());
	/* other options: POSIX, errors through WSAGetLastError */
	CHECK(setsockopt(u, SOL_SOCKET, SO_REUSEADDR, (const char *)&on,
			 sizeof(on)) == 0, "SO_REUSEADDR");
	CHECK(setsockopt(u, SOL_SOCKET, 12345, (const char *)&on,
			 sizeof(on)) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAENOPROTOOPT, "unknown option: %d",
	      WSAGetLastError());

	/* SIO_GET_EXTENSION_FUNCTION_POINTER */
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, &rid, sizeof(rid),
		   &fn, sizeof(fn), NULL, NULL);
	CHECK(r.rc == 0 && r.bytes == sizeof(fn) && fn, "WSARecvMsg: %d",
	      r.err);
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, &sid, sizeof(sid),
		   &sfn, sizeof(sfn), NULL, NULL);
	CHECK(r.rc == 0 && sfn == WSASendMsg, "WSASendMsg: %d", r.err);
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, &bad, sizeof(bad),
		   fp, sizeof(fp), NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL, "unknown GUID: %d",
	      r.err);
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, &rid,
		   sizeof(rid) - 1, fp, sizeof(fp), NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEINVAL, "short GUID: %d",
	      r.err);
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, &rid, sizeof(rid),
		   fp, 4, NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEFAULT,
	      "small output: %d", r.err);
	r = ioctl_(u, SIO_GET_EXTENSION_FUNCTION_POINTER, NULL, sizeof(rid),
		   fp, sizeof(fp), NULL, NULL);
	CHECK(r.rc == SOCKET_ERROR && r.err == WSAEFAULT, "NULL GUID: %d",
	      r.err);
	REQUIRE_OR(end, fn, "no WSARecvMsg");

	/* WSARecvMsg */
	CHECK(recvmsg_err(fn, t, &m, &n, NULL) == WSAEOPNOTSUPP,
	      "on TCP");
	CHECK(recvmsg_err(fn, p[0], &m, &n, NULL) == WSAENOTSOCK,
	      "on a pipe");
	CHECK(recvmsg_err(fn, u, NULL, &n, NULL) == WSAEFAULT, "NULL msg");
	CHECK(recvmsg_err(fn, u, &m, NULL, NULL) == WSAEFAULT,
	      "NULL byte count");
	CHECK(recvmsg_err(fn, u, &m, &n, &ov) == WSAEOPNOTSUPP,
	      "overlapped");
	m.dwFlags = MSG_OOB;
	CHECK(recvmsg_err(fn, u, &m, &n, NULL) == WSAEOPNOTSUPP,
	      "MSG_OOB");
	m.dwFlags = MSG_DONTWAIT;
	CHECK(recvmsg_err(fn, u, &m, &n, NULL) == WSAEWOULDBLOCK,
	      "nothing to receive");
	m.Control.len = 16;
	CHECK(recvmsg_err(fn, u, &m, &n, NULL) == WSAEFAULT,
	      "Control.buf NULL with a length");
	m.Control.len = 0;
	b.buf = (CHAR *)1;
	CHECK(recvmsg_err(fn, u, &m, &n, NULL) == WSAEFAULT, "bad buffer");
	b.buf = data;
	/* lpOverlapped is ignored on a socket without the attribute */
	plain = WSASocketA(AF_INET, SOCK_DGRAM, 0, NULL, 0, 0);
	CHECK(plain != INVALID_SOCKET &&
	      recvmsg_err(fn, plain, &m, &n, &ov) == WSAEWOULDBLOCK,
	      "overlapped ignored: %d", WSAGetLastError());
	closesocket(plain);
	m.dwFlags = 0;

	/* WSASendMsg */
	n = UNSET;
	CHECK(WSASendMsg(t, &m, 0, &n, NULL, NULL) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEOPNOTSUPP, "WSASendMsg on TCP");
	CHECK(WSASendMsg(u, NULL, 0, &n, NULL, NULL) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEFAULT, "WSASendMsg NULL");
	CHECK(WSASendMsg(u, &m, MSG_OOB, &n, NULL, NULL) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEOPNOTSUPP, "WSASendMsg MSG_OOB");
	CHECK(WSASendMsg(u, &m, 0, &n, NULL, NULL) == SOCKET_ERROR &&
	      WSAGetLastError() == WSAEDESTADDRREQ,
	      "WSASendMsg without a destination: %d", WSAGetLastError());
end:
	ws_end();
out:
	close(u);
	close(u6);
	close(t);
	close(p[0]);
	close(p[1]);
	close(ud[0]);
	close(ud[1]);
}
