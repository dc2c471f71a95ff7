/* SPDX-License-Identifier: MIT */
/*
 * minimal-proxy: a complete lwfp redirect service in a few dozen lines.
 * Blocking, one connection at a time, the engine at $LWFP_PIN_DIR (or the
 * default). Where the engine's broker runs (lwfp broker), the kernel
 * relays each flow (docs/offload.md); elsewhere it
 * relays in user space. See relay-proxy.c for a real one.
 *
 *   minimal-proxy PORT        (listens on 127.0.0.1:PORT)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwfp.h"

/* Copy both ways until both sides sent EOF (passing each on) or one fails. */
static void relay(int client, int server)
{
	struct pollfd p[2] = { { client, POLLIN, 0 }, { server, POLLIN, 0 } };
	char buf[65536];
	ssize_t n;

	while ((p[0].fd >= 0 || p[1].fd >= 0) && poll(p, 2, -1) > 0) {
		for (int i = 0; i < 2; i++) {
			int to = i ? client : server;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n < 0 || (n > 0 && write(to, buf, n) != n))
				return;
			if (n == 0) {
				shutdown(to, SHUT_WR);	/* pass EOF on */
				p[i].fd = -1;	/* poll() skips it now */
			}
		}
	}
}

/* Hand the flow to the kernel (lwfp broker) and wait for its end; relay
 * here if it cannot be offloaded (no broker, an older kernel). */
static void relay_or_offload(int client, int server)
{
	struct lwfp_offload_end end;
	struct pollfd p = { -1, POLLIN, 0 };

	if (lwfp_offload(NULL, client, server, &p.fd)) {
		relay(client, server);
		return;
	}
	poll(&p, 1, -1);
	if (!lwfp_offload_end(p.fd, &end))
		fprintf(stderr, "minimal-proxy: offloaded, %llu bytes out, "
			"%llu back\n", (unsigned long long)end.to_origin,
			(unsigned long long)end.to_client);
	close(p.fd);	/* before the end, this would reset the flow */
}

/* Errors: negative from liblwfp, positive errno from a syscall. */
static void serve(int client)
{
	uint8_t rec[LWFP_RECORDS_LEN], blob[LWFP_CONTEXT_MAX_LEN];
	size_t rlen = sizeof(rec), blen = sizeof(blob);
	struct lwfp_context ctx;
	int server = -1, err;

	err = lwfp_query_records(NULL, client, rec, &rlen);
	if (!err)
		err = lwfp_query_context(NULL, client, blob, &blen);
	if (!err)
		err = lwfp_context_decode(blob, blen, &ctx);
	if (!err)
		server = socket(ctx.orig_dst.ss_family, SOCK_STREAM, 0);
	if (!err && server < 0)
		err = errno;
	/* before connect(), so that lwfp does not redirect it back to us */
	if (!err)
		err = lwfp_set_records(NULL, server, rec, rlen);
	if (!err && connect(server, (struct sockaddr *)&ctx.orig_dst,
			    sizeof(ctx.orig_dst)))
		err = errno;
	if (err)
		fprintf(stderr, "minimal-proxy: %s\n",
			err < 0 ? lwfp_strerror(err) : strerror(err));
	else
		relay_or_offload(client, server);
	if (server >= 0)
		close(server);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lfd = socket(AF_INET, SOCK_STREAM, 0), client, one = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: minimal-proxy PORT\n");
		return 2;
	}
	addr.sin_port = htons(atoi(argv[1]));
	signal(SIGPIPE, SIG_IGN);	/* a peer gone is an error */
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lfd, 16)) {
		perror("minimal-proxy: listen");
		return 1;
	}
	for (;;) {
		client = accept(lfd, NULL, NULL);
		if (client < 0) {
			perror("minimal-proxy: accept");
			continue;
		}
		serve(client);
		close(client);
	}
}
