/* SPDX-License-Identifier: GPL-2.0-or-later */
/* localstage_flush.h - node-local staging in the worker: the committed
 * local image copied to the shared directory (localstage_flush.c). */
#ifndef CKPT_LOCALSTAGE_FLUSH_H
#define CKPT_LOCALSTAGE_FLUSH_H

#include <stddef.h>

struct manifest;
struct step;

/* The worker (as the user) has committed the tasks' image N in lbase
 * (s->local); copy it into the shared base: with part NULL into a fresh
 * N.partial, committed there with m's seq (m is the local image's
 * manifest); with part ("node.<k>") into N.partial/<part> only, for a
 * commit by another party.  On failure the shared N.partial is left for
 * image_discard() and the local image and the shared one before it are
 * untouched. */
int flush_image(const struct step *s, int lbase, int sbase, const char *part,
		const struct manifest *m, char *err, size_t errlen);
/* Open (creating as the user) the step's local base; -1 with err. */
int flush_open_local(const struct step *s, char *err, size_t errlen);

#endif
