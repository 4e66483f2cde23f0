/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite.c - the offsite store's settings, credentials file, remote
 * names and index (see offsite.h); nothing here touches the network. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "errbuf.h"
#include "kvconf.h"
#include "offsite.h"

#define INDEX_SEQS_MAX 1000

int offsite_kind_parse(const char *s, enum offsite_kind *kind)
{
	if (!s || strcmp(s, "webdav") == 0) {
		*kind = OFFSITE_WEBDAV;
		return 0;
	}
	if (strcmp(s, "s3") == 0) {
		*kind = OFFSITE_S3;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

/* http:// or https://, a host, no user info, query, fragment, blank or
 * control character. */
static int url_check(const char *url, char *err, size_t errlen)
{
	const char *p, *host, *end;
	size_t n;

	if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return errprintf(err, errlen, EINVAL, "offsite_url '%s': not "
				 "an http:// or https:// URL", url);
	if (strlen(url) > OFFSITE_URL_MAX / 2)
		return errprintf(err, errlen, EINVAL, "offsite_url: longer "
				 "than %d bytes", OFFSITE_URL_MAX / 2);
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' ||
		    *p == '#')
			return errprintf(err, errlen, EINVAL, "offsite_url: no "
					 "blank, control character, query or "
					 "fragment allowed");
	end = strchr(host, '/');
	n = end ? (size_t)(end - host) : strlen(host);
	if (n == 0)
		return errprintf(err, errlen, EINVAL, "offsite_url '%s': no "
				 "host", url);
	if (memchr(host, '@', n))
		return errprintf(err, errlen, EINVAL, "offsite_url: no user "
				 "or password in the URL; put them in the "
				 "offsite_credentials file");
	return 0;
}

static bool any_set(const struct offsite_conf *c)
{
	return c->kind || c->credentials || c->ca_file || c->ca_path ||
	       c->region || c->max_rate || c->max_uploads || c->timeout;
}

void offsite_conf_defaults(struct offsite_conf *c)
{
	if (!c->url)
		return;
	if (!c->timeout)
		c->timeout = 600;
	if (!c->max_uploads)
		c->max_uploads = 2;
}

int offsite_conf_check(const struct offsite_conf *c, enum offsite_kind *kind,
		       char *err, size_t errlen)
{
	*kind = OFFSITE_NONE;
	if (!c->url) {
		if (any_set(c))
			return errprintf(err, errlen, EINVAL, "offsite_* keys "
					 "without offsite_url");
		return 0;
	}
	if (url_check(c->url, err, errlen) < 0)
		return -1;
	if (offsite_kind_parse(c->kind, kind) < 0)
		return errprintf(err, errlen, EINVAL, "invalid offsite_kind "
				 "'%s': webdav or s3", c->kind);
	if (*kind == OFFSITE_S3 && !c->credentials) {
		*kind = OFFSITE_NONE;
		return errprintf(err, errlen, EINVAL, "offsite_kind=s3 needs "
				 "offsite_credentials (access_key=, "
				 "secret_key=)");
	}
	if (*kind != OFFSITE_S3 && c->region) {
		*kind = OFFSITE_NONE;
		return errprintf(err, errlen, EINVAL, "offsite_region is for "
				 "offsite_kind=s3 only");
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The credentials file                                               */

static const struct kv_key cred_keys[] = {
	{ "user", KV_STRING, offsetof(struct offsite_creds, user), 0, 0,
	  "the WebDAV user" },
	{ "password", KV_STRING, offsetof(struct offsite_creds, password),
	  0, 0, "the WebDAV password" },
	{ "access_key", KV_STRING,
	  offsetof(struct offsite_creds, access_key), 0, 0,
	  "the S3 access key id" },
	{ "secret_key", KV_STRING,
	  offsetof(struct offsite_creds, secret_key), 0, 0,
	  "the S3 secret access key" },
	{ NULL, 0, 0, 0, 0, NULL },
};

/* Open path without following a link; regular, owned by root or us, no
 * access for group or others.  An fd, or -1. */
static int open_private(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return errsys(err, errlen, "offsite_credentials", path);
	if (fstat(fd, &st) < 0) {
		errsys(err, errlen, "offsite_credentials", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_uid != 0 &&
				     st.st_uid != geteuid()) ||
	    (st.st_mode & 077) || st.st_size > OFFSITE_CREDS_MAX) {
		errprintf(err, errlen, EPERM, "offsite_credentials %s: "
			  "refused: must be a regular file of at most %d "
			  "bytes, owned by root, that only its owner may "
			  "read (uid %u, mode %04o; chmod 600)", path,
			  OFFSITE_CREDS_MAX, (unsigned)st.st_uid,
			  (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}

static int creds_complete(enum offsite_kind kind,
			  const struct offsite_creds *cr, const char *path,
			  char *err, size_t errlen)
{
	if (kind == OFFSITE_S3 && (!cr->access_key || !cr->secret_key ||
				   cr->user || cr->password))
		return errprintf(err, errlen, EINVAL, "offsite_credentials "
				 "%s: s3 needs access_key= and secret_key= "
				 "(and no user=, password=)", path);
	if (kind == OFFSITE_WEBDAV && (!cr->user || !cr->password ||
				       cr->access_key || cr->secret_key))
		return errprintf(err, errlen, EINVAL, "offsite_credentials "
				 "%s: webdav needs user= and password= (and "
				 "no access_key=, secret_key=)", path);
	return 0;
}

int offsite_creds_read(const char *path, enum offsite_kind kind,
		       struct offsite_creds *cr, char *err, size_t errlen)
{
	struct offsite_creds tmp = { 0 };
	char proc[64], why[1024];
	const char *p;
	int fd, rc = -1;

	if ((fd = open_private(path, err, errlen)) < 0)
		return -1;
	/* The file checked is the file parsed. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (kv_parse_secrets(cred_keys, &tmp, proc, why, sizeof(why)) < 0) {
		p = strncmp(why, proc, strlen(proc)) == 0 ?
		    why + strlen(proc) : why;
		errprintf(err, errlen, EINVAL, "offsite_credentials %s%s%s",
			  path, *p == ':' ? "" : ": ", p);
		goto out;
	}
	if (creds_complete(kind, &tmp, path, err, errlen) < 0)
		goto out;
	*cr = tmp;
	tmp = (struct offsite_creds){ 0 };
	rc = 0;
out:
	offsite_creds_free(&tmp);
	close(fd);
	return rc;
}

static void wipe(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void offsite_creds_free(struct offsite_creds *cr)
{
	if (!cr)
		return;
	wipe(&cr->user);
	wipe(&cr->password);
	wipe(&cr->access_key);
	wipe(&cr->secret_key);
}

/* ------------------------------------------------------------------ */
/* Names                                                              */

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

int offsite_append_segment(char *buf, size_t len, const char *seg)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t used = strlen(buf);
	const unsigned char *p;

	/* Nothing a server or libcurl would read as "here" or "up". */
	if (!*seg || strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0) {
		errno = EINVAL;
		return -1;
	}

	for (p = (const unsigned char *)seg; *p; p++) {
		if (used + (unreserved(*p) ? 1 : 3) >= len) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (unreserved(*p)) {
			buf[used++] = (char)*p;
		} else {
			buf[used++] = '%';
			buf[used++] = hex[*p >> 4];
			buf[used++] = hex[*p & 15];
		}
	}
	buf[used] = '\0';
	return 0;
}

static int append_raw(char *buf, size_t len, const char *s)
{
	size_t used = strlen(buf), n = strlen(s);

	if (used + n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf + used, s, n + 1);
	return 0;
}

/* Each '/'-separated component of path, encoded, '/' between (an empty
 * component, as in "a//b" or "/a", is refused like "." and ".."). */
static int append_path(char *buf, size_t len, const char *path)
{
	char *copy = strdup(path), *c, *slash;
	int rc = 0;

	if (!copy)
		return -1;
	for (c = copy; rc == 0; c = slash + 1) {
		if ((slash = strchr(c, '/')))
			*slash = '\0';
		rc = offsite_append_segment(buf, len, c);
		if (rc < 0 || !slash)
			break;
		rc = append_raw(buf, len, "/");
	}
	free(copy);
	return rc;
}

char *offsite_url(const char *base, const char *user, uint32_t job,
		  const char *name, uint64_t seq, const char *path)
{
	char *buf = malloc(OFFSITE_URL_MAX), num[32];
	size_t n;

	if (!buf)
		return NULL;
	if (!base || !user || !*user || !name || !*name ||
	    (path && !*path)) {
		errno = EINVAL;
		goto fail;
	}
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n + 1 >= OFFSITE_URL_MAX) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	memcpy(buf, base, n);
	buf[n] = '\0';
	snprintf(num, sizeof(num), "%" PRIu32, job);
	if (append_raw(buf, OFFSITE_URL_MAX, "/") < 0 ||
	    offsite_append_segment(buf, OFFSITE_URL_MAX, user) < 0 ||
	    append_raw(buf, OFFSITE_URL_MAX, "/") < 0 ||
	    append_raw(buf, OFFSITE_URL_MAX, num) < 0 ||
	    append_raw(buf, OFFSITE_URL_MAX, "/") < 0 ||
	    offsite_append_segment(buf, OFFSITE_URL_MAX, name) < 0 ||
	    append_raw(buf, OFFSITE_URL_MAX, "/") < 0)
		goto fail;
	snprintf(num, sizeof(num), "%" PRIu64 "/", seq);
	if (seq > 0 && append_raw(buf, OFFSITE_URL_MAX, num) < 0)
		goto fail;
	if (path && append_path(buf, OFFSITE_URL_MAX, path) < 0)
		goto fail;
	return buf;
fail:
	free(buf);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The index                                                          */

int offsite_index_parse(const char *text, size_t len, uint64_t **seqs,
			size_t *n, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o, *a = NULL, *v;
	uint64_t *out = NULL;
	size_t i;
	int rc = -1;

	*seqs = NULL;
	*n = 0;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!o || json_unpack_ex(o, &je, 0, "{s:o !}", "seqs", &a) < 0 ||
	    !json_is_array(a)) {
		errprintf(err, errlen, EINVAL, "index.json: %s",
			  o ? "expected {\"seqs\":[...]}" : je.text);
		goto out;
	}
	if (json_array_size(a) > INDEX_SEQS_MAX) {
		errprintf(err, errlen, EINVAL, "index.json: more than %d "
			  "images", INDEX_SEQS_MAX);
		goto out;
	}
	out = calloc(json_array_size(a) + 1, sizeof(*out));
	if (!out)
		goto out;
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    (i > 0 && (uint64_t)json_integer_value(v) <= out[i - 1])) {
			errprintf(err, errlen, EINVAL, "index.json: seqs must "
				  "be positive and ascending");
			goto out;
		}
		out[i] = (uint64_t)json_integer_value(v);
	}
	*n = json_array_size(a);
	*seqs = *n ? out : NULL;
	if (*n)
		out = NULL;
	rc = 0;
out:
	free(out);
	json_decref(o);
	return rc;
}

void offsite_index_add(uint64_t *seqs, size_t *n, uint64_t seq, long keep,
		       uint64_t *dropped, size_t *ndropped)
{
	size_t i, j, drop;

	*ndropped = 0;
	for (i = 0; i < *n && seqs[i] < seq; i++)
		;
	if (i == *n || seqs[i] != seq) {
		memmove(seqs + i + 1, seqs + i, (*n - i) * sizeof(*seqs));
		seqs[i] = seq;
		(*n)++;
	}
	if (keep < 1)
		keep = 1;
	drop = *n > (size_t)keep ? *n - (size_t)keep : 0;
	for (j = 0; j < drop; j++)
		dropped[(*ndropped)++] = seqs[j];
	memmove(seqs, seqs + drop, (*n - drop) * sizeof(*seqs));
	*n -= drop;
}

char *offsite_index_format(const uint64_t *seqs, size_t n)
{
	json_t *a = json_array(), *o;
	char *s = NULL;
	size_t i;

	for (i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer((json_int_t)seqs[i])))
			break;
	if (!a || i < n) {
		json_decref(a);
		return NULL;
	}
	o = json_pack("{s:o}", "seqs", a);
	if (o)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
