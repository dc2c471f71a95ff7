/* SPDX-License-Identifier: MIT */
/* Messages for people, in the language of the caller's locale: the text
 * domain "lwfp" (po/). The library binds the domain but never calls
 * setlocale(): an application that has not called it gets English. */
#ifndef LWFP_I18N_H
#define LWFP_I18N_H

#define LWFP_TEXTDOMAIN "lwfp"

/* msgid translated (msgid itself when there is no translation) */
const char *lwfp_gettext(const char *msgid) __attribute__((format_arg(1)));
/* the singular or plural of n, as the language counts */
const char *lwfp_ngettext(const char *one, const char *many, unsigned long n)
	__attribute__((format_arg(1), format_arg(2)));

#define _(s) lwfp_gettext(s)
#define N_(s) (s)
#define P_(one, many, n) lwfp_ngettext(one, many, n)

#endif /* LWFP_I18N_H */
