/* SPDX-License-Identifier: MIT */
/* lwfp-winsock: IPv6 address types and the WFP IPPROTO_IP options. */
#ifndef LWFP_WINSOCK_WS2IPDEF_H
#define LWFP_WINSOCK_WS2IPDEF_H

#include <netinet/in.h>

#include "ws2def.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sockaddr_in6 SOCKADDR_IN6;
typedef struct sockaddr_in6 *PSOCKADDR_IN6;
typedef struct sockaddr_in6 *LPSOCKADDR_IN6;
typedef struct in6_addr IN6_ADDR;
typedef struct in6_addr *PIN6_ADDR;
typedef struct in6_addr *LPIN6_ADDR;

/*
 * IPPROTO_IP options of WFP redirect services for UDP (Windows values).
 * Defined for sources that name them; lwfp redirects TCP only, so
 * setsockopt() with them fails (ENOPROTOOPT).
 */
#define IP_WFP_REDIRECT_RECORDS	60
#define IP_WFP_REDIRECT_CONTEXT	70

#ifdef __cplusplus
}
#endif

#endif /* LWFP_WINSOCK_WS2IPDEF_H */
