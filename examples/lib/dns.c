/* SPDX-License-Identifier: MIT */
/*
 * DNS: the header and the first question of a message. See dns.h for the
 * contract.
 *
 * The input is whatever a client sent (and whatever the fuzzer makes up):
 * every byte is read only after checking that it is inside the datagram,
 * and the name is bounded on the wire before it is written out.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"

/*
 * The longest text a name of at most DNS_WIRE_NAME_MAX bytes on the wire
 * can take: k labels hold at most 254 - k bytes, each written as 4 ("\DDD"),
 * with k - 1 dots between them; labels of 63 bytes need k >= 4, so at most
 * 4 * 250 + 3 = 1003 characters and the NUL.
 */
_Static_assert(DNS_NAME_TEXT_MAX >= 1004, "room for any name as text");

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Write one label byte at out[n] in presentation form; returns the new n. */
static size_t put_label_byte(char *out, size_t n, uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
		out[n++] = (char)c;
		return n;
	}
	out[n++] = '\\';
	out[n++] = (char)('0' + c / 100);
	out[n++] = (char)('0' + c / 10 % 10);
	out[n++] = (char)('0' + c % 10);
	return n;
}

/*
 * The uncompressed name at msg[*off], as text in out (DNS_NAME_TEXT_MAX
 * bytes). On success *off is the offset after the name.
 */
static int parse_name(const uint8_t *msg, size_t len, size_t *off, char *out)
{
	size_t pos = *off, wire = 1, n = 0;	/* wire: the root's 0 byte */

	for (;;) {
		uint8_t label;

		if (pos >= len)
			return -EBADMSG;
		label = msg[pos++];
		if (!label)
			break;
		/* 0xc0: a compression pointer; 0x40, 0x80: reserved types */
		if (label > DNS_LABEL_MAX)
			return -EBADMSG;
		if (label > len - pos)
			return -EBADMSG;
		wire += 1 + label;
		if (wire > DNS_WIRE_NAME_MAX)
			return -ENAMETOOLONG;
		if (n)
			out[n++] = '.';
		for (size_t i = 0; i < label; i++) {
			/* cannot happen (see above); cheap to be sure */
			if (n + 5 > DNS_NAME_TEXT_MAX)
				return -ENAMETOOLONG;
			n = put_label_byte(out, n, msg[pos + i]);
		}
		pos += label;
	}
	if (!n)
		out[n++] = '.';		/* the root */
	out[n] = '\0';
	*off = pos;
	return 0;
}

int dns_parse_question(const uint8_t *msg, size_t len,
		       struct dns_question *q)
{
	struct dns_question tmp;
	size_t off = DNS_HEADER_LEN;
	int err;

	if (!msg || !q)
		return -EINVAL;
	if (len < DNS_HEADER_LEN)
		return -EBADMSG;
	tmp.id = get16(msg);
	tmp.flags = get16(msg + 2);
	tmp.qdcount = get16(msg + 4);
	tmp.ancount = get16(msg + 6);
	tmp.nscount = get16(msg + 8);
	tmp.arcount = get16(msg + 10);
	if (!tmp.qdcount)
		return -ENOENT;

	err = parse_name(msg, len, &off, tmp.qname);
	if (err)
		return err;
	if (len - off < 4)
		return -EBADMSG;
	tmp.qtype = get16(msg + off);
	tmp.qclass = get16(msg + off + 2);
	tmp.end = off + 4;
	memcpy(q, &tmp, sizeof(tmp));
	return 0;
}

struct code_name {
	uint16_t code;
	const char *name;
};

static const struct code_name types[] = {
	{ 1, "A" },	{ 2, "NS" },	  { 5, "CNAME" },  { 6, "SOA" },
	{ 12, "PTR" },	{ 13, "HINFO" },  { 15, "MX" },	   { 16, "TXT" },
	{ 28, "AAAA" }, { 33, "SRV" },	  { 35, "NAPTR" }, { 41, "OPT" },
	{ 43, "DS" },	{ 46, "RRSIG" },  { 47, "NSEC" },  { 48, "DNSKEY" },
	{ 50, "NSEC3" }, { 52, "TLSA" },  { 64, "SVCB" },  { 65, "HTTPS" },
	{ 252, "AXFR" }, { 255, "ANY" },  { 257, "CAA" },
};

static const char *const rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

const char *dns_type_str(uint16_t type, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].code == type)
			return types[i].name;
	snprintf(buf, len, "TYPE%u", type);
	return buf;
}

const char *dns_rcode_str(unsigned int rcode, char *buf, size_t len)
{
	if (rcode < sizeof(rcodes) / sizeof(rcodes[0]))
		return rcodes[rcode];
	snprintf(buf, len, "RCODE%u", rcode);
	return buf;
}
