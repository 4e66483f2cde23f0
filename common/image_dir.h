/* SPDX-License-Identifier: GPL-2.0-or-later */
/* image_dir.h - what the files of the image module (image.c: names,
 * staging, moving, the log; image_commit.c; image_find.c) share about a
 * checkpoint directory.  Internal to common/: image.h is the module's
 * interface. */
#ifndef CKPT_IMAGE_DIR_H
#define CKPT_IMAGE_DIR_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

#define OPEN_DIR (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

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

/* An image name N: no '/', not "." or "..", room left for suffixes. */
bool imgdir_name_ok(const char *name);
/* -1 EINVAL, "invalid image name '<name>'" in err. */
int imgdir_bad_name(const char *name, char *err, size_t errlen);
/* "N.<digits>" -> seq; false for anything else. */
bool imgdir_numbered(const char *entry, const char *name, uint64_t *seq);
/* fn(dirfd, entry, ctx) for each entry of dirfd but "." and ".."; -1 at
 * the first failure. */
int imgdir_each_entry(int dirfd, int (*fn)(int, const char *, void *),
		      void *ctx);
/* N.partial; and N.deleted.<suffix> for entry N.<suffix>.  Allocated;
 * NULL when out of memory. */
char *imgdir_staging_name(const char *name);
char *imgdir_trash_name(const char *name, const char *entry);
/* l: N and each N.<seq> of basefd (seq from the name, manifests not
 * read).  0, or -1 with errno; imgdir_cand_free() releases l. */
int imgdir_scan(int basefd, const char *name, struct cand_list *l);
void imgdir_cand_free(struct cand_list *l);
/* Read basefd/dir/manifest.json into m (manifest_read). */
int imgdir_read_manifest(int basefd, const char *dir, struct manifest *m,
			 char *err, size_t errlen);

#endif
