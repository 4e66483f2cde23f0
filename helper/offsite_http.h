/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite_http.h - the offsite store's HTTP requests, through libcurl,
 * in a transfer's child (offsite_http.c). */
#ifndef CKPT_OFFSITE_HTTP_H
#define CKPT_OFFSITE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "curl.h"
#include "offsite.h"

/* One transfer, as offsite_loop.c asks it of a child. */
struct offsite_job {
	bool fetch;		/* else: an upload */
	uint32_t job, id, uid, gid;
	long keep;
	char name[64];		/* <job>[.<step>].ckpt */
	char label[32];
	char *dir;		/* fetch: the step's checkpoint directory */
	char *image;		/* upload: the committed image's path */
	uint64_t seq;		/* upload: its seq */
	uint32_t nodeid;	/* fetch: this node's index in the step
				 * (each node of a multi-node step fetches
				 * into a staging name of its own) */
};

/* The kind of store, set by offsite_init(). */
extern enum offsite_kind offsite_kind;

/* One transfer's libcurl handle and the bodies of its requests. */
struct xfer {
	CURL *c;
	const struct offsite_creds *cr;
	struct curl_slist *hdrs;
	char cerr[CURL_ERROR_SIZE];
	/* in-memory bodies */
	const char *src;
	size_t srclen, srcoff;
	char *dst;
	size_t dstlen, dstmax;
	int dstfd;		/* GET into a file, or -1 */
	bool keep_body;		/* else the response body is dropped */
	uint64_t got;
};

/* Where a job's images live on the store: <base>/<user>/<job>/<name>. */
struct names {
	const char *base, *user;
	uint32_t job;
	const char *name;
};

/* The URL of path (NULL: the image's directory) of image seq (0: the
 * job's index), every segment percent-encoded; malloc'ed, or NULL. */
char *store_url(const struct names *n, uint64_t seq, const char *path);
/* PUT size bytes of fd, or len bytes of buf.  0, or -1 with err. */
int http_put_fd(struct xfer *x, const char *url, int fd, uint64_t size,
		char *err, size_t errlen);
int http_put_mem(struct xfer *x, const char *url, const char *buf,
		 size_t len, char *err, size_t errlen);
/* GET into memory (x->dst: at most max bytes, NUL-terminated), or into fd
 * when fd >= 0.  A 404 is -1 ENOENT. */
int http_get(struct xfer *x, const char *url, int fd, size_t max,
	     char *err, size_t errlen);
/* MKCOL, DELETE: statuses in ok (405 for an existing collection, 404 for
 * a DELETE of something gone) count as success. */
int http_simple(struct xfer *x, const char *method, const char *url,
		long ok, char *err, size_t errlen);

#endif
