/* SPDX-License-Identifier: MIT */
/* The library's handle on one engine instance (internal). */
#ifndef LWFP_ENGINE_H
#define LWFP_ENGINE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "lwfp_abi.h"

/* 64 rules: their context bytes and their layouts, a slot each */
#define RULE_CACHE_SLOTS 128

struct lwfp {
	char pin_dir[PATH_MAX];
	int services_fd;	/* read-only: names, for contexts and states */
	/* what never changes under its key, so a context query is one
	 * syscall: a service slot's name under its generation, a rule's
	 * context and layout under its id (ids are never reused in an
	 * engine) */
	pthread_mutex_t lock;
	struct {
		__u32 gen;
		char name[LWFP_SERVICE_NAME_MAX];
	} names[LWFP_MAX_SERVICES];
	struct {
		bool valid;
		__u32 key;	/* as in lwfp_rule_ctx */
		__u32 len;
		unsigned char *data;
	} rules[RULE_CACHE_SLOTS];
	/* UDP flows lwfp_recvmsg() announced, by token; allocated on use */
	__u64 *announced;
};

/* The name of a service slot under a generation; "slot-N" if it is gone. */
void cache_service_name(struct lwfp *e, __u32 slot, __u32 gen, char *out,
			size_t outlen);
/* A rule's bytes under their lwfp_rule_ctx key (the rule id for its
 * context, LWFP_RULE_LAYOUT_KEY(id) for its layout) into out
 * (LWFP_RULE_CTX_MAX), *len their number: true if the cache had them. */
bool cache_rule_ctx_get(struct lwfp *e, __u32 key, unsigned char *out,
			size_t *len);
void cache_rule_ctx_put(struct lwfp *e, __u32 key,
			const unsigned char *data, size_t len);
void cache_free(struct lwfp *e);

/* Resolve NULL to the process default engine, opening it on first use. */
int engine_resolve(struct lwfp **engine);

#endif /* LWFP_ENGINE_H */
