/* SPDX-License-Identifier: MIT */
/* The control plane: services, rules, stats and tracked sockets of an
 * engine, edited under an exclusive lock on its pin directory. */
#ifndef LWFP_ADMIN_H
#define LWFP_ADMIN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lwfp_abi.h"
#include "pins.h"

struct admin {
	char pin_dir[PATH_MAX];
	int dir_fd;
	int fd[MAP_COUNT];	/* every map, by enum lwfp_map (pins.h) */
	int flows_prog_fd;	/* -1 where the kernel refused the iterator */
};
int admin_open(const char *pin_dir, struct admin *a, char *err, size_t errlen);
void admin_close(struct admin *a);

/* The engine's event ring (lwfp_event), without the engine's lock: a
 * reader may follow it for long. An fd or -errno (message in err). */
int admin_events_open(const char *pin_dir, char *err, size_t errlen);

int admin_config(struct admin *a, struct lwfp_config *cfg);
int admin_config_write(struct admin *a, const struct lwfp_config *cfg);
/* What `lwfp load` may set (lwfp_config); 0: keep, or the default. */
struct engine_settings {
	__u32 udp_idle_s;		/* idle timeout of UDP flows */
	__u32 udp_flows_per_user;	/* UDP flows one uid may hold */
	__u32 pending_per_user;		/* hand-offs one uid may have */
	__u32 live_per_user;		/* live TCP flows of one uid */
};

/* Is any setting given? */
bool engine_settings_any(const struct engine_settings *set);
/* Write the settings given (not 0) into the engine's config. */
int admin_set(struct admin *a, const struct engine_settings *set);
int admin_stats(struct admin *a, __u64 out[LWFP_STAT_MAX]);

/* All slots, in use or not. */
int admin_services(struct admin *a, struct lwfp_service out[LWFP_MAX_SERVICES]);
int admin_service_find(struct admin *a, const char *name, __u32 *slot,
		       struct lwfp_service *svc);
/* Fill a service's target addresses from the address it listens on. */
int service_set_listen(struct lwfp_service *svc,
		       const struct sockaddr_storage *ss);
/* Would the two take the same connects (port, address, protocol)? */
bool services_clash(const struct lwfp_service *a, const struct lwfp_service *b);
int admin_service_add(struct admin *a, struct lwfp_service *svc, __u32 *slot,
		      char *err, size_t errlen);
int admin_service_del(struct admin *a, const char *name, char *err,
		      size_t errlen);

/* The live rule table, in arbitration order; *rules is malloc'ed. */
int admin_rules(struct admin *a, struct lwfp_rule **rules, __u32 *count);
/* What a rule carries besides its match: context bytes and a context
 * layout (compiled, src/common/layout.h); lengths 0 for none. */
struct rule_blobs {
	const void *ctx;
	size_t ctx_len;
	const void *layout;
	size_t layout_len;
};

int admin_rule_add(struct admin *a, struct lwfp_rule *r,
		   const struct rule_blobs *b, char *err, size_t errlen);
int admin_rule_del(struct admin *a, __u32 id, char *err, size_t errlen);
/* Append rules (without context) in one commit; ids are assigned. */
int admin_rules_append(struct admin *a, struct lwfp_rule *rules, __u32 n,
		       char *err, size_t errlen);
int admin_rule_ctx(struct admin *a, __u32 id, struct lwfp_rule_ctx *rc);
/* Write rules (n, any order) into the idle half and flip to it in one
 * write of the config: want's (settings, next rule id) if not NULL. */
int admin_rules_commit(struct admin *a, struct lwfp_rule *rules, __u32 n,
		       const struct lwfp_config *want, char *err,
		       size_t errlen);
/* A rule's blobs under its id (sets its HAS_CTX, HAS_LAYOUT), or gone. */
int admin_rule_blobs_put(struct admin *a, struct lwfp_rule *r,
			 const struct rule_blobs *b);
void admin_rule_blobs_del(struct admin *a, __u32 id);
/* Drop the blobs of rules not in rules[] that no socket names. */
void admin_rule_ctx_sweep(struct admin *a, const struct lwfp_rule *rules,
			  __u32 nrules);
/* Return once every engine program running now has returned: those that
 * read the table before a flip are done with what it named. */
int admin_wait_programs(void);
/* The live table half's classifier header. */
int admin_cls_hdr(struct admin *a, struct lwfp_cls_hdr *h);

/* Every socket the engine tracks; *out is malloc'ed. Without the flows
 * iterator: the flows accepted and the connects not yet accepted. */
int admin_sockets(struct admin *a, struct lwfp_sk_dump **out, size_t *n);
/* Every live UDP flow; *out is malloc'ed. */
int admin_udp_flows(struct admin *a, struct lwfp_udp_flow **out, size_t *n);

#endif /* LWFP_ADMIN_H */
