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

#endif /* LWFP_WINSOCK_TESTHOOKS_H */
