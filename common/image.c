/* SPDX-License-Identifier: GPL-2.0-or-later */
/* image.c - checkpoint images in a checkpoint directory: their names,
 * the base directory, staging, moving a staging directory elsewhere, and
 * the log.  The commit is in image_commit.c, the lookup in image_find.c,
 * what they share in image_dir.c.
 *
 * Every name below the checkpoint directory is reached with *at()
 * calls relative to its descriptor, never following a symbolic link. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "escape.h"
#include "image.h"
#include "image_dir.h"
#include "proto.h"

/* ------------------------------------------------------------------ */
/* Names, base directory                                              */

void image_label(uint32_t job, uint32_t step, char *buf, size_t len)
{
	if (step == CKPT_STEP_BATCH)
		snprintf(buf, len, "%" PRIu32 ".batch", job);
	else
		snprintf(buf, len, "%" PRIu32 ".%" PRIu32, job, step);
}

int image_name(uint32_t job, uint32_t step, char *buf, size_t len)
{
	int n;

	if (!buf) {
		errno = EINVAL;
		return -1;
	}
	if (step == CKPT_STEP_BATCH)
		n = snprintf(buf, len, "%" PRIu32 ".ckpt", job);
	else
		n = snprintf(buf, len, "%" PRIu32 ".%" PRIu32 ".ckpt", job,
			     step);
	if (n < 0 || (size_t)n >= len) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

/* mkdir path with 0700 unless it is already a directory. */
static int mkdir_one(const char *path)
{
	struct stat st;
	int e;

	if (mkdir(path, 0700) == 0)
		return 0;
	e = errno;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	errno = e;
	return -1;
}

int image_open_base(const char *path, char *err, size_t errlen)
{
	char *copy, *p;
	int fd = -1;

	if (!path || !*path)
		return errprintf(err, errlen, EINVAL,
			      "empty checkpoint directory");
	copy = strdup(path);
	if (!copy)
		return errsys(err, errlen, "open", path);
	for (p = strchr(copy + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir_one(copy) < 0) {
			errsys(err, errlen, "mkdir", copy);
			goto out;
		}
		*p = '/';
	}
	if (mkdir_one(copy) < 0) {
		errsys(err, errlen, "mkdir", copy);
		goto out;
	}
	fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		errsys(err, errlen, "open", copy);
out:
	free(copy);
	return fd;
}


struct trash {
	const char *name;
	int rc;
	char *err;
	size_t errlen;
};

static int trash_entry(int dirfd, const char *entry, void *ctx)
{
	struct trash *t = ctx;
	size_t len = strlen(t->name);

	if (strncmp(entry, t->name, len) != 0 ||
	    strncmp(entry + len, IMAGE_TRASH_INFIX,
		    strlen(IMAGE_TRASH_INFIX)) != 0)
		return 0;
	if (image_remove_tree(dirfd, entry) < 0 && errno != ENOENT &&
	    t->rc == 0)
		t->rc = errsys(t->err, t->errlen, "remove", entry);
	return 0;
}

int image_discard(int basefd, const char *name, char *err, size_t errlen)
{
	struct trash t = { name, 0, err, errlen };
	char *partial, *trash;
	int rc = 0;

	if (!imgdir_name_ok(name))
		return imgdir_bad_name(name, err, errlen);
	partial = imgdir_staging_name(name);
	trash = partial ? imgdir_trash_name(name, partial) : NULL;
	if (!partial || !trash) {
		free(partial);
		return -1;
	}
	/* Renamed first: a task still writing into it (its checkpoint was
	 * interrupted) can no longer add files while it is emptied. */
	if (imgdir_each_entry(basefd, trash_entry, &t) < 0)
		rc = errsys(err, errlen, "list", "checkpoint directory");
	if (rc == 0 && t.rc == 0 &&
	    renameat(basefd, partial, basefd, trash) < 0 && errno != ENOENT &&
	    image_remove_tree(basefd, partial) < 0 && errno != ENOENT)
		rc = errsys(err, errlen, "remove", partial);
	if (rc == 0 && t.rc == 0 && image_remove_tree(basefd, trash) < 0 &&
	    errno != ENOENT)
		rc = errsys(err, errlen, "remove", trash);
	free(partial);
	free(trash);
	return rc ? rc : t.rc;
}

int image_stage(int basefd, const char *name, char *err, size_t errlen)
{
	char *partial;
	int fd = -1;

	if (image_discard(basefd, name, err, errlen) < 0)
		return -1;
	partial = imgdir_staging_name(name);
	if (!partial)
		return -1;
	if (mkdirat(basefd, partial, 0700) < 0) {
		errsys(err, errlen, "mkdir", partial);
		goto out;
	}
	fd = openat(basefd, partial, OPEN_DIR);
	if (fd < 0 || fchmod(fd, 0700) < 0) {
		errsys(err, errlen, "open", partial);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	free(partial);
	return fd;
}


/* ------------------------------------------------------------------ */
/* Moving a staging directory to another base (ImageDir=)             */

/* The directory of path's last component below dstfd, created (0700)
 * as needed, never through a link; *leaf points into path.  An fd to
 * close, or -1. */
static int open_parent(int dstfd, char *path, const char **leaf)
{
	char *c, *slash;
	int fd = dstfd, next;

	for (c = path; (slash = strchr(c, '/')); c = slash + 1) {
		*slash = '\0';
		if (mkdirat(fd, c, 0700) < 0 && errno != EEXIST)
			next = -1;
		else
			next = openat(fd, c, OPEN_DIR);
		*slash = '/';
		if (fd != dstfd)
			close(fd);
		if ((fd = next) < 0)
			return -1;
	}
	*leaf = c;
	return fd == dstfd ? dup(dstfd) : fd;
}

int image_copy_file(int srcfd, int dstfd, const char *path)
{
	char *p = strdup(path), buf[65536];
	int in = -1, out = -1, dir = -1, rc = -1;
	const char *leaf;
	struct stat st;
	ssize_t n;

	if (!p || (in = manifest_open_file(srcfd, path)) < 0 ||
	    fstat(in, &st) < 0 ||
	    (dir = open_parent(dstfd, p, &leaf)) < 0 ||
	    (out = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL |
			  O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || manifest_write_all(out, buf, (size_t)n) < 0)
			goto out;
	}
	/* The copy keeps the modes the application gave the file (the
	 * commit clears the write bits again). */
	if (fchmod(out, (st.st_mode & 0777) | 0600) < 0)
		goto out;
	rc = 0;
out:
	if (out >= 0 && close(out) < 0)
		rc = -1;
	if (in >= 0)
		close(in);
	if (dir >= 0)
		close(dir);
	free(p);
	return rc;
}

/* Copy the files of frombase/N.partial into a fresh tobase/N.partial:
 * manifest_build lists them (and refuses what a commit would refuse). */
static int copy_staging(int frombase, int tobase, const char *name,
			const char *partial, char *err, size_t errlen)
{
	struct manifest m = { 0 };
	int src, dst = -1, rc = -1;
	size_t i;

	if ((src = openat(frombase, partial, OPEN_DIR)) < 0)
		return errsys(err, errlen, "open", partial);
	if (manifest_build(src, &m, err, errlen) < 0 ||
	    (dst = image_stage(tobase, name, err, errlen)) < 0)
		goto out;
	for (i = 0; i < m.nfiles; i++)
		if (image_copy_file(src, dst, m.files[i].path) < 0) {
			errsys(err, errlen, "copy", m.files[i].path);
			goto out;
		}
	rc = 0;
out:
	if (dst >= 0)
		close(dst);
	close(src);
	manifest_free(&m);
	return rc;
}

int image_move(int frombase, int tobase, const char *name, char *err,
	       size_t errlen)
{
	struct stat a, b;
	char *partial;
	int rc = -1;

	if (!imgdir_name_ok(name))
		return imgdir_bad_name(name, err, errlen);
	if (fstat(frombase, &a) < 0 || fstat(tobase, &b) < 0)
		return errsys(err, errlen, "stat", "checkpoint directory");
	if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;	/* ImageDir= is the directory itself */
	if (image_discard(tobase, name, err, errlen) < 0 ||
	    !(partial = imgdir_staging_name(name)))
		return -1;
	if (renameat(frombase, partial, tobase, partial) == 0)
		rc = 0;
	else if (errno != EXDEV)
		errsys(err, errlen, "move", partial);
	else if (copy_staging(frombase, tobase, name, partial, err,
			      errlen) == 0)
		rc = image_discard(frombase, name, err, errlen);
	free(partial);
	return rc;
}


/* ------------------------------------------------------------------ */
/* Log                                                                */

int image_log(int basefd, const char *text)
{
	char stamp[32], *line = NULL, *safe = NULL;
	struct stat st;
	struct tm tm;
	time_t now = time(NULL);
	ssize_t n;
	int fd, len, rc = -1;

	if (!text || !gmtime_r(&now, &tm) ||
	    !strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		errno = EINVAL;
		return -1;
	}
	/* One event, one line; no escape sequence for whoever reads it. */
	if (!(safe = malloc(4 * strlen(text) + 1)))
		return -1;
	escape_ctl(safe, 4 * strlen(text) + 1, text, strlen(text), false);
	len = asprintf(&line, "%s %s\n", stamp, safe);
	free(safe);
	if (len < 0)
		return -1;
	/* O_NONBLOCK: a FIFO planted by the user must not block the open. */
	fd = openat(basefd, IMAGE_LOG_NAME, O_WRONLY | O_APPEND | O_CREAT |
		    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);	/* a FIFO or a device is no log */
		errno = EINVAL;
		goto out;
	}
	n = write(fd, line, (size_t)len);
	if (n == len)
		rc = 0;
	else if (n >= 0)
		errno = EIO;
	if (close(fd) < 0)
		rc = -1;
out:
	free(line);
	return rc;
}

