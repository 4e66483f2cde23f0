/* SPDX-License-Identifier: GPL-2.0-or-later */
/* image_commit.c - the commit of a staging directory into an image
 * (image.h: the crash-safe order of its steps), its sequence number and
 * the rotation of older images. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "image.h"
#include "image_dir.h"

uint64_t image_next_seq(int basefd, const char *name)
{
	struct cand_list l;
	struct manifest m = { 0 };
	uint64_t max = 0;
	size_t i;

	if (!imgdir_name_ok(name) || imgdir_scan(basefd, name, &l) < 0)
		return 1;
	for (i = 0; i < l.n; i++) {
		if (l.c[i].exact &&
		    imgdir_read_manifest(basefd, l.c[i].name, &m, NULL,
					 0) == 0) {
			l.c[i].seq = m.seq;
			manifest_free(&m);
		}
		if (l.c[i].seq > max)
			max = l.c[i].seq;
	}
	imgdir_cand_free(&l);
	return max + 1;
}


/* ------------------------------------------------------------------ */
/* Commit                                                             */

static void free_files_only(struct manifest *t)
{
	size_t i;

	for (i = 0; i < t->nfiles; i++)
		free(t->files[i].path);
	free(t->files);
	t->files = NULL;
	t->nfiles = 0;
}

/* Build and write the manifest of N.partial; make it read-only. */
static int seal_staging(int basefd, const char *partial, struct manifest *t,
			char *err, size_t errlen)
{
	int fd, rc = -1;

	fd = openat(basefd, partial, OPEN_DIR);
	if (fd < 0)
		return errsys(err, errlen, "open", partial);
	if (manifest_build(fd, t, err, errlen) < 0 ||
	    manifest_write(fd, t, err, errlen) < 0)
		goto out;
	if (fchmod(fd, t->process_image ? 0500 : 0555) < 0 || fsync(fd) < 0) {
		errsys(err, errlen, "chmod/fsync", partial);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Rename the current N out of the way: to N.<its seq>, or N.bad.<time>
 * when its manifest cannot be read (or N.<seq> is taken).  *old is the
 * new name, NULL when there was no N. */
static int retire_current(int basefd, const char *name, char **old,
			  char *err, size_t errlen)
{
	struct manifest cur = { 0 };
	struct stat st;
	int n = -1;

	*old = NULL;
	if (fstatat(basefd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : errsys(err, errlen, "stat", name);
	if (imgdir_read_manifest(basefd, name, &cur, NULL, 0) == 0) {
		n = asprintf(old, "%s.%" PRIu64, name, cur.seq);
		manifest_free(&cur);
		if (n < 0)
			return -1;
		if (renameat2(basefd, name, basefd, *old,
			      RENAME_NOREPLACE) == 0)
			return 0;
		free(*old);
		*old = NULL;
	}
	if (asprintf(old, "%s.bad.%lld", name, (long long)time(NULL)) < 0) {
		*old = NULL;
		return -1;
	}
	if (renameat2(basefd, name, basefd, *old, RENAME_NOREPLACE) == 0)
		return 0;
	errsys(err, errlen, "rename", name);
	free(*old);
	*old = NULL;
	return -1;
}

/* N -> N.<seq>, N.partial -> N, fsync(base). */
static int publish(int basefd, const char *name, const char *partial,
		   char *err, size_t errlen)
{
	char *old = NULL;
	int rc = -1, saved;

	if (retire_current(basefd, name, &old, err, errlen) < 0)
		return -1;
	if (renameat2(basefd, partial, basefd, name, RENAME_NOREPLACE) < 0) {
		errsys(err, errlen, "rename", partial);
		saved = errno;
		if (old && renameat(basefd, old, basefd, name) < 0)
			saved = errno;	/* the old image stays as N.<seq> */
		errno = saved;
		goto out;
	}
	if (fsync(basefd) < 0) {
		errsys(err, errlen, "fsync", "checkpoint directory");
		goto out;
	}
	rc = 0;
out:
	free(old);
	return rc;
}

struct rot {
	const char *name;
	char **names;
	uint64_t *seqs;
	size_t n, alloc;
};

static int rot_entry(int dirfd, const char *entry, void *ctx)
{
	struct rot *r = ctx;
	uint64_t seq;
	size_t na;
	void *p;

	(void)dirfd;
	if (!imgdir_numbered(entry, r->name, &seq))
		return 0;
	if (r->n == r->alloc) {
		na = r->alloc ? r->alloc * 2 : 8;
		p = reallocarray(r->names, na, sizeof(*r->names));
		if (!p)
			return -1;
		r->names = p;
		p = reallocarray(r->seqs, na, sizeof(*r->seqs));
		if (!p)
			return -1;
		r->seqs = p;
		r->alloc = na;
	}
	r->names[r->n] = strdup(entry);
	if (!r->names[r->n])
		return -1;
	r->seqs[r->n++] = seq;
	return 0;
}

/* Remove N.<seq> beyond the keep - 1 newest. */
static int rotate(int basefd, const char *name, long keep, char *err,
		  size_t errlen)
{
	struct rot r = { .name = name };
	size_t i, j, newer;
	char *trash;
	int rc = 0;

	if (imgdir_each_entry(basefd, rot_entry, &r) < 0)
		rc = errsys(err, errlen, "list", "checkpoint directory");
	for (i = 0; rc == 0 && i < r.n; i++) {
		for (newer = 0, j = 0; j < r.n; j++)
			newer += r.seqs[j] > r.seqs[i] ||
				 (r.seqs[j] == r.seqs[i] &&
				  strcmp(r.names[j], r.names[i]) < 0);
		if (newer < (size_t)(keep - 1))
			continue;
		trash = imgdir_trash_name(name, r.names[i]);
		if (!trash || renameat(basefd, r.names[i], basefd,
				       trash) < 0) {
			rc = errsys(err, errlen, "rename", r.names[i]);
		} else if (image_remove_tree(basefd, trash) < 0 &&
			   errno != ENOENT) {
			rc = errsys(err, errlen, "remove", trash);
		}
		free(trash);
	}
	for (i = 0; i < r.n; i++)
		free(r.names[i]);
	free(r.names);
	free(r.seqs);
	return rc;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	if (clock_gettime(CLOCK_MONOTONIC, &t1) < 0)
		return 0;
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}


/* Rotation and the log line; the image is committed whatever happens. */
static void finish(int basefd, const char *name, const struct manifest *m,
		   long keep, const struct timespec *t0)
{
	char label[32], msg[512], *line;

	image_label(m->job, m->step, label, sizeof(label));
	if (rotate(basefd, name, keep, msg, sizeof(msg)) < 0 &&
	    asprintf(&line, "%s rotate failed: %s", label, msg) >= 0) {
		image_log(basefd, line);
		free(line);
	}
	/* took: from the request (the whole checkpoint); commit: the
	 * sealing and renames alone. */
	if (asprintf(&line, "%s seq=%" PRIu64 " committed files=%zu bytes=%"
		     PRIu64 " reason=%s node=%s took=%ldms commit=%ldms",
		     label, m->seq, m->nfiles, manifest_bytes(m), m->reason,
		     m->node, ms_since(m->asked.tv_sec ? &m->asked : t0),
		     ms_since(t0)) >= 0) {
		image_log(basefd, line);
		free(line);
	}
}

int image_commit(int basefd, const char *name, struct manifest *m,
		 long keep, char *err, size_t errlen)
{
	struct timespec t0 = { 0 };
	struct manifest t;
	char *partial;
	int rc = -1;

	if (!imgdir_name_ok(name))
		return imgdir_bad_name(name, err, errlen);
	if (!m || keep < 1)
		return errprintf(err, errlen, EINVAL, "invalid manifest or keep");
	if (clock_gettime(CLOCK_MONOTONIC, &t0) < 0)
		return errsys(err, errlen, "clock", "monotonic");
	partial = imgdir_staging_name(name);
	if (!partial)
		return -1;
	t = *m;
	t.files = NULL;
	t.nfiles = 0;
	t.time = time(NULL);
	if (seal_staging(basefd, partial, &t, err, errlen) < 0 ||
	    publish(basefd, name, partial, err, errlen) < 0) {
		free_files_only(&t);
		goto out;
	}
	free_files_only(m);
	*m = t;
	finish(basefd, name, m, keep, &t0);
	rc = 0;
out:
	free(partial);
	return rc;
}

