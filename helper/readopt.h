/* SPDX-License-Identifier: GPL-2.0-or-later */
/* readopt.h - the steps in the saved state, re-adopted at start-up
 * (readopt.c). */
#ifndef CKPT_READOPT_H
#define CKPT_READOPT_H

/* Register the "steps" section with state.c (before any other). */
int readopt_init(void);

#endif
