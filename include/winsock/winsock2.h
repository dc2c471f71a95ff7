/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: Winsock 2 for WFP redirect services on Linux.
 *
 * Sockets are POSIX file descriptors: socket(), bind(), listen(),
 * accept(), connect(), send(), recv() are the POSIX functions, declared
 * by the system headers included here. fd_set and select() are Windows'
 * (a count and an array of SOCKETs). This header adds the Winsock types,
 * constants and the WSA* functions a redirect service uses;
 * docs/winsock.md says what each does on Linux.
 */
#ifndef LWFP_WINSOCK_WINSOCK2_H
#define LWFP_WINSOCK_WINSOCK2_H

/* An FD_SETSIZE the source defined before including this header (not
 * the C library's) sizes Windows' fd_set; Windows' default is 64. */
#if defined(FD_SETSIZE) && !defined(_SYS_SELECT_H)
enum { lwfp_ws_fd_setsize = FD_SETSIZE };
#undef FD_SETSIZE
#else
enum { lwfp_ws_fd_setsize = 64 };
#endif

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/select.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>

#include "windows.h"
#include "ws2def.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A socket is a POSIX descriptor; (SOCKET)-1 is INVALID_SOCKET. */
typedef UINT_PTR SOCKET;
#define INVALID_SOCKET	((SOCKET)(~0))
#define SOCKET_ERROR	(-1)

/*
 * Windows' fd_set: a count and an array of sockets, so that code reading
 * fd_count or walking fd_array works and no descriptor is too large for
 * it. The C library's fd_set is renamed away from the source's sight.
 */
#undef FD_SETSIZE
#undef FD_SET
#undef FD_CLR
#undef FD_ISSET
#undef FD_ZERO
#define FD_SETSIZE lwfp_ws_fd_setsize
#define fd_set lwfp_ws_fd_set
typedef struct lwfp_ws_fd_set {
	u_int fd_count;
	SOCKET fd_array[FD_SETSIZE];
} lwfp_ws_fd_set, FD_SET, *PFD_SET, *LPFD_SET;

typedef struct timeval TIMEVAL, *PTIMEVAL, *LPTIMEVAL;
typedef struct linger LINGER, *PLINGER, *LPLINGER;
/* accepted and ignored by setsockopt: a Linux port without SO_REUSEADDR
 * is already exclusive */
#define SO_EXCLUSIVEADDRUSE	((int)(~SO_REUSEADDR))

/* Is s in set (what FD_ISSET asks)? */
int WSAAPI __WSAFDIsSet(SOCKET s, fd_set *set);

#define FD_ZERO(set)	((void)(((fd_set *)(set))->fd_count = 0))
#define FD_ISSET(s, set)	__WSAFDIsSet((SOCKET)(s), (fd_set *)(set))
/* The index of s in set, or its count if it is not there. */
static inline u_int lwfp_ws_fd_index(const fd_set *set, SOCKET s)
{
	u_int i = 0;

	while (i < set->fd_count && set->fd_array[i] != s)
		i++;
	return i;
}

#define FD_SET(s, set)							\
	do {								\
		fd_set *lwfp_set_ = (fd_set *)(set);			\
		SOCKET lwfp_s_ = (SOCKET)(s);				\
		if (lwfp_ws_fd_index(lwfp_set_, lwfp_s_) ==		\
			    lwfp_set_->fd_count &&			\
		    lwfp_set_->fd_count < (u_int)FD_SETSIZE)		\
			lwfp_set_->fd_array[lwfp_set_->fd_count++] = lwfp_s_; \
	} while (0)
#define FD_CLR(s, set)							\
	do {								\
		fd_set *lwfp_set_ = (fd_set *)(set);			\
		u_int lwfp_i_ = lwfp_ws_fd_index(lwfp_set_, (SOCKET)(s)); \
		if (lwfp_i_ == lwfp_set_->fd_count)			\
			break;						\
		for (; lwfp_i_ + 1 < lwfp_set_->fd_count; lwfp_i_++)	\
			lwfp_set_->fd_array[lwfp_i_] =			\
				lwfp_set_->fd_array[lwfp_i_ + 1];	\
		lwfp_set_->fd_count--;					\
	} while (0)

/*
 * select() over Windows' fd_sets: nfds is ignored (as on Windows); the
 * sets come back holding only the sockets that are ready; a failed
 * non-blocking connect is in exceptfds, not writefds. A set may hold
 * sockets of any number. Needs WSAStartup.
 */
int WSAAPI lwfp_winsock_select(int nfds, fd_set *readfds, fd_set *writefds,
			       fd_set *exceptfds, const struct timeval *timeout);
#define select lwfp_winsock_select

typedef unsigned int GROUP;

#define SD_RECEIVE	0
#define SD_SEND		1
#define SD_BOTH		2

/* WSAStartup */
#define WSADESCRIPTION_LEN	256
#define WSASYS_STATUS_LEN	128

typedef struct WSAData {
	WORD wVersion;
	WORD wHighVersion;
	unsigned short iMaxSockets;
	unsigned short iMaxUdpDg;
	char *lpVendorInfo;
	char szDescription[WSADESCRIPTION_LEN + 1];
	char szSystemStatus[WSASYS_STATUS_LEN + 1];
} WSADATA, *LPWSADATA;

/* Event objects: manual-reset, created non-signalled. */
typedef HANDLE WSAEVENT;
typedef WSAEVENT *LPWSAEVENT;
#define WSA_INVALID_EVENT	((WSAEVENT)NULL)
#define WSA_MAXIMUM_WAIT_EVENTS	64
#define WSA_WAIT_EVENT_0	WAIT_OBJECT_0
#define WSA_WAIT_IO_COMPLETION	WAIT_IO_COMPLETION
#define WSA_WAIT_TIMEOUT	WAIT_TIMEOUT
#define WSA_WAIT_FAILED		WAIT_FAILED
#define WSA_INFINITE		INFINITE

/* Overlapped operations: WSAOVERLAPPED is OVERLAPPED (winbase.h), as on
 * Windows; Internal holds STATUS_PENDING, then the WSA error (0: ok). */
typedef OVERLAPPED WSAOVERLAPPED;
typedef LPOVERLAPPED LPWSAOVERLAPPED;
#define _WSAOVERLAPPED _OVERLAPPED

typedef void (CALLBACK *LPWSAOVERLAPPED_COMPLETION_ROUTINE)(
	DWORD dwError, DWORD cbTransferred, LPWSAOVERLAPPED lpOverlapped,
	DWORD dwFlags);

/* WSASocket */
typedef struct _GUID {
	uint32_t Data1;
	uint16_t Data2;
	uint16_t Data3;
	uint8_t Data4[8];
} GUID;

#define MAX_PROTOCOL_CHAIN	7
#define WSAPROTOCOL_LEN		255
#define FROM_PROTOCOL_INFO	(-1)

typedef struct _WSAPROTOCOLCHAIN {
	int ChainLen;
	DWORD ChainEntries[MAX_PROTOCOL_CHAIN];
} WSAPROTOCOLCHAIN, *LPWSAPROTOCOLCHAIN;

typedef struct _WSAPROTOCOL_INFOA {
	DWORD dwServiceFlags1;
	DWORD dwServiceFlags2;
	DWORD dwServiceFlags3;
	DWORD dwServiceFlags4;
	DWORD dwProviderFlags;
	GUID ProviderId;
	DWORD dwCatalogEntryId;
	WSAPROTOCOLCHAIN ProtocolChain;
	int iVersion;
	int iAddressFamily;
	int iMaxSockAddr;
	int iMinSockAddr;
	int iSocketType;
	int iProtocol;
	int iProtocolMaxOffset;
	int iNetworkByteOrder;
	int iSecurityScheme;
	DWORD dwMessageSize;
	DWORD dwProviderReserved;
	CHAR szProtocol[WSAPROTOCOL_LEN + 1];
} WSAPROTOCOL_INFOA, *LPWSAPROTOCOL_INFOA;

typedef struct _WSAPROTOCOL_INFOW {
	DWORD dwServiceFlags1;
	DWORD dwServiceFlags2;
	DWORD dwServiceFlags3;
	DWORD dwServiceFlags4;
	DWORD dwProviderFlags;
	GUID ProviderId;
	DWORD dwCatalogEntryId;
	WSAPROTOCOLCHAIN ProtocolChain;
	int iVersion;
	int iAddressFamily;
	int iMaxSockAddr;
	int iMinSockAddr;
	int iSocketType;
	int iProtocol;
	int iProtocolMaxOffset;
	int iNetworkByteOrder;
	int iSecurityScheme;
	DWORD dwMessageSize;
	DWORD dwProviderReserved;
	WCHAR szProtocol[WSAPROTOCOL_LEN + 1];
} WSAPROTOCOL_INFOW, *LPWSAPROTOCOL_INFOW;

#ifdef UNICODE
typedef WSAPROTOCOL_INFOW WSAPROTOCOL_INFO;
typedef LPWSAPROTOCOL_INFOW LPWSAPROTOCOL_INFO;
#define WSASocket WSASocketW
#else
typedef WSAPROTOCOL_INFOA WSAPROTOCOL_INFO;
typedef LPWSAPROTOCOL_INFOA LPWSAPROTOCOL_INFO;
#define WSASocket WSASocketA
#endif

#define WSA_FLAG_OVERLAPPED		0x01
#define WSA_FLAG_MULTIPOINT_C_ROOT	0x02
#define WSA_FLAG_MULTIPOINT_C_LEAF	0x04
#define WSA_FLAG_MULTIPOINT_D_ROOT	0x08
#define WSA_FLAG_MULTIPOINT_D_LEAF	0x10
#define WSA_FLAG_ACCESS_SYSTEM_SECURITY	0x40
#define WSA_FLAG_NO_HANDLE_INHERIT	0x80
#define WSA_FLAG_REGISTERED_IO		0x100

/* Control codes of the generic Winsock 2 family: _WSAIO(IOC_WS2, 4),
 * spelled out (see mstcpip.h). */
#define SIO_FLUSH	0x28000004u
/* _WSAIORW(IOC_WS2, 6): in, a GUID (mswsock.h: WSAID_WSARECVMSG...);
 * out, the function's pointer. */
#define SIO_GET_EXTENSION_FUNCTION_POINTER	0xC8000006u

/* Error codes (WSAGetLastError) */
#define WSA_INVALID_HANDLE	ERROR_INVALID_HANDLE
#define WSA_NOT_ENOUGH_MEMORY	ERROR_NOT_ENOUGH_MEMORY
#define WSA_INVALID_PARAMETER	ERROR_INVALID_PARAMETER
#define WSA_OPERATION_ABORTED	ERROR_OPERATION_ABORTED
#define WSA_IO_INCOMPLETE	ERROR_IO_INCOMPLETE
#define WSA_IO_PENDING		ERROR_IO_PENDING

#define WSABASEERR		10000
#define WSAEINTR		10004
#define WSAEBADF		10009
#define WSAEACCES		10013
#define WSAEFAULT		10014
#define WSAEINVAL		10022
#define WSAEMFILE		10024
#define WSAEWOULDBLOCK		10035
#define WSAEINPROGRESS		10036
#define WSAEALREADY		10037
#define WSAENOTSOCK		10038
#define WSAEDESTADDRREQ		10039
#define WSAEMSGSIZE		10040
#define WSAEPROTOTYPE		10041
#define WSAENOPROTOOPT		10042
#define WSAEPROTONOSUPPORT	10043
#define WSAESOCKTNOSUPPORT	10044
#define WSAEOPNOTSUPP		10045
#define WSAEPFNOSUPPORT		10046
#define WSAEAFNOSUPPORT		10047
#define WSAEADDRINUSE		10048
#define WSAEADDRNOTAVAIL	10049
#define WSAENETDOWN		10050
#define WSAENETUNREACH		10051
#define WSAENETRESET		10052
#define WSAECONNABORTED		10053
#define WSAECONNRESET		10054
#define WSAENOBUFS		10055
#define WSAEISCONN		10056
#define WSAENOTCONN		10057
#define WSAESHUTDOWN		10058
#define WSAETOOMANYREFS		10059
#define WSAETIMEDOUT		10060
#define WSAECONNREFUSED		10061
#define WSAELOOP		10062
#define WSAENAMETOOLONG		10063
#define WSAEHOSTDOWN		10064
#define WSAEHOSTUNREACH		10065
#define WSAENOTEMPTY		10066
#define WSAEPROCLIM		10067
#define WSAEUSERS		10068
#define WSAEDQUOT		10069
#define WSAESTALE		10070
#define WSAEREMOTE		10071
#define WSASYSNOTREADY		10091
#define WSAVERNOTSUPPORTED	10092
#define WSANOTINITIALISED	10093
#define WSAEDISCON		10101
#define WSAENOMORE		10102
#define WSAECANCELLED		10103
#define WSAEINVALIDPROCTABLE	10104
#define WSAEINVALIDPROVIDER	10105
#define WSAEPROVIDERFAILEDINIT	10106
#define WSASYSCALLFAILURE	10107
#define WSASERVICE_NOT_FOUND	10108
#define WSATYPE_NOT_FOUND	10109
#define WSA_E_NO_MORE		10110
#define WSA_E_CANCELLED		10111
#define WSAEREFUSED		10112
#define WSAHOST_NOT_FOUND	11001
#define WSATRY_AGAIN		11002
#define WSANO_RECOVERY		11003
#define WSANO_DATA		11004

/* Startup and errors */
int WSAAPI WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData);
int WSAAPI WSACleanup(void);
int WSAAPI WSAGetLastError(void);
void WSAAPI WSASetLastError(int iError);

/* Sockets */
SOCKET WSAAPI WSASocketA(int af, int type, int protocol,
			 LPWSAPROTOCOL_INFOA lpProtocolInfo, GROUP g,
			 DWORD dwFlags);
SOCKET WSAAPI WSASocketW(int af, int type, int protocol,
			 LPWSAPROTOCOL_INFOW lpProtocolInfo, GROUP g,
			 DWORD dwFlags);
int WSAAPI closesocket(SOCKET s);

int WSAAPI WSAIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer,
		    DWORD cbInBuffer, LPVOID lpvOutBuffer, DWORD cbOutBuffer,
		    LPDWORD lpcbBytesReturned, LPWSAOVERLAPPED lpOverlapped,
		    LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
BOOL WSAAPI WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped,
				   LPDWORD lpcbTransfer, BOOL fWait,
				   LPDWORD lpdwFlags);

/*
 * Send lpMsg's buffers to lpMsg->name (NULL: the connected peer), with
 * its control messages. An IP_WFP_REDIRECT_RECORDS (IPPROTO_IP) or
 * IPV6_WFP_REDIRECT_RECORDS (IPPROTO_IPV6) message sets the records on
 * the socket first: the datagram continues the redirected flow. Datagram
 * and raw sockets; not overlapped (docs/winsock.md).
 */
int WSAAPI WSASendMsg(SOCKET Handle, LPWSAMSG lpMsg, DWORD dwFlags,
		      LPDWORD lpNumberOfBytesSent, LPWSAOVERLAPPED lpOverlapped,
		      LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);

/*
 * setsockopt() with the WFP options of ws2ipdef.h (IP_WFP_REDIRECT_*,
 * IPV6_WFP_REDIRECT_*), failing as Winsock's does; every other option
 * goes to the POSIX setsockopt() unchanged. A source that wants the
 * POSIX function under its own name defines LWFP_WINSOCK_POSIX_SETSOCKOPT
 * before including this header.
 */
int WSAAPI lwfp_winsock_setsockopt(SOCKET s, int level, int optname,
				   const void *optval, int optlen);
#ifdef LWFP_WINSOCK_POSIX_SETSOCKOPT
#define LWFP_WINSOCK_POSIX_CALLS
#endif
#ifndef LWFP_WINSOCK_POSIX_CALLS
#define setsockopt lwfp_winsock_setsockopt
#endif

/*
 * Readiness. WSAPoll() takes Windows' WSAPOLLFD (a SOCKET, not an int);
 * the POLL* names keep their POSIX values, and a readable socket reports
 * POLLRDNORM and POLLIN, a writable one POLLWRNORM and POLLOUT.
 * ioctlsocket() does FIONBIO, FIONREAD and SIOCATMARK.
 */
#ifndef POLLRDNORM
#define POLLRDNORM	0x040
#define POLLRDBAND	0x080
#define POLLWRNORM	0x100
#define POLLWRBAND	0x200
#endif

typedef struct pollfd_ws {
	SOCKET fd;
	SHORT events;
	SHORT revents;
} WSAPOLLFD, *PWSAPOLLFD, *LPWSAPOLLFD;

int WSAAPI WSAPoll(LPWSAPOLLFD fdArray, ULONG fds, INT timeout);
int WSAAPI ioctlsocket(SOCKET s, long cmd, u_long *argp);

/*
 * Data: blocking (the socket's mode), or overlapped with completion by
 * event, routine or completion port (winbase.h). lpFlags: MSG_PEEK,
 * MSG_OOB, MSG_WAITALL with their <sys/socket.h> values.
 */
int WSAAPI WSARecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
		   LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags,
		   LPWSAOVERLAPPED lpOverlapped,
		   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
int WSAAPI WSASend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
		   LPDWORD lpNumberOfBytesSent, DWORD dwFlags,
		   LPWSAOVERLAPPED lpOverlapped,
		   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);

/* Quality of service: TCP has none; WSAConnect ignores it. */
typedef struct _flowspec {
	ULONG TokenRate;
	ULONG TokenBucketSize;
	ULONG PeakBandwidth;
	ULONG Latency;
	ULONG DelayVariation;
	ULONG ServiceType;
	ULONG MaxSduSize;
	ULONG MinimumPolicedSize;
} FLOWSPEC, *PFLOWSPEC, *LPFLOWSPEC;

typedef struct _QualityOfService {
	FLOWSPEC SendingFlowspec;
	FLOWSPEC ReceivingFlowspec;
	WSABUF ProviderSpecific;
} QOS, *LPQOS;

/* WSAAccept's condition function: CF_ACCEPT or CF_REJECT (CF_DEFER is
 * taken as a refusal). */
#define CF_ACCEPT	0x0000
#define CF_REJECT	0x0001
#define CF_DEFER	0x0002
typedef int (CALLBACK *LPCONDITIONPROC)(LPWSABUF lpCallerId,
					LPWSABUF lpCallerData, LPQOS lpSQOS,
					LPQOS lpGQOS, LPWSABUF lpCalleeId,
					LPWSABUF lpCalleeData, GROUP *g,
					DWORD_PTR dwCallbackData);

/* connect() and accept() as Winsock 2 spells them; connect data are
 * refused (TCP has none). */
int WSAAPI WSAConnect(SOCKET s, const struct sockaddr *name, int namelen,
		      LPWSABUF lpCallerData, LPWSABUF lpCalleeData,
		      LPQOS lpSQOS, LPQOS lpGQOS);
SOCKET WSAAPI WSAAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
			LPCONDITIONPROC lpfnCondition,
			DWORD_PTR dwCallbackData);
/* "a.b.c.d:port" or "[v6]:port" (no port if it is 0) */
INT WSAAPI WSAAddressToStringA(LPSOCKADDR lpsaAddress, DWORD dwAddressLength,
			       LPWSAPROTOCOL_INFOA lpProtocolInfo,
			       LPSTR lpszAddressString,
			       LPDWORD lpdwAddressStringLength);
#ifndef UNICODE
#define WSAAddressToString WSAAddressToStringA
#endif

/*
 * WSAEventSelect: the network events of a socket set an event object;
 * WSAEnumNetworkEvents tells which, with their error codes, and clears
 * them. The socket becomes non-blocking, as on Windows.
 */
#define FD_READ_BIT		0
#define FD_READ			(1 << FD_READ_BIT)
#define FD_WRITE_BIT		1
#define FD_WRITE		(1 << FD_WRITE_BIT)
#define FD_OOB_BIT		2
#define FD_OOB			(1 << FD_OOB_BIT)
#define FD_ACCEPT_BIT		3
#define FD_ACCEPT		(1 << FD_ACCEPT_BIT)
#define FD_CONNECT_BIT		4
#define FD_CONNECT		(1 << FD_CONNECT_BIT)
#define FD_CLOSE_BIT		5
#define FD_CLOSE		(1 << FD_CLOSE_BIT)
#define FD_MAX_EVENTS		10
#define FD_ALL_EVENTS		((1 << FD_MAX_EVENTS) - 1)

typedef struct _WSANETWORKEVENTS {
	long lNetworkEvents;
	int iErrorCode[FD_MAX_EVENTS];
} WSANETWORKEVENTS, *LPWSANETWORKEVENTS;

int WSAAPI WSAEventSelect(SOCKET s, WSAEVENT hEventObject,
			  long lNetworkEvents);
int WSAAPI WSAEnumNetworkEvents(SOCKET s, WSAEVENT hEventObject,
				LPWSANETWORKEVENTS lpNetworkEvents);

/*
 * recv() and accept() as Windows has them: after one, FD_READ or
 * FD_ACCEPT is posted again while more is waiting (WSAEventSelect's
 * re-enabling). A source's recv and accept come here.
 */
int WSAAPI lwfp_winsock_recv(SOCKET s, char *buf, int len, int flags);
SOCKET WSAAPI lwfp_winsock_accept(SOCKET s, struct sockaddr *addr,
				  int *addrlen);

/* Events */
WSAEVENT WSAAPI WSACreateEvent(void);
BOOL WSAAPI WSACloseEvent(WSAEVENT hEvent);
BOOL WSAAPI WSASetEvent(WSAEVENT hEvent);
BOOL WSAAPI WSAResetEvent(WSAEVENT hEvent);
DWORD WSAAPI WSAWaitForMultipleEvents(DWORD cEvents, const WSAEVENT *lphEvents,
				      BOOL fWaitAll, DWORD dwTimeout,
				      BOOL fAlertable);

#ifdef __cplusplus
}
#endif

#ifdef LWFP_WINSOCK_POSIX_CALLS
/* the library itself: the POSIX calls, as they are */
#elif !defined(__cplusplus)
/*
 * C: Windows declares these lengths int *, POSIX socklen_t * (the same
 * size): cast, as the source cannot, so that it compiles without warnings.
 */
#define recv			lwfp_winsock_recv
#define accept(s, a, l)		lwfp_winsock_accept((s), (a), (int *)(l))
#define getsockname(s, a, l)	getsockname((int)(s), (a), (socklen_t *)(l))
#define getpeername(s, a, l)	getpeername((int)(s), (a), (socklen_t *)(l))
#define getsockopt(s, lv, n, v, l)					\
	getsockopt((int)(s), (lv), (n), (v), (socklen_t *)(l))
#define recvfrom(s, b, n, f, a, l)					\
	recvfrom((int)(s), (b), (n), (f), (a), (socklen_t *)(l))
#else
/*
 * C++: Windows declares these with a SOCKET and int lengths, POSIX with
 * an int and socklen_t lengths, and C++ converts no int * to socklen_t *.
 * Overloads taking Windows' types, so that the source compiles as
 * written; calls with POSIX types still reach the POSIX functions.
 */
/* Calls with other types (an int descriptor, a void * buffer, a size_t
 * length, a socklen_t length): the same, converted. */
template <typename S, typename L>
inline SOCKET lwfp_winsock_accept(S s, struct sockaddr *addr, L *addrlen)
{
	return lwfp_winsock_accept((SOCKET)s, addr, (int *)addrlen);
}

template <typename S, typename B, typename N>
inline int lwfp_winsock_recv(S s, B *buf, N len, int flags)
{
	return lwfp_winsock_recv((SOCKET)s, (char *)buf, (int)len, flags);
}

#define accept lwfp_winsock_accept
#define recv lwfp_winsock_recv

inline int getsockname(SOCKET s, struct sockaddr *name, int *namelen)
{
	return ::getsockname((int)s, name, (socklen_t *)namelen);
}

inline int getpeername(SOCKET s, struct sockaddr *name, int *namelen)
{
	return ::getpeername((int)s, name, (socklen_t *)namelen);
}

inline int getsockopt(SOCKET s, int level, int optname, char *optval,
		      int *optlen)
{
	return ::getsockopt((int)s, level, optname, optval,
			    (socklen_t *)optlen);
}

inline int recvfrom(SOCKET s, char *buf, int len, int flags,
		    struct sockaddr *from, int *fromlen)
{
	return (int)::recvfrom((int)s, buf, (size_t)len, flags, from,
			       (socklen_t *)fromlen);
}
#endif

#endif /* LWFP_WINSOCK_WINSOCK2_H */
