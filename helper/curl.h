/* SPDX-License-Identifier: GPL-2.0-or-later */
/* curl.h - libcurl, loaded (dlopen) only in the processes that transfer
 * images to or from the offsite store, never in the daemon itself: every
 * worker is a fork of the daemon, and libcurl brings some thirty
 * libraries (TLS, Kerberos, LDAP, SSH...) whose mappings each fork would
 * copy and each exit unmap, about half of what a fork costs. */
#ifndef CKPT_CURL_H
#define CKPT_CURL_H

#include <stddef.h>

#include <curl/curl.h>

struct ckpt_curl {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_reset)(CURL *c);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l,
					   const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* Filled by ckpt_curl_load(). */
extern struct ckpt_curl ccurl;

/* Load libcurl (the soname this was built against) and initialise it;
 * 0, or -1 with err set.  Once per process. */
int ckpt_curl_load(char *err, size_t errlen);

#endif
