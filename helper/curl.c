/* SPDX-License-Identifier: GPL-2.0-or-later */
/* curl.c - libcurl through dlopen (see curl.h for why). */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "curl.h"
#include "errbuf.h"

struct ckpt_curl ccurl;

#define SYM(field, name)                                                       \
	do {                                                                   \
		if (!(*(void **)&ccurl.field = dlsym(h, name))) {              \
			errprintf(err, errlen, ENOSYS, "%s: no %s",            \
				  CKPT_CURL_SONAME, name);                     \
			return -1;                                             \
		}                                                              \
	} while (0)

int ckpt_curl_load(char *err, size_t errlen)
{
	static void *h;
	const char *why;

	if (h)
		return 0;
	if (!(h = dlopen(CKPT_CURL_SONAME, RTLD_NOW | RTLD_LOCAL))) {
		why = dlerror();
		return errprintf(err, errlen, ELIBACC, "cannot load %s: %s",
				 CKPT_CURL_SONAME, why ? why : "unknown error");
	}
	SYM(global_init, "curl_global_init");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_reset, "curl_easy_reset");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	if (ccurl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return errprintf(err, errlen, EIO, "curl_global_init failed");
	return 0;
}
