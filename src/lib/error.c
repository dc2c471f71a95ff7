// SPDX-License-Identifier: MIT
/* One line for each error the library returns. */
#include <errno.h>
#include <string.h>

#include "lwfp.h"
#include "util.h"

static const struct {
	int err;
	const char *msg;
} messages[] = {
	{ ENOENT, "no lwfp engine is loaded at the pin directory" },
	{ EACCES, "permission denied: no right to use the lwfp engine" },
	{ ENODATA, "not redirected by lwfp (or its UDP flow has ended)" },
	{ ERANGE, "buffer too small: the size needed was returned" },
	{ ENOTCONN, "the socket is not connected" },
	{ ENOTSOCK, "the descriptor is not a socket" },
	{ EBADF, "bad file descriptor" },
	{ EISCONN, "the socket is already connected or connecting" },
	{ EINVAL, "invalid argument" },
	{ EPROTONOSUPPORT, "not supported for this kind of socket (TCP and UDP only)" },
	{ EBADMSG, "malformed redirect context" },
	{ EPROTO, "redirect context version newer than this library" },
	{ ENAMETOOLONG, "pin directory path too long" },
	{ ENOMEM, "out of memory" },
	{ ESRCH, "no service with that name" },
	{ ENOMSG, "the flow's rule has no context layout" },
};

LWFP_EXPORT const char *lwfp_strerror(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < ARRAY_SIZE(messages); i++)
		if (messages[i].err == err)
			return messages[i].msg;
	return strerror(err);
}
