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

#ifdef __cplusplus
}
#endif

#endif /* LWFP_WINSOCK_MSWSOCK_H */
