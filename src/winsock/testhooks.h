/* SPDX-License-Identifier: MIT */
/*
 * Test hooks of lwfp-winsock, exported from the library but in no public
 * header: for the conformance tests only.
 */
#ifndef LWFP_WINSOCK_TESTHOOKS_H
#define LWFP_WINSOCK_TESTHOOKS_H

/*
 * While held (non-zero), the worker starts no overlapped operation: each
 * one stays pending (WSA_IO_INCOMPLETE) until released, or until it is
 * aborted (closesocket, SIO_FLUSH). Makes "pending" deterministic.
 */
void lwfp_winsock_hold_completions(int hold);

/*
 * How many threads are blocked in GetQueuedCompletionStatus(Ex) on port
 * (-1 if it is not a port): lets a test know that a thread it started is
 * waiting before it posts a packet.
 */
int lwfp_winsock_port_blocked(HANDLE port);

#endif /* LWFP_WINSOCK_TESTHOOKS_H */
