// SPDX-License-Identifier: MIT
/* One line for each error the library returns, in the language of the
 * caller's locale once it has called setlocale(). */
#include <errno.h>
#include <string.h>

#include "lwfp.h"
#include "util.h"
#include "i18n.h"

static const struct {
	int err;
	const char *msg;
} messages[] = {
	{ ENOENT, N_("no lwfp engine is loaded at the pin directory") },
	{ EACCES, N_("permission denied: no right to use the lwfp engine") },
	{ ENODATA, N_("not redirected by lwfp (or its UDP flow has ended)") },
	{ ERANGE, N_("buffer too small: the size needed was returned") },
	{ ENOTCONN, N_("the socket is not connected") },
	{ ENOTSOCK, N_("the descriptor is not a socket") },
	{ EBADF, N_("bad file descriptor") },
	{ EISCONN, N_("the socket is already connected or connecting") },
	{ EINVAL, N_("invalid argument") },
	{ EPROTONOSUPPORT, N_("not supported for this kind of socket (TCP and UDP only)") },
	{ EBADMSG, N_("malformed redirect context") },
	{ EPROTO, N_("redirect context version newer than this library") },
	{ ENAMETOOLONG, N_("pin directory path too long") },
	{ ENOMEM, N_("out of memory") },
	{ ESRCH, N_("no service with that name") },
	{ ENOMSG, N_("the flow's rule has no context layout") },
	{ EOPNOTSUPP, N_("no offloaded relay: no lwfp broker runs for this engine, or the kernel has no sockmap support") },
	{ EPERM, N_("the outbound socket does not carry the accepted socket's flow") },
	{ EBUSY, N_("the socket is offloaded already") },
	{ ENOSPC, N_("the engine offloads as many flows as it can hold") },
	{ ETIMEDOUT, N_("the lwfp broker did not answer") },
};

LWFP_EXPORT const char *lwfp_strerror(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < ARRAY_SIZE(messages); i++)
		if (messages[i].err == err)
			return _(messages[i].msg);
	return strerror(err);
}
