/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite_xfer.h - between offsite_loop.c (in the event loop: who copies
 * what, and when) and offsite_xfer.c (in a child, with the user's
 * credentials: the HTTP transfers, through libcurl). */
#ifndef CKPT_OFFSITE_XFER_H
#define CKPT_OFFSITE_XFER_H

#include "offsite_http.h"

/* job: a struct offsite_job (offsite_http.h).  In the child, still
 * root: read the credentials, become the job's user, do the job, and
 * write one JSON report to out ({"ok":true,"seq":..,...} or
 * {"ok":false,"error":..,"err":..}). */
int offsite_xfer_run(void *job, int out);

#endif
