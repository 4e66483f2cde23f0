/* SPDX-License-Identifier: GPL-2.0-or-later */
/* image_list.h - the committed images of a step or a job in a checkpoint
 * directory, as "scheckpoint list" shows them.  Read with the
 * credentials of whoever calls (the job's user), never root's. */
#ifndef CKPT_IMAGE_LIST_H
#define CKPT_IMAGE_LIST_H

#include <stdint.h>

#include <jansson.h>

#define IMAGE_LIST_MAX 1000	/* images listed at most */

/* Append to images, by ascending seq, one object per image (image, seq,
 * time, size, reason, node) found in basefd, the directory dir: the
 * images of name N (N and N.<seq>), or with name NULL those of every
 * step of job (<job>.ckpt, <job>.<step>.ckpt).  An image whose manifest
 * cannot be read is a string in errors. */
void image_list(int basefd, const char *dir, const char *name,
		uint32_t job, json_t *images, json_t *errors);

#endif
