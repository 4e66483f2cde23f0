/* SPDX-License-Identifier: GPL-2.0-or-later */
/* image_dir.c - what the files of the image module share about a
 * checkpoint directory (image_dir.h): names, a walk over its entries,
 * the images of one name, recursive removal.
 *
 * Every name below the checkpoint directory is reached with *at()
 * calls relative to its descriptor, never following a symbolic link. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "image.h"
#include "image_dir.h"

#define RM_MAX_DEPTH 256	/* deeper staging debris is refused */
#define NAME_ROOM 40		/* room left in NAME_MAX for suffixes */

bool imgdir_name_ok(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..") && strlen(name) + NAME_ROOM <= NAME_MAX;
}

int imgdir_bad_name(const char *name, char *err, size_t errlen)
{
	return errprintf(err, errlen, EINVAL, "invalid image name '%s'",
			 name ? name : "");
}

/* "N.<digits>" -> seq; false for anything else. */
bool imgdir_numbered(const char *entry, const char *name, uint64_t *seq)
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
int imgdir_each_entry(int dirfd, int (*fn)(int, const char *, void *),
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
	rc = imgdir_each_entry(fd, rm_entry, &c);
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


char *imgdir_staging_name(const char *name)
{
	char *p;

	if (asprintf(&p, "%s%s", name, IMAGE_STAGING_SUFFIX) < 0)
		return NULL;
	return p;
}

/* N.deleted.<seq>: an old image that rotation renamed before removing
 * it, so that one half removed by a crash is never taken for an image;
 * N.deleted.partial: staging being discarded.  entry is N.<suffix>. */
char *imgdir_trash_name(const char *name, const char *entry)
{
	char *p;

	if (asprintf(&p, "%s%s%s", name, IMAGE_TRASH_INFIX,
		     entry + strlen(name) + 1) < 0)
		return NULL;
	return p;
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
	if (!exact && !imgdir_numbered(entry, s->name, &seq))
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

void imgdir_cand_free(struct cand_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->c[i].name);
		manifest_free(&l->c[i].m);
	}
	free(l->c);
	memset(l, 0, sizeof(*l));
}

int imgdir_scan(int basefd, const char *name, struct cand_list *l)
{
	struct scan s = { name, l };

	memset(l, 0, sizeof(*l));
	if (imgdir_each_entry(basefd, scan_entry, &s) < 0) {
		imgdir_cand_free(l);
		return -1;
	}
	return 0;
}

/* Read basefd/dir/manifest.json. */
int imgdir_read_manifest(int basefd, const char *dir, struct manifest *m,
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

