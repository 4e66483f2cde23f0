/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite_fetch.h - the newest complete image fetched back from the
 * offsite store (offsite_fetch.c). */
#ifndef CKPT_OFFSITE_FETCH_H
#define CKPT_OFFSITE_FETCH_H

#include <stddef.h>

#include <jansson.h>

#include "offsite_http.h"

/* Fetch the job's newest complete image into basefd (the step's
 * checkpoint directory) and commit it there; rep gets its seq and path.
 * 0, or -1 with err (ENOENT: the store has none). */
int offsite_fetch_newest(struct xfer *x, const struct offsite_job *j,
			 const struct names *n, int basefd, json_t *rep,
			 char *err, size_t errlen);

#endif
