/* image.c - checkpoint images in a checkpoint directory: staging,
 * commit (with crash-safe ordering), rotation, lookup, and the log.
 *
 * Every name below the checkpoint directory is reached with *at()
 * calls relative to its descriptor, never following a symbolic link. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
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
#include "proto.h"

#define OPEN_DIR (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define RM_MAX_DEPTH 256	/* deeper staging debris is refused */
#define NAME_ROOM 40		/* room left in NAME_MAX for suffixes */

struct candidate {
	char *name;		/* N or N.<seq> */
	uint64_t seq;		/* from the name, or from the manifest */
	struct manifest m;
	bool exact;		/* N itself */
};

struct cand_list {
	struct candidate *c;
	size_t n, alloc;
};

static bool name_ok(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..") && strlen(name) + NAME_ROOM <= NAME_MAX;
}

static int bad_name(const char *name, char *err, size_t errlen)
{
	return errprintf(err, errlen, EINVAL, "invalid image name '%s'",
		      name ? name : "");
}

/* "N.<digits>" -> seq; false for anything else. */
static bool numbered(const char *entry, const char *name, uint64_t *seq)
{
	size_t len = strlen(name);
	const char *p;
	uint64_t v = 0;

	if (strncmp(entry, name, len) != 0 || entry[len] != '.' ||
	    !entry[len + 1])
		return false;
	for (p = entry + len + 1; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*seq = v;
	return true;
}

/* Call fn(dirfd, entry, ctx) for each entry of dirfd but "." and "..";
 * stops at the first failure. */
static int each_entry(int dirfd, int (*fn)(int, const char *, void *),
		      void *ctx)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = -1;

	fd = dup(dirfd);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	for (errno = 0; (de = readdir(d)); errno = 0) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fn(dirfd, de->d_name, ctx) < 0)
			goto out;
	}
	rc = errno ? -1 : 0;
out:
	closedir(d);
	return rc;
}

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

/* ------------------------------------------------------------------ */
/* Recursive removal                                                  */

static int rm_tree(int dirfd, const char *name, int depth);

struct rm_ctx {
	int depth;
};

static int rm_entry(int dirfd, const char *name, void *ctx)
{
	struct rm_ctx *c = ctx;

	return rm_tree(dirfd, name, c->depth + 1);
}

/* Open the directory dirfd/name (mode *st) for removal, giving its owner
 * the rights needed to list and empty it. */
static int open_for_rm(int dirfd, const char *name, const struct stat *st)
{
	int fd;

	fd = openat(dirfd, name, OPEN_DIR);
	if (fd < 0 && errno == EACCES) {
		if (fchmodat(dirfd, name, (st->st_mode & 07777) | 0700, 0) < 0)
			return -1;
		fd = openat(dirfd, name, OPEN_DIR);
	}
	if (fd >= 0 && (st->st_mode & 0700) != 0700 &&
	    fchmod(fd, (st->st_mode & 07777) | 0700) < 0 && errno != EPERM) {
		close(fd);
		return -1;
	}
	return fd;
}

/* rm -rf dirfd/name without following links.  ENOENT if absent. */
static int rm_tree(int dirfd, const char *name, int depth)
{
	struct rm_ctx c = { depth };
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	if (depth > RM_MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	fd = open_for_rm(dirfd, name, &st);
	if (fd < 0)
		return -1;
	rc = each_entry(fd, rm_entry, &c);
	close(fd);
	if (rc < 0)
		return -1;
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ?
	       -1 : 0;
}

int image_remove_tree(int dirfd, const char *name)
{
	return rm_tree(dirfd, name, 0);
}

static char *staging_name(const char *name)
{
	char *p;

	if (asprintf(&p, "%s%s", name, IMAGE_STAGING_SUFFIX) < 0)
		return NULL;
	return p;
}

/* N.deleted.<seq>: an old image that rotation renamed before removing
 * it, so that one half removed by a crash is never taken for an image;
 * N.deleted.partial: staging being discarded.  entry is N.<suffix>. */
static char *trash_name(const char *name, const char *entry)
{
	char *p;

	if (asprintf(&p, "%s%s%s", name, IMAGE_TRASH_INFIX,
		     entry + strlen(name) + 1) < 0)
		return NULL;
	return p;
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
	if (rm_tree(dirfd, entry, 0) < 0 && errno != ENOENT && t->rc == 0)
		t->rc = errsys(t->err, t->errlen, "remove", entry);
	return 0;
}

int image_discard(int basefd, const char *name, char *err, size_t errlen)
{
	struct trash t = { name, 0, err, errlen };
	char *partial, *trash;
	int rc = 0;

	if (!name_ok(name))
		return bad_name(name, err, errlen);
	partial = staging_name(name);
	trash = partial ? trash_name(name, partial) : NULL;
	if (!partial || !trash) {
		free(partial);
		return -1;
	}
	/* Renamed first: a task still writing into it (its checkpoint was
	 * interrupted) can no longer add files while it is emptied. */
	if (each_entry(basefd, trash_entry, &t) < 0)
		rc = errsys(err, errlen, "list", "checkpoint directory");
	if (rc == 0 && t.rc == 0 &&
	    renameat(basefd, partial, basefd, trash) < 0 && errno != ENOENT &&
	    rm_tree(basefd, partial, 0) < 0 && errno != ENOENT)
		rc = errsys(err, errlen, "remove", partial);
	if (rc == 0 && t.rc == 0 && rm_tree(basefd, trash, 0) < 0 &&
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
	partial = staging_name(name);
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

	if (!name_ok(name))
		return bad_name(name, err, errlen);
	if (fstat(frombase, &a) < 0 || fstat(tobase, &b) < 0)
		return errsys(err, errlen, "stat", "checkpoint directory");
	if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;	/* ImageDir= is the directory itself */
	if (image_discard(tobase, name, err, errlen) < 0 ||
	    !(partial = staging_name(name)))
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
/* Candidates: N and N.<seq>                                          */

struct scan {
	const char *name;
	struct cand_list *list;
};

static int scan_entry(int dirfd, const char *entry, void *ctx)
{
	struct scan *s = ctx;
	struct cand_list *l = s->list;
	struct candidate *nc;
	uint64_t seq = 0;
	bool exact = strcmp(entry, s->name) == 0;

	(void)dirfd;
	if (!exact && !numbered(entry, s->name, &seq))
		return 0;
	if (l->n == l->alloc) {
		nc = reallocarray(l->c, l->alloc ? l->alloc * 2 : 8,
				  sizeof(*nc));
		if (!nc)
			return -1;
		l->c = nc;
		l->alloc = l->alloc ? l->alloc * 2 : 8;
	}
	memset(&l->c[l->n], 0, sizeof(*nc));
	l->c[l->n].name = strdup(entry);
	if (!l->c[l->n].name)
		return -1;
	l->c[l->n].seq = seq;
	l->c[l->n].exact = exact;
	l->n++;
	return 0;
}

static void cand_free(struct cand_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->c[i].name);
		manifest_free(&l->c[i].m);
	}
	free(l->c);
	memset(l, 0, sizeof(*l));
}

static int scan_candidates(int basefd, const char *name, struct cand_list *l)
{
	struct scan s = { name, l };

	memset(l, 0, sizeof(*l));
	if (each_entry(basefd, scan_entry, &s) < 0) {
		cand_free(l);
		return -1;
	}
	return 0;
}

/* Newest first: by seq, N before N.<seq> for the same seq. */
static int cmp_cand(const void *a, const void *b)
{
	const struct candidate *ca = a, *cb = b;

	if (ca->seq != cb->seq)
		return ca->seq > cb->seq ? -1 : 1;
	if (ca->exact != cb->exact)
		return ca->exact ? -1 : 1;
	return strcmp(ca->name, cb->name);
}

/* Read basefd/dir/manifest.json. */
static int read_image(int basefd, const char *dir, struct manifest *m,
		      char *err, size_t errlen)
{
	int fd, rc, saved;

	fd = openat(basefd, dir, OPEN_DIR);
	if (fd < 0)
		return errprintf(err, errlen, errno, "%s", strerror(errno));
	rc = manifest_read(fd, m, err, errlen);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

uint64_t image_next_seq(int basefd, const char *name)
{
	struct cand_list l;
	struct manifest m = { 0 };
	uint64_t max = 0;
	size_t i;

	if (!name_ok(name) || scan_candidates(basefd, name, &l) < 0)
		return 1;
	for (i = 0; i < l.n; i++) {
		if (l.c[i].exact && read_image(basefd, l.c[i].name, &m,
					       NULL, 0) == 0) {
			l.c[i].seq = m.seq;
			manifest_free(&m);
		}
		if (l.c[i].seq > max)
			max = l.c[i].seq;
	}
	cand_free(&l);
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
	if (read_image(basefd, name, &cur, NULL, 0) == 0) {
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
	if (!numbered(entry, r->name, &seq))
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

	if (each_entry(basefd, rot_entry, &r) < 0)
		rc = errsys(err, errlen, "list", "checkpoint directory");
	for (i = 0; rc == 0 && i < r.n; i++) {
		for (newer = 0, j = 0; j < r.n; j++)
			newer += r.seqs[j] > r.seqs[i] ||
				 (r.seqs[j] == r.seqs[i] &&
				  strcmp(r.names[j], r.names[i]) < 0);
		if (newer < (size_t)(keep - 1))
			continue;
		trash = trash_name(name, r.names[i]);
		if (!trash || renameat(basefd, r.names[i], basefd,
				       trash) < 0) {
			rc = errsys(err, errlen, "rename", r.names[i]);
		} else if (rm_tree(basefd, trash, 0) < 0 && errno != ENOENT) {
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
	if (asprintf(&line, "%s seq=%" PRIu64 " committed files=%zu bytes=%"
		     PRIu64 " reason=%s node=%s took=%ldms", label, m->seq,
		     m->nfiles, manifest_bytes(m), m->reason, m->node,
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

	if (!name_ok(name))
		return bad_name(name, err, errlen);
	if (!m || keep < 1)
		return errprintf(err, errlen, EINVAL, "invalid manifest or keep");
	if (clock_gettime(CLOCK_MONOTONIC, &t0) < 0)
		return errsys(err, errlen, "clock", "monotonic");
	partial = staging_name(name);
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

/* ------------------------------------------------------------------ */
/* Lookup                                                             */

__attribute__((format(printf, 3, 4)))
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!buf || !len)
		return;
	used = strnlen(buf, len);
	if (used + 1 >= len)
		return;
	if (used)
		buf[used++] = ';';
	buf[used] = '\0';
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* Read every candidate's manifest (dropping the unreadable ones). */
static void read_candidates(int basefd, struct cand_list *l, char *skipped,
			    size_t skippedlen)
{
	char msg[512];
	size_t i, j;

	for (i = 0, j = 0; i < l->n; i++) {
		if (read_image(basefd, l->c[i].name, &l->c[i].m, msg,
			       sizeof(msg)) < 0) {
			append(skipped, skippedlen, "%s: %s", l->c[i].name,
			       msg);
			free(l->c[i].name);
			continue;
		}
		l->c[i].seq = l->c[i].m.seq;
		l->c[j++] = l->c[i];
	}
	l->n = j;
}

static int verify_image(int basefd, const struct candidate *c, char *msg,
			size_t msglen)
{
	int fd, rc, saved;

	fd = openat(basefd, c->name, OPEN_DIR);
	if (fd < 0)
		return errprintf(msg, msglen, errno, "%s", strerror(errno));
	rc = manifest_verify(fd, &c->m, msg, msglen);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int image_find_newest(int basefd, const char *name, char *out, size_t outlen,
		      struct manifest *m, char *skipped, size_t skippedlen)
{
	struct cand_list l;
	char msg[512];
	size_t i;

	if (!name_ok(name) || !out || !m) {
		errno = EINVAL;
		return -1;
	}
	if (skipped && skippedlen)
		skipped[0] = '\0';
	if (scan_candidates(basefd, name, &l) < 0)
		return -1;
	read_candidates(basefd, &l, skipped, skippedlen);
	if (l.n)
		qsort(l.c, l.n, sizeof(*l.c), cmp_cand);
	for (i = 0; i < l.n; i++) {
		if (verify_image(basefd, &l.c[i], msg, sizeof(msg)) < 0) {
			append(skipped, skippedlen, "%s: %s", l.c[i].name, msg);
			continue;
		}
		if (strlen(l.c[i].name) >= outlen) {
			cand_free(&l);
			errno = ENOSPC;
			return -1;
		}
		strcpy(out, l.c[i].name);
		*m = l.c[i].m;
		memset(&l.c[i].m, 0, sizeof(*m));
		cand_free(&l);
		return 0;
	}
	cand_free(&l);
	errno = ENOENT;
	return -1;
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
