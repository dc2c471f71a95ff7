// SPDX-License-Identifier: MIT
/*
 * winsock-thread-proxy: a WFP redirect service in C++, a thread per
 * connection, as many Windows services are written. Built unchanged on
 * Linux against lwfp-winsock:
 *
 *   c++ winsock-thread-proxy.cpp $(pkg-config --cflags --libs lwfp-winsock)
 *
 * Each connection's thread reads the redirect records and context from
 * the accepted socket, opens its own socket, sets the records on it before
 * connect() (so that it is not redirected back here), connects to the
 * original destination and relays both ways with select() until both
 * sides have closed. The context is this service's own ConnectionContext,
 * as its callout lays it out (on Linux: lwfp rule add ...
 * --context-layout winsock-thread-proxy.layout).
 *
 *   winsock-thread-proxy [--count N] ADDR PORT
 */
#include <WinSock2.h>
#include <WS2tcpip.h>
#include <Mstcpip.h>
#include <Windows.h>
#include <process.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// The redirect context this service's callout attaches.
#pragma pack(push, 1)
struct ConnectionContext {
	IN6_ADDR destinationAddress;	// 0: IPv4 as v4-mapped
	USHORT destinationPort;		// 16: network order
	USHORT reserved;		// 18
	UINT32 processId;		// 20
	UINT32 userId;			// 24
	UINT32 ruleId;			// 28
	char processName[16];		// 32
	UINT8 signature[4];		// 48: "THRD"
};
#pragma pack(pop)

namespace {

const int kRelayBuffer = 65536;

// A socket closed when it goes out of scope.
class Socket {
public:
	explicit Socket(SOCKET s = INVALID_SOCKET) : s_(s) {}
	~Socket()
	{
		if (s_ != INVALID_SOCKET)
			closesocket(s_);
	}
	Socket(const Socket &) = delete;
	Socket &operator=(const Socket &) = delete;
	SOCKET get() const { return s_; }
	bool valid() const { return s_ != INVALID_SOCKET; }

private:
	SOCKET s_;
};

CRITICAL_SECTION g_print;
LONG volatile g_ended = 0;
LONG g_count = 0;
HANDLE g_finished;

std::string AddressText(const SOCKADDR_STORAGE &ss)
{
	char text[INET6_ADDRSTRLEN + 16];
	DWORD len = sizeof(text);
	int size = ss.ss_family == AF_INET ? (int)sizeof(SOCKADDR_IN) :
					     (int)sizeof(SOCKADDR_IN6);

	if (WSAAddressToString((LPSOCKADDR)&ss, (DWORD)size, NULL, text,
			       &len) != 0)
		return "?";
	return text;
}

// The client's process name, printable: a hostile client chooses it.
std::string Printable(const char *s, size_t n)
{
	std::string out;
	char esc[8];

	for (size_t i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			out += (char)c;
		} else {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			out += esc;
		}
	}
	return out;
}

// Everything from one socket to the other; false on an error.
bool Forward(SOCKET from, SOCKET to, std::vector<char> &buf, bool &open,
	     unsigned long long &bytes)
{
	int n = recv(from, buf.data(), (int)buf.size(), 0);

	if (n == SOCKET_ERROR)
		return false;
	if (n == 0) {
		open = false;
		shutdown(to, SD_SEND);
		return true;
	}
	for (int sent = 0; sent < n;) {
		int m = send(to, buf.data() + sent, n - sent, 0);

		if (m == SOCKET_ERROR)
			return false;
		sent += m;
	}
	bytes += (unsigned long long)n;
	return true;
}

class Connection {
public:
	Connection(SOCKET client, int number) : client_(client), number_(number)
	{
	}

	void Run()
	{
		const char *failure = Relay();

		EnterCriticalSection(&g_print);
		if (failure != NULL)
			printf("winsock-thread-proxy: flow %d: %s (error %d)\n",
			       number_, failure, WSAGetLastError());
		else
			printf("winsock-thread-proxy: flow %d: pid %lu comm "
			       "\"%s\" uid %lu -> %s rule %lu, %lu bytes of "
			       "records, %lu bytes of context, %llu bytes up, "
			       "%llu bytes down\n", number_,
			       (unsigned long)info_.processId,
			       Printable(info_.processName,
					 sizeof(info_.processName)).c_str(),
			       (unsigned long)info_.userId,
			       destination_.c_str(),
			       (unsigned long)info_.ruleId,
			       (unsigned long)recordsSize_,
			       (unsigned long)contextSize_, up_, down_);
		fflush(stdout);
		LeaveCriticalSection(&g_print);
	}

private:
	const char *Query(std::vector<char> &records)
	{
		DWORD size = 0;

		records.resize(1024);
		if (WSAIoctl(client_.get(),
			     SIO_QUERY_WFP_CONNECTION_REDIRECT_RECORDS, NULL, 0,
			     records.data(), (DWORD)records.size(), &size, NULL,
			     NULL) == SOCKET_ERROR)
			return "no redirect records";
		records.resize(size);
		recordsSize_ = size;
		if (WSAIoctl(client_.get(),
			     SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT, NULL, 0,
			     &info_, sizeof(info_), &size, NULL,
			     NULL) == SOCKET_ERROR || size != sizeof(info_) ||
		    memcmp(info_.signature, "THRD", 4) != 0)
			return "no redirect context of ours";
		contextSize_ = size;
		return NULL;
	}

	// The destination, as a socket address. The packed struct's fields
	// need not be aligned: copied out first.
	int Destination(SOCKADDR_STORAGE &ss) const
	{
		IN6_ADDR addr;
		USHORT port = info_.destinationPort;

		memcpy(&addr, &info_.destinationAddress, sizeof(addr));
		ZeroMemory(&ss, sizeof(ss));
		if (IN6_IS_ADDR_V4MAPPED(&addr)) {
			SOCKADDR_IN *sin = (SOCKADDR_IN *)&ss;

			sin->sin_family = AF_INET;
			sin->sin_port = port;
			memcpy(&sin->sin_addr, &addr.s6_addr[12], 4);
			return (int)sizeof(*sin);
		}
		SOCKADDR_IN6 *sin6 = (SOCKADDR_IN6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		sin6->sin6_addr = addr;
		return (int)sizeof(*sin6);
	}

	const char *Relay()
	{
		std::vector<char> records, buf(kRelayBuffer);
		SOCKADDR_STORAGE dst;
		DWORD bytes = 0;
		bool upOpen = true, downOpen = true;
		int len;

		if (const char *failure = Query(records))
			return failure;
		len = Destination(dst);
		destination_ = AddressText(dst);
		Socket server(socket(dst.ss_family, SOCK_STREAM, IPPROTO_TCP));
		if (!server.valid() ||
		    WSAIoctl(server.get(),
			     SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS,
			     records.data(), (DWORD)records.size(), NULL, 0,
			     &bytes, NULL, NULL) == SOCKET_ERROR ||
		    connect(server.get(), (SOCKADDR *)&dst, len) ==
			    SOCKET_ERROR)
			return "connecting to the destination failed";
		while (upOpen || downOpen) {
			fd_set readable;

			FD_ZERO(&readable);
			if (upOpen)
				FD_SET(client_.get(), &readable);
			if (downOpen)
				FD_SET(server.get(), &readable);
			if (select(0, &readable, NULL, NULL, NULL) == SOCKET_ERROR)
				return "select failed";
			if (FD_ISSET(client_.get(), &readable) &&
			    !Forward(client_.get(), server.get(), buf, upOpen,
				     up_))
				return "relaying up failed";
			if (FD_ISSET(server.get(), &readable) &&
			    !Forward(server.get(), client_.get(), buf, downOpen,
				     down_))
				return "relaying down failed";
		}
		return NULL;
	}

	Socket client_;
	int number_;
	ConnectionContext info_ = {};
	std::string destination_;
	unsigned long long up_ = 0, down_ = 0;
	DWORD recordsSize_ = 0, contextSize_ = 0;
};

unsigned __stdcall ConnectionThread(void *param)
{
	Connection *c = static_cast<Connection *>(param);

	c->Run();
	delete c;
	if (InterlockedIncrement(&g_ended) == g_count)
		SetEvent(g_finished);
	return 0;
}

DWORD WINAPI AcceptThread(LPVOID param)
{
	SOCKET listener = (SOCKET)(UINT_PTR)param;

	for (int number = 1; g_count == 0 || number <= g_count; number++) {
		SOCKET client = accept(listener, NULL, NULL);
		unsigned id = 0;

		if (client == INVALID_SOCKET) {
			Sleep(100);	// out of descriptors: back off
			number--;
			continue;
		}
		uintptr_t t = _beginthreadex(NULL, 0, ConnectionThread,
					     new Connection(client, number), 0,
					     &id);
		if (t != 0)
			CloseHandle((HANDLE)t);
	}
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	WSADATA wsaData;
	ADDRINFOA hints = {}, *ai = NULL;
	SOCKADDR_STORAGE bound;
	int i = 1, len = sizeof(bound);

	if (argc == 5 && strcmp(argv[1], "--count") == 0) {
		g_count = atol(argv[2]);
		i = 3;
	}
	if (argc - i != 2 || g_count < 0) {
		fprintf(stderr, "usage: winsock-thread-proxy [--count N] ADDR "
			"PORT\n");
		return 2;
	}
	if (WSAStartup(MAKEWORD(2, 2), &wsaData) != 0)
		return 1;
	InitializeCriticalSection(&g_print);
	g_finished = CreateEvent(NULL, TRUE, FALSE, NULL);
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(argv[i], argv[i + 1], &hints, &ai) != 0) {
		fprintf(stderr, "winsock-thread-proxy: bad address\n");
		return 2;
	}
	Socket listener(socket(ai->ai_family, SOCK_STREAM, IPPROTO_TCP));
	if (!listener.valid() ||
	    bind(listener.get(), ai->ai_addr, (int)ai->ai_addrlen) != 0 ||
	    listen(listener.get(), SOMAXCONN) != 0 ||
	    getsockname(listener.get(), (SOCKADDR *)&bound, &len) != 0) {
		fprintf(stderr, "winsock-thread-proxy: cannot listen: %d\n",
			WSAGetLastError());
		return 1;
	}
	freeaddrinfo(ai);
	printf("winsock-thread-proxy: listening on %s\n",
	       AddressText(bound).c_str());
	fflush(stdout);
	HANDLE acceptor = CreateThread(NULL, 0, AcceptThread,
				       (LPVOID)(UINT_PTR)listener.get(), 0, NULL);
	WaitForSingleObject(g_finished, INFINITE);
	CloseHandle(acceptor);
	WSACleanup();
	return 0;
}
