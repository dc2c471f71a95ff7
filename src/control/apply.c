// SPDX-License-Identifier: MIT
/* apply: a whole configuration made the engine's, in one flip. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "i18n.h"
#include "apply.h"
#include "classify.h"
#include "sockopt_hooks.h"

void engine_settings_fill(struct engine_settings *set)
{
	if (!set->udp_idle_s)
		set->udp_idle_s = LWFP_UDP_IDLE_DEFAULT_S;
	if (!set->udp_flows_per_user)
		set->udp_flows_per_user = LWFP_UDP_FLOWS_PER_USER_DEFAULT;
	if (!set->pending_per_user)
		set->pending_per_user = LWFP_PENDING_PER_USER_DEFAULT;
	if (!set->live_per_user)
		set->live_per_user = LWFP_LIVE_PER_USER_DEFAULT;
}

static int check_services(const struct engine_conf *c, char *err,
			  size_t errlen)
{
	for (unsigned int i = 0; i < c->nsvcs; i++)
		for (unsigned int j = 0; j < i; j++) {
			if (!strncmp(c->svc[i].name, c->svc[j].name,
				     sizeof(c->svc[i].name))) {
				snprintf(err, errlen, _("service '%s' is declared "
					 "twice"), c->svc[i].name);
				return -EEXIST;
			}
			if (services_clash(&c->svc[i], &c->svc[j])) {
				snprintf(err, errlen, _("services '%s' and '%s' "
					 "listen on the same address and port"),
					 c->svc[j].name, c->svc[i].name);
				return -EEXIST;
			}
		}
	return 0;
}

int engine_conf_check(const struct engine_conf *c, char *err, size_t errlen)
{
	struct lwfp_rule *rules;
	struct cls_table t;
	int ret = check_services(c, err, errlen);

	if (ret)
		return ret;
	if (c->nrules > LWFP_MAX_RULES) {
		snprintf(err, errlen, _("too many rules (max %d)"), LWFP_MAX_RULES);
		return -ENOSPC;
	}
	rules = calloc(c->nrules + 1, sizeof(*rules));
	if (!rules) {
		snprintf(err, errlen, _("out of memory"));
		return -ENOMEM;
	}
	for (__u32 i = 0; !ret && i < c->nrules; i++) {
		const struct lwfp_service *svc;

		rules[i] = c->rules[i].r;
		if (rules[i].service >= c->nsvcs) {
			snprintf(err, errlen, _("a rule names no service"));
			ret = -EINVAL;
			break;
		}
		svc = &c->svc[rules[i].service];
		if (svc->flags & (rules[i].proto == IPPROTO_UDP ?
				  LWFP_SVC_NO_UDP : LWFP_SVC_NO_TCP)) {
			snprintf(err, errlen, _("service '%s' does not serve %s"),
				 svc->name, rules[i].proto == IPPROTO_UDP ?
				 "udp" : "tcp");
			ret = -EINVAL;
		}
	}
	/* the classifier's room does not depend on the order */
	if (!ret)
		ret = cls_build(rules, c->nrules, &t, err, errlen);
	if (!ret)
		cls_free(&t);
	free(rules);
	return ret;
}

/* What apply works out before it writes anything. */
struct plan {
	struct lwfp_config cfg;
	struct lwfp_service run[LWFP_MAX_SERVICES];	/* as they are */
	struct lwfp_service next[LWFP_MAX_SERVICES];	/* written before */
	bool write[LWFP_MAX_SERVICES];
	bool keep[LWFP_MAX_SERVICES];	/* running and staying */
	__u32 slot_of[LWFP_MAX_SERVICES];	/* the conf's service i */
	struct lwfp_rule *old, *rules;
	__u32 nold;
	bool *old_used;
	__u32 *fresh;		/* ids given to rules new or renumbered */
	__u32 nfresh;
	struct lwfp_rule_ctx *rc;
};

static bool in_use(const struct lwfp_service *s)
{
	return s->flags & LWFP_SVC_IN_USE;
}

/* The same service but for its weight (and its registration's gen)? */
static bool same_service(const struct lwfp_service *a,
			 const struct lwfp_service *b)
{
	return !strncmp(a->name, b->name, sizeof(a->name)) &&
	       !memcmp(a->addr4, b->addr4, sizeof(a->addr4)) &&
	       !memcmp(a->addr6, b->addr6, sizeof(a->addr6)) &&
	       !memcmp(a->listen, b->listen, sizeof(a->listen)) &&
	       a->port_be == b->port_be &&
	       (a->flags & ~LWFP_SVC_IN_USE) == (b->flags & ~LWFP_SVC_IN_USE) &&
	       a->pid == b->pid && a->pid_start == b->pid_start &&
	       a->uid == b->uid && a->cgroup_id == b->cgroup_id &&
	       a->cgroup_level == b->cgroup_level && a->netns == b->netns;
}

/* A slot free now and not yet taken: the one freed longest ago. */
static int fresh_slot(const struct plan *p)
{
	int best = -1;

	for (int s = 0; s < LWFP_MAX_SERVICES; s++)
		if (!in_use(&p->run[s]) && !p->write[s] &&
		    (best < 0 || p->run[s].gen < p->run[best].gen))
			best = s;
	return best;
}

static int running_named(const struct plan *p, const char *name)
{
	for (int s = 0; s < LWFP_MAX_SERVICES; s++)
		if (in_use(&p->run[s]) &&
		    !strncmp(p->run[s].name, name, sizeof(p->run[s].name)))
			return s;
	return -1;
}

/*
 * A service that stays keeps its slot (a new weight is written in place:
 * only the flip's ordering reads it); a new or changed one goes into a
 * free slot, which no rule names until the flip.
 */
static int plan_services(struct plan *p, const struct engine_conf *c,
			 struct apply_counts *n, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < c->nsvcs; i++) {
		const struct lwfp_service *want = &c->svc[i];
		int s = running_named(p, want->name), f;

		if (s >= 0 && same_service(&p->run[s], want)) {
			p->keep[s] = true;
			p->slot_of[i] = s;
			n->svc_kept++;
			if (p->run[s].weight == want->weight)
				continue;
			p->next[s] = p->run[s];
			p->next[s].weight = want->weight;
			p->write[s] = true;
			continue;
		}
		f = fresh_slot(p);
		if (f < 0) {
			snprintf(err, errlen, _("no free service slot for '%s' "
				 "(max %d; a changed service takes a new one "
				 "until the flip)"), want->name,
				 LWFP_MAX_SERVICES);
			return -ENOSPC;
		}
		p->next[f] = *want;
		p->next[f].gen = p->run[f].gen + 1;
		p->next[f].flags |= LWFP_SVC_IN_USE;
		p->write[f] = true;
		p->slot_of[i] = f;
		if (s >= 0)
			n->svc_moved++;
		else
			n->svc_added++;
	}
	for (int s = 0; s < LWFP_MAX_SERVICES; s++)
		n->svc_removed += in_use(&p->run[s]) && !p->keep[s];
	n->svc_removed -= n->svc_moved;
	return 0;
}

/* Does the rule's blob under key hold these bytes (or none, len 0)? */
static bool blob_is(struct admin *a, struct plan *p, bool has, __u32 key,
		    const void *data, size_t len)
{
	if (!has || !len)
		return !has && !len;
	return !admin_rule_ctx(a, key, p->rc) && p->rc->len == len &&
	       !memcmp(p->rc->data, data, len);
}

#define RULE_MATCH_FLAGS (LWFP_RULE_UID | LWFP_RULE_CGROUP | LWFP_RULE_REINSPECT)

static bool same_rule(struct admin *a, struct plan *p,
		      const struct lwfp_rule *o, const struct conf_rule *cr,
		      const char *service)
{
	const struct lwfp_rule *r = &cr->r;

	if (strncmp(p->run[o->service % LWFP_MAX_SERVICES].name, service,
		    LWFP_SERVICE_NAME_MAX) ||
	    memcmp(o->dst, r->dst, 16) || memcmp(o->mask, r->mask, 16) ||
	    o->dport_lo != r->dport_lo || o->dport_hi != r->dport_hi ||
	    o->proto != r->proto || o->prefix_len != r->prefix_len ||
	    (o->flags & RULE_MATCH_FLAGS) != (r->flags & RULE_MATCH_FLAGS) ||
	    o->uid != r->uid || o->cgroup_level != r->cgroup_level ||
	    o->cgroup_id != r->cgroup_id)
		return false;
	return blob_is(a, p, o->flags & LWFP_RULE_HAS_CTX, o->id, cr->b.ctx,
		       cr->b.ctx_len) &&
	       blob_is(a, p, o->flags & LWFP_RULE_HAS_LAYOUT,
		       LWFP_RULE_LAYOUT_KEY(o->id), cr->b.layout,
		       cr->b.layout_len);
}

/* A running rule the same as cr, not taken yet; from where the last one
 * was found, as a saved file lists them in the running order. */
static int find_old(struct admin *a, struct plan *p, const struct conf_rule *cr,
		    const char *service, __u32 *from)
{
	for (__u32 k = 0; k < p->nold; k++) {
		__u32 i = (*from + k) % p->nold;

		if (!p->old_used[i] && same_rule(a, p, &p->old[i], cr, service)) {
			*from = i + 1;
			return i;
		}
	}
	return -1;
}

/* The rules of one weight, as they go in arbitration order. */
struct weight_group {
	__u32 weight, last_id;
	bool renumbered;
};

static struct weight_group *group_of(struct weight_group *g, unsigned int *ng,
				     __u32 weight)
{
	for (unsigned int i = 0; i < *ng; i++)
		if (g[i].weight == weight)
			return &g[i];
	g[*ng] = (struct weight_group){ .weight = weight };
	return &g[(*ng)++];
}

/*
 * Rules of the same weight go in the file's order, and the engine orders
 * them by id: a rule keeps its id if it runs already and that id comes
 * after the one kept before it; from the first that cannot, the rules of
 * that weight take new ids, in the file's order.
 */
static void plan_rules(struct admin *a, struct plan *p,
		       const struct engine_conf *c, struct apply_counts *n)
{
	struct weight_group g[LWFP_MAX_SERVICES];
	unsigned int ng = 0;
	__u32 from = 0;

	for (__u32 j = 0; j < c->nrules; j++) {
		const struct conf_rule *cr = &c->rules[j];
		const struct lwfp_service *svc = &c->svc[cr->r.service];
		struct weight_group *w = group_of(g, &ng, svc->weight);
		struct lwfp_rule *r = &p->rules[j];
		int k = find_old(a, p, cr, svc->name, &from);

		*r = cr->r;
		r->service = p->slot_of[cr->r.service];
		if (k >= 0 && !w->renumbered && p->old[k].id > w->last_id) {
			p->old_used[k] = true;
			r->id = w->last_id = p->old[k].id;
			r->flags = p->old[k].flags;
			n->rules_kept++;
			continue;
		}
		w->renumbered = true;
		r->id = p->cfg.next_rule_id++;
		r->flags &= ~(LWFP_RULE_HAS_CTX | LWFP_RULE_HAS_LAYOUT);
		p->fresh[p->nfresh++] = j;
		n->rules_added++;
	}
	n->rules_removed = p->nold - n->rules_kept;
}

static int plan_read(struct admin *a, struct plan *p, const struct engine_conf *c)
{
	int ret = admin_config(a, &p->cfg);

	if (!ret)
		ret = admin_services(a, p->run);
	if (!ret)
		ret = admin_rules(a, &p->old, &p->nold);
	if (ret)
		return ret;
	p->old_used = calloc(p->nold + 1, sizeof(*p->old_used));
	p->rules = calloc(c->nrules + 1, sizeof(*p->rules));
	p->fresh = calloc(c->nrules + 1, sizeof(*p->fresh));
	p->rc = malloc(sizeof(*p->rc));
	return p->old_used && p->rules && p->fresh && p->rc ? 0 : -ENOMEM;
}

static void plan_free(struct plan *p)
{
	free(p->old);
	free(p->old_used);
	free(p->rules);
	free(p->fresh);
	free(p->rc);
	free(p);
}

/* Put back what was written before the flip. */
static void undo(struct admin *a, struct plan *p, __u32 nblobs)
{
	for (__u32 s = 0; s < LWFP_MAX_SERVICES; s++)
		if (p->write[s])
			bpf_map_update_elem(a->fd[MAP_SERVICES], &s, &p->run[s],
					    BPF_ANY);
	for (__u32 i = 0; i < nblobs; i++)
		admin_rule_blobs_del(a, p->rules[p->fresh[i]].id);
}

/* Before the flip: the new rules' blobs under their new ids, and the
 * services in slots no rule of the running table names. */
static int write_before(struct admin *a, struct plan *p,
			const struct engine_conf *c, char *err, size_t errlen)
{
	int ret = 0;
	__u32 i;

	for (i = 0; !ret && i < p->nfresh; i++)
		ret = admin_rule_blobs_put(a, &p->rules[p->fresh[i]],
					   &c->rules[p->fresh[i]].b);
	for (__u32 s = 0; !ret && s < LWFP_MAX_SERVICES; s++)
		if (p->write[s] && bpf_map_update_elem(a->fd[MAP_SERVICES], &s,
						       &p->next[s], BPF_ANY))
			ret = -errno;
	if (ret) {
		undo(a, p, i);
		snprintf(err, errlen, _("cannot write the engine: %s"),
			 strerror(-ret));
	}
	return ret;
}

/* After the flip, once no program reads the old table: the services it
 * alone named go. */
static void write_after(struct admin *a, struct plan *p,
			const struct engine_conf *c)
{
	if (admin_wait_programs())
		usleep(100000);	/* no map of maps: a grace period, at worst */
	for (__u32 s = 0; s < LWFP_MAX_SERVICES; s++) {
		struct lwfp_service gone = p->run[s];

		if (!in_use(&gone) || p->keep[s])
			continue;
		/* the name stays until the slot is reused (admin.c) */
		gone.flags &= ~LWFP_SVC_IN_USE;
		bpf_map_update_elem(a->fd[MAP_SERVICES], &s, &gone, BPF_ANY);
	}
	admin_rule_ctx_sweep(a, p->rules, c->nrules);
}

/* The flip; the commit sorts what it is given, a copy: undo() and the
 * sweep find the new rules by their place in the file. */
static int commit_copy(struct admin *a, struct plan *p, __u32 n,
		       const struct lwfp_config *want, char *err, size_t errlen)
{
	struct lwfp_rule *sorted = malloc((n + 1) * sizeof(*sorted));
	int ret;

	if (!sorted) {
		snprintf(err, errlen, _("out of memory"));
		return -ENOMEM;
	}
	memcpy(sorted, p->rules, n * sizeof(*sorted));
	ret = admin_rules_commit(a, sorted, n, want, err, errlen);
	free(sorted);
	return ret;
}

/* A link left over costs only time; the next change retries. */
static void sockopt_resync(struct admin *a)
{
	char ignored[256];

	admin_sockopt_sync(a, ignored, sizeof(ignored));
}

int admin_apply(struct admin *a, const struct engine_conf *c,
		struct apply_counts *n, char *err, size_t errlen)
{
	struct plan *p = calloc(1, sizeof(*p));
	struct lwfp_config want;
	int ret = p ? plan_read(a, p, c) : -ENOMEM;

	memset(n, 0, sizeof(*n));
	if (ret) {
		snprintf(err, errlen, _("cannot read the engine: %s"),
			 strerror(-ret));
		goto out;
	}
	ret = plan_services(p, c, n, err, errlen);
	if (ret)
		goto out;
	plan_rules(a, p, c, n);
	ret = write_before(a, p, c, err, errlen);
	/* the new services' cgroups linked before the flip */
	if (!ret) {
		ret = admin_sockopt_sync(a, err, errlen);
		if (ret) {
			undo(a, p, p->nfresh);
			sockopt_resync(a);
		}
	}
	if (ret)
		goto out;
	want = p->cfg;
	want.udp_idle_s = c->set.udp_idle_s;
	want.udp_flows_per_user = c->set.udp_flows_per_user;
	want.pending_per_user = c->set.pending_per_user;
	want.live_per_user = c->set.live_per_user;
	ret = commit_copy(a, p, c->nrules, &want, err, errlen);
	if (ret) {
		undo(a, p, p->nfresh);
		sockopt_resync(a);
		goto out;
	}
	write_after(a, p, c);
	sockopt_resync(a);	/* the gone services' cgroups unlinked */
out:
	if (p)
		plan_free(p);
	return ret;
}
