/* SPDX-License-Identifier: MIT */
/* The network namespace this process is in, as the engine names it. */
#ifndef LWFP_NETNS_H
#define LWFP_NETNS_H

#include <stddef.h>
#include <linux/types.h>

/* Its cookie (what bpf_get_netns_cookie() gives the engine's programs):
 * 0, or -errno (-ENOPROTOOPT: the kernel, before 5.14, cannot tell). */
int netns_cookie(__u64 *cookie);
/* The cookie of the namespace at path, or named by `ip netns` (a name
 * without '/'): -ENOENT, -ENOTDIR (not a network namespace), -EPERM. */
int netns_cookie_of(const char *name, __u64 *cookie);
/* The name `ip netns` gave the namespace of that cookie (the first in
 * /run/netns that has it): 0, or -ENOENT when none has. */
int netns_name_of(__u64 cookie, char *out, size_t len);

#endif /* LWFP_NETNS_H */
