/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite_fetch.c - the newest complete image fetched back from the
 * offsite store, for a restart that finds none on disk: the job's index,
 * then each file of the image's manifest into a staging directory of this
 * node's own, checked against the manifest and committed. */
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
#include "errbuf.h"
#include "image.h"
#include "manifest.h"
#include "offsite.h"
#include "offsite_fetch.h"
#include "offsite_http.h"

#define FETCH_INFIX ".fetch"	/* N.fetch.<k>.partial: node k's fetch */

/* Create the directories of path under dirfd (0700) and the file itself
 * (O_EXCL, never through a link).  An fd, or -1. */
static int create_file(int dirfd, const char *path)
{
	char *copy = strdup(path), *c, *slash;
	int fd = dirfd, next, rc = -1;

	if (!copy)
		return -1;
	for (c = copy; (slash = strchr(c, '/')); c = slash + 1) {
		*slash = '\0';
		if (mkdirat(fd, c, 0700) < 0 && errno != EEXIST)
			goto out;
		next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		if (fd != dirfd)
			close(fd);
		fd = next;
		if (fd < 0)
			goto out;
	}
	rc = openat(fd, c, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
out:
	if (fd >= 0 && fd != dirfd)
		close(fd);
	free(copy);
	return rc;
}

static int get_file(struct xfer *x, const char *url, int stagefd,
		    const char *path, char *err, size_t errlen)
{
	int fd = create_file(stagefd, path), rc;

	if (fd < 0)
		return errprintf(err, errlen, errno, "%s: %s", path,
				 strerror(errno));
	rc = http_get(x, url, fd, 0, err, errlen);
	/* Read-only, and the owner's alone: the store does not keep the
	 * modes the application gave its files. */
	if (rc == 0 && (fsync(fd) < 0 || fchmod(fd, 0400) < 0)) {
		errprintf(err, errlen, errno, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

/* The directories of the image read-only (0500) too, deepest first. */
static int seal_dirs(int stagefd, const struct manifest *m)
{
	char *dir, *slash;
	size_t i;
	int rc = 0;

	for (i = m->nfiles; i-- > 0 && rc == 0;) {
		if (!(dir = strdup(m->files[i].path)))
			return -1;
		while (rc == 0 && (slash = strrchr(dir, '/'))) {
			*slash = '\0';
			rc = fchmodat(stagefd, dir, 0500, 0);
		}
		free(dir);
	}
	return rc;
}

/* Does image dir of basefd hold a manifest of this seq?  (Another node
 * of a multi-node step fetched the same image into the shared
 * directory first.) */
static bool same_seq(int basefd, const char *dir, uint64_t seq)
{
	struct manifest m = { 0 };
	char err[256];
	bool same = false;
	int fd = openat(basefd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);

	if (fd < 0)
		return false;
	if (manifest_read(fd, &m, err, sizeof(err)) == 0)
		same = m.seq == seq;
	manifest_free(&m);
	close(fd);
	return same;
}

/* N if there is none, else N.<seq>; already there (of the same seq,
 * fetched by another node of the step) is success. */
static int publish_fetched(int basefd, const struct offsite_job *j,
			   const char *partial, uint64_t seq, char *target,
			   size_t tlen, char *err, size_t errlen)
{
	snprintf(target, tlen, "%s", j->name);
	if (faccessat(basefd, target, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !same_seq(basefd, target, seq))
		snprintf(target, tlen, "%s.%" PRIu64, j->name, seq);
	if (renameat2(basefd, partial, basefd, target, RENAME_NOREPLACE) < 0) {
		if ((errno == EEXIST || errno == ENOTEMPTY) &&
		    same_seq(basefd, target, seq))
			return 1;	/* the caller discards its own copy */
		return errprintf(err, errlen, errno, "%s -> %s: %s", partial,
				 target, strerror(errno));
	}
	if (fsync(basefd) < 0)
		return errprintf(err, errlen, errno, "%s: fsync: %s", j->name,
				 strerror(errno));
	return 0;
}

/* One remote image into N.fetch.partial, checked, then published. */
static int fetch_one(struct xfer *x, const struct offsite_job *j,
		     const struct names *n, int basefd, uint64_t seq,
		     char *target, size_t tlen, char *err, size_t errlen)
{
	char stage[96], partial[128], *url = NULL;
	struct manifest m = { 0 };
	int stagefd, rc = -1;
	size_t i;

	snprintf(stage, sizeof(stage), "%s%s.%u", j->name, FETCH_INFIX,
		 (unsigned)j->nodeid);
	snprintf(partial, sizeof(partial), "%s%s", stage,
		 IMAGE_STAGING_SUFFIX);
	if ((stagefd = image_stage(basefd, stage, err, errlen)) < 0)
		return -1;
	if (!(url = store_url(n, seq, MANIFEST_NAME)) ||
	    get_file(x, url, stagefd, MANIFEST_NAME, err, errlen) < 0 ||
	    manifest_read(stagefd, &m, err, errlen) < 0)
		goto out;
	if (m.job != j->job || m.step != j->id || m.seq != seq) {
		errprintf(err, errlen, errno,
			  "seq %" PRIu64 ": its manifest is of "
			  "%u.%u seq %" PRIu64,
			  seq, m.job, m.step, m.seq);
		goto out;
	}
	for (i = 0; i < m.nfiles; i++) {
		free(url);
		if (!(url = store_url(n, seq, m.files[i].path)) ||
		    get_file(x, url, stagefd, m.files[i].path, err,
			     errlen) < 0)
			goto out;
	}
	if (manifest_verify(stagefd, &m, err, errlen) < 0 ||
	    seal_dirs(stagefd, &m) < 0 || fsync(stagefd) < 0 ||
	    fchmod(stagefd, 0500) < 0)
		goto out;
	rc = publish_fetched(basefd, j, partial, seq, target, tlen, err,
			     errlen);
	if (rc > 0) {		/* another node's copy is in place */
		image_discard(basefd, stage, NULL, 0);
		rc = 0;
	}
out:
	if (rc < 0 && !err[0])
		errprintf(err, errlen, errno, "seq %" PRIu64 ": %s", seq,
			  strerror(errno));
	free(url);
	manifest_free(&m);
	close(stagefd);
	if (rc < 0)
		image_discard(basefd, stage, NULL, 0);
	return rc;
}

int offsite_fetch_newest(struct xfer *x, const struct offsite_job *j,
			 const struct names *n, int basefd, json_t *rep, char *err,
			 size_t errlen)
{
	char *url = store_url(n, 0, OFFSITE_INDEX_NAME), target[96];
	char why[2048] = "", one[1024], line[4400];
	uint64_t *seqs = NULL;
	size_t ns = 0, i;
	int rc = -1;

	if (!url)
		return -1;
	if (http_get(x, url, -1, OFFSITE_INDEX_MAX, err, errlen) < 0 ||
	    offsite_index_parse(x->dst, x->dstlen, &seqs, &ns, err,
				errlen) < 0)
		goto out;
	for (i = ns; i-- > 0;) {
		one[0] = '\0';
		if (fetch_one(x, j, n, basefd, seqs[i], target,
			      sizeof(target), one, sizeof(one)) == 0)
			break;
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s",
			 why[0] ? "; " : "", one);
	}
	if (i == (size_t)-1) {
		errprintf(err, errlen, ENOENT,
			  "no complete image of %s in the offsite "
			  "store%s%s",
			  j->name, why[0] ? ": " : "", why);
		goto out;
	}
	free(url);
	url = store_url(n, seqs[i], NULL);
	snprintf(line, sizeof(line), "%s seq=%" PRIu64 " fetched from the "
		 "offsite store %.2048s into %s%s%.1024s", j->label, seqs[i],
		 url ? url : hconf.offsite.url, target,
		 why[0] ? "; skipped: " : "", why);
	image_log(basefd, line);
	snprintf(line, sizeof(line), "%s/%s", j->dir, target);
	json_object_set_new(rep, "seq", json_integer((json_int_t)seqs[i]));
	json_object_set_new(rep, "image", json_string(line));
	rc = 0;
out:
	free(seqs);
	free(url);
	return rc;
}
