// SPDX-License-Identifier: MIT
/*
 * The per-thread last error, and the translation of POSIX and liblwfp
 * errors into Winsock codes.
 *
 * A Windows source asks WSAGetLastError() after any socket call, also
 * after the POSIX ones (connect, bind, recv...) that report through
 * errno. So a failing call of this layer sets both: the Winsock code, and
 * errno to the matching POSIX value (or a private one when there is
 * none), remembered as a mark. If errno no longer holds the mark and
 * holds a socket error, a POSIX call failed since: WSAGetLastError()
 * translates that one instead. errno values with no Winsock meaning
 * (ENOTTY left behind by stdio, say) leave the last error alone.
 */
#include <errno.h>

#include "internal.h"

static WS_TLS int last_error;
static WS_TLS int last_mark;

/* errno values that WSA codes without a POSIX twin leave behind */
#define PRIVATE_ERRNO(code)	(0x40000000 | (code))

static const struct {
	int err;
	int wsa;
} errno_map[] = {
	{ EINTR, WSAEINTR },
	{ EACCES, WSAEACCES },
	{ EPERM, WSAEACCES },
	{ EFAULT, WSAEFAULT },
	{ EINVAL, WSAEINVAL },
	{ EMFILE, WSAEMFILE },
	{ ENFILE, WSAEMFILE },
	{ EAGAIN, WSAEWOULDBLOCK },
	{ EINPROGRESS, WSAEWOULDBLOCK }, /* what Windows says for connect */
	{ EALREADY, WSAEALREADY },
	{ ENOTSOCK, WSAENOTSOCK },
	{ EBADF, WSAENOTSOCK },	/* a socket call on a bad descriptor */
	{ EDESTADDRREQ, WSAEDESTADDRREQ },
	{ EMSGSIZE, WSAEMSGSIZE },
	{ EPROTOTYPE, WSAEPROTOTYPE },
	{ ENOPROTOOPT, WSAENOPROTOOPT },
	{ EPROTONOSUPPORT, WSAEPROTONOSUPPORT },
	{ ESOCKTNOSUPPORT, WSAESOCKTNOSUPPORT },
	{ EOPNOTSUPP, WSAEOPNOTSUPP },
	{ EPFNOSUPPORT, WSAEPFNOSUPPORT },
	{ EAFNOSUPPORT, WSAEAFNOSUPPORT },
	{ EADDRINUSE, WSAEADDRINUSE },
	{ EADDRNOTAVAIL, WSAEADDRNOTAVAIL },
	{ ENETDOWN, WSAENETDOWN },
	{ ENETUNREACH, WSAENETUNREACH },
	{ ENETRESET, WSAENETRESET },
	{ ECONNABORTED, WSAECONNABORTED },
	{ ECONNRESET, WSAECONNRESET },
	{ ENOBUFS, WSAENOBUFS },
	{ ENOMEM, WSAENOBUFS },
	{ EISCONN, WSAEISCONN },
	{ ENOTCONN, WSAENOTCONN },
	{ ESHUTDOWN, WSAESHUTDOWN },
	{ EPIPE, WSAESHUTDOWN },
	{ ETOOMANYREFS, WSAETOOMANYREFS },
	{ ETIMEDOUT, WSAETIMEDOUT },
	{ ECONNREFUSED, WSAECONNREFUSED },
	{ ELOOP, WSAELOOP },
	{ ENAMETOOLONG, WSAENAMETOOLONG },
	{ EHOSTDOWN, WSAEHOSTDOWN },
	{ EHOSTUNREACH, WSAEHOSTUNREACH },
	{ ENOTEMPTY, WSAENOTEMPTY },
	{ EUSERS, WSAEUSERS },
	{ EDQUOT, WSAEDQUOT },
	{ ESTALE, WSAESTALE },
	{ EREMOTE, WSAEREMOTE },
	{ ECANCELED, WSAECANCELLED },
};

int ws_from_errno(int err)
{
	for (size_t i = 0; i < WS_ARRAY_SIZE(errno_map); i++)
		if (errno_map[i].err == err)
			return errno_map[i].wsa;
	return 0;
}

int ws_from_errno_or(int err, int otherwise)
{
	int wsa = ws_from_errno(err);

	return wsa ? wsa : otherwise;
}

int ws_socket_error(void)
{
	return ws_from_errno_or(errno, WSAEINVAL);
}

/* The errno a WSA code leaves: its POSIX twin (the first row naming
 * it), otherwise a private value. */
static int to_errno(int code)
{
	if (!code)
		return 0;
	for (size_t i = 0; i < WS_ARRAY_SIZE(errno_map); i++)
		if (errno_map[i].wsa == code)
			return errno_map[i].err;
	return PRIVATE_ERRNO(code);
}

int ws_from_lwfp(int err)
{
	switch (-err) {
	case 0:
		return 0;
	case ENOENT:		/* no engine at the pin directory */
	case ENAMETOOLONG:	/* ... nor can there be one */
		return WSAEOPNOTSUPP;
	case EACCES:
	case EPERM:
		return WSAEACCES;
	case ENODATA:		/* not redirected */
	case EINVAL:
		return WSAEINVAL;
	case ERANGE:
		return ERROR_INSUFFICIENT_BUFFER;
	case ENOTCONN:
		return WSAENOTCONN;
	case ENOTSOCK:
	case EBADF:
		return WSAENOTSOCK;
	case EISCONN:
		return WSAEISCONN;
	case EPROTONOSUPPORT:
		return WSAENOPROTOOPT;
	case ENOMEM:
		return WSAENOBUFS;
	default:
		return ws_from_errno(-err) ? ws_from_errno(-err) : WSAEINVAL;
	}
}

void ws_set_error(int code)
{
	last_error = code;
	last_mark = to_errno(code);
	errno = last_mark;
}

WS_EXPORT int WSAAPI WSAGetLastError(void)
{
	int err = errno, wsa;

	if (err != last_mark) {
		wsa = ws_from_errno(err);
		if (wsa) {
			/* a POSIX socket call failed after our last error */
			last_error = wsa;
			last_mark = err;
		}
	}
	return last_error;
}

WS_EXPORT void WSAAPI WSASetLastError(int iError)
{
	ws_set_error(iError);
}
