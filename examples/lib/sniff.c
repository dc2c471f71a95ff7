/* SPDX-License-Identifier: MIT */
/*
 * Protocol sniffing: an HTTP/1.x request line and the TLS SNI, from the
 * first bytes of a flow. See sniff.h for the contract.
 *
 * The input is whatever a client sent (and whatever the fuzzer makes up),
 * so the TLS parser reads only through a cursor that checks every length
 * against what is left of the structure enclosing it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sniff.h"

/* Copy n bytes as a NUL-terminated printable string, truncating to fit. */
static void copy_printable(char *out, size_t outlen, const uint8_t *src,
			   size_t n)
{
	size_t i;

	if (!outlen)
		return;
	if (n > outlen - 1)
		n = outlen - 1;
	for (i = 0; i < n; i++)
		out[i] = src[i] >= 0x20 && src[i] <= 0x7e ? (char)src[i] : '?';
	out[n] = '\0';
}

/* ---- HTTP/1.x request line --------------------------------------------- */

#define HTTP_MAX_METHOD	32

static bool is_method_char(uint8_t c, size_t pos)
{
	if (c >= 'A' && c <= 'Z')
		return true;
	return pos > 0 && (c == '-' || c == '_');
}

/* Anything visible, including obs-text (>= 0x80): targets are not
 * always clean, and we only log them. */
static bool is_target_char(uint8_t c)
{
	return c > 0x20 && c != 0x7f;
}

int sniff_http_request_line(const uint8_t *buf, size_t len, char *out,
			    size_t outlen)
{
	/* '#' stands for one digit */
	static const char version[] = "HTTP/1.#\r\n";
	size_t i = 0, start, k;

	while (i < len && is_method_char(buf[i], i))
		if (++i > HTTP_MAX_METHOD)
			return -EINVAL;
	if (i == len)
		return -EAGAIN;
	if (i == 0 || buf[i] != ' ')
		return -EINVAL;

	start = ++i;
	while (i < len && is_target_char(buf[i]))
		if (++i > SNIFF_HTTP_MAX_LINE)
			return -EINVAL;
	if (i == len)
		return -EAGAIN;
	if (i == start || buf[i] != ' ')
		return -EINVAL;

	for (i++, k = 0; version[k]; i++, k++) {
		if (i == len)
			return -EAGAIN;
		if (version[k] == '#' ? buf[i] < '0' || buf[i] > '9'
				      : buf[i] != (uint8_t)version[k])
			return -EINVAL;
	}
	copy_printable(out, outlen, buf, i - 2);	/* without CRLF */
	return 0;
}

/* ---- TLS ClientHello server_name ---------------------------------------- */

#define TLS_RECORD_HEADER	5
#define TLS_RECORD_MAX		16384	/* RFC 8446 5.1 */
#define TLS_CT_HANDSHAKE	22
#define TLS_HS_HEADER		4
#define TLS_HS_CLIENT_HELLO	1
#define TLS_EXT_SERVER_NAME	0
#define TLS_SNI_HOST_NAME	0

/* What is left of one length-delimited structure. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static bool take(struct cursor *c, size_t n, const uint8_t **data)
{
	if (n > c->left)
		return false;
	if (data)
		*data = c->p;
	c->p += n;
	c->left -= n;
	return true;
}

static bool get_u8(struct cursor *c, size_t *v)
{
	const uint8_t *d;

	if (!take(c, 1, &d))
		return false;
	*v = d[0];
	return true;
}

static bool get_u16(struct cursor *c, size_t *v)
{
	const uint8_t *d;

	if (!take(c, 2, &d))
		return false;
	*v = (size_t)d[0] << 8 | d[1];
	return true;
}

/* Split off a structure of n bytes, which must fit in its parent. */
static bool get_sub(struct cursor *c, size_t n, struct cursor *sub)
{
	sub->left = n;
	return take(c, n, &sub->p);
}

/* Skip a vector with a 1- or 2-byte length prefix, of min..max bytes. */
static bool skip_vec(struct cursor *c, int prefix, size_t min, size_t max)
{
	size_t n;

	if (!(prefix == 1 ? get_u8(c, &n) : get_u16(c, &n)))
		return false;
	return n >= min && n <= max && take(c, n, NULL);
}

/* The server_name extension body (RFC 6066 3): a list of (type, name). */
static int parse_server_name(struct cursor *ext, char *out, size_t outlen)
{
	struct cursor list;
	const uint8_t *name;
	size_t n, type;

	if (!get_u16(ext, &n) || !get_sub(ext, n, &list) || ext->left ||
	    !list.left)
		return -EINVAL;
	while (list.left) {
		if (!get_u8(&list, &type) || !get_u16(&list, &n) ||
		    !take(&list, n, &name))
			return -EINVAL;
		if (type != TLS_SNI_HOST_NAME)
			continue;
		if (!n)
			return -EINVAL;
		if (outlen < n + 1)
			return -ENOSPC;
		copy_printable(out, outlen, name, n);
		return 0;
	}
	return -ENOENT;
}

/* The ClientHello body (RFC 8446 4.1.2), up to its extensions. */
static int parse_client_hello(struct cursor *c, char *out, size_t outlen)
{
	struct cursor exts, ext;
	size_t version, n, type;

	if (!get_u16(c, &version) || version >> 8 != 3 ||
	    !take(c, 32, NULL) ||		/* random */
	    !skip_vec(c, 1, 0, 32) ||		/* legacy_session_id */
	    !skip_vec(c, 2, 2, 0xfffe) ||	/* cipher_suites */
	    !skip_vec(c, 1, 1, 0xff))		/* compression_methods */
		return -EINVAL;
	if (!c->left)
		return -ENOENT;	/* no extensions at all (SSLv3 style) */
	/* the extensions end where the ClientHello ends */
	if (!get_u16(c, &n) || !get_sub(c, n, &exts) || c->left)
		return -EINVAL;
	while (exts.left) {
		if (!get_u16(&exts, &type) || !get_u16(&exts, &n) ||
		    !get_sub(&exts, n, &ext))
			return -EINVAL;
		if (type == TLS_EXT_SERVER_NAME)
			return parse_server_name(&ext, out, outlen);
	}
	return -ENOENT;
}

/*
 * Judge the record and handshake headers as far as they have arrived, so
 * that non-TLS input is rejected from its first bytes; -EAGAIN until the
 * whole first record is there.
 */
static int check_headers(const uint8_t *buf, size_t len, size_t *hs_len)
{
	size_t rec_len;

	if ((len > 0 && buf[0] != TLS_CT_HANDSHAKE) ||
	    (len > 1 && buf[1] != 3) ||		/* SSLv3 .. TLS 1.3 */
	    (len > 2 && buf[2] > 4))
		return -EINVAL;
	if (len < TLS_RECORD_HEADER)
		return -EAGAIN;
	rec_len = (size_t)buf[3] << 8 | buf[4];
	if (rec_len < TLS_HS_HEADER || rec_len > TLS_RECORD_MAX)
		return -EINVAL;
	if (len > 5 && buf[5] != TLS_HS_CLIENT_HELLO)
		return -EINVAL;
	if (len >= TLS_RECORD_HEADER + TLS_HS_HEADER) {
		*hs_len = (size_t)buf[6] << 16 | (size_t)buf[7] << 8 | buf[8];
		/* fragmented over several records: not handled */
		if (*hs_len > rec_len - TLS_HS_HEADER)
			return -EINVAL;
	}
	if (len < TLS_RECORD_HEADER + rec_len)
		return -EAGAIN;
	return 0;
}

int sniff_tls_sni(const uint8_t *buf, size_t len, char *out, size_t outlen)
{
	struct cursor hello;
	size_t hs_len = 0;
	int ret;

	ret = check_headers(buf, len, &hs_len);
	if (ret)
		return ret;
	hello.p = buf + TLS_RECORD_HEADER + TLS_HS_HEADER;
	hello.left = hs_len;
	return parse_client_hello(&hello, out, outlen);
}
