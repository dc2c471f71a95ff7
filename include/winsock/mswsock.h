/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: the Microsoft extension functions a WFP redirect service
 * for UDP uses, found with WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)
 * and the GUIDs below.
 */
#ifndef LWFP_WINSOCK_MSWSOCK_H
#define LWFP_WINSOCK_MSWSOCK_H

#include "winsock2.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Receive a datagram into lpMsg's buffers, its source into lpMsg->name,
 * its control messages into lpMsg->Control (Control.len: their length on
 * return; MSG_CTRUNC in dwFlags when they did not fit). With
 * IP_WFP_REDIRECT_CONTEXT set on the socket, the first datagram of each
 * redirected flow carries IP_WFP_REDIRECT_RECORDS and _CONTEXT messages.
 */
typedef INT (WSAAPI *LPFN_WSARECVMSG)(SOCKET s, LPWSAMSG lpMsg,
				      LPDWORD lpdwNumberOfBytesRecvd,
				      LPWSAOVERLAPPED lpOverlapped,
				      LPWSAOVERLAPPED_COMPLETION_ROUTINE
				      lpCompletionRoutine);

#define WSAID_WSARECVMSG						\
	{ 0xf689d7c8, 0x6f1f, 0x436b,					\
	  { 0x8a, 0x53, 0xe5, 0x4f, 0xe3, 0x51, 0xc3, 0x22 } }

/* WSASendMsg (winsock2.h), also as an extension function. */
typedef INT (WSAAPI *LPFN_WSASENDMSG)(SOCKET s, LPWSAMSG lpMsg,
				      DWORD dwFlags,
				      LPDWORD lpNumberOfBytesSent,
				      LPWSAOVERLAPPED lpOverlapped,
				      LPWSAOVERLAPPED_COMPLETION_ROUTINE
				      lpCompletionRoutine);

#define WSAID_WSASENDMSG						\
	{ 0xa441e712, 0x754f, 0x43ca,					\
	  { 0x84, 0xa7, 0x0d, 0xee, 0x44, 0xcf, 0x60, 0x6d } }

/*
 * Accepting and connecting overlapped (for I/O completion ports).
 * AcceptEx: sAcceptSocket is a socket made beforehand; the connection is
 * moved onto it. lpOutputBuffer receives dwReceiveDataLength bytes of
 * first data (0: none, complete at once), then the local and the remote
 * address, each in a block of at least sizeof(SOCKADDR_IN6) + 16 bytes.
 */
typedef BOOL (WSAAPI *LPFN_ACCEPTEX)(SOCKET sListenSocket,
				     SOCKET sAcceptSocket,
				     PVOID lpOutputBuffer,
				     DWORD dwReceiveDataLength,
				     DWORD dwLocalAddressLength,
				     DWORD dwRemoteAddressLength,
				     LPDWORD lpdwBytesReceived,
				     LPOVERLAPPED lpOverlapped);
typedef void (WSAAPI *LPFN_GETACCEPTEXSOCKADDRS)(
	PVOID lpOutputBuffer, DWORD dwReceiveDataLength,
	DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength,
	struct sockaddr **LocalSockaddr, LPINT LocalSockaddrLength,
	struct sockaddr **RemoteSockaddr, LPINT RemoteSockaddrLength);
/* ConnectEx: s must be bound; lpSendBuffer (may be NULL) goes once
 * connected. */
typedef BOOL (WSAAPI *LPFN_CONNECTEX)(SOCKET s, const struct sockaddr *name,
				      int namelen, PVOID lpSendBuffer,
				      DWORD dwSendDataLength,
				      LPDWORD lpdwBytesSent,
				      LPOVERLAPPED lpOverlapped);
/* DisconnectEx: the send side shut (TF_REUSE_SOCKET is refused). */
typedef BOOL (WSAAPI *LPFN_DISCONNECTEX)(SOCKET s, LPOVERLAPPED lpOverlapped,
					 DWORD dwFlags, DWORD dwReserved);

BOOL WSAAPI AcceptEx(SOCKET sListenSocket, SOCKET sAcceptSocket,
		     PVOID lpOutputBuffer, DWORD dwReceiveDataLength,
		     DWORD dwLocalAddressLength, DWORD dwRemoteAddressLength,
		     LPDWORD lpdwBytesReceived, LPOVERLAPPED lpOverlapped);
void WSAAPI GetAcceptExSockaddrs(PVOID lpOutputBuffer,
				 DWORD dwReceiveDataLength,
				 DWORD dwLocalAddressLength,
				 DWORD dwRemoteAddressLength,
				 struct sockaddr **LocalSockaddr,
				 LPINT LocalSockaddrLength,
				 struct sockaddr **RemoteSockaddr,
				 LPINT RemoteSockaddrLength);

#define WSAID_ACCEPTEX							\
	{ 0xb5367df1, 0xcbac, 0x11cf,					\
	  { 0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92 } }
#define WSAID_GETACCEPTEXSOCKADDRS					\
	{ 0xb5367df2, 0xcbac, 0x11cf,					\
	  { 0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92 } }
#define WSAID_CONNECTEX							\
	{ 0x25a207b9, 0xddf3, 0x4660,					\
	  { 0x8e, 0xe9, 0x76, 0xe5, 0x8c, 0x74, 0x06, 0x3e } }
#define WSAID_DISCONNECTEX						\
	{ 0x7fda2e11, 0x8630, 0x436f,					\
	  { 0xa0, 0x31, 0xf5, 0x36, 0xa6, 0xee, 0xc1, 0x57 } }

#define TF_DISCONNECT		0x01
#define TF_REUSE_SOCKET		0x02
/* setsockopt(SOL_SOCKET) after AcceptEx/ConnectEx: nothing to do here */
#define SO_UPDATE_ACCEPT_CONTEXT	0x700B
#define SO_UPDATE_CONNECT_CONTEXT	0x7010

#ifdef __cplusplus
}
#endif

#endif /* LWFP_WINSOCK_MSWSOCK_H */
