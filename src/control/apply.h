/* SPDX-License-Identifier: MIT */
/*
 * A whole configuration (docs/configuration.md) made the engine's in one
 * step: services and rules that stay keep their slots, ids and flows;
 * the rule table flips at once, with the settings.
 */
#ifndef LWFP_APPLY_H
#define LWFP_APPLY_H

#include "admin.h"

struct conf_rule {
	struct lwfp_rule r;	/* r.service: an index into the services */
	struct rule_blobs b;
};

struct engine_conf {
	struct engine_settings set;	/* 0: the default */
	struct lwfp_service svc[LWFP_MAX_SERVICES];
	unsigned int nsvcs;
	struct conf_rule *rules;
	__u32 nrules;
};

/* What apply did. */
struct apply_counts {
	unsigned int svc_kept, svc_added, svc_moved, svc_removed;
	unsigned int rules_kept, rules_added, rules_removed;
};

/* The settings with the defaults where none is given. */
void engine_settings_fill(struct engine_settings *set);

/* Is the configuration sound on its own? Names, listen addresses,
 * protocols, the classifier's room. 0 or -errno, why in err. */
int engine_conf_check(const struct engine_conf *c, char *err, size_t errlen);

/*
 * Make the engine hold c and nothing else. Everything that can fail is
 * done before the flip and undone on failure: a connect sees the old
 * configuration or the new one. c->set must be filled.
 */
int admin_apply(struct admin *a, const struct engine_conf *c,
		struct apply_counts *n, char *err, size_t errlen);

#endif /* LWFP_APPLY_H */
