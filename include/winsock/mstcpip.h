/* SPDX-License-Identifier: MIT */
/*
 * lwfp-winsock: the WFP connection-redirect control codes of WSAIoctl
 * and WSPIoctl, with their Windows values, and SIO_KEEPALIVE_VALS.
 */
#ifndef LWFP_WINSOCK_MSTCPIP_H
#define LWFP_WINSOCK_MSTCPIP_H

#include "winsock2.h"
#include "ws2ipdef.h"

/*
 * _WSAIOW(IOC_VENDOR, 220..222), spelled out: Linux's <sys/ioctl.h> has an
 * IOC_IN of its own, and a source including it after this header must
 * still get the Windows values.
 */
/* From the accepted socket: the opaque redirect records. */
#define SIO_QUERY_WFP_CONNECTION_REDIRECT_RECORDS	0x980000DCu
/* From the accepted socket: the redirect context the callout attached. */
#define SIO_QUERY_WFP_CONNECTION_REDIRECT_CONTEXT	0x980000DDu
/* On the outbound socket, before connect(): the records of the flow. */
#define SIO_SET_WFP_CONNECTION_REDIRECT_RECORDS		0x980000DEu

/* _WSAIOW(IOC_VENDOR, 4): TCP keep-alive on or off, its idle time and
 * interval in milliseconds (kept to whole seconds, at least 1, as Linux
 * counts them). */
#define SIO_KEEPALIVE_VALS				0x98000004u

struct tcp_keepalive {
	ULONG onoff;
	ULONG keepalivetime;
	ULONG keepaliveinterval;
};

#endif /* LWFP_WINSOCK_MSTCPIP_H */
