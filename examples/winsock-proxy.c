/* SPDX-License-Identifier: MIT */
/*
 * winsock-proxy: a WFP redirect service, written as it is written for
 * Windows, built unchanged on Linux against lwfp-winsock:
 *
 *   cc winsock-proxy.c $(pkg-config --cflags --libs lwfp-winsock)
 *
 * For each connection its callout redirected here, the service reads the
 * redirect records and the redirect context from the accepted socket,
 * opens its own socket, gives it the records before connect() so that
 * the connection is not redirected back here, connects to the original
 * destination (which the callout put in its context) and relays both
 * ways with select(). One flow at a time.
 *
 *   winsock-proxy ADDR PORT [MAX_FLOWS]
 *
 * PORT 0 lets the system choose; the line "listening on ADDR:PORT" names
 * it. Exits after MAX_FLOWS connections (default: never).
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The callout's redirect context format. A Windows redirect service
 * parses its own callout's context the same way. */
#include <lwfp.h>

#define RELAY_BUFFER	16384
#define RECORDS_BUFFER	1024

struct flow_stats {
	unsigned long long up;		/* client to destination */
	unsigned long long down;	/* destination to client */
};

static int parse_address(const char *host, const char *port,
			 SOCKADDR_STORAGE *ss, int *len)
{
	SOCKADDR_IN *sin = (SOCKADDR_IN *)ss;
	SOCKADDR_IN6 *sin6 = (SOCKADDR_IN6 *)ss;
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	if (*port == '\0' || *end != '\0' || p > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((USHORT)p);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((USHORT)p);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static const char *address_text(const SOCKADDR_STORAGE *ss, char *buf,
				size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const SOCKADDR_IN *sin = (const SOCKADDR_IN *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else {
		const SOCKADDR_IN6 *sin6 = (const SOCKADDR_IN6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	}
	return buf;
}

static int send_all(SOCKET s, const char *buf, int len)
{
	while (len > 0) {
		int n = send(s, buf, len, 0);

		if (n == SOCKET_ERROR)
			return SOCKET_ERROR;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Both directions until both sides have closed theirs. */
static int relay(SOCKET client, SOCKET server, struct flow_stats *stats)
{
	char buf[RELAY_BUFFER];
	BOOL up_open = TRUE, down_open = TRUE;

	while (up_open || down_open) {
		SOCKET highest = client > server ? client : server;
		fd_set readable;
		int n;

		FD_ZERO(&readable);
		if (up_open)
			FD_SET(client, &readable);
		if (down_open)
			FD_SET(server, &readable);
		/* Windows ignores the first argument; pass it for POSIX */
		if (select((int)highest + 1, &readable, NULL, NULL, NULL) ==
		    SOCKET_ERROR)
			return SOCKET_ERROR;
		if (up_open && FD_ISSET(client, &readable)) {
			n = recv(client, buf, sizeof(buf), 0);
			if (n == SOCKET_ERROR)
				return SOCKET_ERROR;
			if (n == 0) {
				up_open = FALSE;
				shutdown(server, SD_SEND);
			} else if (send_all(server, buf, n) == SOCKET_ERROR) {
				return SOCKET_ERROR;
			} else {
				stats->up += n;
			}
		}
		if (down_open && FD_ISSET(server, &readable)) {
			n = recv(server, buf, sizeof(buf), 0);
			if (n == SOCKET_ERROR)
				return SOCKET_ERROR;
			if (n == 0) {
				down_open = FALSE;
				shutdown(client, SD_SEND);
			} else if (send_all(client, buf, n) == SOCKET_ERROR) {
				return SOCKET_ERROR;
			} else {
				stats->down += n;
			}
		}
	}
	return 0;
}

static void serve(SOCKET client, int number)
{
	BYTE records[RECORDS_BUFFER];
	DWORD recordsSize = 0, contextSize = 0, bytes = 0;
	BYTE *context = NULL;
	struct lwfp_context info;
	struct flow_stats stats = { 0, 0 };
	SOCKET server = INVALID_SOCKET;
	char destination[80];
	int destinationLen;

	/* The records: opaque, handed on to our own connection. */
	if (WSAIoctl(client, SIO_QUERY_WFP_CONNECTION_REDIRECT_RECORDS, NULL,
		     0, records, sizeof(records), &recordsSize, NULL,
		     NULL) == SOCKET_ERROR) {
		printf("winsock-proxy: flow %d: no redirect records (error %d)\n",
		       number, WSAGetLastError());
		goto done;
	}

	/* The context: ask its size first, then fetch it. */
	if (WSAIoctl(client, SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT, NULL,
		     0, NULL, 0, &contextSize, NULL, NULL) != SOCKET_ERROR ||
	    WSAGetLastError() != ERROR_INSUFFICIENT_BUFFER) {
		printf("winsock-proxy: flow %d: context size query failed (error %d)\n",
		       number, WSAGetLastError());
		goto done;
	}
	context = (BYTE *)malloc(contextSize);
	if (context == NULL ||
	    WSAIoctl(client, SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT, NULL,
		     0, context, contextSize, &contextSize, NULL,
		     NULL) == SOCKET_ERROR) {
		printf("winsock-proxy: flow %d: no redirect context (error %d)\n",
		       number, WSAGetLastError());
		goto done;
	}
	if (lwfp_context_decode(context, contextSize, &info) != 0) {
		printf("winsock-proxy: flow %d: malformed redirect context\n",
		       number);
		goto done;
	}

	/* Our connection to the original destination carries the records. */
	server = socket(info.orig_dst.ss_family, SOCK_STREAM, IPPROTO_TCP);
	if (server == INVALID_SOCKET) {
		printf("winsock-proxy: flow %d: socket failed (error %d)\n",
		       number, WSAGetLastError());
		goto done;
	}
	if (WSAIoctl(server, SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS, records,
		     recordsSize, NULL, 0, &bytes, NULL,
		     NULL) == SOCKET_ERROR) {
		printf("winsock-proxy: flow %d: setting the records failed (error %d)\n",
		       number, WSAGetLastError());
		goto done;
	}
	destinationLen = info.orig_dst.ss_family == AF_INET ?
			 (int)sizeof(SOCKADDR_IN) : (int)sizeof(SOCKADDR_IN6);
	address_text(&info.orig_dst, destination, sizeof(destination));
	if (connect(server, (SOCKADDR *)&info.orig_dst, destinationLen) ==
	    SOCKET_ERROR) {
		printf("winsock-proxy: flow %d: connect to %s failed (error %d)\n",
		       number, destination, WSAGetLastError());
		goto done;
	}

	if (relay(client, server, &stats) == SOCKET_ERROR)
		printf("winsock-proxy: flow %d: relay failed (error %d)\n",
		       number, WSAGetLastError());
	printf("winsock-proxy: flow %d: pid %lu comm %s uid %lu -> %s "
	       "service %s rule %lu, %lu bytes of records, %lu bytes of "
	       "context, %llu bytes up, %llu bytes down\n",
	       number, (unsigned long)info.pid, info.comm,
	       (unsigned long)info.uid, destination, info.service,
	       (unsigned long)info.rule_id, (unsigned long)recordsSize,
	       (unsigned long)contextSize, stats.up, stats.down);
done:
	fflush(stdout);
	if (server != INVALID_SOCKET)
		closesocket(server);
	closesocket(client);
	free(context);
}

int main(int argc, char **argv)
{
	WSADATA wsaData;
	SOCKADDR_STORAGE address;
	int addressLen, maxFlows = 0, on = 1, err;
	socklen_t nameLen;	/* an int, in ws2tcpip.h on Windows */
	SOCKET listener;
	char text[80];

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: winsock-proxy ADDR PORT [MAX_FLOWS]\n");
		return 2;
	}
	if (parse_address(argv[1], argv[2], &address, &addressLen) != 0) {
		fprintf(stderr, "winsock-proxy: bad address %s port %s\n",
			argv[1], argv[2]);
		return 2;
	}
	if (argc == 4)
		maxFlows = atoi(argv[3]);

	err = WSAStartup(MAKEWORD(2, 2), &wsaData);
	if (err != 0) {
		fprintf(stderr, "winsock-proxy: WSAStartup failed: %d\n", err);
		return 1;
	}
	listener = socket(address.ss_family, SOCK_STREAM, IPPROTO_TCP);
	if (listener == INVALID_SOCKET) {
		fprintf(stderr, "winsock-proxy: socket failed: %d\n",
			WSAGetLastError());
		WSACleanup();
		return 1;
	}
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, (const char *)&on,
		   sizeof(on));
	if (bind(listener, (SOCKADDR *)&address, addressLen) == SOCKET_ERROR ||
	    listen(listener, SOMAXCONN) == SOCKET_ERROR) {
		fprintf(stderr, "winsock-proxy: bind/listen failed: %d\n",
			WSAGetLastError());
		closesocket(listener);
		WSACleanup();
		return 1;
	}
	nameLen = sizeof(address);
	getsockname(listener, (SOCKADDR *)&address, &nameLen);
	printf("winsock-proxy: listening on %s\n",
	       address_text(&address, text, sizeof(text)));
	fflush(stdout);

	for (int flows = 0; maxFlows == 0 || flows < maxFlows; flows++) {
		SOCKET client = accept(listener, NULL, NULL);

		if (client == INVALID_SOCKET) {
			fprintf(stderr, "winsock-proxy: accept failed: %d\n",
				WSAGetLastError());
			break;
		}
		serve(client, flows + 1);
	}
	closesocket(listener);
	WSACleanup();
	return 0;
}
