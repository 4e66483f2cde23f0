/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite_upload.c - one committed image copied to the offsite store:
 * its collections made (WebDAV), each file of its manifest PUT (reached
 * with O_NOFOLLOW through the manifest's list), the manifest last, then
 * the job's index; images beyond keep are deleted from the store. */
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

#include "errbuf.h"
#include "log.h"
#include "manifest.h"
#include "offsite.h"
#include "offsite_http.h"
#include "offsite_upload.h"



/* "a/b/c/" -> "a/b/" */
static void cut_last_segment(char *url)
{
	size_t len = strlen(url);

	if (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
	while (len > 0 && url[len - 1] != '/')
		url[--len] = '\0';
}

static int mkcol(struct xfer *x, const char *url, char *err, size_t errlen)
{
	return http_simple(x, "MKCOL", url, 405, err, errlen);
}

/* Is dir ("a/b") last or one of last's parents? */
static bool made(const char *last, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(last, dir, n) == 0 && (last[n] == '\0' ||
					      last[n] == '/');
}

/* WebDAV: the collections above the image and inside it, each made once
 * (S3 has none).  An existing one answers 405. */
static int make_collections(struct xfer *x, const struct names *n,
			    uint64_t seq, const struct manifest *m,
			    char *err, size_t errlen)
{
	char *url, *dir, *slash, last[4096] = "";
	int rc = 0;
	size_t i;

	if (offsite_kind == OFFSITE_S3)
		return 0;
	if (!(url = store_url(n, 0, NULL)))
		return -1;
	cut_last_segment(url);
	cut_last_segment(url);
	rc = mkcol(x, url, err, errlen);	/* base/<user>/ */
	free(url);
	if (rc == 0 && (url = store_url(n, 0, NULL))) {
		cut_last_segment(url);		/* .../<job>/ */
		rc = mkcol(x, url, err, errlen);
		free(url);
	}
	if (rc == 0 && (url = store_url(n, 0, NULL))) {
		rc = mkcol(x, url, err, errlen);	/* .../<N>/ */
		free(url);
	}
	if (rc == 0 && (url = store_url(n, seq, NULL))) {
		rc = mkcol(x, url, err, errlen);	/* .../<seq>/ */
		free(url);
	}
	for (i = 0; i < m->nfiles && rc == 0; i++) {
		if (!(dir = strdup(m->files[i].path)))
			return -1;
		for (slash = strchr(dir, '/'); slash && rc == 0;
		     slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			if (!made(last, dir)) {
				/* A collection's URL ends in '/' (nginx:
				 * 409 without). */
				url = store_url(n, seq, dir);
				rc = url && strlen(url) + 1 < OFFSITE_URL_MAX ?
				     mkcol(x, strcat(url, "/"), err, errlen) :
				     -1;
				free(url);
			}
			*slash = '/';
		}
		if ((slash = strrchr(dir, '/'))) {
			*slash = '\0';
			snprintf(last, sizeof(last), "%s", dir);
		}
		free(dir);
	}
	return rc;
}

static int put_image_file(struct xfer *x, const struct names *n,
			  uint64_t seq, int imgfd, const char *path,
			  char *err, size_t errlen)
{
	struct stat st;
	char *url;
	int fd, rc;

	fd = manifest_open_file(imgfd, path);
	if (fd < 0 || fstat(fd, &st) < 0) {
		errprintf(err, errlen, errno, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!(url = store_url(n, seq, path))) {
		close(fd);
		return errprintf(err, errlen, errno, "%s: URL too long", path);
	}
	rc = http_put_fd(x, url, fd, (uint64_t)st.st_size, err, errlen);
	free(url);
	return rc;
}

/* The index: read (missing: empty), add seq, keep the newest keep, write
 * it back; the dropped seqs in *dropped (malloc'ed). */
static int update_index(struct xfer *x, const struct names *n, uint64_t seq,
			long keep, uint64_t **dropped, size_t *ndropped,
			char *err, size_t errlen)
{
	uint64_t *seqs = NULL, *grown;
	char *url = store_url(n, 0, OFFSITE_INDEX_NAME), *text = NULL;
	size_t ns = 0;
	int rc = -1;

	*dropped = NULL;
	*ndropped = 0;
	if (!url)
		return -1;
	if (http_get(x, url, -1, OFFSITE_INDEX_MAX, err, errlen) == 0) {
		if (offsite_index_parse(x->dst, x->dstlen, &seqs, &ns, err,
					errlen) < 0)
			goto out;
	} else if (errno != ENOENT) {
		goto out;
	}
	grown = realloc(seqs, (ns + 1) * sizeof(*seqs));
	*dropped = calloc(ns + 1, sizeof(**dropped));
	if (!grown || !*dropped) {
		free(grown ? grown : seqs);
		seqs = NULL;
		errprintf(err, errlen, ENOMEM, "out of memory");
		goto out;
	}
	seqs = grown;
	offsite_index_add(seqs, &ns, seq, keep, *dropped, ndropped);
	if (!(text = offsite_index_format(seqs, ns)))
		goto out;
	rc = http_put_mem(x, url, text, strlen(text), err, errlen);
out:
	free(text);
	free(seqs);
	free(url);
	return rc;
}

/* An image no longer listed: its manifest first (so that it reads as
 * incomplete at once), then its files (S3: as its manifest lists them,
 * when that manifest parses strictly: its paths are the store's word,
 * and the store is not trusted more than a user) or its collection
 * (WebDAV). */
static void delete_image(struct xfer *x, const struct names *n, uint64_t seq)
{
	char err[1024], *url = store_url(n, seq, MANIFEST_NAME), *f;
	struct manifest m = { 0 };
	bool listed = false;
	size_t i;

	if (!url)
		return;
	if (offsite_kind == OFFSITE_S3 &&
	    http_get(x, url, -1, 64 << 20, err, sizeof(err)) == 0) {
		listed = manifest_parse(x->dst, x->dstlen, &m, err,
					sizeof(err)) == 0;
		if (!listed)
			log_msg(LOG_WARNING, "offsite: %s: %s; only the "
				"manifest is deleted", url, err);
	}
	if (http_simple(x, "DELETE", url, 404, err, sizeof(err)) < 0)
		log_msg(LOG_WARNING, "offsite: %s", err);
	free(url);
	if (offsite_kind != OFFSITE_S3) {
		if ((url = store_url(n, seq, NULL)) &&
		    http_simple(x, "DELETE", url, 404, err, sizeof(err)) < 0)
			log_msg(LOG_WARNING, "offsite: %s", err);
		free(url);
		return;
	}
	for (i = 0; listed && i < m.nfiles; i++) {
		if (!(f = store_url(n, seq, m.files[i].path)))
			continue;
		if (http_simple(x, "DELETE", f, 404, err, sizeof(err)) < 0)
			log_msg(LOG_WARNING, "offsite: %s", err);
		free(f);
	}
	manifest_free(&m);
}

/* The parent directory of the image and its last component. */
int offsite_open_image(const char *image, int *basefd, char *err,
		       size_t errlen)
{
	char *copy = strdup(image), *slash;
	int fd = -1;

	*basefd = -1;
	if (!copy || !(slash = strrchr(copy, '/')) || slash == copy) {
		free(copy);
		return errprintf(err, errlen, errno, "bad image path %s",
				 image);
	}
	*slash = '\0';
	*basefd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*basefd >= 0)
		fd = openat(*basefd, slash + 1, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		errprintf(err, errlen, errno, "%s: %s", image, strerror(errno));
	free(copy);
	return fd;
}

int offsite_upload(struct xfer *x, const struct offsite_job *j,
		   const struct names *n, int imgfd, json_t *rep, char *err,
		   size_t errlen)
{
	struct manifest m = { 0 };
	uint64_t *dropped = NULL;
	char *text = NULL, *url = NULL;
	size_t i, nd = 0;
	int rc = -1;

	/* The manifest is read once: what goes to the store is what was
	 * checked here, whatever the user does to the file meanwhile. */
	if (manifest_read(imgfd, &m, err, errlen) < 0)
		return -1;
	if (m.job != j->job || m.step != j->id) {
		errprintf(err, errlen, errno, "the image is of %u.%u", m.job,
			  m.step);
		goto out;
	}
	if (make_collections(x, n, m.seq, &m, err, errlen) < 0)
		goto out;
	for (i = 0; i < m.nfiles; i++)
		if (put_image_file(x, n, m.seq, imgfd, m.files[i].path, err,
				   errlen) < 0)
			goto out;
	/* Last: an image without its manifest is incomplete. */
	if (!(text = manifest_format(&m)) ||
	    !(url = store_url(n, m.seq, MANIFEST_NAME))) {
		errprintf(err, errlen, errno, "%s: %s", MANIFEST_NAME,
			  strerror(errno));
		goto out;
	}
	if (http_put_mem(x, url, text, strlen(text), err, errlen) < 0 ||
	    update_index(x, n, m.seq, j->keep, &dropped, &nd, err,
			 errlen) < 0)
		goto out;
	for (i = 0; i < nd; i++)
		delete_image(x, n, dropped[i]);
	json_object_set_new(rep, "seq", json_integer((json_int_t)m.seq));
	json_object_set_new(rep, "files", json_integer((json_int_t)m.nfiles));
	json_object_set_new(rep, "bytes",
			    json_integer((json_int_t)manifest_bytes(&m)));
	json_object_set_new(rep, "deleted", json_integer((json_int_t)nd));
	rc = 0;
out:
	free(text);
	free(url);
	free(dropped);
	manifest_free(&m);
	return rc;
}
