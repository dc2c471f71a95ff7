/* SPDX-License-Identifier: MIT */
/*
 * DNS: the header and the first question of a DNS message (RFC 1035 4.1),
 * what an inspecting UDP redirect service logs about a query or a reply.
 *
 * A pure, defensive parser: no I/O, no allocation, every length checked
 * against the datagram (it is fuzzed). It returns
 *   0            parsed; the question's name is NUL-terminated text
 *   -EINVAL      msg or q is NULL
 *   -EBADMSG     shorter than a header, or the question is truncated or
 *                malformed: a label over 63 bytes, a reserved label type,
 *                or a compression pointer (a first question has no earlier
 *                name to point to, so one there is refused, not followed)
 *   -ENAMETOOLONG the name is longer than 255 bytes on the wire (253
 *                characters written with dots)
 *   -ENOENT      a well-formed header without a question (QDCOUNT 0)
 */
#ifndef LWFP_DNS_H
#define LWFP_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN		12
#define DNS_LABEL_MAX		63
/* Longest name on the wire: its labels, their length bytes and the root. */
#define DNS_WIRE_NAME_MAX	255
/* Longest name as text: 253 characters, each possibly escaped as \DDD. */
#define DNS_NAME_TEXT_MAX	(4 * 253 + 1)

/* Header flags (the 16 bits after the ID). */
#define DNS_FLAG_QR		0x8000	/* a response */
#define DNS_OPCODE(flags)	(((flags) >> 11) & 0xf)
#define DNS_RCODE(flags)	((flags) & 0xf)

#define DNS_TYPE_A		1
#define DNS_TYPE_AAAA		28
#define DNS_CLASS_IN		1

struct dns_question {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount, ancount, nscount, arcount;
	/* the first question */
	char qname[DNS_NAME_TEXT_MAX];
	uint16_t qtype;
	uint16_t qclass;
	size_t end;		/* offset of the byte after the question */
};

/*
 * Parse the header and the first question of msg (len bytes). The name is
 * written in presentation form, without the final dot ("." for the root):
 * letters lowercased, and bytes outside 0x21-0x7e as well as '.' and '\'
 * inside a label escaped as \DDD (decimal), so it is always printable and
 * never mistaken for another name. q is written only on success.
 */
int dns_parse_question(const uint8_t *msg, size_t len,
		       struct dns_question *q);

/* A type's mnemonic ("A", "AAAA", "MX"...), or "TYPE<n>" (RFC 3597) in buf,
 * which should hold at least 12 bytes. Returns the string. */
const char *dns_type_str(uint16_t type, char *buf, size_t len);

/* An RCODE's mnemonic ("NOERROR", "NXDOMAIN"...), or "RCODE<n>" in buf
 * (at least 12 bytes). */
const char *dns_rcode_str(unsigned int rcode, char *buf, size_t len);

#endif /* LWFP_DNS_H */
