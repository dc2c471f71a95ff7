/* SPDX-License-Identifier: MIT */
/*
 * Where the engine's sockopt programs run: the cgroups of its services,
 * not its whole scope. The kernel copies a getsockopt()'s buffer for any
 * program attached over the socket's cgroup, whatever the option, which
 * doubled the cost of every getsockopt() in scope (docs/performance.md §2).
 */
#ifndef LWFP_SOCKOPT_HOOKS_H
#define LWFP_SOCKOPT_HOOKS_H

#include <stddef.h>

struct admin;

/* Pin names of a service cgroup's links: link_sockopt_ID_get / _set. */
#define PIN_SOCKOPT_LINK PIN_LINK_PREFIX "sockopt_"

/*
 * Make the links match the services in the map: the sockopt programs
 * attached to each service's cgroup (--cgroup; the cgroup a --pid
 * process is in now, if in scope; the scope for a service that names
 * neither), once per cgroup, to the programs pinned now; links of
 * cgroups no service has any more detached; links an older engine had on
 * the whole scope detached last. 0 or -errno (message in err).
 */
int admin_sockopt_sync(struct admin *a, char *err, size_t errlen);

#endif /* LWFP_SOCKOPT_HOOKS_H */
