/* SPDX-License-Identifier: MIT */
/*
 * Context layouts (struct lwfp_layout, lwfp_abi.h): compiled by the
 * control plane from a layout file, rendered per connection by the
 * library. The file, one statement a line ('#' starts a comment):
 *
 *   size N                      the bytes the service gets (default: the
 *                               end of the last field); at most 4096
 *   at OFFSET orig_dst FORMAT   the original destination
 *   at OFFSET local FORMAT      the client's own address (UDP: its
 *                               datagrams' source, as the service sees it)
 *        FORMAT: sockaddr_storage (128 bytes), sockaddr_in6 (28),
 *                sockaddr_inet (28), addr16, addr4, port (network order)
 *   at OFFSET pid|uid|gid|rule_id|protocol TYPE
 *        TYPE: u8, u16le, u16be, u32le, u32be, u64le, u64be
 *   at OFFSET bytes HEX...      fixed bytes: de ad be ef, or 0xdeadbeef
 *   at OFFSET rule_context LEN  the rule's context bytes, up to LEN
 *   at OFFSET comm              the process name (16 bytes, NUL-padded)
 *
 * Numbers are decimal or 0x hex. Fields may not overlap.
 */
#ifndef LWFP_LAYOUT_H
#define LWFP_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The largest compiled layout: it is kept where a rule's context is. */
#define LAYOUT_BLOB_MAX	4096
/* The largest layout file. */
#define LAYOUT_TEXT_MAX	65536

/*
 * Compile layout text (len bytes) into out (LAYOUT_BLOB_MAX bytes), its
 * length in *out_len. 0, or -EINVAL with a message naming the line in err.
 */
int layout_compile(const char *text, size_t len, void *out, size_t *out_len,
		   char *err, size_t errlen);

/*
 * A compiled layout as text layout_compile reads back into the same
 * blob, its statements on one line, apart by "; " (lwfp rule add
 * --context-layout-text). The length it needs, as snprintf, or -EBADMSG.
 */
int layout_describe(const void *blob, size_t len, char *out, size_t outlen);

/* Is blob a well-formed compiled layout? 0 or -EBADMSG. */
int layout_check(const void *blob, size_t len);

/* What a rendered layout's fields take their values from. */
struct layout_values {
	struct sockaddr_storage orig_dst;
	struct sockaddr_storage local;
	uint32_t pid, uid, gid, rule_id, protocol;
	char comm[16];
	const uint8_t *rule_context;
	size_t rule_context_len;
};

/*
 * Render blob into out (*len: its size, then the bytes written, or the
 * size needed with -ERANGE). -EBADMSG if blob is not a layout.
 */
int layout_render(const void *blob, size_t blob_len,
		  const struct layout_values *v, void *out, size_t *len);

#endif /* LWFP_LAYOUT_H */
