/* SPDX-License-Identifier: GPL-2.0-or-later */
/* localstage_flush.c - node-local staging (local= of the plugin), in
 * the worker: with the user's credentials, it has committed the tasks'
 * image in the step's node-local directory and the tasks are computing
 * again; the image is now copied into the shared checkpoint directory and committed there
 * under the same seq, so that a restart on another node finds it.
 * Only regular files and directories are copied, never through a link
 * (image_copy_file); the copy is checked against the local manifest.
 * (localstage_gone.c removes the local directory of a job that ended.) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "image.h"
#include "localstage.h"
#include "localstage_flush.h"
#include "steps.h"

#define OPEN_DIR (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

int flush_open_local(const struct step *s, char *err, size_t errlen)
{
	char why[512];
	int fd;

	if ((fd = image_open_base(s->local, why, sizeof(why))) < 0)
		errprintf(err, errlen, errno, "local staging %s: %s", s->local,
			  why);
	return fd;
}

/* The shared copy must hold what the local image held. */
static int same_files(const struct manifest *a, const struct manifest *b,
		      char *err, size_t errlen)
{
	size_t i;

	if (a->nfiles != b->nfiles)
		return errprintf(err, errlen, errno,
				 "flush: %zu files copied, the local "
				 "image has %zu",
				 b->nfiles, a->nfiles);
	for (i = 0; i < a->nfiles; i++)
		if (strcmp(a->files[i].path, b->files[i].path) ||
		    a->files[i].size != b->files[i].size ||
		    strcmp(a->files[i].xxh3, b->files[i].xxh3))
			return errprintf(err, errlen, errno,
					 "flush: %.512s differs from the "
					 "local image",
					 b->files[i].path);
	return 0;
}

/* Copy lbase/N into dst (an open directory). */
static int copy_image(const struct step *s, int lbase,
		      const struct manifest *m, int dst, char *err,
		      size_t errlen)
{
	char why[512];
	int src, rc;

	if ((src = openat(lbase, s->name, OPEN_DIR)) < 0)
		return errprintf(err, errlen, errno,
				 "flush: local image %s/%s: %s", s->local,
				 s->name, strerror(errno));
	rc = localstage_copy(src, m, dst, why, sizeof(why));
	if (rc < 0)
		errprintf(err, errlen, errno, "flush to %s: %s", s->dir, why);
	close(src);
	return rc;
}

/* A part of a multi-node image: N.partial/<part>, not committed here. */
static int flush_part(const struct step *s, int lbase, int sbase,
		      const char *part, const struct manifest *m, char *err,
		      size_t errlen)
{
	char sub[128], why[512];
	int dst, rc;

	snprintf(sub, sizeof(sub), "%s%s/%s", s->name, IMAGE_STAGING_SUFFIX,
		 part);
	if ((dst = localstage_open_dest(sbase, sub, why, sizeof(why))) < 0)
		return errprintf(err, errlen, errno, "flush to %s: %s", s->dir,
				 why);
	rc = copy_image(s, lbase, m, dst, err, errlen);
	close(dst);
	return rc;
}

int flush_image(const struct step *s, int lbase, int sbase, const char *part,
		const struct manifest *m, char *err, size_t errlen)
{
	struct manifest sm = { .seq = m->seq, .job = m->job, .step = m->step,
			       .reason = m->reason, .node = m->node,
			       .process_image = m->process_image };
	char why[512];
	int dst, rc;

	if (part)
		return flush_part(s, lbase, sbase, part, m, err, errlen);
	if ((dst = image_stage(sbase, s->name, why, sizeof(why))) < 0)
		return errprintf(err, errlen, errno, "flush to %s: %s", s->dir,
				 why);
	rc = copy_image(s, lbase, m, dst, err, errlen);
	close(dst);
	if (rc < 0)
		return -1;
	if (image_commit(sbase, s->name, &sm, s->keep, why, sizeof(why)) < 0) {
		errprintf(err, errlen, errno, "flush to %s: %s", s->dir, why);
		rc = -1;
	} else {
		rc = same_files(m, &sm, err, errlen);
	}
	sm.reason = NULL;
	sm.node = NULL;
	manifest_free(&sm);
	return rc;
}
