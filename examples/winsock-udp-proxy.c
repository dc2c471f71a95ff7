/* SPDX-License-Identifier: MIT */
/*
 * winsock-udp-proxy: a WFP redirect service for UDP, written as it is
 * written for Windows, built unchanged on Linux against lwfp-winsock:
 *
 *   cc winsock-udp-proxy.c $(pkg-config --cflags --libs lwfp-winsock)
 *
 * Every client's datagrams arrive on the one listening socket. With
 * IP_WFP_REDIRECT_CONTEXT set on it, WSARecvMsg delivers the first
 * datagram of each redirected flow with two control messages: the
 * redirect records and the redirect context, which is this service's own
 * UDP_REDIRECT_CONTEXT (the original destination, the client, its
 * process), as its callout lays it out; on Linux, the rules that redirect
 * to the service are given that layout:
 *
 *   lwfp rule add --service NAME --proto udp ... \
 *           --context-layout winsock-udp-proxy.layout
 *
 * The service opens a socket of its own for the flow and
 * sends the client's datagrams on to the original destination with
 * WSASendMsg, the first one carrying the records as a control message
 * so that they continue the flow instead of being redirected again. The
 * destination's replies go back to the client from the listening
 * socket: the client sees them come from the destination.
 *
 *   winsock-udp-proxy ADDR PORT [MAX_FLOWS [IDLE_SECONDS]]
 *
 * PORT 0 lets the system choose; the line "listening on ADDR:PORT" names
 * it. A flow ends after IDLE_SECONDS (default 90) without a datagram
 * either way. The default outlasts the engine's own UDP timeout (lwfp
 * load --udp-timeout, default 60): a client heard from after that starts
 * a new flow, whose records come again. Exits once MAX_FLOWS flows have
 * ended (default: never).
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DATAGRAM_BUFFER	65536
#define RECORDS_BUFFER	1024
#define CONTROL_BUFFER	8192	/* the records and the context */
#define FLOW_TABLE	64

/* The redirect context this service's callout attaches to a UDP flow. */
#pragma pack(push, 1)
typedef struct UDP_REDIRECT_CONTEXT {
	SOCKADDR_INET originalDestination;
	SOCKADDR_INET client;		/* as the service receives from it */
	UINT32 processId;
	UINT32 userId;
	UINT32 ruleId;
	char processName[16];
	UINT8 signature[4];		/* "UDPR" */
} UDP_REDIRECT_CONTEXT;
#pragma pack(pop)

struct flow {
	SOCKET out;			/* INVALID_SOCKET: a free slot */
	int number;
	SOCKADDR_STORAGE client;
	SOCKADDR_STORAGE destination;
	int destinationLen;
	time_t lastActive;
	unsigned long long up;		/* client to destination */
	unsigned long long down;	/* destination to client */
};

static struct flow flows[FLOW_TABLE];
static SOCKET listener = INVALID_SOCKET;
static LPFN_WSARECVMSG recvMsg;
static int flowsStarted, flowsEnded;
static char datagram[DATAGRAM_BUFFER];

static int address_length(const SOCKADDR_STORAGE *ss)
{
	return ss->ss_family == AF_INET ? (int)sizeof(SOCKADDR_IN) :
					  (int)sizeof(SOCKADDR_IN6);
}

static int parse_address(const char *host, const char *port,
			 SOCKADDR_STORAGE *ss)
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
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((USHORT)p);
	} else {
		return -1;
	}
	return 0;
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

static BOOL same_address(const SOCKADDR_STORAGE *a, const SOCKADDR_STORAGE *b)
{
	if (a->ss_family != b->ss_family)
		return FALSE;
	if (a->ss_family == AF_INET) {
		const SOCKADDR_IN *x = (const SOCKADDR_IN *)a;
		const SOCKADDR_IN *y = (const SOCKADDR_IN *)b;

		return x->sin_port == y->sin_port &&
		       !memcmp(&x->sin_addr, &y->sin_addr, sizeof(IN_ADDR));
	} else {
		const SOCKADDR_IN6 *x = (const SOCKADDR_IN6 *)a;
		const SOCKADDR_IN6 *y = (const SOCKADDR_IN6 *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(IN6_ADDR));
	}
}

static struct flow *find_flow(const SOCKADDR_STORAGE *client)
{
	for (int i = 0; i < FLOW_TABLE; i++)
		if (flows[i].out != INVALID_SOCKET &&
		    same_address(&flows[i].client, client))
			return &flows[i];
	return NULL;
}

static void end_flow(struct flow *f, const char *why)
{
	char from[80], to[80];

	printf("winsock-udp-proxy: flow %d ended (%s): %s -> %s, %llu bytes "
	       "up, %llu bytes down\n", f->number, why,
	       address_text(&f->client, from, sizeof(from)),
	       address_text(&f->destination, to, sizeof(to)), f->up, f->down);
	closesocket(f->out);
	f->out = INVALID_SOCKET;
	flowsEnded++;
}

/* A free slot; when the table is full, the least recently active flow
 * makes room. */
static struct flow *free_slot(void)
{
	struct flow *oldest = &flows[0];

	for (int i = 0; i < FLOW_TABLE; i++) {
		if (flows[i].out == INVALID_SOCKET)
			return &flows[i];
		if (flows[i].lastActive < oldest->lastActive)
			oldest = &flows[i];
	}
	end_flow(oldest, "table full");
	return oldest;
}

/* One datagram to the flow's destination; records, if given, go with it
 * as a control message and stay on the socket for the flow's next ones. */
static int forward(struct flow *f, DWORD size, const BYTE *records,
		   DWORD recordsSize)
{
	union {
		WSACMSGHDR header;	/* aligns the buffer */
		char buf[WSA_CMSG_SPACE(RECORDS_BUFFER)];
	} control;
	WSABUF buffer;
	WSAMSG msg;
	DWORD sent = 0;

	buffer.len = size;
	buffer.buf = datagram;
	memset(&msg, 0, sizeof(msg));
	msg.name = (LPSOCKADDR)&f->destination;
	msg.namelen = f->destinationLen;
	msg.lpBuffers = &buffer;
	msg.dwBufferCount = 1;
	if (records != NULL) {
		LPWSACMSGHDR c = &control.header;
		BOOL v4 = f->destination.ss_family == AF_INET;

		memset(&control, 0, sizeof(control));
		c->cmsg_len = WSA_CMSG_LEN(recordsSize);
		c->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
		c->cmsg_type = v4 ? IP_WFP_REDIRECT_RECORDS :
				    IPV6_WFP_REDIRECT_RECORDS;
		memcpy(WSA_CMSG_DATA(c), records, recordsSize);
		msg.Control.buf = control.buf;
		msg.Control.len = WSA_CMSG_SPACE(recordsSize);
	}
	if (WSASendMsg(f->out, &msg, 0, &sent, NULL, NULL) == SOCKET_ERROR)
		return SOCKET_ERROR;
	f->up += sent;
	f->lastActive = time(NULL);
	return 0;
}

/* An address of the context as a SOCKADDR_STORAGE. */
static void from_inet(const SOCKADDR_INET *in, SOCKADDR_STORAGE *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (in->si_family == AF_INET)
		memcpy(ss, &in->Ipv4, sizeof(in->Ipv4));
	else if (in->si_family == AF_INET6)
		memcpy(ss, &in->Ipv6, sizeof(in->Ipv6));
}

/* Our context, for this client: copied out of the message (its members
 * need not be aligned there). */
static BOOL read_context(const SOCKADDR_STORAGE *client, const BYTE *context,
			 DWORD contextSize, UDP_REDIRECT_CONTEXT *info,
			 SOCKADDR_STORAGE *destination)
{
	SOCKADDR_STORAGE said;
	char from[80];

	address_text(client, from, sizeof(from));
	if (contextSize != sizeof(*info)) {
		printf("winsock-udp-proxy: %s: a redirect context of %lu "
		       "bytes is not ours (give the rule --context-layout "
		       "winsock-udp-proxy.layout)\n", from,
		       (unsigned long)contextSize);
		return FALSE;
	}
	memcpy(info, context, sizeof(*info));
	from_inet(&info->client, &said);
	from_inet(&info->originalDestination, destination);
	if (memcmp(info->signature, "UDPR", 4) != 0 ||
	    !same_address(&said, client) ||
	    (destination->ss_family != AF_INET &&
	     destination->ss_family != AF_INET6)) {
		printf("winsock-udp-proxy: %s: malformed redirect context\n",
		       from);
		return FALSE;
	}
	return TRUE;
}

/* A new flow: its own socket, the first datagram sent with the records. */
static void start_flow(const SOCKADDR_STORAGE *client, DWORD size,
		       const BYTE *records, DWORD recordsSize,
		       const BYTE *context, DWORD contextSize)
{
	UDP_REDIRECT_CONTEXT info;
	SOCKADDR_STORAGE destination, via;
	socklen_t viaLen = sizeof(via);	/* an int, on Windows */
	char from[80], to[80];
	struct flow *f;

	if (!read_context(client, context, contextSize, &info, &destination))
		return;
	address_text(client, from, sizeof(from));
	f = free_slot();
	f->out = socket(destination.ss_family, SOCK_DGRAM, IPPROTO_UDP);
	if (f->out == INVALID_SOCKET) {
		printf("winsock-udp-proxy: %s: socket failed (error %d)\n",
		       from, WSAGetLastError());
		return;
	}
	f->number = flowsStarted + 1;
	f->client = *client;
	f->destination = destination;
	f->destinationLen = address_length(&destination);
	f->up = 0;
	f->down = 0;
	address_text(&f->destination, to, sizeof(to));
	if (forward(f, size, records, recordsSize) == SOCKET_ERROR) {
		printf("winsock-udp-proxy: %s: send to %s failed (error %d)\n",
		       from, to, WSAGetLastError());
		closesocket(f->out);
		f->out = INVALID_SOCKET;
		return;
	}
	flowsStarted++;
	/* the port the destination sees (the socket is bound by now) */
	memset(&via, 0, sizeof(via));
	getsockname(f->out, (SOCKADDR *)&via, &viaLen);
	printf("winsock-udp-proxy: flow %d: %s -> %s pid %lu comm %.16s uid "
	       "%lu rule %lu, %lu bytes of records, %lu bytes of context, "
	       "first datagram %lu bytes, via port %u\n", f->number, from, to,
	       (unsigned long)info.processId, info.processName,
	       (unsigned long)info.userId, (unsigned long)info.ruleId,
	       (unsigned long)recordsSize, (unsigned long)contextSize,
	       (unsigned long)size,
	       via.ss_family == AF_INET6 ?
	       ntohs(((SOCKADDR_IN6 *)&via)->sin6_port) :
	       ntohs(((SOCKADDR_IN *)&via)->sin_port));
}

/* A datagram on the listening socket: a new flow's first, or the next
 * of a flow we know. */
static void from_client(void)
{
	union {
		WSACMSGHDR header;	/* aligns the buffer */
		char buf[CONTROL_BUFFER];
	} control;
	const BYTE *records = NULL, *context = NULL;
	DWORD recordsSize = 0, contextSize = 0, size = 0;
	SOCKADDR_STORAGE client;
	LPWSACMSGHDR c;
	WSABUF buffer;
	WSAMSG msg;
	struct flow *f;
	char text[80];

	buffer.len = sizeof(datagram);
	buffer.buf = datagram;
	memset(&msg, 0, sizeof(msg));
	msg.name = (LPSOCKADDR)&client;
	msg.namelen = sizeof(client);
	msg.lpBuffers = &buffer;
	msg.dwBufferCount = 1;
	msg.Control.buf = control.buf;
	msg.Control.len = sizeof(control.buf);
	if (recvMsg(listener, &msg, &size, NULL, NULL) == SOCKET_ERROR) {
		printf("winsock-udp-proxy: receive failed (error %d)\n",
		       WSAGetLastError());
		return;
	}
	for (c = WSA_CMSG_FIRSTHDR(&msg); c != NULL;
	     c = WSA_CMSG_NXTHDR(&msg, c)) {
		DWORD len = (DWORD)(c->cmsg_len - WSA_CMSG_LEN(0));

		if ((c->cmsg_level == IPPROTO_IP &&
		     c->cmsg_type == IP_WFP_REDIRECT_RECORDS) ||
		    (c->cmsg_level == IPPROTO_IPV6 &&
		     c->cmsg_type == IPV6_WFP_REDIRECT_RECORDS)) {
			records = WSA_CMSG_DATA(c);
			recordsSize = len;
		} else if ((c->cmsg_level == IPPROTO_IP &&
			    c->cmsg_type == IP_WFP_REDIRECT_CONTEXT) ||
			   (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_WFP_REDIRECT_CONTEXT)) {
			context = WSA_CMSG_DATA(c);
			contextSize = len;
		}
	}

	f = find_flow(&client);
	/* new records from a client we know: its flow ended, a new one began */
	if (f != NULL && records != NULL) {
		end_flow(f, "replaced");
		f = NULL;
	}
	if (f != NULL) {
		if (forward(f, size, NULL, 0) == SOCKET_ERROR)
			printf("winsock-udp-proxy: flow %d: send failed "
			       "(error %d)\n", f->number, WSAGetLastError());
		return;
	}
	address_text(&client, text, sizeof(text));
	if (records == NULL || context == NULL ||
	    recordsSize > RECORDS_BUFFER) {
		printf("winsock-udp-proxy: %s: not a redirected flow, %lu "
		       "bytes dropped\n", text, (unsigned long)size);
		return;
	}
	start_flow(&client, size, records, recordsSize, context, contextSize);
}

/* A reply on a flow's socket: to the client, from the listening socket. */
static void from_destination(struct flow *f)
{
	SOCKADDR_STORAGE from;
	socklen_t fromLen = sizeof(from);	/* an int, on Windows */
	int n;

	n = recvfrom(f->out, datagram, sizeof(datagram), 0, (SOCKADDR *)&from,
		     &fromLen);
	if (n == SOCKET_ERROR) {
		printf("winsock-udp-proxy: flow %d: receive failed (error %d)\n",
		       f->number, WSAGetLastError());
		return;
	}
	if (!same_address(&from, &f->destination))
		return;		/* not from the destination: dropped */
	if (sendto(listener, datagram, n, 0, (SOCKADDR *)&f->client,
		   address_length(&f->client)) == SOCKET_ERROR) {
		printf("winsock-udp-proxy: flow %d: reply failed (error %d)\n",
		       f->number, WSAGetLastError());
		return;
	}
	f->down += n;
	f->lastActive = time(NULL);
}

static int serve(int maxFlows, time_t idleSeconds)
{
	while (maxFlows == 0 || flowsEnded < maxFlows) {
		struct timeval tick = { 1, 0 };
		SOCKET highest = listener;
		fd_set readable;
		time_t now;

		FD_ZERO(&readable);
		FD_SET(listener, &readable);
		for (int i = 0; i < FLOW_TABLE; i++) {
			if (flows[i].out == INVALID_SOCKET)
				continue;
			FD_SET(flows[i].out, &readable);
			if (flows[i].out > highest)
				highest = flows[i].out;
		}
		/* Windows ignores the first argument; pass it for POSIX */
		if (select((int)highest + 1, &readable, NULL, NULL, &tick) ==
		    SOCKET_ERROR) {
			fprintf(stderr, "winsock-udp-proxy: select failed: %d\n",
				WSAGetLastError());
			return 1;
		}
		/* replies first: a new flow may reuse a closed flow's socket */
		for (int i = 0; i < FLOW_TABLE; i++)
			if (flows[i].out != INVALID_SOCKET &&
			    FD_ISSET(flows[i].out, &readable))
				from_destination(&flows[i]);
		if (FD_ISSET(listener, &readable))
			from_client();
		now = time(NULL);
		for (int i = 0; i < FLOW_TABLE; i++)
			if (flows[i].out != INVALID_SOCKET &&
			    now - flows[i].lastActive > idleSeconds)
				end_flow(&flows[i], "idle");
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	WSADATA wsaData;
	SOCKADDR_STORAGE address;
	GUID recvMsgId = WSAID_WSARECVMSG;
	DWORD on = 1, bytes = 0;
	int maxFlows = 0, idleSeconds = 90, err, ret = 1;
	socklen_t nameLen;	/* an int, in ws2tcpip.h on Windows */
	char text[80];

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: winsock-udp-proxy ADDR PORT "
			"[MAX_FLOWS [IDLE_SECONDS]]\n");
		return 2;
	}
	if (parse_address(argv[1], argv[2], &address) != 0) {
		fprintf(stderr, "winsock-udp-proxy: bad address %s port %s\n",
			argv[1], argv[2]);
		return 2;
	}
	if (argc >= 4)
		maxFlows = atoi(argv[3]);
	if (argc == 5)
		idleSeconds = atoi(argv[4]);
	for (int i = 0; i < FLOW_TABLE; i++)
		flows[i].out = INVALID_SOCKET;

	err = WSAStartup(MAKEWORD(2, 2), &wsaData);
	if (err != 0) {
		fprintf(stderr, "winsock-udp-proxy: WSAStartup failed: %d\n",
			err);
		return 1;
	}
	listener = socket(address.ss_family, SOCK_DGRAM, IPPROTO_UDP);
	if (listener == INVALID_SOCKET) {
		fprintf(stderr, "winsock-udp-proxy: socket failed: %d\n",
			WSAGetLastError());
		goto done;
	}
	if (bind(listener, (SOCKADDR *)&address, address_length(&address)) ==
	    SOCKET_ERROR) {
		fprintf(stderr, "winsock-udp-proxy: bind failed: %d\n",
			WSAGetLastError());
		goto done;
	}
	/* the records and the context with each flow's first datagram */
	if (setsockopt(listener,
		       address.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		       address.ss_family == AF_INET ? IP_WFP_REDIRECT_CONTEXT :
						      IPV6_WFP_REDIRECT_CONTEXT,
		       (const char *)&on, sizeof(on)) == SOCKET_ERROR) {
		fprintf(stderr, "winsock-udp-proxy: IP_WFP_REDIRECT_CONTEXT "
			"failed: %d\n", WSAGetLastError());
		goto done;
	}
	if (WSAIoctl(listener, SIO_GET_EXTENSION_FUNCTION_POINTER, &recvMsgId,
		     sizeof(recvMsgId), &recvMsg, sizeof(recvMsg), &bytes, NULL,
		     NULL) == SOCKET_ERROR) {
		fprintf(stderr, "winsock-udp-proxy: no WSARecvMsg: %d\n",
			WSAGetLastError());
		goto done;
	}
	nameLen = sizeof(address);
	getsockname(listener, (SOCKADDR *)&address, &nameLen);
	printf("winsock-udp-proxy: listening on %s\n",
	       address_text(&address, text, sizeof(text)));
	fflush(stdout);

	ret = serve(maxFlows, idleSeconds);
	for (int i = 0; i < FLOW_TABLE; i++)
		if (flows[i].out != INVALID_SOCKET)
			end_flow(&flows[i], "exit");
done:
	if (listener != INVALID_SOCKET)
		closesocket(listener);
	WSACleanup();
	return ret;
}
