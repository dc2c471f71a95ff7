// SPDX-License-Identifier: MIT
/*
 * Caches for the context query: a service slot's name never changes under
 * its generation, a rule's context never changes under its id. After the
 * first query for a service and a rule, a context query is one syscall.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "engine.h"

void cache_service_name(struct lwfp *e, __u32 slot, __u32 gen, char *out,
			size_t outlen)
{
	struct lwfp_service svc;
	bool found = false;

	slot %= LWFP_MAX_SERVICES;
	pthread_mutex_lock(&e->lock);
	if (e->names[slot].gen == gen && e->names[slot].name[0]) {
		snprintf(out, outlen, "%s", e->names[slot].name);
		found = true;
	}
	pthread_mutex_unlock(&e->lock);
	if (found)
		return;
	/* a slot registered again since names another service */
	if (bpf_map_lookup_elem(e->services_fd, &slot, &svc) ||
	    svc.gen != gen || !svc.name[0]) {
		snprintf(out, outlen, "slot-%u", slot);
		return;
	}
	svc.name[sizeof(svc.name) - 1] = '\0';
	snprintf(out, outlen, "%s", svc.name);
	pthread_mutex_lock(&e->lock);
	e->names[slot].gen = gen;
	memcpy(e->names[slot].name, svc.name, sizeof(svc.name));
	pthread_mutex_unlock(&e->lock);
}

size_t cache_rule_ctx(struct lwfp *e, __u32 rule_id, unsigned char *out)
{
	unsigned int i = rule_id % RULE_CACHE_SLOTS;
	struct lwfp_rule_ctx *rc;
	unsigned char *copy = NULL;
	size_t len = 0;

	pthread_mutex_lock(&e->lock);
	if (e->rules[i].valid && e->rules[i].rule_id == rule_id) {
		len = e->rules[i].len;
		if (len)
			memcpy(out, e->rules[i].data, len);
		pthread_mutex_unlock(&e->lock);
		return len;
	}
	pthread_mutex_unlock(&e->lock);

	rc = malloc(sizeof(*rc));
	if (!rc)
		return 0;
	/* no entry: the rule has no context (it is stored before the rule
	 * goes live, so no flow of the rule can see it missing) */
	if (!bpf_map_lookup_elem(e->rule_ctx_fd, &rule_id, rc) &&
	    rc->len <= sizeof(rc->data))
		len = rc->len;
	memcpy(out, rc->data, len);
	copy = len ? malloc(len) : NULL;
	if (copy || !len) {
		if (copy)
			memcpy(copy, rc->data, len);
		pthread_mutex_lock(&e->lock);
		free(e->rules[i].data);
		e->rules[i].valid = true;
		e->rules[i].rule_id = rule_id;
		e->rules[i].len = len;
		e->rules[i].data = copy;
		pthread_mutex_unlock(&e->lock);
	}
	free(rc);
	return len;
}

void cache_free(struct lwfp *e)
{
	for (unsigned int i = 0; i < RULE_CACHE_SLOTS; i++)
		free(e->rules[i].data);
	pthread_mutex_destroy(&e->lock);
}
