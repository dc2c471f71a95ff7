// SPDX-License-Identifier: MIT
/* A UDP rule's context layout: the IP_WFP_REDIRECT_CONTEXT message of
 * WSARecvMsg is the service's own struct, filled for the datagram's flow;
 * the native calls keep the TLV and give the layout by their own. */
#include "ws_test.h"

#include <ws2ipdef.h>

/* The struct a Windows UDP service of ours reads. */
#pragma pack(push, 1)
struct udp_context {
	SOCKADDR_INET original;		/* 0 */
	SOCKADDR_INET client;		/* 28 */
	UINT32 processId;		/* 56, little endian */
	UINT8 protocol;			/* 60 */
	UINT8 magic[3];			/* 61 */
	char image[16];			/* 64 */
	char tag[8];			/* 80: the rule's context */
};
#pragma pack(pop)

static const char udp_layout_text[] =
	"at 0 orig_dst sockaddr_inet\n"
	"at 28 local sockaddr_inet\n"
	"at 56 pid u32le\n"
	"at 60 protocol u8\n"
	"at 61 bytes 55 44 50\n"
	"at 64 comm\n"
	"at 80 rule_context 8\n";

/* The layout (with extra lines) in a file the next flow's rule gets. */
static bool layout_file(char *path, const char *extra)
{
	int fd = mkstemp(path);
	bool ok = fd >= 0 &&
		  write(fd, udp_layout_text, strlen(udp_layout_text)) ==
		  (ssize_t)strlen(udp_layout_text) &&
		  write(fd, extra, strlen(extra)) == (ssize_t)strlen(extra);

	if (fd >= 0)
		close(fd);
	flow_layout = ok ? path : NULL;
	return ok;
}

/* A SOCKADDR_INET of the struct, as a sockaddr_storage. */
static struct sockaddr_storage inet_of(const SOCKADDR_INET *in)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, in, sizeof(*in));
	return ss;
}

/* The struct at the start of a context message: the flow's original
 * destination, the datagram's source, the client process. */
static void check_struct(const struct uflow *f, const struct urecv *u,
			 const unsigned char *bytes)
{
	struct sockaddr_storage orig, client;
	struct udp_context c;

	/* the packed struct's members need not be aligned: copy it out */
	memcpy(&c, bytes, sizeof(c));
	orig = inet_of(&c.original);
	client = inet_of(&c.client);
	CHECK(!strcmp(addr_str(&orig), addr_str(&f->orig)),
	      "original destination %s, want %s", addr_str(&orig),
	      addr_str(&f->orig));
	CHECK(!strcmp(addr_str(&client), addr_str(&u->from)),
	      "client %s, want the datagram's source %s", addr_str(&client),
	      addr_str(&u->from));
	CHECK(c.processId == (UINT32)f->client && c.protocol == IPPROTO_UDP &&
	      !memcmp(c.magic, "UDP", 3) && !strcmp(c.image, "ws-udp") &&
	      !memcmp(c.tag, rule_ctx, sizeof(c.tag)),
	      "pid %u (want %d), protocol %u, image %.16s", c.processId,
	      (int)f->client, c.protocol, c.image);
}

/* The native calls on the service socket: the layout's bytes by their
 * own call, the TLV where it was. */
static void check_native(struct uflow *f, const unsigned char *layout,
			 size_t layout_len)
{
	unsigned char buf[LWFP_CONTEXT_MAX_LEN];
	const struct sockaddr *peer = (struct sockaddr *)&f->peer;
	struct sockaddr_storage nobody;
	struct lwfp_context ctx;
	struct lwfp *native;
	size_t n = sizeof(buf);

	REQUIRE(!lwfp_open(env.pin_dir, &native), "lwfp_open");
	CHECK(!lwfp_query_udp_context_layout(native, f->svc, peer,
					     f->peer_len, buf, &n) &&
	      n == layout_len && !memcmp(buf, layout, n),
	      "lwfp_query_udp_context_layout: %zu bytes", n);
	n = 0;
	CHECK(lwfp_query_udp_context_layout(native, f->svc, peer, f->peer_len,
					    NULL, &n) == -ERANGE &&
	      n == layout_len, "size query: %zu", n);
	n = sizeof(buf);
	CHECK(!lwfp_query_udp_context(native, f->svc, peer, f->peer_len, buf,
				      &n) &&
	      !lwfp_context_decode(buf, n, &ctx) &&
	      ctx.pid == (uint32_t)f->client &&
	      ctx.protocol == IPPROTO_UDP, "the TLV is still there");
	make_addr(&nobody, f->svc_ip, 9);
	n = sizeof(buf);
	CHECK(lwfp_query_udp_context_layout(native, f->svc,
					    (struct sockaddr *)&nobody,
					    f->peer_len, buf, &n) == -ENODATA,
	      "a peer with no flow");
	CHECK(lwfp_query_udp_context_layout(native, f->svc, peer, f->peer_len,
					    buf, NULL) == -EINVAL &&
	      lwfp_query_udp_context_layout(native, f->svc, NULL, 0, buf,
					    &n) == -EINVAL, "bad arguments");
	lwfp_close(native);
}

/* A socket of the service's connected to the client: the query code
 * gives the layout there too. */
static void check_connected(struct uflow *f, const unsigned char *layout,
			    size_t layout_len)
{
	unsigned char buf[LWFP_CONTEXT_MAX_LEN];
	struct sockaddr_storage me;
	socklen_t len = make_addr(&me, f->svc_ip, f->svc_port);
	struct res r;
	int c, one = 1;

	c = socket(me.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE_OR(out, c >= 0 &&
		   !setsockopt(c, SOL_SOCKET, SO_REUSEADDR, (const char *)&one,
			       sizeof(one)) &&
		   !bind(c, (struct sockaddr *)&me, len) &&
		   !connect(c, (struct sockaddr *)&f->peer, f->peer_len),
		   "per-flow socket: %s", strerror(errno));
	r = query(c, Q_CTX, buf, sizeof(buf));
	CHECK(r.rc == 0 && r.bytes == layout_len &&
	      !memcmp(buf, layout, layout_len),
	      "SIO_QUERY_..._CONTEXT on the connected socket: rc %d err %d "
	      "bytes %u", r.rc, r.err, r.bytes);
out:
	if (c >= 0)
		close(c);
}

static void udp_layout(const char *svc_ip, const char *orig_ip)
{
	char path[] = "/tmp/lwfp-udp-layout-XXXXXX";
	unsigned char layout[sizeof(struct udp_context)];
	struct urecv *u = NULL;
	struct uflow f;

	REQUIRE(layout_file(path, ""), "layout file");
	u = calloc(1, sizeof(*u));
	REQUIRE_OR(out, u && uflow_begin(&f, svc_ip, orig_ip, 2),
		   "a flow whose rule has a layout");
	CHECK(set_context_opt(&f, 1), "IP_WFP_REDIRECT_CONTEXT");
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && u->bytes == 2 && !memcmp(u->data, "d0", 2) &&
	      !(u->msg.dwFlags & MSG_CTRUNC), "first datagram: rc %d err %d "
	      "flags %#x", u->rc, u->err, u->msg.dwFlags);
	CHECK(u->rec && u->rec_len == LWFP_RECORDS_LEN, "records");
	REQUIRE_OR(end, u->ctx && u->ctx_len == sizeof(layout),
		   "the context is the struct: %zu bytes", u->ctx_len);
	memcpy(layout, u->ctx, sizeof(layout));
	check_struct(&f, u, layout);
	check_native(&f, layout, sizeof(layout));
	check_connected(&f, layout, sizeof(layout));

	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && !memcmp(u->data, "d1", 2) && !u->rec && !u->ctx,
	      "no messages with the second datagram");
end:
	uflow_end(&f);
out:
	flow_layout = NULL;
	free(u);
	unlink(path);
}

void test_udp_layout_v4(void)
{
	udp_layout("127.0.0.1", "127.0.0.2");
}

void test_udp_layout_v6(void)
{
	udp_layout("::1", "::1");
}

/* A layout larger than the Control buffer (which has room for the TLV):
 * MSG_CTRUNC, and the messages come with the next datagram. */
void test_udp_layout_ctrunc(void)
{
	char path[] = "/tmp/lwfp-udp-layout-XXXXXX";
	struct urecv *u = NULL;
	struct uflow f;

	REQUIRE(layout_file(path, "size 4096\n"), "layout file");
	u = calloc(1, sizeof(*u));
	REQUIRE_OR(out, u && uflow_begin(&f, "127.0.0.1", "127.0.0.2", 2),
		   "a flow whose rule has a layout of 4096 bytes");
	CHECK(set_context_opt(&f, 1), "IP_WFP_REDIRECT_CONTEXT");
	urecv(&f, u, WSA_CMSG_SPACE(LWFP_RECORDS_LEN) + WSA_CMSG_SPACE(1024),
	      sizeof(u->data), 0);
	CHECK(u->rc == 0 && !memcmp(u->data, "d0", 2) &&
	      (u->msg.dwFlags & MSG_CTRUNC) && !u->rec && !u->ctx,
	      "room for the TLV, not the layout: rc %d flags %#x", u->rc,
	      u->msg.dwFlags);
	urecv(&f, u, sizeof(u->control.buf), sizeof(u->data), 0);
	CHECK(u->rc == 0 && !memcmp(u->data, "d1", 2) &&
	      !(u->msg.dwFlags & MSG_CTRUNC) && u->rec &&
	      u->ctx_len == 4096, "with room: %zu bytes", u->ctx_len);
	if (u->ctx_len == 4096) {
		check_struct(&f, u, u->ctx);
		for (size_t i = sizeof(struct udp_context); i < 4096; i++)
			if (u->ctx[i]) {
				CHECK(false, "byte %zu is not zero", i);
				break;
			}
	}
	uflow_end(&f);
out:
	flow_layout = NULL;
	free(u);
	unlink(path);
}
