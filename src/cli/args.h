/* SPDX-License-Identifier: MIT */
/*
 * The options of load, service add and rule add, shared by the commands
 * and the configuration file (conf.c), which is made of the same words.
 * Each *_from_args sets ->bad to the value it failed on, when one did.
 */
#ifndef LWFP_ARGS_H
#define LWFP_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "admin.h"

#define LOAD_OPTIONS \
	{ "cgroup", required_argument, NULL, 'c' }, \
	{ "group", required_argument, NULL, 'g' }, \
	{ "udp-timeout", required_argument, NULL, 'u' }, \
	{ "udp-flows-per-user", required_argument, NULL, 'q' }, \
	{ "pending-per-user", required_argument, NULL, 'p' }, \
	{ "live-per-user", required_argument, NULL, 'l' }

struct load_args {
	const char *cgroup;
	const char *group;
	const char *udp_timeout;
	const char *limit[3];	/* udp-flows-, pending-, live-per-user */
	const char *bad;
};

int load_opt(int c, const char *arg, void *data);
int load_from_args(struct load_args *la, struct engine_settings *set,
		   char *err, size_t errlen);
/* --group NAME|GID; without it the group "lwfp" if there is one, else
 * -1. 0 or -ENOENT (message in err). */
int resolve_group(const char *name, int *gid, char *err, size_t errlen);

#define SERVICE_ADD_OPTIONS \
	{ "listen", required_argument, NULL, 'l' }, \
	{ "pid", required_argument, NULL, 'p' }, \
	{ "cgroup", required_argument, NULL, 'c' }, \
	{ "weight", required_argument, NULL, 'w' }, \
	{ "fail", required_argument, NULL, 'f' }, \
	{ "proto", required_argument, NULL, 'T' }, \
	{ "netns", required_argument, NULL, 'n' }

struct service_args {
	const char *listen;
	const char *pid;
	const char *cgroup;
	const char *weight;
	const char *fail;
	const char *proto;
	const char *netns;
	const char *bad;
};

int service_opt(int c, const char *arg, void *data);
int service_from_args(const char *name, struct service_args *sa,
		      struct lwfp_service *svc, char *err, size_t errlen);

#define RULE_ADD_OPTIONS \
	{ "service", required_argument, NULL, 's' }, \
	{ "proto", required_argument, NULL, 'p' }, \
	{ "dst", required_argument, NULL, 'd' }, \
	{ "dport", required_argument, NULL, 'o' }, \
	{ "cgroup", required_argument, NULL, 'c' }, \
	{ "uid", required_argument, NULL, 'u' }, \
	{ "context", required_argument, NULL, 'x' }, \
	{ "context-file", required_argument, NULL, 'f' }, \
	{ "context-layout", required_argument, NULL, 'L' }, \
	{ "context-layout-text", required_argument, NULL, 'Y' }, \
	{ "reinspect", no_argument, NULL, 'r' }

struct rule_args {
	const char *service;
	const char *proto;
	const char *dst;
	const char *dport;
	const char *cgroup;
	const char *uid;
	const char *context;
	size_t context_len;	/* (size_t)-1: strlen(context) */
	const char *context_file;
	const char *layout_file;
	const char *layout_text;
	bool reinspect;
	const char *bad;
};

int rule_opt(int c, const char *arg, void *data);
int rule_from_args(struct rule_args *ra, struct lwfp_rule *r, char *err,
		   size_t errlen);
/* The context bytes (LWFP_RULE_CTX_MAX) and compiled layout
 * (LAYOUT_BLOB_MAX) the arguments give. */
int blobs_from_args(struct rule_args *ra, __u8 *ctx, size_t *ctx_len,
		    __u8 *layout, size_t *layout_len, char *err,
		    size_t errlen);

#endif /* LWFP_ARGS_H */
