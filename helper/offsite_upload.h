/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite_upload.h - one committed image copied to the offsite store
 * (offsite_upload.c). */
#ifndef CKPT_OFFSITE_UPLOAD_H
#define CKPT_OFFSITE_UPLOAD_H

#include <stddef.h>

#include <jansson.h>

#include "offsite_http.h"

/* The committed image at path image: its directory's fd, and the
 * directory of its parent in *basefd.  -1 with err. */
int offsite_open_image(const char *image, int *basefd, char *err,
		       size_t errlen);
/* Copy the image (imgfd) and update the job's index; rep gets seq,
 * files, bytes.  0, or -1 with err. */
int offsite_upload(struct xfer *x, const struct offsite_job *j,
		   const struct names *n, int imgfd, json_t *rep, char *err,
		   size_t errlen);

#endif
