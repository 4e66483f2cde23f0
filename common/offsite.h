/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite.h - the third level of storage: an HTTP(S) store (WebDAV, or
 * S3-compatible with AWS SigV4) that slurmckptd copies committed images
 * to, and fetches them back from at a restart that finds none on disk.
 * Here only what needs no network: the admin's settings, the
 * credentials file, the remote names and the remote index.
 *
 * Remote layout, under the endpoint URL E (percent-encoded segments):
 *   E/<user>/<job>/<N>/<seq>/<path>      the files of image seq of N
 *   E/<user>/<job>/<N>/<seq>/manifest.json  uploaded last: an image
 *                                        without it is incomplete
 *   E/<user>/<job>/<N>/index.json        {"seqs":[...]}: the complete
 *                                        images, oldest first
 * N is the image name (<job>.ckpt, <job>.<step>.ckpt). */
#ifndef CKPT_OFFSITE_H
#define CKPT_OFFSITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFFSITE_INDEX_NAME "index.json"
#define OFFSITE_INDEX_MAX (64 * 1024)	/* bytes of index.json accepted */
#define OFFSITE_URL_MAX 8192
#define OFFSITE_CREDS_MAX 4096		/* bytes of the credentials file */

enum offsite_kind { OFFSITE_NONE = 0, OFFSITE_WEBDAV, OFFSITE_S3 };

/* slurmckptd.conf's offsite_* keys (filled by kvconf). */
struct offsite_conf {
	char *url;		/* offsite_url: http:// or https:// */
	char *kind;		/* offsite_kind: webdav (default) or s3 */
	char *credentials;	/* offsite_credentials: root-only file */
	char *ca_file;		/* offsite_ca_file: CURLOPT_CAINFO */
	char *ca_path;		/* offsite_ca_path: CURLOPT_CAPATH */
	char *region;		/* offsite_region: SigV4 region (s3) */
	long max_rate;		/* offsite_max_rate: bytes/s per transfer */
	long max_uploads;	/* offsite_max_uploads: at once, per node */
	long timeout;		/* offsite_timeout: seconds per image */
};

struct offsite_creds {
	char *user, *password;		/* webdav: HTTP basic */
	char *access_key, *secret_key;	/* s3: SigV4 */
};

/* "webdav" / "s3" (NULL: webdav).  0/-1 EINVAL. */
int offsite_kind_parse(const char *s, enum offsite_kind *kind);

/* The settings as a whole, once parsed: a URL that is http(s)://host...
 * without user info, query or fragment (the credentials come from the
 * file only), a kind, credentials for s3.  Nothing configured (no URL
 * and no other key) is fine: *kind is OFFSITE_NONE.  0/-1 EINVAL. */
int offsite_conf_check(const struct offsite_conf *c, enum offsite_kind *kind,
		       char *err, size_t errlen);
/* With a URL: offsite_timeout and offsite_max_uploads left out take
 * their defaults (600 s, 2). */
void offsite_conf_defaults(struct offsite_conf *c);

/* Read the credentials file: a regular file (not a link), owned by root
 * or by this process's user, that nobody else may read or write (like
 * ssh's private keys): key=value lines, user= and password= (webdav),
 * access_key= and secret_key= (s3).  0/-1 (EPERM for the permissions,
 * EINVAL for the contents). */
int offsite_creds_read(const char *path, enum offsite_kind kind,
		       struct offsite_creds *cr, char *err, size_t errlen);
/* Wipes and frees; accepts a zeroed struct. */
void offsite_creds_free(struct offsite_creds *cr);

/* Percent-encode one path segment (RFC 3986 unreserved bytes stay) and
 * append it to buf (of len bytes, NUL-terminated).  0/-1 ENAMETOOLONG;
 * an empty segment, "." and ".." are EINVAL (no URL can climb). */
int offsite_append_segment(char *buf, size_t len, const char *seg);

/* base/<user>/<job>/<name>/ then, with seq > 0, "<seq>/", then path (a
 * manifest path: each component encoded, '/' kept), or, with path NULL,
 * nothing more (a collection URL ending in '/').  A trailing '/' of base
 * is dropped.  No segment after base may be empty, "." or ".." (EINVAL).
 * malloc'ed, or NULL with errno. */
char *offsite_url(const char *base, const char *user, uint32_t job,
		  const char *name, uint64_t seq, const char *path);

/* index.json: {"seqs":[1,2,...]}, strictly: positive, ascending, unique,
 * at most 1000.  Parse: *seqs malloc'ed (NULL when *n == 0). */
int offsite_index_parse(const char *text, size_t len, uint64_t **seqs,
			size_t *n, char *err, size_t errlen);
/* Add seq (if missing) to seqs[0..*n) (which has room for one more),
 * keep the newest keep, and move the dropped ones to dropped (room for
 * *n + 1) with their count in *ndropped. */
void offsite_index_add(uint64_t *seqs, size_t *n, uint64_t seq, long keep,
		       uint64_t *dropped, size_t *ndropped);
char *offsite_index_format(const uint64_t *seqs, size_t n);

#endif
