/* SPDX-License-Identifier: MIT */
/*
 * Protocol sniffing over the first bytes a client sent: what an inspecting
 * redirect service logs about a flow (an HTTP request line, a TLS SNI).
 *
 * Pure, defensive parsers: no I/O, no allocation, every length checked
 * against the buffer (they are fuzzed). Each may be called again with a
 * longer buffer as more bytes arrive:
 *   0        found; out holds a NUL-terminated, printable string
 *   -EAGAIN  not decided yet: could still match once more bytes arrive
 *   -EINVAL  not this protocol (or malformed)
 */
#ifndef LWFP_SNIFF_H
#define LWFP_SNIFF_H

#include <stddef.h>
#include <stdint.h>

/* Longest HTTP request line looked at; a longer one is -EINVAL. */
#define SNIFF_HTTP_MAX_LINE	8192
/* Enough for any host_name (at most 255 bytes) and its NUL. */
#define SNIFF_SNI_MAX		256

/*
 * An HTTP/1.x request line: METHOD SP request-target SP HTTP/1.<digit> CRLF.
 * METHOD is an uppercase token (A-Z, then A-Z, '-' or '_'); the target is
 * any bytes but controls, spaces and DEL. On success out holds the line
 * without CRLF, truncated to outlen - 1 bytes, bytes outside 0x20-0x7e
 * replaced by '?'. out may be NULL if outlen is 0.
 */
int sniff_http_request_line(const uint8_t *buf, size_t len, char *out,
			    size_t outlen);

/*
 * The host_name of the server_name extension of a TLS ClientHello.
 * buf must start with a TLS handshake record (content type 22) holding the
 * ClientHello; only a ClientHello that fits in that first record is
 * handled (a fragmented one is -EINVAL), and the whole record must have
 * arrived (-EAGAIN until then; a record is at most 5 + 16384 bytes).
 * -ENOENT: a complete ClientHello without a host_name; -ENOSPC: out is
 * too small for it (SNIFF_SNI_MAX always suffices). Bytes outside
 * 0x20-0x7e are replaced by '?'.
 */
int sniff_tls_sni(const uint8_t *buf, size_t len, char *out, size_t outlen);

#endif /* LWFP_SNIFF_H */
