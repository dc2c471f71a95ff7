// SPDX-License-Identifier: MIT
/*
 * libFuzzer: WSAIoctl and WSPIoctl argument checks, and setsockopt with
 * the WFP options. Every combination of
 * control code, socket kind, buffer pointers (valid, NULL, not user memory,
 * PROT_NONE) and lengths must return 0 or SOCKET_ERROR with a documented
 * error, never crash, and never report more bytes than the buffer holds.
 * No engine is loaded: the checks come before any engine access.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <winsock2.h>
#include <ws2spi.h>
#include <mstcpip.h>

static SOCKET socks[5];
static unsigned char *buf, *noaccess;

static void init(void)
{
	WSADATA wd;
	int p[2];

	setenv("LWFP_PIN_DIR", "/nonexistent/lwfp-fuzz", 1);
	if (WSAStartup(MAKEWORD(2, 2), &wd) || pipe(p))
		abort();
	socks[0] = socket(AF_INET, SOCK_STREAM, 0);
	socks[1] = socket(AF_INET, SOCK_DGRAM, 0);
	socks[2] = socket(AF_UNIX, SOCK_STREAM, 0);
	socks[3] = (SOCKET)p[0];
	socks[4] = INVALID_SOCKET;
	buf = malloc(65536);
	noaccess = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (!buf || noaccess == MAP_FAILED)
		abort();
}

static void *pick(uint8_t c)
{
	switch (c % 4) {
	case 0: return NULL;
	case 1: return buf;
	case 2: return (void *)1;
	default: return noaccess;
	}
}

static bool documented(int err)
{
	static const int ok[] = {
		WSAEFAULT, WSAEINVAL, WSAENOTSOCK, WSAENOTCONN, WSAEOPNOTSUPP,
		WSAENOPROTOOPT, ERROR_INSUFFICIENT_BUFFER, WSAEACCES,
		WSAEISCONN, WSAEINPROGRESS, WSAEINTR, WSAENETDOWN,
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (err == ok[i])
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const DWORD codes[] = {
		SIO_QUERY_WFP_CONNECTION_REDIRECT_RECORDS,
		SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT,
		SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS, SIO_FLUSH,
		SIO_GET_EXTENSION_FUNCTION_POINTER, 0,
	};
	static bool ready;
	DWORD code, cb_in, cb_out, bytes = 0xdeadbeef;
	LPDWORD pbytes;
	void *in, *out;
	int ret, err, spi_err = 0;
	SOCKET s;

	if (!ready) {
		init();
		ready = true;
	}
	if (n < 10)
		return 0;
	code = d[0] % 7 < 6 ? codes[d[0] % 7] :
	       (DWORD)d[6] << 24 | (DWORD)d[7] << 16 | d[8] << 8 | d[9];
	s = socks[d[1] % 5];
	in = pick(d[2]);
	out = pick(d[3]);
	pbytes = d[4] % 3 == 0 ? &bytes : d[4] % 3 == 1 ? NULL :
		 (LPDWORD)noaccess;
	cb_in = (DWORD)d[5] << 8 | d[6];
	cb_out = (DWORD)d[7] << 8 | d[8];

	if (d[9] & 1) {
		WSATHREADID tid = { 0 };

		ret = WSPIoctl(s, code, in, cb_in, out, cb_out, pbytes, NULL,
			       NULL, &tid, &spi_err);
		err = spi_err;
	} else {
		ret = WSAIoctl(s, code, in, cb_in, out, cb_out, pbytes, NULL,
			       NULL);
		err = WSAGetLastError();
	}
	if (ret != 0 && ret != SOCKET_ERROR)
		abort();
	if (ret == SOCKET_ERROR && !documented(err))
		abort();
	if (ret == 0 && pbytes == &bytes && bytes > cb_out)
		abort();

	/* the WFP socket options, through the layer's setsockopt */
	ret = setsockopt(s, d[2] & 1 ? IPPROTO_IPV6 : IPPROTO_IP,
			 d[3] & 1 ? IP_WFP_REDIRECT_CONTEXT :
				    IP_WFP_REDIRECT_RECORDS,
			 in, (int)(int16_t)cb_in);
	if (ret != 0 && ret != SOCKET_ERROR)
		abort();
	if (ret == SOCKET_ERROR && !documented(WSAGetLastError()))
		abort();
	return 0;
}
