// SPDX-License-Identifier: MIT
/*
 * Caches for the context query: a service slot's name never changes under
 * its generation, a rule's context and layout never change under its id.
 * After the first query for a service and a rule, a context query is one
 * syscall.
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

/* A rule's context and its layout in neighbouring slots, so that the
 * two do not evict each other. */
static unsigned int rule_slot(__u32 key)
{
	__u32 layout = LWFP_RULE_LAYOUT_KEY(0);

	return (key & ~layout) % (RULE_CACHE_SLOTS / 2) * 2 + !!(key & layout);
}

bool cache_rule_ctx_get(struct lwfp *e, __u32 key, unsigned char *out,
			size_t *len)
{
	unsigned int i = rule_slot(key);
	bool hit;

	pthread_mutex_lock(&e->lock);
	hit = e->rules[i].valid && e->rules[i].key == key;
	if (hit) {
		*len = e->rules[i].len;
		if (*len)
			memcpy(out, e->rules[i].data, *len);
	}
	pthread_mutex_unlock(&e->lock);
	return hit;
}

void cache_rule_ctx_put(struct lwfp *e, __u32 key,
			const unsigned char *data, size_t len)
{
	unsigned int i = rule_slot(key);
	unsigned char *copy = len ? malloc(len) : NULL;

	if (len && !copy)
		return;		/* asked again next time */
	if (len)
		memcpy(copy, data, len);
	pthread_mutex_lock(&e->lock);
	free(e->rules[i].data);
	e->rules[i].valid = true;
	e->rules[i].key = key;
	e->rules[i].len = len;
	e->rules[i].data = copy;
	pthread_mutex_unlock(&e->lock);
}

void cache_free(struct lwfp *e)
{
	for (unsigned int i = 0; i < RULE_CACHE_SLOTS; i++)
		free(e->rules[i].data);
	pthread_mutex_destroy(&e->lock);
}
