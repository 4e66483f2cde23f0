/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite_http.c - the offsite store's requests (PUT, GET, MKCOL,
 * DELETE) through libcurl, signed for S3 (SigV4) or with WebDAV's basic
 * authentication, in a transfer's child that has become the job's user. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "curl.h"
#include "errbuf.h"
#include "manifest.h"
#include "offsite.h"
#include "offsite_http.h"

enum offsite_kind offsite_kind = OFFSITE_NONE;

char *store_url(const struct names *n, uint64_t seq, const char *path)
{
	return offsite_url(n->base, n->user, n->job, n->name, seq, path);
}

static size_t read_mem(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t want = size * n, left = x->srclen - x->srcoff;

	if (want > left)
		want = left;
	memcpy(buf, x->src + x->srcoff, want);
	x->srcoff += want;
	return want;
}

static size_t write_body(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	if (!x->keep_body)
		return len;
	if (x->dstfd >= 0) {
		if (manifest_write_all(x->dstfd, buf, len) < 0)
			return 0;
		x->got += len;
		return len;
	}
	if (!x->dst || x->dstlen + len > x->dstmax)
		return 0;
	memcpy(x->dst + x->dstlen, buf, len);
	x->dstlen += len;
	return len;
}

/* A fresh request on the handle: the common options.  (offsite_init
 * checked that libcurl takes CURLOPT_AWS_SIGV4.) */
static void http_begin(struct xfer *x, const char *url)
{
	const struct offsite_conf *c = &hconf.offsite;
	CURL *h = x->c;
	char sigv4[128];

	ccurl.easy_reset(h);
	ccurl.slist_free_all(x->hdrs);
	x->hdrs = NULL;
	x->cerr[0] = '\0';
	x->dstfd = -1;
	x->keep_body = false;
	x->dstlen = 0;
	x->got = 0;
	ccurl.easy_setopt(h, CURLOPT_URL, url);
	/* The path as built: libcurl must not squash "/../" (offsite_url
	 * refuses dot segments; this is the second lock).  libcurl 8.x
	 * refuses it with SigV4, whose canonical request has the path
	 * normalized: there the first lock is the one. */
	if (offsite_kind != OFFSITE_S3)
		ccurl.easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	ccurl.easy_setopt(h, CURLOPT_ERRORBUFFER, x->cerr);
	ccurl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	ccurl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	ccurl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	ccurl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer: under 1 byte/s for a minute. */
	ccurl.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	ccurl.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	ccurl.easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
	ccurl.easy_setopt(h, CURLOPT_WRITEDATA, x);
	if (c->ca_file)
		ccurl.easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->ca_path)
		ccurl.easy_setopt(h, CURLOPT_CAPATH, c->ca_path);
	if (c->max_rate > 0) {
		ccurl.easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE,
				 (curl_off_t)c->max_rate);
		ccurl.easy_setopt(h, CURLOPT_MAX_RECV_SPEED_LARGE,
				 (curl_off_t)c->max_rate);
	}
	if (offsite_kind == OFFSITE_S3) {
		snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3",
			 c->region ? c->region : "us-east-1");
		ccurl.easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
		ccurl.easy_setopt(h, CURLOPT_USERNAME, x->cr->access_key);
		ccurl.easy_setopt(h, CURLOPT_PASSWORD, x->cr->secret_key);
		x->hdrs = ccurl.slist_append(NULL, "x-amz-content-sha256: "
					    "UNSIGNED-PAYLOAD");
	} else if (x->cr->user) {
		ccurl.easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		ccurl.easy_setopt(h, CURLOPT_USERNAME, x->cr->user);
		ccurl.easy_setopt(h, CURLOPT_PASSWORD, x->cr->password);
	}
}

/* Run the request; the HTTP status in *status.  0, or -1 with the
 * reason in err (a transport error). */
static int http_perform(struct xfer *x, const char *what, const char *url,
			long *status, char *err, size_t errlen)
{
	CURLcode rc;

	if (x->hdrs)
		ccurl.easy_setopt(x->c, CURLOPT_HTTPHEADER, x->hdrs);
	rc = ccurl.easy_perform(x->c);
	*status = 0;
	ccurl.easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, status);
	if (rc != CURLE_OK)
		return errprintf(err, errlen, EIO, "%s %s: %s", what, url,
				 x->cerr[0] ? x->cerr
					    : ccurl.easy_strerror(rc));
	return 0;
}

static int http_bad_status(const char *what, const char *url, long status,
			   char *err, size_t errlen)
{
	errprintf(err, errlen, EIO, "%s %s: HTTP status %ld", what, url,
		  status);
	errno = status == 404 ? ENOENT : status == 401 || status == 403 ?
		EACCES : EIO;
	return -1;
}

int http_put_fd(struct xfer *x, const char *url, int fd, uint64_t size,
		char *err, size_t errlen)
{
	FILE *f = fdopen(fd, "rb");
	long status;
	int rc;

	if (!f) {
		close(fd);
		return errprintf(err, errlen, errno, "fdopen: %s",
				 strerror(errno));
	}
	http_begin(x, url);
	ccurl.easy_setopt(x->c, CURLOPT_UPLOAD, 1L);
	ccurl.easy_setopt(x->c, CURLOPT_READDATA, f);
	ccurl.easy_setopt(x->c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	rc = http_perform(x, "PUT", url, &status, err, errlen);
	fclose(f);
	if (rc == 0 && (status < 200 || status > 299))
		rc = http_bad_status("PUT", url, status, err, errlen);
	return rc;
}

int http_put_mem(struct xfer *x, const char *url, const char *buf,
		 size_t len, char *err, size_t errlen)
{
	long status;

	http_begin(x, url);
	x->src = buf;
	x->srclen = len;
	x->srcoff = 0;
	ccurl.easy_setopt(x->c, CURLOPT_UPLOAD, 1L);
	ccurl.easy_setopt(x->c, CURLOPT_READFUNCTION, read_mem);
	ccurl.easy_setopt(x->c, CURLOPT_READDATA, x);
	ccurl.easy_setopt(x->c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	if (http_perform(x, "PUT", url, &status, err, errlen) < 0)
		return -1;
	if (status < 200 || status > 299)
		return http_bad_status("PUT", url, status, err, errlen);
	return 0;
}

int http_get(struct xfer *x, const char *url, int fd, size_t max,
	     char *err, size_t errlen)
{
	long status;
	int rc;

	http_begin(x, url);
	x->keep_body = true;
	free(x->dst);
	x->dst = fd < 0 ? malloc(max + 1) : NULL;
	x->dstmax = max;
	x->dstfd = fd;
	if (fd < 0 && !x->dst)
		return errprintf(err, errlen, ENOMEM, "out of memory");
	rc = http_perform(x, "GET", url, &status, err, errlen);
	if (rc == 0 && status != 200)
		return http_bad_status("GET", url, status, err, errlen);
	if (rc == 0 && x->dst)
		x->dst[x->dstlen] = '\0';
	return rc;
}

int http_simple(struct xfer *x, const char *method, const char *url,
		long ok, char *err, size_t errlen)
{
	long status;

	http_begin(x, url);
	ccurl.easy_setopt(x->c, CURLOPT_CUSTOMREQUEST, method);
	if (http_perform(x, method, url, &status, err, errlen) < 0)
		return -1;
	if ((status < 200 || status > 299) && status != ok)
		return http_bad_status(method, url, status, err, errlen);
	return 0;
}
