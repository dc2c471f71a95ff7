// SPDX-License-Identifier: MIT
/* The lwfp text domain: bound once, where make install put the catalogues
 * (or $LWFP_LOCALEDIR, as the tests run the build tree). */
#include <libintl.h>
#include <pthread.h>
#include <stdlib.h>

#include "i18n.h"

#ifndef LWFP_LOCALEDIR
#define LWFP_LOCALEDIR "/usr/local/share/locale"
#endif

static pthread_once_t bound = PTHREAD_ONCE_INIT;

static void bind_domain(void)
{
	const char *dir = secure_getenv("LWFP_LOCALEDIR");

	bindtextdomain(LWFP_TEXTDOMAIN, dir && *dir ? dir : LWFP_LOCALEDIR);
}

const char *lwfp_gettext(const char *msgid)
{
	pthread_once(&bound, bind_domain);
	return dgettext(LWFP_TEXTDOMAIN, msgid);
}

const char *lwfp_ngettext(const char *one, const char *many, unsigned long n)
{
	pthread_once(&bound, bind_domain);
	return dngettext(LWFP_TEXTDOMAIN, one, many, n);
}
