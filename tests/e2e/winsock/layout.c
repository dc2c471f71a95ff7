// SPDX-License-Identifier: MIT
/* A rule's context layout: what SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT
 * returns is the service's own struct, as its callout would have laid it
 * out; the native query keeps the TLV. */
#include "ws_test.h"

/* The struct a Windows service of ours reads (WFPSampler's shape: two
 * SOCKADDR_STORAGEs, then what the driver added). */
#pragma pack(push, 1)
struct my_context {
	SOCKADDR_STORAGE original;	/* 0 */
	SOCKADDR_STORAGE local;		/* 128 */
	UINT32 processId;		/* 256, little endian */
	UINT8 magic[4];			/* 260 */
	char tag[8];			/* 264: the rule's context */
};
#pragma pack(pop)

static const char layout_text[] =
	"# a service's own context struct\n"
	"at 0 orig_dst sockaddr_storage\n"
	"at 128 local sockaddr_storage\n"
	"at 256 pid u32le\n"
	"at 260 bytes 57 46 50 21\n"
	"at 264 rule_context 8\n";

void test_context_layout(void)
{
	char path[] = "/tmp/lwfp-layout-XXXXXX";
	unsigned char tlv[LWFP_CONTEXT_MAX_LEN];
	struct my_context got;
	struct sockaddr_storage peer, orig, local;
	socklen_t plen = sizeof(peer);
	struct lwfp_context ref;
	struct lwfp *native;
	struct flow f;
	struct res r;
	size_t n;
	int fd = mkstemp(path);

	REQUIRE(fd >= 0 && write(fd, layout_text, sizeof(layout_text) - 1) ==
		(ssize_t)sizeof(layout_text) - 1, "layout file");
	close(fd);
	flow_layout = path;
	REQUIRE_OR(out, flow_begin(&f), "a flow whose rule has a layout");
	CHECK(lwfp_run("rule", "list", NULL) == 0 &&
	      strstr(env.out, "laid out in 272"), "rule list: %s", env.out);

	r = query(f.a, Q_CTX, NULL, 0);
	CHECK(r.rc == SOCKET_ERROR && r.err == ERROR_INSUFFICIENT_BUFFER &&
	      r.bytes == 272,
	      "size query: rc %d err %d bytes %u", r.rc, r.err, r.bytes);
	r = query(f.a, Q_CTX, &got, sizeof(got));
	CHECK(r.rc == 0 && r.bytes == sizeof(got), "the struct: rc %d err %d "
	      "bytes %u", r.rc, r.err, r.bytes);
	getpeername(f.a, (struct sockaddr *)&peer, &plen);
	/* the packed struct's members need not be aligned: copy them out */
	memcpy(&orig, &got.original, sizeof(orig));
	memcpy(&local, &got.local, sizeof(local));
	CHECK(orig.ss_family == AF_INET && addr_port(&orig) == f.orig_port,
	      "the original destination");
	CHECK(addr_port(&local) == addr_port(&peer),
	      "the client's own address");
	CHECK(got.processId == (UINT32)f.client, "pid %u, client %d",
	      got.processId, (int)f.client);
	CHECK(!memcmp(got.magic, "WFP!", 4), "the fixed bytes");
	CHECK(!memcmp(got.tag, rule_ctx, 8), "the rule's context bytes");

	/* the native query keeps lwfp's TLV */
	REQUIRE_OR(close, !lwfp_open(env.pin_dir, &native), "lwfp_open");
	n = sizeof(tlv);
	CHECK(!lwfp_query_context(native, f.a, tlv, &n) &&
	      !lwfp_context_decode(tlv, n, &ref) &&
	      ref.pid == (uint32_t)f.client, "the TLV is still there");
	n = 4;
	CHECK(lwfp_query_context_layout(native, f.a, tlv, &n) == -ERANGE &&
	      n == 272, "the layout, by its own call: %zu", n);
	lwfp_close(native);
close:
	ws_end();
	flow_close(&f);
out:
	flow_layout = NULL;
	unlink(path);
}
