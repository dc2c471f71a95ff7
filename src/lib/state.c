// SPDX-License-Identifier: MIT
/* A flow's redirect state relative to a service, from its records. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "lwfp.h"
#include "lwfp_abi.h"
#include "engine.h"
#include "records.h"
#include "util.h"

_Static_assert((int)LWFP_NOT_REDIRECTED == LWFP_STATE_NOT_REDIRECTED &&
	       (int)LWFP_REDIRECTED_BY_SELF == LWFP_STATE_REDIRECTED_BY_SELF &&
	       (int)LWFP_REDIRECTED_BY_OTHER == LWFP_STATE_REDIRECTED_BY_OTHER &&
	       (int)LWFP_PREVIOUSLY_REDIRECTED_BY_SELF ==
	       LWFP_STATE_PREVIOUSLY_REDIRECTED_BY_SELF,
	       "the public states are the engine's");

static int service_slot(struct lwfp *e, const char *name, __u32 *slot)
{
	struct lwfp_service svc;

	for (__u32 i = 0; i < LWFP_MAX_SERVICES; i++) {
		if (bpf_map_lookup_elem(e->services_fd, &i, &svc))
			return errno == EPERM ? -EACCES : -errno;
		if ((svc.flags & LWFP_SVC_IN_USE) &&
		    !strncmp(svc.name, name, sizeof(svc.name))) {
			*slot = i;
			return 0;
		}
	}
	return -ESRCH;
}

LWFP_EXPORT int lwfp_redirect_state(struct lwfp *e, const void *records,
				    size_t len, const char *service)
{
	struct lwfp_records rec;
	__u32 slot = 0;
	int err;

	if (!service)
		return -EINVAL;
	if (records) {
		err = records_parse(records, len, &rec);
		if (err)
			return err;
	}
	err = engine_resolve(&e);
	if (!err)
		err = service_slot(e, service, &slot);
	if (err)
		return err;
	if (!records)
		return LWFP_NOT_REDIRECTED;
	return lwfp_chain_state(rec.chain, rec.chain_len, slot);
}
